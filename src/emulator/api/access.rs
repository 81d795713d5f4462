//! Who may do what: the caller from the token, the operation's data action, and the vault's access
//! model (`emulator::access`) deciding. A refusal is the service's 403 body.

use super::*;
use crate::emulator::access::{Caller, DataAction};

/// The data action an operation needs, and the secret it is about.
fn data_action(method: &Method, segs: &[&str]) -> Option<(DataAction, Option<String>)> {
    let one = |a: DataAction, n: &str| Some((a, Some(n.to_string())));
    match (method.clone(), segs) {
        (Method::GET, ["secrets"]) | (Method::GET, ["deletedsecrets"]) => {
            Some((DataAction::ReadMetadata, None))
        }
        (Method::POST, ["secrets", "restore"]) => Some((DataAction::Restore, None)),
        (Method::PUT, ["secrets", n]) => one(DataAction::SetSecret, n),
        (Method::GET, ["secrets", n]) | (Method::GET, ["secrets", n, _])
            if segs.get(2) != Some(&"versions") =>
        {
            one(DataAction::GetSecret, n)
        }
        (Method::GET, ["secrets", n, "versions"]) => one(DataAction::ReadMetadata, n),
        (Method::PATCH, ["secrets", n, ..]) => one(DataAction::Update, n),
        (Method::DELETE, ["secrets", n]) => one(DataAction::Delete, n),
        (Method::POST, ["secrets", n, "backup"]) => one(DataAction::Backup, n),
        (Method::GET, ["deletedsecrets", n]) => one(DataAction::ReadMetadata, n),
        (Method::DELETE, ["deletedsecrets", n]) => one(DataAction::Purge, n),
        (Method::POST, ["deletedsecrets", n, "recover"]) => one(DataAction::Recover, n),
        _ => None,
    }
}

impl Service {
    /// The refusal of a request the vault's access model does not allow, if it does not.
    pub(super) fn authorize(
        &self,
        req: &Request<Bytes>,
        vault: &str,
        _params: &[(String, String)],
    ) -> Option<Answer> {
        let a = &self.access;
        let name = self
            .names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(vault))
            .cloned()
            .unwrap_or_else(|| vault.to_string());
        let restricted = a.controls(&name) || a.is_private(&name) || !a.firewall.is_empty();
        if !restricted {
            return None;
        }
        let segs = segments(req.uri().path()).ok()?;
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let (action, secret) = data_action(req.method(), &segs)?;
        let token = Self::bearer(req).unwrap_or_default();
        let caller = match self
            .issuer
            .verify_for(token, crate::emulator::identity::Audience::Vault)
        {
            Ok(claims) => Caller::from_claims(&claims),
            // A vault that checks who calls must be able to read the token.
            Err(why) if a.controls(&name) => {
                let e = ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    format!("AKV10022: Invalid token: {why}. This vault checks who calls (--grant or --access-policy): get a token from this local vault's login.localhost or managed-identity endpoint."),
                );
                return Some((e.status, Some(e.body()), Vec::new()));
            }
            Err(_) => Caller::default(),
        };
        let index = self
            .names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(vault))
            .unwrap_or(0);
        let mut resource =
            crate::emulator::arm::vault_resource_id(index, self.arm.subscriptions, &name)
                .to_ascii_lowercase();
        resource.push_str("/secrets");
        if let Some(s) = secret {
            resource.push('/');
            resource.push_str(&s.to_ascii_lowercase());
        }
        let peer = req.extensions().get::<PeerAddr>().map(|p| p.0.ip());
        match a.check(&name, &caller, peer, action, &resource) {
            Ok(()) => None,
            Err(r) => {
                let e = ApiError::new(StatusCode::FORBIDDEN, "Forbidden", r.message).inner(r.inner);
                Some((e.status, Some(e.body()), Vec::new()))
            }
        }
    }
}
