//! The Key Vault secrets REST API over the store: routing by host and path, the 401 challenge,
//! api-version checking, request validation, the service's JSON shapes, paging and error rows.
//!
//! `Service::handle` maps a whole `http::Request<Bytes>` to a whole response with no I/O, so it can be
//! driven directly by unit and property tests as well as by the TLS server.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

use super::access::AccessConfig;
use super::arm::{Arm, ArmConfig};
use super::backup::BackupKey;
use super::faults::{Fault, FaultConfig, Faults};
use super::identity::{self, Clients, TokenIssuer, Users};
use super::persist::{DataFile, Entry};
mod access;
mod auth;
mod errors;
mod json;
mod parse;
mod secrets;

use auth::Answer;
use errors::*;
use json::*;
use parse::*;
pub use parse::{authority_of, is_supported_api_version, is_valid_name};

use super::store::{
    Attributes, DeletedRecord, Millis, NewSecret, Page, PropertiesUpdate, SecretVersion,
    StoreError, Vault, VaultPolicy,
};

/// The tenant named in the challenge's `authorization` URI.
pub const LOCAL_TENANT: &str = "6b767475-692d-4c6f-6361-6c5661756c74";
/// The service version this emulator reports.
pub const SERVICE_VERSION: &str = "1.9.3070.1";
/// Page size: the service's default and maximum.
pub const MAX_PAGE: usize = 25;
pub const MAX_VALUE_BYTES: usize = 25 * 1024;
pub const MAX_CONTENT_TYPE_CHARS: usize = 255;
pub const MAX_TAGS: usize = 15;
pub const MAX_TAG_CHARS: usize = 512;

const NOT_FOUND_TAIL: &str = "was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182";

/// Host names with a meaning of their own (not vaults).
pub const LOGIN_HOST: &str = "login.localhost";
pub const MANAGEMENT_HOST: &str = "management.localhost";

/// What a service needs besides its vaults.
pub struct ServiceOptions {
    pub issuer: Arc<TokenIssuer>,
    /// Accept only tokens this instance signed (when listening beyond loopback).
    pub strict_tokens: bool,
    pub clients: Clients,
    pub arm: ArmConfig,
    pub data: Option<DataFile>,
    pub faults: FaultConfig,
    /// RBAC grants, access policies, firewall and public network access per vault.
    pub access: AccessConfig,
    /// Users the token endpoint signs in (`--user UPN[=PASSWORD]`).
    pub users: Users,
}

impl ServiceOptions {
    pub fn new(issuer: Arc<TokenIssuer>) -> Self {
        Self {
            issuer,
            strict_tokens: false,
            clients: Clients::default(),
            arm: ArmConfig::default(),
            data: None,
            faults: FaultConfig::default(),
            access: AccessConfig::default(),
            users: Users::default(),
        }
    }
}

/// The client's address, put on each request by the server (the firewall judges it).
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// All vaults of one emulator instance and what they share.
pub struct Service {
    vaults: HashMap<String, Mutex<Vault>>,
    /// Vault names in the order they were configured, as first spelled.
    names: Vec<String>,
    policies: Vec<VaultPolicy>,
    backup_key: BackupKey,
    /// Added to the wall clock; tests move time forward with it.
    clock_offset_ms: AtomicI64,
    rng: SystemRandom,
    issuer: Arc<TokenIssuer>,
    strict_tokens: bool,
    clients: Clients,
    arm: ArmConfig,
    data: Option<DataFile>,
    faults: Option<Faults>,
    /// The HTTPS port (vault URIs in discovery answers).
    port: AtomicU16,
    access: AccessConfig,
    users: Users,
}

type ApiResult = Result<(StatusCode, Option<Value>), ApiError>;

/// What every handler needs to know about the request.
struct Ctx<'a> {
    /// Host and port exactly as the client called them (ids are built from this).
    authority: &'a str,
    host: &'a str,
    port: Option<u16>,
    api_version: String,
    now: Millis,
}

impl Ctx<'_> {
    fn base(&self) -> String {
        format!("https://{}", self.authority)
    }

    /// `nextLink`s carry an explicit port, as the service's do.
    fn link_base(&self) -> String {
        format!("https://{}:{}", self.host, self.port.unwrap_or(443))
    }
}

impl Service {
    pub fn new(
        vaults: &[(String, VaultPolicy)],
        backup_key: BackupKey,
        options: ServiceOptions,
    ) -> Self {
        let mut map = HashMap::new();
        let mut names = Vec::new();
        let mut policies = Vec::new();
        for (name, policy) in vaults {
            let k = name.to_ascii_lowercase();
            if map.contains_key(&k) {
                continue;
            }
            map.insert(k, Mutex::new(Vault::new(name, policy.clone())));
            names.push(name.clone());
            policies.push(policy.clone());
        }
        let faults = options
            .faults
            .is_active()
            .then(|| Faults::new(options.faults.clone()));
        Self {
            vaults: map,
            names,
            policies,
            backup_key,
            clock_offset_ms: AtomicI64::new(0),
            rng: SystemRandom::new(),
            issuer: options.issuer,
            strict_tokens: options.strict_tokens,
            clients: options.clients,
            arm: options.arm,
            data: options.data,
            faults,
            port: AtomicU16::new(0),
            access: options.access,
            users: options.users,
        }
    }

    pub fn set_port(&self, port: u16) {
        self.port.store(port, Ordering::Relaxed);
    }

    pub fn issuer(&self) -> &Arc<TokenIssuer> {
        &self.issuer
    }

    pub fn faults(&self) -> Option<&Faults> {
        self.faults.as_ref()
    }

    /// Loads persisted or seeded state (before serving).
    pub fn load(&self, entries: Vec<Entry>) {
        for e in entries {
            self.with_vault(&e.vault, |v| v.put_name_state(&e.name, e.state));
        }
    }

    /// The fault to inject for this request, if it goes to a vault and faults are configured.
    pub fn fault_for(&self, req: &Request<Bytes>) -> (std::time::Duration, Fault) {
        let Some(faults) = &self.faults else {
            return (std::time::Duration::ZERO, Fault::None);
        };
        let host = authority_of(req);
        let host = host.split(':').next().unwrap_or_default();
        if host == LOGIN_HOST || host == MANAGEMENT_HOST {
            return (std::time::Duration::ZERO, Fault::None);
        }
        let label = host.split('.').next().unwrap_or_default();
        if !self.vaults.contains_key(label) {
            return (std::time::Duration::ZERO, Fault::None);
        }
        (faults.config.latency, faults.decide(label))
    }

    /// The service's answer to an injected 503 or 429.
    pub fn fault_response(&self, req: &Request<Bytes>, fault: Fault) -> Option<Response<Bytes>> {
        let (status, code, message, retry_after) = match fault {
            Fault::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The service is temporarily unavailable. Retry the request after the time in the Retry-After header.",
                1,
            ),
            Fault::Throttled(secs) => (
                StatusCode::TOO_MANY_REQUESTS,
                "Throttled",
                "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached",
                secs,
            ),
            Fault::None | Fault::Drop => return None,
        };
        let e = ApiError::new(status, code, message);
        let with_header = !matches!(fault, Fault::Throttled(_))
            || self
                .faults
                .as_ref()
                .is_some_and(|f| f.config.throttle_retry_after);
        let extra = if with_header {
            vec![("Retry-After", HeaderValue::from(retry_after))]
        } else {
            Vec::new()
        };
        Some(self.finish(req, status, Some(e.body()), extra))
    }

    pub fn vault_names(&self) -> &[String] {
        &self.names
    }

    /// Moves this instance's clock forward (tests of retention and expiry).
    pub fn advance_clock(&self, by: std::time::Duration) {
        self.clock_offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }

    pub fn now(&self) -> Millis {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default();
        (wall + self.clock_offset_ms.load(Ordering::SeqCst)).max(0) as Millis
    }

    /// Runs `f` on a vault's state. A poisoned lock (a panic in another request) still yields the
    /// state: every store operation leaves it consistent before anything can panic.
    pub fn with_vault<R>(&self, name: &str, f: impl FnOnce(&mut Vault) -> R) -> Option<R> {
        let m = self.vaults.get(&name.to_ascii_lowercase())?;
        let mut guard = m.lock().unwrap_or_else(|p| p.into_inner());
        Some(f(&mut guard))
    }

    /// Answers one request.
    /// The answer to a request that can be refused from its headers alone (a vault request with no
    /// acceptable token): the server sends it without reading the body.
    pub fn refuse_early(&self, req: &Request<Bytes>) -> Option<Response<Bytes>> {
        let authority = authority_of(req);
        let parsed = authority.parse::<http::uri::Authority>().ok()?;
        let host = parsed.host().trim_start_matches('[').trim_end_matches(']');
        if host == LOGIN_HOST || host == MANAGEMENT_HOST {
            return None;
        }
        let (vault_label, parent) = host.split_once('.')?;
        if !self.vaults.contains_key(vault_label) {
            return None;
        }
        let (status, body, extra) = self.vault_challenge(req, parent, parsed.port_u16())?;
        Some(self.finish(req, status, body, extra))
    }

    pub fn handle(&self, req: &Request<Bytes>) -> Response<Bytes> {
        let (status, body, extra) = self.answer(req);
        self.finish(req, status, body, extra)
    }

    fn answer(&self, req: &Request<Bytes>) -> Answer {
        let authority = authority_of(req);
        let Ok(parsed) = authority.parse::<http::uri::Authority>() else {
            let e = ApiError::bad("The request has no valid Host.");
            return (e.status, Some(e.body()), Vec::new());
        };
        let host = parsed.host().trim_start_matches('[').trim_end_matches(']');
        let port = parsed.port_u16();
        if host == LOGIN_HOST {
            let (status, body) = identity::entra(
                &self.issuer,
                &self.clients,
                &self.users,
                &self.arm.all_tenants(),
                req,
                &authority,
                &self.rng,
            );
            return (status, Some(body), Vec::new());
        }
        if host == MANAGEMENT_HOST {
            return self.management(req, &authority);
        }
        let Some((vault_label, parent)) = host.split_once('.') else {
            let e = ApiError::new(
                StatusCode::NOT_FOUND,
                "VaultNotFound",
                format!(
                    "No vault in the host name '{host}'. Call a vault as https://{{vault}}.localhost:{}; vaults here: {}.",
                    port.unwrap_or(443),
                    self.names.join(", ")
                ),
            );
            return (e.status, Some(e.body()), Vec::new());
        };
        if !self.vaults.contains_key(vault_label) {
            let e = ApiError::new(
                StatusCode::NOT_FOUND,
                "VaultNotFound",
                format!(
                    "There is no vault named '{vault_label}' on this local vault; vaults here: {}. Start it with --vault {vault_label} to add one.",
                    self.names.join(", ")
                ),
            );
            return (e.status, Some(e.body()), Vec::new());
        }
        // The challenge comes before any other validation.
        if let Some(refusal) = self.vault_challenge(req, parent, port) {
            return refusal;
        }
        let params = query_params(req.uri().query());
        let api_version = param(&params, "api-version")
            .unwrap_or_default()
            .to_string();
        if !is_supported_api_version(&api_version) {
            let e = ApiError::bad(format!(
                "The specified version ({api_version}) is not recognized. Consider using the latest supported version (2025-07-01)."
            ));
            return (e.status, Some(e.body()), Vec::new());
        }
        // The firewall, private link and the vault's permission model, in the order the service
        // applies them.
        if let Some(refusal) = self.authorize(req, vault_label, &params) {
            return refusal;
        }
        let ctx = Ctx {
            authority: &authority,
            host,
            port,
            api_version,
            now: self.now(),
        };
        let result = self
            .with_vault(vault_label, |vault| {
                self.route(
                    vault,
                    &ctx,
                    req.method(),
                    req.uri().path(),
                    &params,
                    req.body(),
                )
            })
            .unwrap_or_else(|| Err(ApiError::bad("unknown vault")));
        match result {
            Ok((status, body)) => (status, body, Vec::new()),
            Err(e) => (e.status, Some(e.body()), Vec::new()),
        }
    }

    fn route(
        &self,
        vault: &mut Vault,
        ctx: &Ctx<'_>,
        method: &Method,
        path: &str,
        params: &[(String, String)],
        body: &[u8],
    ) -> ApiResult {
        let segs = segments(path)?;
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        // The one name a mutating request changes, and its state before (to undo a change that could
        // not be made durable). Restore names its secret in the blob: read from the answer.
        let mutated: Option<&str> = match (method.clone(), segs.as_slice()) {
            (Method::PUT | Method::PATCH | Method::DELETE, ["secrets", name, ..]) => Some(name),
            (Method::DELETE, ["deletedsecrets", name]) => Some(name),
            (Method::POST, ["deletedsecrets", name, "recover"]) => Some(name),
            _ => None,
        };
        let before = mutated.map(|n| vault.name_state(n));
        let result = self.dispatch(vault, ctx, method, path, &segs, params, body);
        let Some(data) = &self.data else {
            return result;
        };
        let touched = match (&result, mutated) {
            (Ok(_), Some(name)) => Some(name.to_string()),
            (Ok((_, Some(v))), None) if segs.as_slice() == ["secrets", "restore"] => v["id"]
                .as_str()
                .and_then(|id| id.split("/secrets/").nth(1))
                .and_then(|rest| rest.split('/').next())
                .map(str::to_string),
            _ => None,
        };
        if let Some(name) = touched {
            if let Err(e) = data.append(&vault.name, &name, &vault.name_state(&name)) {
                vault.put_name_state(&name, before.unwrap_or_default());
                return Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    format!("The local vault could not write its data file ({}): {e}. Nothing was changed.", data.path().display()),
                ));
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn service() -> Service {
        let key = BackupKey::from_bytes(&[7u8; 32]).expect("key");
        let options = ServiceOptions::new(Arc::new(TokenIssuer::new(b"k", LOCAL_TENANT)));
        Service::new(
            &[
                ("demo".to_string(), VaultPolicy::default()),
                (
                    "slow".to_string(),
                    VaultPolicy {
                        delete_delay_ms: 60_000,
                        ..VaultPolicy::default()
                    },
                ),
            ],
            key,
            options,
        )
    }

    fn request(method: &str, uri: &str, body: &[u8], auth: bool) -> Request<Bytes> {
        let mut b = Request::builder().method(method).uri(uri);
        if auth {
            b = b.header("authorization", "Bearer t");
        }
        b.body(Bytes::copy_from_slice(body)).expect("request")
    }

    #[test]
    fn api_versions() {
        for ok in [
            "7.0",
            "7.6",
            "7.5-preview.1",
            "7.4-preview",
            "2025-07-01",
            "2099-12-31-preview",
        ] {
            assert!(is_supported_api_version(ok), "{ok}");
        }
        for bad in [
            "",
            "7",
            "7.",
            "7.10",
            "7.6-preview.",
            "2024-07-01",
            "2025-00-01",
            "2025-07-1",
            "x2025-07-01",
            "2025-07-01-previewX",
        ] {
            assert!(!is_supported_api_version(bad), "{bad}");
        }
    }

    #[test]
    fn skiptokens_round_trip_and_look_like_the_service() {
        let t = encode_skiptoken("db-password-2");
        assert_eq!(decode_skiptoken(&t).as_deref(), Some("db-password-2"));
        let outer = URL_SAFE_NO_PAD.decode(&t).expect("b64");
        let v: Value = serde_json::from_slice(&outer).expect("json");
        assert!(v["NextMarker"]
            .as_str()
            .is_some_and(|m| m.starts_with("2!")));
        assert_eq!(v["TargetLocation"], 0);
        assert_eq!(decode_skiptoken("not a token"), None);
    }

    #[test]
    fn segments_collapse_and_mean_latest() {
        assert_eq!(
            segments("/secrets/x/").ok(),
            Some(vec!["secrets".into(), "x".into()])
        );
        assert_eq!(
            segments("/secrets/x/%2F").ok(),
            Some(vec!["secrets".into(), "x".into()])
        );
        assert_eq!(
            segments("//secrets///x").ok(),
            Some(vec!["secrets".into(), "x".into()])
        );
        assert_eq!(segments("/secrets/").ok(), Some(vec!["secrets".into()]));
        assert!(segments("/secrets/%FF").is_err());
    }

    #[test]
    fn host_routing_and_challenge_resource() {
        let s = service();
        let r = s.handle(&request(
            "GET",
            "https://demo.localhost:8443/secrets?api-version=7.4",
            b"",
            false,
        ));
        assert_eq!(r.status(), 401);
        let c = r.headers()["www-authenticate"].to_str().expect("ascii");
        assert!(c.ends_with("resource=\"https://localhost:8443\""), "{c}");
        let r = s.handle(&request(
            "GET",
            "https://demo.vault.azure.net/secrets?api-version=7.4",
            b"",
            false,
        ));
        let c = r.headers()["www-authenticate"].to_str().expect("ascii");
        assert!(c.ends_with("resource=\"https://vault.azure.net\""), "{c}");
        let r = s.handle(&request(
            "GET",
            "https://nope.localhost:1/secrets?api-version=7.4",
            b"",
            true,
        ));
        assert_eq!(r.status(), 404);
        let r = s.handle(&request(
            "GET",
            "https://localhost:1/secrets?api-version=7.4",
            b"",
            true,
        ));
        assert_eq!(r.status(), 404);
        // HTTP/1.1: the vault comes from the Host header.
        let r = s.handle(
            &Request::builder()
                .uri("/secrets?api-version=7.4")
                .header("host", "DEMO.localhost:9")
                .header("authorization", "Bearer t")
                .body(Bytes::new())
                .expect("req"),
        );
        assert_eq!(r.status(), 200);
    }

    #[test]
    fn ids_use_the_authority_the_client_called() {
        let s = service();
        let r = s.handle(&request(
            "PUT",
            "https://demo.localhost/secrets/a?api-version=7.4",
            br#"{"value":"v"}"#,
            true,
        ));
        let v: Value = serde_json::from_slice(r.body()).expect("json");
        assert!(v["id"]
            .as_str()
            .is_some_and(|i| i.starts_with("https://demo.localhost/secrets/a/")));
    }

    fn method() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("GET".to_string()),
            Just("PUT".to_string()),
            Just("PATCH".to_string()),
            Just("POST".to_string()),
            Just("DELETE".to_string()),
            Just("HEAD".to_string()),
            Just("OPTIONS".to_string()),
        ]
    }

    fn path() -> impl Strategy<Value = String> {
        let seg = prop_oneof![
            Just("secrets".to_string()),
            Just("deletedsecrets".to_string()),
            Just("versions".to_string()),
            Just("backup".to_string()),
            Just("recover".to_string()),
            Just("restore".to_string()),
            Just("x".to_string()),
            Just("%2F".to_string()),
            Just("%FF".to_string()),
            Just("".to_string()),
            "[a-zA-Z0-9_%.-]{0,12}",
        ];
        proptest::collection::vec(seg, 0..5).prop_map(|s| format!("/{}", s.join("/")))
    }

    fn query() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("api-version=7.4".to_string()),
            Just("api-version=2025-07-01&maxresults=3".to_string()),
            Just("api-version=7.4&%24skiptoken=abc".to_string()),
            Just("api-version=7.4&maxresults=-1".to_string()),
            "[a-z=&%$0-9.-]{0,30}",
        ]
    }

    fn body() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(br#"{"value":"v"}"#.to_vec()),
            Just(
                br#"{"value":"v","tags":{"a":"b"},"attributes":{"enabled":false,"exp":1e300}}"#
                    .to_vec()
            ),
            Just(br#"{"value":null,"attributes":{"nbf":-99999999999999999999}}"#.to_vec()),
            Just(br#"{"value":"AAAA"}"#.to_vec()),
            proptest::collection::vec(any::<u8>(), 0..64),
            "\\PC{0,40}".prop_map(String::into_bytes),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Any request: no panic, a status in 2xx/4xx, and every error is the service's JSON shape.
        #[test]
        fn no_request_makes_it_panic_or_answer_garbage(
            m in method(), p in path(), q in query(), b in body(), auth in any::<bool>(),
            vault in prop_oneof![Just("demo"), Just("slow"), Just("other")],
        ) {
            let s = service();
            // Some state to act on.
            s.handle(&request("PUT", "https://demo.localhost:1/secrets/x?api-version=7.4", br#"{"value":"v"}"#, true));
            s.handle(&request("PUT", "https://slow.localhost:1/secrets/x?api-version=7.4", br#"{"value":"v"}"#, true));
            s.handle(&request("DELETE", "https://slow.localhost:1/secrets/x?api-version=7.4", b"", true));
            let uri = format!("https://{vault}.localhost:1{p}?{q}");
            let Ok(req) = Request::builder().method(m.as_str()).uri(uri.as_str()).header("authorization", if auth { "Bearer t" } else { "" }).body(Bytes::from(b)) else {
                return Ok(());
            };
            let r = s.handle(&req);
            let status = r.status().as_u16();
            prop_assert!((200..300).contains(&status) || (400..500).contains(&status), "{status} for {m} {uri}");
            if status == 204 {
                prop_assert!(r.body().is_empty());
            } else {
                let v: Value = serde_json::from_slice(r.body()).map_err(|e| TestCaseError::fail(format!("{e}")))?;
                if status >= 400 {
                    prop_assert!(v["error"]["code"].is_string(), "{v}");
                    prop_assert!(v["error"]["message"].is_string(), "{v}");
                }
            }
        }
    }
}
