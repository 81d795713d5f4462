//! Work across vaults and with values kept inside the worker: a value's keyed fingerprint (compare),
//! a secret copied from one vault to another (promote), values written to a `.env` file.

use super::*;

/// The requests that are not about one vault's client alone; `None` for the others.
pub(super) async fn across_vaults(
    request: &Request,
    clients: &Clients,
    send: &(impl Fn(Response) + Sync),
) -> Option<Result<(), VaultError>> {
    Some(match request {
        Request::Copy {
            from,
            to,
            name,
            recover_first,
        } => {
            let (source, target) = match (clients.get(from), clients.get(to)) {
                (Ok(s), Ok(t)) => (s, t),
                (Err(e), _) | (_, Err(e)) => return Some(Err(e)),
            };
            copy_across(
                &source,
                &target,
                name,
                *recover_first,
                clients.config.poll,
                send,
            )
            .await
        }
        Request::Fingerprint { vault, name } => fingerprint(clients, vault, name, send).await,
        _ => return None,
    })
}

/// A keyed hash of the value (this worker's key) and the secret's properties; the value is dropped.
async fn fingerprint(
    clients: &Clients,
    vault: &str,
    name: &str,
    send: &(impl Fn(Response) + Sync),
) -> Result<(), VaultError> {
    let client = clients.get(vault)?;
    let mut secret = client
        .get_secret(name, None)
        .await
        .map_err(sdk)?
        .into_model()
        .map_err(sdk)?;
    let value = take_value(&mut secret);
    let tag = ring::hmac::sign(&clients.fingerprint_key, value.expose().as_bytes());
    let mut hash = [0u8; 32];
    hash.copy_from_slice(tag.as_ref());
    send(Response::Fingerprint {
        props: SecretProps::from(&secret),
        hash,
    });
    Ok(())
}

/// Promote one secret: recover it on the target first when asked (and wait until readable), then
/// set the source's current value and properties there. The value stays in the worker.
async fn copy_across(
    source: &SecretClient,
    target: &SecretClient,
    name: &str,
    recover_first: bool,
    poll: PollConfig,
    send: &(impl Fn(Response) + Sync),
) -> Result<(), VaultError> {
    if recover_first {
        // Progress goes on; the recovery's own answer does not end this request.
        let progress = |r: Response| {
            if let Response::Progress(_) = r {
                send(r)
            }
        };
        let recover = Request::Recover {
            vault: String::new(),
            name: name.to_string(),
        };
        operate(target, recover, poll, &progress).await?;
    }
    let mut secret = source
        .get_secret(name, None)
        .await
        .map_err(sdk)?
        .into_model()
        .map_err(sdk)?;
    let value = take_value(&mut secret);
    let props = SecretProps::from(&secret);
    let new = NewSecret {
        value,
        content_type: props.content_type.clone(),
        tags: props.tags.clone(),
        enabled: props.enabled,
        not_before: props.not_before,
        expires: props.expires,
    };
    send(Response::Saved(set_secret(target, name, &new).await?));
    Ok(())
}

/// `:export-env`: `NAME=value` lines of these secrets to a new 0600 file.
pub(super) async fn export_env(
    client: &SecretClient,
    names: Vec<String>,
    path: PathBuf,
    send: &(impl Fn(Response) + Sync),
) -> Result<(), VaultError> {
    if tokio::fs::symlink_metadata(&path).await.is_ok() {
        return Err(VaultError::new(
            ErrorKind::FileExists,
            format!(
                "{} exists already: kvtui does not overwrite it",
                path.display()
            ),
        ));
    }
    let mut text = zeroize::Zeroizing::new(String::new());
    for name in &names {
        let mut secret = client
            .get_secret(name, None)
            .await
            .map_err(sdk)?
            .into_model()
            .map_err(sdk)?;
        let value = take_value(&mut secret);
        let line = crate::vault::secret::env_line(name, value.expose());
        text.push_str(line.expose());
        text.push('\n');
    }
    let write_path = path.clone();
    tokio::task::spawn_blocking(move || {
        crate::paths::write_private_atomic(&write_path, text.as_bytes())
    })
    .await
    .map_err(|e| VaultError::new(ErrorKind::Other, e.to_string()))?
    .map_err(|e| VaultError::new(ErrorKind::Other, format!("writing {}: {e}", path.display())))?;
    send(Response::ExportedEnv {
        path,
        count: names.len(),
    });
    Ok(())
}
