//! The bearer token and the 401 challenges (vaults and Resource Manager).

use super::*;
use crate::emulator::identity::Audience;

/// An answer: status, body, extra headers.
pub(super) type Answer = (StatusCode, Option<Value>, Vec<(&'static str, HeaderValue)>);

/// The `WWW-Authenticate` header of a 401.
fn challenge_header(challenge: &str) -> Vec<(&'static str, HeaderValue)> {
    HeaderValue::from_str(challenge)
        .map(|v| vec![("WWW-Authenticate", v)])
        .unwrap_or_default()
}

impl Service {
    /// A vault's 401 when the request has no token (or, when strict, not one of ours), with the
    /// challenge that names the tenant and the resource.
    pub(super) fn vault_challenge(
        &self,
        req: &Request<Bytes>,
        parent: &str,
        port: Option<u16>,
    ) -> Option<Answer> {
        let token = Self::bearer(req);
        let problem = token.and_then(|t| self.token_problem(t, Audience::Vault));
        if token.is_none() || problem.is_some() {
            let resource = match port {
                Some(p) if p != 443 => format!("https://{parent}:{p}"),
                _ => format!("https://{parent}"),
            };
            let challenge = format!(
                "Bearer authorization=\"https://login.microsoftonline.com/{LOCAL_TENANT}\", resource=\"{resource}\""
            );
            let e = match problem {
                None => ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    "AKV10000: Request is missing a Bearer or PoP token.",
                ),
                Some(why) => ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    format!("AKV10022: Invalid token: {why}. This local vault listens beyond loopback and accepts only tokens it issued (its managed-identity or login.localhost endpoint)."),
                ),
            };
            let extra = challenge_header(&challenge);
            return Some((e.status, Some(e.body()), extra));
        }
        None
    }

    /// The bearer token, if the request carries a non-empty one.
    pub(super) fn bearer(req: &Request<Bytes>) -> Option<&str> {
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, token)| {
                scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()
            })
            .map(|(_, token)| token.trim())
    }

    /// Checks a present token: any will do on loopback; only this instance's when strict.
    pub(super) fn token_problem(&self, token: &str, audience: Audience) -> Option<&'static str> {
        if !self.strict_tokens {
            return None;
        }
        self.issuer.verify_for(token, audience).err()
    }

    /// Resource Manager discovery (host `management.localhost`).
    pub(super) fn management(&self, req: &Request<Bytes>, authority: &str) -> Answer {
        let token = Self::bearer(req);
        let problem = token.and_then(|t| self.token_problem(t, Audience::Management));
        if token.is_none() || problem.is_some() {
            let message = match problem {
                None => "Authentication failed. The 'Authorization' header is missing.".to_string(),
                Some(why) => format!("Authentication failed: {why}."),
            };
            let challenge = format!(
                "Bearer authorization_uri=\"https://login.microsoftonline.com/{}\", error=\"invalid_token\", error_description=\"{message}\"",
                self.issuer.tenant
            );
            let extra = challenge_header(&challenge);
            let code = if problem.is_some() {
                "InvalidAuthenticationToken"
            } else {
                "AuthenticationFailed"
            };
            return (
                StatusCode::UNAUTHORIZED,
                Some(json!({"error": {"code": code, "message": message}})),
                extra,
            );
        }
        let arm = Arm {
            config: &self.arm,
            tenant: &self.issuer.tenant,
            vaults: self
                .names
                .iter()
                .map(String::as_str)
                .zip(self.policies.iter())
                .collect(),
            vault_port: self.port.load(Ordering::Relaxed),
            authority,
            access: &self.access,
        };
        let (status, body) = arm.answer(req.method(), req.uri().path(), req.uri().query());
        (status, Some(body), Vec::new())
    }
}
