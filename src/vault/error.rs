//! Typed vault errors, classified by the service's inner error code (both 409s share the outer code
//! `Conflict`), with a one-line human message and the service's code.

use std::fmt;

use azure_core::error::ErrorKind as SdkKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    /// 409 ObjectIsDeletedButRecoverable: the name cannot be reused until recovered or purged.
    DeletedButRecoverable,
    /// 409 ObjectIsBeingDeleted: a delete or purge of this name is still in progress.
    BeingDeleted,
    /// 403 SecretDisabled.
    Disabled,
    /// 403 for any other reason: RBAC, access policy, firewall, private endpoint, purge protection.
    Forbidden,
    /// 429 after the SDK's own retries gave up.
    Throttled,
    /// No credential produced a token, or the service refused it.
    Unauthorized,
    /// AKV10032: the token's tenant is not the vault's.
    WrongTenant,
    /// Could not reach the vault: DNS, connection.
    Network,
    /// The vault's certificate is not trusted (unknown issuer, wrong name, expired): not transient.
    Tls,
    /// A poller gave up waiting.
    Timeout,
    /// A backup's file exists: the user is asked before it is replaced.
    FileExists,
    Other,
}

/// An error as the views show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultError {
    pub kind: ErrorKind,
    pub status: Option<u16>,
    /// The most specific code: the inner error code when there is one, else the outer.
    pub code: Option<String>,
    /// The service's message, or the underlying cause, on one line.
    pub message: String,
    /// The same, whole, with the service's line breaks (a 403 names caller, action and vault on
    /// lines of their own).
    pub detail: String,
    /// The tenant a 401's challenge names (`WWW-Authenticate: Bearer authorization="…/<tenant>"`):
    /// the vault's tenant.
    pub tenant: Option<String>,
}

impl VaultError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let detail: String = message.into();
        Self {
            kind,
            status: None,
            code: None,
            message: one_line(&detail),
            detail,
            tenant: None,
        }
    }

    /// Classifies an SDK error, walking its `source()` chain for the real cause.
    pub fn from_sdk(e: &azure_core::Error) -> Self {
        match e.kind() {
            SdkKind::HttpResponse {
                status,
                error_code,
                raw_response,
            } => {
                let status = u16::from(*status);
                let body: serde_json::Value = raw_response
                    .as_ref()
                    .and_then(|r| serde_json::from_slice(r.body()).ok())
                    .unwrap_or(serde_json::Value::Null);
                let outer = body["error"]["code"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| error_code.clone());
                let inner = body["error"]["innererror"]["code"]
                    .as_str()
                    .map(str::to_string);
                let message = body["error"]["message"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| e.to_string());
                let kind = match (status, inner.as_deref()) {
                    (404, _) => ErrorKind::NotFound,
                    (409, Some("ObjectIsDeletedButRecoverable")) => {
                        ErrorKind::DeletedButRecoverable
                    }
                    (409, Some("ObjectIsBeingDeleted")) => ErrorKind::BeingDeleted,
                    (403, Some("SecretDisabled")) => ErrorKind::Disabled,
                    (403, _) => ErrorKind::Forbidden,
                    (429, _) => ErrorKind::Throttled,
                    (401, _) if message.contains("AKV10032") => ErrorKind::WrongTenant,
                    (401, _) => ErrorKind::Unauthorized,
                    _ => ErrorKind::Other,
                };
                let tenant = raw_response
                    .as_ref()
                    .filter(|_| status == 401)
                    .and_then(|r| {
                        r.headers()
                            .get_optional_str(&azure_core::http::headers::HeaderName::from_static(
                                "www-authenticate",
                            ))
                            .and_then(challenge_tenant)
                    });
                Self {
                    kind,
                    status: Some(status),
                    code: inner.or(outer),
                    message: one_line(&message),
                    detail: message.replace("\r\n", "\n").trim_end().to_string(),
                    tenant,
                }
            }
            SdkKind::Credential => Self::new(ErrorKind::Unauthorized, cause_chain(e)),
            SdkKind::Io => Self::new(ErrorKind::Network, cause_chain(e)),
            _ if super::transport::certificate_problem(e).is_some() => {
                Self::new(ErrorKind::Tls, cause_chain(e))
            }
            _ => {
                let chain = cause_chain(e);
                let lower = chain.to_ascii_lowercase();
                let network = [
                    "dns",
                    "connect",
                    "certificate",
                    "tls",
                    "handshake",
                    "timed out",
                    "connection",
                    "resolve",
                    "unreachable",
                    "retry policy expired",
                    "challenge resource",
                ]
                .iter()
                .any(|w| lower.contains(w));
                Self::new(
                    if network {
                        ErrorKind::Network
                    } else {
                        ErrorKind::Other
                    },
                    chain,
                )
            }
        }
    }

    /// "403 Forbidden (ForbiddenByRbac): caller lacks secrets/get on kv-prod".
    pub fn summary(&self) -> String {
        let mut s = String::new();
        if let Some(st) = self.status {
            s.push_str(&format!("{st} {}", reason(st)));
            if let Some(c) = &self.code {
                s.push_str(&format!(" ({c})"));
            }
            s.push_str(": ");
        } else if let Some(c) = &self.code {
            s.push_str(&format!("{c}: "));
        }
        s.push_str(&self.message);
        s
    }
}

impl fmt::Display for VaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

impl std::error::Error for VaultError {}

/// The tenant a `WWW-Authenticate` challenge names: the last path segment of its `authorization`
/// (Key Vault) or `authorization_uri` (Resource Manager) URL.
pub fn challenge_tenant(header: &str) -> Option<String> {
    let at = header
        .find("authorization=\"")
        .map(|i| i + "authorization=\"".len())
        .or_else(|| {
            header
                .find("authorization_uri=\"")
                .map(|i| i + "authorization_uri=\"".len())
        })?;
    let url = url::Url::parse(header[at..].split('"').next()?).ok()?;
    let tenant = url.path_segments()?.rfind(|s| !s.is_empty())?;
    let ok = !tenant.is_empty()
        && !tenant.contains(':')
        && tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    ok.then(|| tenant.to_ascii_lowercase())
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the SDK's retry policy adds to every error it passes on: true, and no help to a user.
const SDK_NOISE: [&str; 2] = [
    "non-transport error occurred which will not be retried",
    "retry policy expired and the request will no longer be retried",
];

/// The error and its causes, outermost first, de-duplicated, on one line (a cause with line breaks
/// keeps them). The SDK hides the real cause (a challenge mismatch, a TLS failure) behind
/// "non-transport error".
pub fn cause_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let raw = err.to_string();
        let keep_lines = raw.contains('\n');
        let text = if keep_lines {
            raw.trim().to_string()
        } else {
            one_line(&raw)
        };
        if SDK_NOISE.contains(&text.as_str()) {
            cur = err.source();
            continue;
        }
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_challenge_names_the_vaults_tenant() {
        use super::challenge_tenant;
        assert_eq!(
            challenge_tenant(r#"Bearer authorization="https://login.microsoftonline.com/72F988BF-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net""#).as_deref(),
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47")
        );
        assert_eq!(
            challenge_tenant(r#"Bearer authorization_uri="https://login.windows.net/contoso.onmicrosoft.com/", error="invalid_token""#).as_deref(),
            Some("contoso.onmicrosoft.com")
        );
        assert_eq!(
            challenge_tenant(r#"Bearer authorization="https://login.microsoftonline.com""#),
            None
        );
        assert_eq!(challenge_tenant("Basic realm=x"), None);
    }
}
