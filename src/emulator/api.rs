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

use super::arm::{Arm, ArmConfig};
use super::backup::BackupKey;
use super::faults::{Fault, FaultConfig, Faults};
use super::identity::{self, Clients, TokenIssuer};
use super::persist::{DataFile, Entry};
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
        }
    }
}

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
}

/// An error row: status, code, optional inner code, message.
struct ApiError {
    status: StatusCode,
    code: &'static str,
    inner: Option<&'static str>,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            inner: None,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadParameter", message)
    }

    fn inner(mut self, inner: &'static str) -> Self {
        self.inner = Some(inner);
        self
    }

    fn body(&self) -> Value {
        let mut e = Map::new();
        e.insert("code".into(), json!(self.code));
        e.insert("message".into(), json!(self.message));
        if let Some(inner) = self.inner {
            e.insert("innererror".into(), json!({ "code": inner }));
        }
        json!({ "error": e })
    }
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

pub fn is_valid_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Today's and future API versions are accepted: 7.0–7.6 (and their previews), 2016-10-01, and any
/// well-formed `YYYY-MM-DD[-preview[.N]]` from 2025 on.
pub fn is_supported_api_version(v: &str) -> bool {
    let (base, preview) = match v.split_once("-preview") {
        Some((b, rest)) => (b, Some(rest)),
        None => (v, None),
    };
    if let Some(rest) = preview {
        let ok = rest.is_empty()
            || rest
                .strip_prefix('.')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return false;
        }
    }
    if let Some(minor) = base.strip_prefix("7.") {
        return minor.len() == 1 && (b'0'..=b'6').contains(&minor.as_bytes()[0]);
    }
    if base == "2016-10-01" {
        return preview.is_none();
    }
    let parts: Vec<&str> = base.split('-').collect();
    if parts.len() != 3
        || parts[0].len() != 4
        || parts[1].len() != 2
        || parts[2].len() != 2
        || !parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (
        parts[0].parse::<u32>(),
        parts[1].parse::<u32>(),
        parts[2].parse::<u32>(),
    ) else {
        return false;
    };
    y >= 2025 && (1..=12).contains(&m) && (1..=31).contains(&d)
}

fn encode_skiptoken(key: &str) -> String {
    let inner = URL_SAFE_NO_PAD.encode(format!("000001!secret/{}!", key.to_ascii_uppercase()));
    let marker = format!("2!{}!{inner}", inner.len());
    URL_SAFE_NO_PAD.encode(json!({ "NextMarker": marker, "TargetLocation": 0 }).to_string())
}

fn decode_skiptoken(token: &str) -> Option<String> {
    let outer = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
    let v: Value = serde_json::from_slice(&outer).ok()?;
    let marker = v.get("NextMarker")?.as_str()?;
    let mut parts = marker.splitn(3, '!');
    let (_, _, inner) = (parts.next()?, parts.next()?, parts.next()?);
    let inner = String::from_utf8(URL_SAFE_NO_PAD.decode(inner).ok()?).ok()?;
    let key = inner.split('!').nth(1)?.strip_prefix("secret/")?;
    Some(key.to_ascii_lowercase())
}

fn opt_string(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad(format!(
            "Property '{field}' must be a string."
        ))),
    }
}

fn opt_time(obj: &Map<String, Value>, field: &str) -> Result<Option<i64>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad(format!("Property 'attributes.{field}' is out of range."))
            }),
        Some(_) => Err(ApiError::bad(format!(
            "Property 'attributes.{field}' must be a number of seconds since 1970-01-01T00:00:00Z."
        ))),
    }
}

fn parse_attributes(obj: &Map<String, Value>) -> Result<Attributes, ApiError> {
    let a = match obj.get("attributes") {
        None | Some(Value::Null) => return Ok(Attributes::default()),
        Some(Value::Object(a)) => a,
        Some(_) => return Err(ApiError::bad("Property 'attributes' must be an object.")),
    };
    let enabled = match a.get("enabled") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(ApiError::bad(
                "Property 'attributes.enabled' must be a boolean.",
            ))
        }
    };
    Ok(Attributes {
        enabled,
        nbf: opt_time(a, "nbf")?,
        exp: opt_time(a, "exp")?,
    })
}

fn parse_content_type(obj: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    let ct = opt_string(obj, "contentType")?;
    if let Some(ct) = &ct {
        if ct.chars().count() > MAX_CONTENT_TYPE_CHARS {
            return Err(ApiError::bad(format!(
                "The content type is too long: {} characters; the limit is {MAX_CONTENT_TYPE_CHARS}.",
                ct.chars().count()
            )));
        }
    }
    Ok(ct)
}

fn parse_tags(obj: &Map<String, Value>) -> Result<Option<BTreeMap<String, String>>, ApiError> {
    let tags = match obj.get("tags") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(t)) => t,
        Some(_) => {
            return Err(ApiError::bad(
                "Property 'tags' must be an object of strings.",
            ))
        }
    };
    if tags.len() > MAX_TAGS {
        return Err(ApiError::bad(format!(
            "Too many tags: {}; a secret can have at most {MAX_TAGS}.",
            tags.len()
        )));
    }
    let mut out = BTreeMap::new();
    for (k, v) in tags {
        let Value::String(v) = v else {
            return Err(ApiError::bad(format!(
                "The value of tag '{k}' must be a string."
            )));
        };
        if k.is_empty() {
            return Err(ApiError::bad("Tag names cannot be empty."));
        }
        if k.chars().count() > MAX_TAG_CHARS || v.chars().count() > MAX_TAG_CHARS {
            return Err(ApiError::bad(format!(
                "Tag '{}' is too long: tag names and values are limited to {MAX_TAG_CHARS} characters.",
                k.chars().take(40).collect::<String>()
            )));
        }
        out.insert(k.clone(), v.clone());
    }
    Ok(Some(out))
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad(
            "The request body is empty; a JSON object was expected.",
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(ApiError::bad("The request body must be a JSON object.")),
        Err(e) => Err(ApiError::bad(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}

fn store_error(e: StoreError, ctx: &Ctx<'_>) -> ApiError {
    match e {
        StoreError::NotFound(what) => ApiError::new(
            StatusCode::NOT_FOUND,
            "SecretNotFound",
            format!("A secret with (name/id) {what} {NOT_FOUND_TAIL}"),
        ),
        StoreError::DeletedNotFound(name) => ApiError::new(
            StatusCode::NOT_FOUND,
            "SecretNotFound",
            format!("Deleted Secret not found: {name}"),
        ),
        StoreError::DeletedButRecoverable(name) => ApiError::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!("Secret {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged."),
        )
        .inner("ObjectIsDeletedButRecoverable"),
        StoreError::BeingDeleted => {
            ApiError::new(StatusCode::CONFLICT, "Conflict", "Secret is currently being deleted.")
                .inner("ObjectIsBeingDeleted")
        }
        StoreError::Disabled => ApiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "Operation get is not allowed on a disabled secret.",
        )
        .inner("SecretDisabled"),
        StoreError::PurgeProtected => ApiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "Operation \"purge\" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.",
        ),
        StoreError::RestoreConflict(id) => ApiError::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!("There was a conflict restoring the secret '{}/secrets/{id}'. This can happen if either: a second secret with the same name was created after the first secret was deleted; thus trying to restore a secret whose name is already in use. To fix this, rename the second secret to something else so that the restore works. The second probable cause of this exception is when multiple operations are performed in parallel against the secret. To avoid this error, perform operations against a secret in a sequential manner.", ctx.base()),
        ),
        StoreError::MalformedBackup => malformed_backup(),
    }
}

fn malformed_backup() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "Malformed backup blob",
        "Backup blob contains invalid or corrupt version.",
    )
}

fn attributes_json(v: &SecretVersion, policy: &VaultPolicy) -> Value {
    let mut a = Map::new();
    a.insert("enabled".into(), json!(v.enabled));
    if let Some(nbf) = v.nbf {
        a.insert("nbf".into(), json!(nbf));
    }
    if let Some(exp) = v.exp {
        a.insert("exp".into(), json!(exp));
    }
    a.insert("created".into(), json!(v.created));
    a.insert("updated".into(), json!(v.updated));
    a.insert("recoveryLevel".into(), json!(policy.recovery_level()));
    a.insert("recoverableDays".into(), json!(policy.recoverable_days));
    Value::Object(a)
}

/// SecretBundle (`value` only where the service returns it) or, with `versioned: false`, a SecretItem.
fn secret_json(
    ctx: &Ctx<'_>,
    name: &str,
    v: &SecretVersion,
    policy: &VaultPolicy,
    with_value: bool,
    versioned: bool,
) -> Map<String, Value> {
    let mut m = Map::new();
    if with_value {
        m.insert("value".into(), json!(v.value.as_str()));
    }
    if let Some(ct) = &v.content_type {
        m.insert("contentType".into(), json!(ct));
    }
    let id = if versioned {
        format!("{}/secrets/{name}/{}", ctx.base(), v.version)
    } else {
        format!("{}/secrets/{name}", ctx.base())
    };
    m.insert("id".into(), json!(id));
    m.insert("attributes".into(), attributes_json(v, policy));
    if let Some(tags) = &v.tags {
        m.insert("tags".into(), json!(tags));
    }
    m
}

/// DeletedSecretBundle or DeletedSecretItem: the deletion fields first, as the service orders them.
fn deleted_json(
    ctx: &Ctx<'_>,
    d: &DeletedRecord,
    policy: &VaultPolicy,
    versioned: bool,
) -> Option<Value> {
    let latest = d.record.latest()?;
    let mut m = Map::new();
    if policy.soft_delete() {
        m.insert(
            "recoveryId".into(),
            json!(format!("{}/deletedsecrets/{}", ctx.base(), d.record.name)),
        );
        m.insert("deletedDate".into(), json!(d.deleted_date));
        m.insert("scheduledPurgeDate".into(), json!(d.scheduled_purge_date));
    }
    m.extend(secret_json(
        ctx,
        &d.record.name,
        latest,
        policy,
        false,
        versioned,
    ));
    Some(Value::Object(m))
}

fn page_json<T>(
    ctx: &Ctx<'_>,
    path: &str,
    page: Page<T>,
    maxresults: Option<usize>,
    item: impl Fn(T) -> Option<Value>,
) -> Value {
    let next = page.next_after.map(|k| {
        let mut link = format!(
            "{}{path}?api-version={}&$skiptoken={}",
            ctx.link_base(),
            ctx.api_version,
            encode_skiptoken(&k)
        );
        if let Some(n) = maxresults {
            link.push_str(&format!("&maxresults={n}"));
        }
        link
    });
    let values: Vec<Value> = page.items.into_iter().filter_map(item).collect();
    json!({ "value": values, "nextLink": next })
}

fn random_hex(rng: &SystemRandom, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if rng.fill(&mut buf).is_err() {
        // SystemRandom only fails when the OS has no randomness at all; fall back to the clock.
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (t >> ((i % 16) * 8)) as u8 ^ i as u8;
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn request_id(rng: &SystemRandom) -> String {
    let h = random_hex(rng, 16);
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// The authority the client called (lower case): `:authority` in HTTP/2, `Host` in HTTP/1.1.
pub fn authority_of(req: &Request<Bytes>) -> String {
    let authority = req
        .uri()
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| {
            req.headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_string)
        })
        .unwrap_or_default();
    authority
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The query's parameters, percent-decoded (the Rust SDK sends `%24skiptoken`).
fn query_params(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// Splits the path into percent-decoded segments: `//` collapses, and trailing empty or `/`
/// segments (`/secrets/x/`, `/secrets/x/%2F`) are dropped, so both mean "latest".
fn segments(path: &str) -> Result<Vec<String>, ApiError> {
    let mut segs = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let s = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| ApiError::bad("The request URI is not valid UTF-8."))?;
        segs.push(s.into_owned());
    }
    while segs.len() > 1 && segs.last().is_some_and(|s| s.is_empty() || s == "/") {
        segs.pop();
    }
    Ok(segs)
}

fn method_not_allowed(method: &Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("HTTP {method} not allowed"),
    )
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(ApiError::bad(format!(
            "The request URI contains an invalid name: {name}"
        )))
    }
}

fn page_size(params: &[(String, String)]) -> Result<(usize, Option<usize>), ApiError> {
    match param(params, "maxresults") {
        None => Ok((MAX_PAGE, None)),
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok((n, Some(n))),
            _ => Err(ApiError::bad(format!(
                "Invalid value for maxresults: '{v}'. It must be an integer from 1 to {MAX_PAGE}."
            ))),
        },
    }
}

fn skip_start(params: &[(String, String)]) -> Result<Option<String>, ApiError> {
    match param(params, "$skiptoken") {
        None => Ok(None),
        Some("") => Ok(None),
        Some(t) => decode_skiptoken(t)
            .map(Some)
            .ok_or_else(|| ApiError::bad("The $skiptoken is not valid.")),
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
        let extra = vec![("Retry-After", HeaderValue::from(retry_after))];
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
    pub fn handle(&self, req: &Request<Bytes>) -> Response<Bytes> {
        let (status, body, extra) = self.answer(req);
        self.finish(req, status, body, extra)
    }

    /// A response with the service's headers.
    fn finish(
        &self,
        req: &Request<Bytes>,
        status: StatusCode,
        body: Option<Value>,
        extra: Vec<(&'static str, HeaderValue)>,
    ) -> Response<Bytes> {
        let request_id = request_id(&self.rng);
        let mut builder = Response::builder()
            .status(status)
            .header(header::CACHE_CONTROL, "no-cache")
            .header(header::PRAGMA, "no-cache")
            .header(header::EXPIRES, "-1")
            .header(
                header::STRICT_TRANSPORT_SECURITY,
                "max-age=31536000;includeSubDomains",
            )
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header("x-ms-keyvault-region", "local")
            .header("x-ms-keyvault-service-version", SERVICE_VERSION)
            .header(
                "x-ms-keyvault-network-info",
                "conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;",
            )
            .header("x-ms-request-id", request_id);
        if let Some(client_id) = req
            .headers()
            .get("x-ms-client-request-id")
            .filter(|v| v.len() <= 256)
        {
            builder = builder.header("x-ms-client-request-id", client_id.clone());
        }
        for (k, v) in extra {
            builder = builder.header(k, v);
        }
        let bytes = match body {
            Some(v) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json; charset=utf-8");
                Bytes::from(v.to_string())
            }
            None => Bytes::new(),
        };
        builder.body(bytes).unwrap_or_else(|_| {
            let mut r = Response::new(Bytes::new());
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
    }

    /// The bearer token, if the request carries a non-empty one.
    fn bearer(req: &Request<Bytes>) -> Option<&str> {
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
    fn token_problem(&self, token: &str) -> Option<&'static str> {
        if !self.strict_tokens {
            return None;
        }
        self.issuer.verify(token).err()
    }

    fn answer(
        &self,
        req: &Request<Bytes>,
    ) -> (StatusCode, Option<Value>, Vec<(&'static str, HeaderValue)>) {
        let authority = authority_of(req);
        let Ok(parsed) = authority.parse::<http::uri::Authority>() else {
            let e = ApiError::bad("The request has no valid Host.");
            return (e.status, Some(e.body()), Vec::new());
        };
        let host = parsed.host().trim_start_matches('[').trim_end_matches(']');
        let port = parsed.port_u16();
        if host == LOGIN_HOST {
            let (status, body) =
                identity::entra(&self.issuer, &self.clients, req, &authority, &self.rng);
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
        let token = Self::bearer(req);
        let problem = token.and_then(|t| self.token_problem(t));
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
            let extra = HeaderValue::from_str(&challenge)
                .map(|v| vec![("WWW-Authenticate", v)])
                .unwrap_or_default();
            return (e.status, Some(e.body()), extra);
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

    #[allow(clippy::too_many_arguments)]
    fn dispatch(
        &self,
        vault: &mut Vault,
        ctx: &Ctx<'_>,
        method: &Method,
        path: &str,
        segs: &[&str],
        params: &[(String, String)],
        body: &[u8],
    ) -> ApiResult {
        match segs {
            ["secrets"] => match *method {
                Method::GET => self.list(vault, ctx, params),
                _ => Err(method_not_allowed(method)),
            },
            ["secrets", "restore"] if method == Method::POST => self.restore(vault, ctx, body),
            ["secrets", name] => {
                check_name(name)?;
                match *method {
                    Method::PUT => self.set(vault, ctx, name, body),
                    Method::GET => self.get(vault, ctx, name, None),
                    Method::PATCH => self.update(vault, ctx, name, None, body),
                    Method::DELETE => self.delete(vault, ctx, name),
                    _ => Err(method_not_allowed(method)),
                }
            }
            ["secrets", name, "versions"] if method == Method::GET => {
                check_name(name)?;
                self.versions(vault, ctx, name, params)
            }
            ["secrets", name, "backup"] if method == Method::POST => {
                check_name(name)?;
                self.backup(vault, ctx, name)
            }
            ["secrets", name, version] => {
                check_name(name)?;
                match *method {
                    Method::GET => self.get(vault, ctx, name, Some(version)),
                    Method::PATCH => self.update(vault, ctx, name, Some(version), body),
                    _ => Err(method_not_allowed(method)),
                }
            }
            ["deletedsecrets"] => match *method {
                Method::GET => self.list_deleted(vault, ctx, params),
                _ => Err(method_not_allowed(method)),
            },
            ["deletedsecrets", name] => {
                check_name(name)?;
                match *method {
                    Method::GET => {
                        let policy = vault.policy.clone();
                        let d = vault
                            .get_deleted(name, ctx.now)
                            .map_err(|e| store_error(e, ctx))?;
                        Ok((StatusCode::OK, deleted_json(ctx, d, &policy, true)))
                    }
                    Method::DELETE => {
                        vault
                            .purge(name, ctx.now)
                            .map_err(|e| store_error(e, ctx))?;
                        Ok((StatusCode::NO_CONTENT, None))
                    }
                    _ => Err(method_not_allowed(method)),
                }
            }
            ["deletedsecrets", name, "recover"] if method == Method::POST => {
                check_name(name)?;
                let policy = vault.policy.clone();
                let record = vault
                    .recover(name, ctx.now)
                    .map_err(|e| store_error(e, ctx))?;
                let latest = record
                    .latest()
                    .ok_or_else(|| store_error(StoreError::NotFound(name.to_string()), ctx))?;
                Ok((
                    StatusCode::OK,
                    Some(Value::Object(secret_json(
                        ctx,
                        &record.name,
                        latest,
                        &policy,
                        false,
                        true,
                    ))),
                ))
            }
            _ => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("The requested resource {path} was not found."),
            )),
        }
    }

    /// Resource Manager discovery (host `management.localhost`).
    fn management(
        &self,
        req: &Request<Bytes>,
        authority: &str,
    ) -> (StatusCode, Option<Value>, Vec<(&'static str, HeaderValue)>) {
        let token = Self::bearer(req);
        let problem = token.and_then(|t| self.token_problem(t));
        if token.is_none() || problem.is_some() {
            let message = match problem {
                None => "Authentication failed. The 'Authorization' header is missing.".to_string(),
                Some(why) => format!("Authentication failed: {why}."),
            };
            let challenge = format!(
                "Bearer authorization_uri=\"https://login.microsoftonline.com/{}\", error=\"invalid_token\", error_description=\"{message}\"",
                self.issuer.tenant
            );
            let extra = HeaderValue::from_str(&challenge)
                .map(|v| vec![("WWW-Authenticate", v)])
                .unwrap_or_default();
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
        };
        let (status, body) = arm.answer(req.method(), req.uri().path(), req.uri().query());
        (status, Some(body), Vec::new())
    }

    fn set(&self, vault: &mut Vault, ctx: &Ctx<'_>, name: &str, body: &[u8]) -> ApiResult {
        let obj = parse_object(body)?;
        let value =
            match obj.get("value") {
                Some(Value::String(s)) => Zeroizing::new(s.clone()),
                Some(Value::Null) | None => return Err(ApiError::bad(
                    "The request body has no 'value': a secret needs a value (it may be empty).",
                )),
                Some(_) => return Err(ApiError::bad("Property 'value' must be a string.")),
            };
        if value.len() > MAX_VALUE_BYTES {
            return Err(ApiError::bad(format!(
                "The secret value is too large: {} bytes; the limit is {MAX_VALUE_BYTES} bytes (25 KiB).",
                value.len()
            )));
        }
        let new = NewSecret {
            value,
            content_type: parse_content_type(&obj)?,
            tags: parse_tags(&obj)?,
            attributes: parse_attributes(&obj)?,
        };
        let version = random_hex(&self.rng, 16);
        let policy = vault.policy.clone();
        let (name, v) = vault
            .set(name, new, version, ctx.now)
            .map_err(|e| store_error(e, ctx))?;
        Ok((
            StatusCode::OK,
            Some(Value::Object(secret_json(
                ctx, name, v, &policy, true, true,
            ))),
        ))
    }

    fn get(
        &self,
        vault: &mut Vault,
        ctx: &Ctx<'_>,
        name: &str,
        version: Option<&str>,
    ) -> ApiResult {
        let (name, v) = vault
            .get(name, version, ctx.now)
            .map_err(|e| store_error(e, ctx))?;
        Ok((
            StatusCode::OK,
            Some(Value::Object(secret_json(
                ctx,
                name,
                v,
                &vault.policy,
                true,
                true,
            ))),
        ))
    }

    fn update(
        &self,
        vault: &mut Vault,
        ctx: &Ctx<'_>,
        name: &str,
        version: Option<&str>,
        body: &[u8],
    ) -> ApiResult {
        let obj = parse_object(body)?;
        let patch = PropertiesUpdate {
            content_type: parse_content_type(&obj)?,
            tags: parse_tags(&obj)?,
            attributes: parse_attributes(&obj)?,
        };
        let policy = vault.policy.clone();
        let (name, v) = vault
            .update(name, version, patch, ctx.now)
            .map_err(|e| store_error(e, ctx))?;
        Ok((
            StatusCode::OK,
            Some(Value::Object(secret_json(
                ctx, name, v, &policy, false, true,
            ))),
        ))
    }

    fn delete(&self, vault: &mut Vault, ctx: &Ctx<'_>, name: &str) -> ApiResult {
        let d = vault
            .delete(name, ctx.now)
            .map_err(|e| store_error(e, ctx))?;
        Ok((StatusCode::OK, deleted_json(ctx, &d, &vault.policy, true)))
    }

    fn list(&self, vault: &mut Vault, ctx: &Ctx<'_>, params: &[(String, String)]) -> ApiResult {
        let (size, maxresults) = page_size(params)?;
        let start = skip_start(params)?;
        let policy = vault.policy.clone();
        let page = vault.list(start.as_deref(), size, ctx.now);
        let body = page_json(ctx, "/secrets", page, maxresults, |r| {
            r.latest()
                .map(|v| Value::Object(secret_json(ctx, &r.name, v, &policy, false, false)))
        });
        Ok((StatusCode::OK, Some(body)))
    }

    fn versions(
        &self,
        vault: &mut Vault,
        ctx: &Ctx<'_>,
        name: &str,
        params: &[(String, String)],
    ) -> ApiResult {
        let (size, maxresults) = page_size(params)?;
        let start = skip_start(params)?;
        let policy = vault.policy.clone();
        // Ids carry the name as first written, whatever case the caller used.
        let stored_name = vault.stored_name(name, ctx.now).unwrap_or(name).to_string();
        let page = vault.versions(name, start.as_deref(), size, ctx.now);
        let path = format!("/secrets/{stored_name}/versions");
        let body = page_json(ctx, &path, page, maxresults, |v| {
            Some(Value::Object(secret_json(
                ctx,
                &stored_name,
                v,
                &policy,
                false,
                true,
            )))
        });
        Ok((StatusCode::OK, Some(body)))
    }

    fn list_deleted(
        &self,
        vault: &mut Vault,
        ctx: &Ctx<'_>,
        params: &[(String, String)],
    ) -> ApiResult {
        let (size, maxresults) = page_size(params)?;
        let start = skip_start(params)?;
        let policy = vault.policy.clone();
        let page = vault.list_deleted(start.as_deref(), size, ctx.now);
        let body = page_json(ctx, "/deletedsecrets", page, maxresults, |d| {
            deleted_json(ctx, d, &policy, false)
        });
        Ok((StatusCode::OK, Some(body)))
    }

    fn backup(&self, vault: &mut Vault, ctx: &Ctx<'_>, name: &str) -> ApiResult {
        let record = vault
            .backup(name, ctx.now)
            .map_err(|e| store_error(e, ctx))?;
        let blob = self.backup_key.seal(record).ok_or_else(|| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "The backup could not be sealed.",
            )
        })?;
        Ok((
            StatusCode::OK,
            Some(json!({ "value": URL_SAFE_NO_PAD.encode(blob) })),
        ))
    }

    fn restore(&self, vault: &mut Vault, ctx: &Ctx<'_>, body: &[u8]) -> ApiResult {
        let obj = parse_object(body)?;
        let Some(Value::String(blob)) = obj.get("value") else {
            return Err(ApiError::bad(
                "The request body has no backup blob in 'value'.",
            ));
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(blob.trim_end_matches('='))
            .or_else(|_| URL_SAFE.decode(blob))
            .map_err(|_| malformed_backup())?;
        let record = self.backup_key.open(&bytes).ok_or_else(malformed_backup)?;
        if !is_valid_name(&record.name) {
            return Err(malformed_backup());
        }
        let policy = vault.policy.clone();
        let restored = vault
            .restore(record, ctx.now)
            .map_err(|e| store_error(e, ctx))?;
        let latest = restored.latest().ok_or_else(malformed_backup)?;
        Ok((
            StatusCode::OK,
            Some(Value::Object(secret_json(
                ctx,
                &restored.name,
                latest,
                &policy,
                false,
                true,
            ))),
        ))
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
