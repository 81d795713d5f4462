//! The bearer token and the 401 challenges (vaults and Resource Manager).

use super::*;
use crate::emulator::identity::Audience;

/// An answer: status, body, extra headers.
pub(super) type Answer = (StatusCode, Option<Value>, Vec<(&'static str, HeaderValue)>);

/// The vault label of a request's host (`demo` of `demo.localhost:8443`).
fn parent_label(req: &Request<Bytes>) -> String {
    let authority = authority_of(req);
    authority
        .split('.')
        .next()
        .unwrap_or_default()
        .trim_start_matches('[')
        .to_ascii_lowercase()
}

/// The `WWW-Authenticate` header of a 401.
fn challenge_header(challenge: &str) -> Vec<(&'static str, HeaderValue)> {
    HeaderValue::from_str(challenge)
        .map(|v| vec![("WWW-Authenticate", v)])
        .unwrap_or_default()
}

impl Service {
    /// A vault's tenant: its own (`--vault-tenant`), else its subscription's.
    pub fn vault_tenant(&self, vault: &str) -> String {
        let index = self
            .names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(vault))
            .unwrap_or(0);
        self.arm.vault_tenant(index, vault)
    }

    /// A vault's 401 when the request has no token (or, when strict, not one of ours), or one from
    /// another tenant (AKV10032), with the challenge that names the vault's tenant and the resource.
    pub(super) fn vault_challenge(
        &self,
        req: &Request<Bytes>,
        parent: &str,
        port: Option<u16>,
    ) -> Option<Answer> {
        let vault = parent_label(req);
        let tenant = self.vault_tenant(&vault);
        let token = Self::bearer(req);
        // A vault outside the home tenant must read the token's tenant: only tokens it can verify.
        let own_tenant = !tenant.eq_ignore_ascii_case(&self.issuer.tenant);
        let problem = token.and_then(|t| {
            if own_tenant {
                self.issuer.verify_for(t, Audience::Vault).err()
            } else {
                self.token_problem(t, Audience::Vault)
            }
        });
        let wrong_tenant = match (token, problem) {
            (Some(t), None) => self
                .issuer
                .verify(t)
                .ok()
                .and_then(|c| c["tid"].as_str().map(str::to_string))
                .filter(|tid| !tid.eq_ignore_ascii_case(&tenant)),
            _ => None,
        };
        if token.is_some() && problem.is_none() && wrong_tenant.is_none() {
            return None;
        }
        let resource = match port {
            Some(p) if p != 443 => format!("https://{parent}:{p}"),
            _ => format!("https://{parent}"),
        };
        let challenge = format!(
            "Bearer authorization=\"https://login.microsoftonline.com/{tenant}\", resource=\"{resource}\""
        );
        let e = match (problem, wrong_tenant) {
            (_, Some(found)) => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                format!("AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{tenant}/, https://login.microsoftonline.com/{tenant}/v2.0, found https://sts.windows.net/{found}/."),
            ),
            (None, None) => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "AKV10000: Request is missing a Bearer or PoP token.",
            ),
            (Some(why), None) if own_tenant => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                format!("AKV10022: Invalid token: {why}. This vault is in tenant {tenant} and accepts only tokens issued for it by this local vault (its login.localhost endpoint, /{tenant}/oauth2/v2.0/token)."),
            ),
            (Some(why), None) => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                format!("AKV10022: Invalid token: {why}. This local vault listens beyond loopback and accepts only tokens it issued (its managed-identity or login.localhost endpoint)."),
            ),
        };
        let extra = challenge_header(&challenge);
        Some((e.status, Some(e.body()), extra))
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
        if let Some(secs) = self.faults.as_ref().and_then(|f| f.throttle("management")) {
            let message = format!("Number of 'read' requests for this tenant exceeded the local vault's limit (--throttle). Please try again after '{secs}' seconds.");
            return (
                StatusCode::TOO_MANY_REQUESTS,
                Some(json!({"error": {"code": "TooManyRequests", "message": message}})),
                vec![
                    ("Retry-After", HeaderValue::from(secs)),
                    (
                        "x-ms-ratelimit-remaining-tenant-reads",
                        HeaderValue::from_static("0"),
                    ),
                ],
            );
        }
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
        // The caller's tenant is the token's; a token this instance cannot read is the home tenant's.
        let caller_tenant = token
            .and_then(|t| self.issuer.verify(t).ok())
            .and_then(|c| c["tid"].as_str().map(str::to_string))
            .unwrap_or_else(|| self.issuer.tenant.clone());
        let arm = Arm {
            config: &self.arm,
            tenant: &caller_tenant,
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
