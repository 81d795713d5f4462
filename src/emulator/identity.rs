//! Identity for the local vault: tokens it signs itself, an App Service-style managed-identity
//! endpoint (plain HTTP on loopback, as App Service's is), and an Entra ID client-credentials token
//! endpoint (`https://login.localhost:{port}/{tenant}/oauth2/v2.0/token`).
//!
//! On loopback the vault accepts any bearer token; listening elsewhere it accepts only tokens signed
//! here (`TokenIssuer::verify`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Tokens live an hour, as Entra's do.
pub const TOKEN_LIFETIME_SECS: i64 = 3600;

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn random_id(rng: &SystemRandom) -> String {
    let mut b = [0u8; 16];
    let _ = rng.fill(&mut b);
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Signs and checks this instance's access tokens (JWTs, HS256).
pub struct TokenIssuer {
    key: hmac::Key,
    pub tenant: String,
    /// This running instance: a token another instance issued (even with the same key file) is not
    /// one of ours.
    instance: String,
}

/// What a token is for: Key Vault's data plane, or Resource Manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Vault,
    Management,
}

impl Audience {
    fn accepts(self, aud: &str) -> bool {
        let management = aud.contains("management");
        match self {
            Audience::Vault => !management,
            Audience::Management => management,
        }
    }
}

impl TokenIssuer {
    pub fn new(key_bytes: &[u8], tenant: &str) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key_bytes),
            tenant: tenant.to_string(),
            instance: random_id(&SystemRandom::new()),
        }
    }

    /// A token for `subject` (a client or managed identity id) valid for `audience`: `appid`/`azp`
    /// are the client id, `oid` the application's object id.
    pub fn issue(&self, subject: &str, audience: &str) -> (String, i64) {
        let oid = object_id(subject);
        self.sign(json!({
            "aud": audience,
            "sub": oid, "oid": oid, "appid": subject, "azp": subject, "idtyp": "app",
        }))
    }

    /// A user's token (the password grant, as `az login` gets one): `upn`, `name` and the user's
    /// object id; the client is the Azure CLI.
    pub fn issue_user(&self, upn: &str, audience: &str) -> (String, i64) {
        let oid = object_id(upn);
        let name = upn.split('@').next().unwrap_or(upn);
        self.sign(json!({
            "aud": audience,
            "sub": oid, "oid": oid, "upn": upn, "unique_name": upn, "name": name,
            "appid": AZURE_CLI_APP_ID, "azp": AZURE_CLI_APP_ID, "idtyp": "user",
        }))
    }

    fn sign(&self, mut claims: Value) -> (String, i64) {
        let now = now_secs();
        let exp = now + TOKEN_LIFETIME_SECS;
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT","kid":"kvtui-local"}"#);
        claims["iss"] = json!(format!("https://login.localhost/{}/v2.0", self.tenant));
        claims["tid"] = json!(self.tenant);
        claims["iat"] = json!(now);
        claims["nbf"] = json!(now);
        claims["exp"] = json!(exp);
        claims["kvtui_instance"] = json!(self.instance);
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let sig = hmac::sign(&self.key, signing_input.as_bytes());
        (
            format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref())),
            exp,
        )
    }

    /// Checks a token's signature and lifetime; the error says what is wrong.
    pub fn verify(&self, token: &str) -> Result<Value, &'static str> {
        let mut parts = token.rsplitn(2, '.');
        let (Some(sig), Some(signing_input)) = (parts.next(), parts.next()) else {
            return Err("the token is not a JWT");
        };
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| "the token's signature is not base64url")?;
        hmac::verify(&self.key, signing_input.as_bytes(), &sig)
            .map_err(|_| "the token was not issued by this local vault")?;
        let claims = signing_input
            .split('.')
            .nth(1)
            .ok_or("the token has no claims")?;
        let claims: Value = URL_SAFE_NO_PAD
            .decode(claims)
            .ok()
            .and_then(|c| serde_json::from_slice(&c).ok())
            .ok_or("the token's claims are not JSON")?;
        if claims["exp"].as_i64().is_none_or(|e| e < now_secs()) {
            return Err("the token has expired");
        }
        if claims["kvtui_instance"].as_str() != Some(self.instance.as_str()) {
            return Err("the token was issued by another instance of the local vault");
        }
        Ok(claims)
    }

    /// `verify`, and the token must be for this audience: a Resource Manager token does not open a
    /// vault, nor the other way round.
    pub fn verify_for(&self, token: &str, audience: Audience) -> Result<Value, &'static str> {
        let claims = self.verify(token)?;
        if !audience.accepts(claims["aud"].as_str().unwrap_or_default()) {
            return Err(match audience {
                Audience::Vault => {
                    "the token's audience is not Key Vault (a Resource Manager token?)"
                }
                Audience::Management => "the token's audience is not Resource Manager",
            });
        }
        Ok(claims)
    }
}

/// The local managed identity's client id: fixed, so `--grant` can name it before the start.
pub const MANAGED_IDENTITY_CLIENT_ID: &str = "6b767475-6d69-4000-8000-000000000001";

/// The Azure CLI's public client id: the `appid` of a user's token from `az login`.
pub const AZURE_CLI_APP_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/// A stable object id for a principal (the local directory has no other): a GUID from its name.
pub fn object_id(principal: &str) -> String {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("kvtui-oid:{}", principal.to_ascii_lowercase()).as_bytes(),
    );
    let h: String = d.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

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

/// Client id → secret pairs the Entra endpoint checks (`--client ID:SECRET`); empty accepts anyone on
/// loopback. The flag says the endpoint is reachable beyond loopback: then empty accepts no one.
#[derive(Clone, Debug, Default)]
pub struct Clients(pub HashMap<String, String>, pub bool);

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

/// `POST /{tenant}/oauth2/v2.0/token` (client credentials, with a secret or an assertion) and the
/// OpenID metadata document, on host `login.localhost`.
pub fn entra(
    issuer: &TokenIssuer,
    clients: &Clients,
    users: &Users,
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
        (&Method::POST, [_tenant, "oauth2", "v2.0", "token"]) => {
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
                Some("password") => return password_grant(issuer, users, &form, rng),
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
                        &format!("Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.", issuer.tenant),
                        rng,
                    );
                };
                if let Some(s) = secret {
                    if s != expected {
                        return entra_error(
                            StatusCode::UNAUTHORIZED,
                            "invalid_client",
                            7000215,
                            &format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
                            rng,
                        );
                    }
                }
            }
            token_answer(issuer.issue(client_id, &audience(scope)).0)
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
        Ok(upn) => token_answer(issuer.issue_user(&upn, &audience(scope)).0),
        Err(_) => entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            50126,
            "Error validating credentials due to invalid username or password.",
            rng,
        ),
    }
}

/// The App Service managed-identity protocol (api-version 2019-08-01).
pub struct ManagedIdentity {
    pub issuer: Arc<TokenIssuer>,
    /// The value clients must send as `X-IDENTITY-HEADER` (`IDENTITY_HEADER`).
    pub header_secret: String,
    /// The identity's client id.
    pub client_id: String,
}

impl ManagedIdentity {
    pub fn new(issuer: Arc<TokenIssuer>) -> Self {
        let rng = SystemRandom::new();
        let mut b = [0u8; 24];
        let _ = rng.fill(&mut b);
        Self {
            issuer,
            header_secret: URL_SAFE_NO_PAD.encode(b),
            client_id: MANAGED_IDENTITY_CLIENT_ID.to_string(),
        }
    }

    pub fn answer(&self, req: &Request<Bytes>) -> (StatusCode, Value) {
        let header_ok = req
            .headers()
            .get("x-identity-header")
            .and_then(|h| h.to_str().ok())
            .is_some_and(|h| {
                // Compare digests so the time taken says nothing about the secret.
                let a = ring::digest::digest(&ring::digest::SHA256, h.as_bytes());
                let b = ring::digest::digest(&ring::digest::SHA256, self.header_secret.as_bytes());
                a.as_ref() == b.as_ref()
            });
        if !header_ok {
            return (
                StatusCode::UNAUTHORIZED,
                json!({"statusCode": 401, "message": "Unauthorized: the X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER."}),
            );
        }
        if req.method() != Method::GET {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"statusCode": 405, "message": format!("{} is not supported; use GET.", req.method())}),
            );
        }
        let params: HashMap<String, String> =
            url::form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        if params.get("api-version").map(String::as_str) != Some("2019-08-01") {
            return (
                StatusCode::BAD_REQUEST,
                json!({"statusCode": 400, "message": "The api-version query parameter must be 2019-08-01."}),
            );
        }
        let Some(resource) = params.get("resource").filter(|r| !r.is_empty()) else {
            return (
                StatusCode::BAD_REQUEST,
                json!({"statusCode": 400, "message": "The resource query parameter is required."}),
            );
        };
        let client_id = params
            .get("client_id")
            .cloned()
            .unwrap_or_else(|| self.client_id.clone());
        let (token, exp) = self.issuer.issue(&client_id, resource);
        (
            StatusCode::OK,
            json!({
                "access_token": token,
                // A string, as App Service sends it (the Rust credential refuses a number).
                "expires_on": exp.to_string(),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": client_id,
            }),
        )
    }
}

/// Serves the managed-identity endpoint over plain HTTP until `shutdown` turns true.
pub async fn serve_managed_identity(
    listener: TcpListener,
    mi: Arc<ManagedIdentity>,
    shutdown: watch::Receiver<bool>,
) {
    super::server::accept_loop(listener, shutdown, move |stream, _peer| {
        let mi = mi.clone();
        async move {
            let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let mi = mi.clone();
                async move {
                    let (parts, body) = req.into_parts();
                    let bytes = Limited::new(body, 64 * 1024)
                        .collect()
                        .await
                        .map(|c| c.to_bytes())
                        .unwrap_or_default();
                    let (status, v) = mi.answer(&Request::from_parts(parts, bytes));
                    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
                    *r.status_mut() = status;
                    r.headers_mut().insert(
                        header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/json; charset=utf-8"),
                    );
                    Ok::<_, std::convert::Infallible>(r)
                }
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_loopback_only_known_clients_get_tokens() {
        let issuer = TokenIssuer::new(&[1; 32], "t");
        let req = |body: &str| {
            Request::builder()
                .method(Method::POST)
                .uri("/t/oauth2/v2.0/token")
                .body(Bytes::from(body.to_string()))
                .expect("request")
        };
        let ask = "grant_type=client_credentials&client_id=anyone&client_secret=x&scope=https%3A%2F%2Fvault.azure.net%2F.default";
        let rng = SystemRandom::new();
        let open = Clients(HashMap::new(), false);
        let (status, _) = entra(
            &issuer,
            &open,
            &Users::default(),
            &req(ask),
            "login.localhost",
            &rng,
        );
        assert_eq!(status, StatusCode::OK, "on loopback, anyone");
        let exposed = Clients(HashMap::new(), true);
        let (status, body) = entra(
            &issuer,
            &exposed,
            &Users::default(),
            &req(ask),
            "login.localhost",
            &rng,
        );
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "unauthorized_client");
    }

    #[test]
    fn tokens_are_bound_to_their_audience_and_their_instance() {
        let a = TokenIssuer::new(&[7; 32], "t");
        let other_instance = TokenIssuer::new(&[7; 32], "t");
        let (vault, _) = a.issue("app", "https://vault.azure.net");
        let (arm, _) = a.issue("app", "https://management.localhost:8443");
        assert!(a.verify_for(&vault, Audience::Vault).is_ok());
        assert!(
            a.verify_for(&arm, Audience::Vault).is_err(),
            "a management token opens no vault"
        );
        assert!(a.verify_for(&arm, Audience::Management).is_ok());
        assert_eq!(
            other_instance.verify(&vault).err(),
            Some("the token was issued by another instance of the local vault")
        );
    }

    #[test]
    fn tokens_verify_only_with_the_issuing_key() {
        let a = TokenIssuer::new(b"key-a", "t");
        let b = TokenIssuer::new(b"key-b", "t");
        let (tok, exp) = a.issue("client", "https://vault.azure.net");
        assert!(exp > now_secs());
        let claims = a.verify(&tok).expect("valid");
        assert_eq!(claims["aud"], "https://vault.azure.net");
        assert_eq!(
            b.verify(&tok),
            Err("the token was not issued by this local vault")
        );
        assert!(a.verify("not-a-token").is_err());
        let mut forged = tok.clone();
        forged.insert(tok.len() / 2, 'x');
        assert!(a.verify(&forged).is_err());
    }

    #[test]
    fn managed_identity_needs_the_header_and_answers_expires_on_as_a_string() {
        let mi = ManagedIdentity::new(Arc::new(TokenIssuer::new(b"k", "t")));
        let req = |h: Option<&str>| {
            let mut b = Request::builder()
                .uri("/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fvault.azure.net");
            if let Some(h) = h {
                b = b.header("X-IDENTITY-HEADER", h);
            }
            b.body(Bytes::new()).expect("req")
        };
        assert_eq!(mi.answer(&req(None)).0, StatusCode::UNAUTHORIZED);
        assert_eq!(mi.answer(&req(Some("wrong"))).0, StatusCode::UNAUTHORIZED);
        let (status, v) = mi.answer(&req(Some(&mi.header_secret.clone())));
        assert_eq!(status, StatusCode::OK);
        assert!(v["expires_on"].is_string());
        assert_eq!(v["resource"], "https://vault.azure.net");
        assert_eq!(v["token_type"], "Bearer");
    }
}
