//! The local Entra ID endpoint (`https://login.localhost:{port}/{tenant}/oauth2/v2.0/token`): the
//! clients and users it knows, the client-credentials grant with a secret or a certificate's
//! assertion (verified), the password grant, and Entra's error bodies. Tokens are issued per tenant.

use std::collections::HashMap;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use ring::rand::SystemRandom;
use serde_json::{json, Value};

use super::identity::{random_id, TokenIssuer, TOKEN_LIFETIME_SECS};

/// Users the token endpoint signs in with the password grant (`--user UPN[=PASSWORD]`; no password:
/// any is accepted).
#[derive(Clone, Debug, Default)]
pub struct Users(pub Vec<(String, Option<String>)>);

impl Users {
    fn check(&self, upn: &str, password: &str) -> Result<String, &'static str> {
        let (known, expected) = self
            .0
            .iter()
            .find(|(u, _)| u.eq_ignore_ascii_case(upn))
            .ok_or("unknown user")?;
        match expected {
            Some(p) if p != password => Err("wrong password"),
            _ => Ok(known.clone()),
        }
    }
}

/// How a known client proves who it is: a secret, or a certificate whose key signs its assertions.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientKey {
    Secret(String),
    /// The certificate (DER).
    Certificate(Vec<u8>),
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientKey::Secret(_) => f.write_str("Secret(…)"),
            ClientKey::Certificate(_) => f.write_str("Certificate(…)"),
        }
    }
}

impl From<&str> for ClientKey {
    fn from(s: &str) -> Self {
        ClientKey::Secret(s.to_string())
    }
}

/// The clients the Entra endpoint checks (`--client ID:SECRET`, `--client ID:cert:FILE`); empty
/// accepts anyone on loopback. The flag says the endpoint is reachable beyond loopback: then empty
/// accepts no one.
#[derive(Clone, Debug, Default)]
pub struct Clients(pub HashMap<String, ClientKey>, pub bool);

impl Clients {
    /// Clients with secrets (id, secret).
    pub fn with_secrets(pairs: &[(&str, &str)]) -> Self {
        Clients(
            pairs
                .iter()
                .map(|(id, s)| (id.to_string(), ClientKey::from(*s)))
                .collect(),
            false,
        )
    }
}

fn entra_error(
    status: StatusCode,
    error: &str,
    code: u32,
    description: &str,
    rng: &SystemRandom,
) -> (StatusCode, Value) {
    let trace = random_id(rng);
    let correlation = random_id(rng);
    let timestamp = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    (
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {timestamp}"),
            "error_codes": [code],
            "timestamp": timestamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

/// The tenant a token request's path names: one of this instance's tenants, or the home tenant for
/// `common`, `organizations` and domain names. `None`: a tenant id this instance does not have.
pub fn requested_tenant(issuer: &TokenIssuer, tenants: &[String], asked: &str) -> Option<String> {
    if let Some(t) = tenants.iter().find(|t| t.eq_ignore_ascii_case(asked)) {
        return Some(t.clone());
    }
    let guid = asked.len() == 36 && asked.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    (!guid).then(|| issuer.tenant.clone())
}

/// `POST /{tenant}/oauth2/v2.0/token` (client credentials, with a secret or a certificate's
/// assertion; the password grant) and the OpenID metadata document, on host `login.localhost`.
pub fn entra(
    issuer: &TokenIssuer,
    clients: &Clients,
    users: &Users,
    tenants: &[String],
    req: &Request<Bytes>,
    authority: &str,
    rng: &SystemRandom,
) -> (StatusCode, Value) {
    let path = req.uri().path();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match (req.method(), segs.as_slice()) {
        (&Method::GET, [tenant, "v2.0", ".well-known", "openid-configuration"]) => {
            let base = format!("https://{authority}/{tenant}");
            (
                StatusCode::OK,
                json!({
                    "token_endpoint": format!("{base}/oauth2/v2.0/token"),
                    "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
                    "issuer": format!("https://login.localhost/{}/v2.0", issuer.tenant),
                    "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                    "grant_types_supported": ["client_credentials", "password"],
                    "tenant_region_scope": "local",
                }),
            )
        }
        (&Method::POST, [asked, "oauth2", "v2.0", "token"]) => {
            let Some(tenant) = requested_tenant(issuer, tenants, asked) else {
                return entra_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    90002,
                    &format!("Tenant '{asked}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."),
                    rng,
                );
            };
            let form: HashMap<String, String> = url::form_urlencoded::parse(req.body())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let need = |p: &str| {
                entra_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    900144,
                    &format!("The request body must contain the following parameter: '{p}'."),
                    rng,
                )
            };
            match form.get("grant_type").map(String::as_str) {
                None => return need("grant_type"),
                Some("client_credentials") => {}
                Some("password") => return password_grant(issuer, &tenant, users, &form, rng),
                Some(other) => {
                    return entra_error(
                        StatusCode::BAD_REQUEST,
                        "unsupported_grant_type",
                        70003,
                        &format!("The app requested an unsupported grant type '{other}'; this local endpoint supports client_credentials and password."),
                        rng,
                    )
                }
            }
            let Some(client_id) = form.get("client_id").filter(|c| !c.is_empty()) else {
                return need("client_id");
            };
            let Some(scope) = form.get("scope").filter(|s| !s.is_empty()) else {
                return need("scope");
            };
            let secret = form.get("client_secret").filter(|s| !s.is_empty());
            let assertion = form.get("client_assertion").filter(|s| !s.is_empty());
            if secret.is_none() && assertion.is_none() {
                return entra_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    7000216,
                    "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
                    rng,
                );
            }
            // Beyond loopback (strict), only the clients given with --client get tokens.
            if clients.0.is_empty() && clients.1 {
                return entra_error(
                    StatusCode::BAD_REQUEST,
                    "unauthorized_client",
                    700016,
                    &format!("Application with identifier '{client_id}' was not found in the directory '{}': beyond loopback this local endpoint issues tokens only to the clients given with --client.", issuer.tenant),
                    rng,
                );
            }
            if !clients.0.is_empty() {
                let Some(expected) = clients.0.get(client_id) else {
                    return entra_error(
                        StatusCode::BAD_REQUEST,
                        "unauthorized_client",
                        700016,
                        &format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."),
                        rng,
                    );
                };
                let wrong_secret = || {
                    entra_error(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        7000215,
                        &format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
                        rng,
                    )
                };
                match (expected, secret, assertion) {
                    (ClientKey::Secret(e), Some(s), _) if s == e => {}
                    (_, Some(_), _) => return wrong_secret(),
                    (ClientKey::Certificate(cert), None, Some(a)) => {
                        let endpoint = format!("/{asked}/oauth2/v2.0/token");
                        let checked = crate::vault::certificate::verify_assertion(
                            a,
                            cert,
                            client_id,
                            |aud| aud.ends_with(&endpoint),
                        );
                        if let Err(why) = checked {
                            return entra_error(
                                StatusCode::UNAUTHORIZED,
                                "invalid_client",
                                700027,
                                &format!("Client assertion failed signature validation: {why}."),
                                rng,
                            );
                        }
                    }
                    (ClientKey::Secret(_), None, Some(_)) => {
                        return entra_error(
                            StatusCode::UNAUTHORIZED,
                            "invalid_client",
                            700027,
                            &format!("Client assertion failed signature validation: no certificate is registered on application '{client_id}' (give it with --client {client_id}:cert:FILE)."),
                            rng,
                        )
                    }
                    (_, None, None) => return wrong_secret(),
                }
            }
            token_answer(issuer.issue_in(&tenant, client_id, &audience(scope)).0)
        }
        _ => (
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "error_description": format!("This local Entra endpoint serves POST /{{tenant}}/oauth2/v2.0/token, not {} {path}.", req.method())}),
        ),
    }
}

/// The audience a `scope` asks for (`https://vault.azure.net/.default` → `https://vault.azure.net`).
fn audience(scope: &str) -> String {
    scope
        .split(' ')
        .next()
        .unwrap_or_default()
        .trim_end_matches("/.default")
        .to_string()
}

fn token_answer(token: String) -> (StatusCode, Value) {
    (
        StatusCode::OK,
        json!({
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECS - 1,
            "ext_expires_in": TOKEN_LIFETIME_SECS - 1,
            "access_token": token,
        }),
    )
}

/// A user signing in with a password (ROPC), for the users given with `--user`.
fn password_grant(
    issuer: &TokenIssuer,
    tenant: &str,
    users: &Users,
    form: &HashMap<String, String>,
    rng: &SystemRandom,
) -> (StatusCode, Value) {
    let (Some(upn), Some(scope)) = (
        form.get("username").filter(|u| !u.is_empty()),
        form.get("scope").filter(|s| !s.is_empty()),
    ) else {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameters: 'username', 'password' and 'scope'.",
            rng,
        );
    };
    let password = form.get("password").map(String::as_str).unwrap_or_default();
    match users.check(upn, password) {
        Ok(upn) => token_answer(issuer.issue_user(tenant, &upn, &audience(scope)).0),
        Err(_) => entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            50126,
            "Error validating credentials due to invalid username or password.",
            rng,
        ),
    }
}
