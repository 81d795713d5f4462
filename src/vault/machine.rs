//! Credentials that come from the machine: a VM's managed identity through the instance metadata
//! endpoint (IMDS), and the developer CLIs (`az`, `azd`) run with a time limit and killed when it
//! passes — a CLI waiting for input must not hang kvtui.

use std::ffi::OsStr;
use std::io;
use std::process::Output;
use std::time::Duration;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::error::{Error, ErrorKind};

/// How long `az` or `azd` may take to print a token (`KVTUI_CLI_TIMEOUT` seconds overrides).
pub fn cli_timeout() -> Duration {
    std::env::var("KVTUI_CLI_TIMEOUT")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(30))
}

/// Runs a CLI with stdin closed, a time limit, and the process killed if the limit passes.
#[derive(Debug)]
pub struct TimedExecutor {
    pub limit: Duration,
}

#[async_trait::async_trait]
impl azure_identity::Executor for TimedExecutor {
    async fn run(&self, program: &OsStr, args: &[&OsStr]) -> io::Result<Output> {
        let child = tokio::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output();
        match tokio::time::timeout(self.limit, child).await {
            Ok(out) => out,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "no answer within {} s (is it waiting for input? run `az account get-access-token` in a shell to see)",
                    self.limit.as_secs()
                ),
            )),
        }
    }
}

/// The metadata endpoint: `AZURE_POD_IDENTITY_AUTHORITY_HOST` (as the other Azure SDKs read it),
/// else the VM's own.
pub fn imds_endpoint() -> String {
    let host = std::env::var("AZURE_POD_IDENTITY_AUTHORITY_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| "http://169.254.169.254".to_string());
    format!(
        "{}/metadata/identity/oauth2/token",
        host.trim_end_matches('/')
    )
}

/// Whether `auto` should try the metadata endpoint: it was named, or this machine says it is an
/// Azure VM (its DMI chassis asset tag) and `KVTUI_NO_IMDS` is not set. Nothing else ever probes
/// 169.254.169.254.
pub fn imds_worth_trying() -> bool {
    if std::env::var("AZURE_POD_IDENTITY_AUTHORITY_HOST").is_ok_and(|h| !h.trim().is_empty()) {
        return true;
    }
    if std::env::var_os("KVTUI_NO_IMDS").is_some() {
        return false;
    }
    std::fs::read_to_string("/sys/class/dmi/id/chassis_asset_tag")
        .is_ok_and(|t| t.trim() == "7783-7084-3265-9085-8269-3286-77")
}

/// A VM's (or a stand-in's) managed identity: `GET {endpoint}?api-version=2018-02-01&resource=…`
/// with `Metadata: true`; a user-assigned identity by `AZURE_CLIENT_ID`.
#[derive(Debug)]
pub struct ImdsCredential {
    pub endpoint: String,
    pub client_id: Option<String>,
    pub http: reqwest::Client,
}

#[async_trait::async_trait]
impl TokenCredential for ImdsCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let fail = |m: String| Error::with_message(ErrorKind::Credential, m);
        let resource = scopes
            .first()
            .copied()
            .unwrap_or_default()
            .trim_end_matches("/.default")
            .to_string();
        let mut url =
            url::Url::parse(&self.endpoint).map_err(|e| fail(format!("{}: {e}", self.endpoint)))?;
        url.query_pairs_mut()
            .append_pair("api-version", "2018-02-01")
            .append_pair("resource", &resource);
        if let Some(id) = &self.client_id {
            url.query_pairs_mut().append_pair("client_id", id);
        }
        // The endpoint answers at once on a VM; anything slower is no VM.
        let sent = tokio::time::timeout(
            Duration::from_secs(2),
            self.http.get(url).header("Metadata", "true").send(),
        )
        .await
        .map_err(|_| {
            fail(format!(
                "the metadata endpoint {} did not answer within 2 s: not an Azure VM",
                self.endpoint
            ))
        })?
        .map_err(|e| {
            fail(format!(
                "the metadata endpoint {} is not reachable: {e}",
                self.endpoint
            ))
        })?;
        let status = sent.status().as_u16();
        let bytes = sent
            .bytes()
            .await
            .map_err(|e| fail(format!("reading the metadata endpoint's answer: {e}")))?;
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if status != 200 {
            let why = body["error_description"]
                .as_str()
                .or(body["error"].as_str())
                .unwrap_or("no reason given");
            return Err(fail(format!(
                "the metadata endpoint answered {status}: {why} (is a managed identity assigned to this VM?)"
            )));
        }
        let token = body["access_token"]
            .as_str()
            .ok_or_else(|| fail("the metadata endpoint's answer has no access_token".into()))?;
        let expires = body["expires_on"]
            .as_str()
            .and_then(|s| s.parse::<i64>().ok())
            .or(body["expires_on"].as_i64())
            .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
            .unwrap_or_else(|| time::OffsetDateTime::now_utc() + time::Duration::minutes(30));
        Ok(AccessToken::new(token.to_string(), expires))
    }
}
