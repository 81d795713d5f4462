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

pub(crate) fn random_id(rng: &SystemRandom) -> String {
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

pub use super::entra::{entra, requested_tenant, ClientKey, Clients, Users};

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
        self.issue_in(&self.tenant, subject, audience)
    }

    /// `issue`, for another tenant of this instance (`tid` and `iss` name it).
    pub fn issue_in(&self, tenant: &str, subject: &str, audience: &str) -> (String, i64) {
        let oid = object_id(subject);
        self.sign(
            tenant,
            json!({
                "aud": audience,
                "sub": oid, "oid": oid, "appid": subject, "azp": subject, "idtyp": "app",
            }),
        )
    }

    /// A user's token (the password grant, as `az login` gets one): `upn`, `name` and the user's
    /// object id; the client is the Azure CLI.
    pub fn issue_user(&self, tenant: &str, upn: &str, audience: &str) -> (String, i64) {
        let oid = object_id(upn);
        let name = upn.split('@').next().unwrap_or(upn);
        self.sign(
            tenant,
            json!({
                "aud": audience,
                "sub": oid, "oid": oid, "upn": upn, "unique_name": upn, "name": name,
                "appid": AZURE_CLI_APP_ID, "azp": AZURE_CLI_APP_ID, "idtyp": "user",
            }),
        )
    }

    fn sign(&self, tenant: &str, mut claims: Value) -> (String, i64) {
        let now = now_secs();
        let exp = now + TOKEN_LIFETIME_SECS;
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT","kid":"kvtui-local"}"#);
        claims["iss"] = json!(format!("https://login.localhost/{tenant}/v2.0"));
        claims["tid"] = json!(tenant);
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
        if req.uri().path() == "/metadata/identity/oauth2/token" {
            return self.imds(req);
        }
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

impl ManagedIdentity {
    /// The VM metadata endpoint's protocol (IMDS, api-version 2018-02-01): `Metadata: true`, the
    /// resource, a user-assigned identity by `client_id`. Point a client at it with
    /// `AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:PORT`.
    fn imds(&self, req: &Request<Bytes>) -> (StatusCode, Value) {
        let metadata = req
            .headers()
            .get("metadata")
            .and_then(|h| h.to_str().ok())
            .is_some_and(|h| h.eq_ignore_ascii_case("true"));
        if !metadata {
            return (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_request", "error_description": "Required metadata header not specified"}),
            );
        }
        let params: HashMap<String, String> =
            url::form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        if params.get("api-version").is_none_or(|v| v.is_empty()) {
            return (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_request", "error_description": "Required query variable 'api-version' is missing"}),
            );
        }
        let Some(resource) = params.get("resource").filter(|r| !r.is_empty()) else {
            return (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_request", "error_description": "Required query variable 'resource' is missing"}),
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
                "client_id": client_id,
                "expires_in": (TOKEN_LIFETIME_SECS - 1).to_string(),
                "expires_on": exp.to_string(),
                "ext_expires_in": (TOKEN_LIFETIME_SECS - 1).to_string(),
                "not_before": (exp - TOKEN_LIFETIME_SECS).to_string(),
                "resource": resource,
                "token_type": "Bearer",
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
            &[],
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
            &[],
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
