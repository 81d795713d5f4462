//! Running one request: the SDK call (or the stream of pages), its responses, its errors.

use super::*;

/// A listing streamed page by page: the pager, how a page's body is read (`vault::page`), the
/// response variant.
macro_rules! list {
    ($pager:expr, $read:path, $variant:ident, $send:expr) => {
        stream_pages(
            $pager.map_err(sdk)?.into_pages(),
            |page| {
                let (items, next_link) = $read(page.body().as_ref()).map_err(|e| {
                    VaultError::new(
                        ErrorKind::Other,
                        format!("the vault's listing could not be read: {e}"),
                    )
                })?;
                Ok((items, last_page(next_link.as_deref())))
            },
            |items, done| Response::$variant { items, done },
            $send,
        )
        .await
    };
}

/// The SDK knows there is no next page only once it asks: a page without a next link is the last.
fn last_page(next_link: Option<&str>) -> bool {
    next_link.is_none_or(str::is_empty)
}

/// Streams a listing as it arrives: `page` turns one page into its items and whether it is the last;
/// `wrap` makes the response. An empty final page still says done.
async fn stream_pages<S, P, X>(
    mut pages: S,
    page: impl Fn(P) -> Result<(Vec<X>, bool), VaultError>,
    wrap: impl Fn(Vec<X>, bool) -> Response,
    send: &(impl Fn(Response) + Sync),
) -> Result<(), VaultError>
where
    S: futures::TryStream<Ok = P, Error = azure_core::Error> + Unpin,
{
    loop {
        let Some(p) = pages.try_next().await.map_err(sdk)? else {
            send(wrap(Vec::new(), true));
            return Ok(());
        };
        let (items, done) = page(p)?;
        send(wrap(items, done));
        if done {
            return Ok(());
        }
    }
}

/// The service refuses backups over 500 versions; a blob of a few MiB is the most it can produce.
const MAX_BACKUP_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a backup file: a regular file of a sensible size (`/dev/zero` is refused, not read to 2 GB).
async fn read_backup(path: &std::path::Path) -> Result<Vec<u8>, VaultError> {
    let bad = |why: String| VaultError::new(ErrorKind::Other, format!("{}: {why}", path.display()));
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| bad(e.to_string()))?;
    if !meta.is_file() {
        return Err(bad(
            "not a regular file (a backup is a file written by b or `az keyvault secret backup`)"
                .into(),
        ));
    }
    if meta.len() > MAX_BACKUP_BYTES {
        return Err(bad(format!(
            "{} bytes is larger than any backup the service makes ({MAX_BACKUP_BYTES} at most)",
            meta.len()
        )));
    }
    tokio::fs::read(path).await.map_err(|e| bad(e.to_string()))
}

/// After a restore's 409: is its name only being purged (not live, not deleted)? The name is in the
/// service's message ("…/secrets/NAME/VERSION'").
async fn name_is_purging(client: &SecretClient, err: &VaultError) -> bool {
    let Some(name) = err
        .detail
        .split("/secrets/")
        .nth(1)
        .and_then(|r| r.split(['/', '\'']).next())
        .filter(|n| !n.is_empty())
    else {
        return false;
    };
    if client.get_deleted_secret(name, None).await.is_ok() {
        return false;
    }
    match client.list_secret_properties_versions(name, None) {
        Ok(mut pages) => matches!(pages.try_next().await, Ok(None)),
        Err(_) => false,
    }
}

/// A refusal after kvtui asked for the vault's tenant: the tenant is part of what to fix.
fn in_tenant(mut e: VaultError, tenant: &str) -> VaultError {
    if e.tenant.is_none() {
        e.tenant = Some(tenant.to_string());
    }
    if matches!(e.kind, ErrorKind::Unauthorized | ErrorKind::WrongTenant) {
        e.kind = ErrorKind::WrongTenant;
    }
    e
}

pub(super) fn sdk(e: azure_core::Error) -> VaultError {
    VaultError::from_sdk(&e)
}

pub(super) async fn execute(id: RequestId, request: Request, clients: Arc<Clients>, tx: Sink) {
    let send = |r: Response| {
        let _ = tx.send((id, r));
    };
    if let Request::ReadNamesCache { cache, who, vault } = request {
        let cached = tokio::task::spawn_blocking(move || cache.load(&who, &vault))
            .await
            .ok()
            .flatten();
        send(Response::CachedNames(cached));
        return;
    }
    if let Request::Discover = request {
        match &clients.config.discovery {
            Some(cfg) => {
                let learn = |r: Response| {
                    if let Response::VaultFound(v) = &r {
                        if let Some(t) = &v.tenant {
                            clients.learn_tenant(&v.url, t);
                        }
                    }
                    send(r);
                };
                let chain: Arc<dyn TokenCredential> = if cfg.local_token {
                    Arc::new(transport::LocalTokenCredential)
                } else {
                    clients.chain.clone()
                };
                let for_tenant = |tenant: &str| -> Arc<dyn TokenCredential> {
                    if cfg.local_token {
                        Arc::new(transport::LocalTenantCredential::new(
                            &cfg.arm_endpoint,
                            tenant,
                            cfg.http.clone(),
                        ))
                    } else {
                        clients.tenant_credential(tenant)
                    }
                };
                discovery::discover(cfg, chain, for_tenant, learn).await;
            }
            None => send(Response::DiscoveryDone),
        }
        return;
    }
    // The vaults whose connection a value went over (see `Clients::forget`).
    let carried_value: Vec<String> = match &request {
        Request::GetSecret { vault, .. }
        | Request::SetSecret { vault, .. }
        | Request::SetSecretWhenFree { vault, .. }
        | Request::ExportEnv { vault, .. }
        | Request::Fingerprint { vault, .. } => vec![vault.clone()],
        Request::Copy { from, to, .. } => vec![from.clone(), to.clone()],
        _ => Vec::new(),
    };
    let result = async {
        let vault = match &request {
            Request::ListSecrets { vault }
            | Request::ScanSecrets { vault }
            | Request::GetSecret { vault, .. }
            | Request::ListVersions { vault, .. }
            | Request::SetSecret { vault, .. }
            | Request::SetSecretWhenFree { vault, .. }
            | Request::UpdateProperties { vault, .. }
            | Request::Delete { vault, .. }
            | Request::Recover { vault, .. }
            | Request::Purge { vault, .. }
            | Request::ListDeleted { vault }
            | Request::GetDeleted { vault, .. }
            | Request::Backup { vault, .. }
            | Request::Fingerprint { vault, .. }
            | Request::ExportEnv { vault, .. }
            | Request::Restore { vault, .. } => vault.clone(),
            Request::Copy { to, .. } => to.clone(),
            Request::Discover | Request::ReadNamesCache { .. } => String::new(),
        };
        // Requests about two vaults, or that need the worker's key.
        if let Some(done) = across_vaults(&request, &clients, &send).await {
            return done;
        }
        let client = clients.get(&vault)?;
        let poll = clients.config.poll;
        match operate(&client, request.clone(), poll, &send).await {
            // A vault in another tenant: its challenge names the tenant; retry once with a
            // credential for it, and say so (the views remember it for the vault).
            Err(e) if e.status == Some(401) => {
                let Some(tenant) = e.tenant.clone() else {
                    return Err(e);
                };
                let learned = clients.learn_from_challenge(&vault, &tenant);
                let fresh = clients.get(&vault)?;
                // Not news, and no other request has learned it meanwhile: nothing to retry with.
                if !learned && Arc::ptr_eq(&fresh, &client) {
                    return Err(e);
                }
                if learned {
                    send(Response::TenantLearned {
                        vault: vault.clone(),
                        tenant: tenant.clone(),
                    });
                }
                operate(&fresh, request, poll, &send)
                    .await
                    .map_err(|e| in_tenant(e, &tenant))
            }
            other => other,
        }
    }
    .await;
    for vault in &carried_value {
        clients.forget(vault);
    }
    if let Err(e) = result {
        tracing::warn!(id, error = %e.summary(), "request failed");
        send(Response::Failed(e));
    }
}

pub(super) async fn operate(
    client: &SecretClient,
    request: Request,
    poll: PollConfig,
    send: &(impl Fn(Response) + Sync),
) -> Result<(), VaultError> {
    match request {
        Request::ListSecrets { .. } | Request::ScanSecrets { .. } => {
            list!(
                client.list_secret_properties(None),
                crate::vault::page::secrets,
                SecretsPage,
                send
            )
        }
        Request::ListDeleted { .. } => {
            list!(
                client.list_deleted_secret_properties(None),
                crate::vault::page::deleted,
                DeletedPage,
                send
            )
        }
        Request::GetSecret { name, version, .. } => {
            let opts = SecretClientGetSecretOptions {
                secret_version: version,
                ..Default::default()
            };
            let mut secret = client
                .get_secret(&name, Some(opts))
                .await
                .map_err(sdk)?
                .into_model()
                .map_err(sdk)?;
            let value = take_value(&mut secret);
            send(Response::Value {
                props: SecretProps::from(&secret),
                value,
            });
            Ok(())
        }
        Request::ListVersions { name, .. } => {
            let mut versions: Vec<SecretProps> = client
                .list_secret_properties_versions(&name, None)
                .map_err(sdk)?
                .map_ok(|p| SecretProps::from(&p))
                .try_collect()
                .await
                .map_err(sdk)?;
            // The service orders versions by id; people think newest first.
            versions.sort_by(|a, b| {
                b.created
                    .cmp(&a.created)
                    .then_with(|| b.updated.cmp(&a.updated))
            });
            // `created` has one-second resolution: two versions of one second tie. The current one is
            // the version the vault returns for the secret; it goes first (when we may read it).
            if let Ok(r) = client.get_secret(&name, None).await {
                if let Ok(mut s) = r.into_model() {
                    drop(take_value(&mut s));
                    let current = SecretProps::from(&s).version;
                    if let Some(i) = versions.iter().position(|v| v.version == current) {
                        let v = versions.remove(i);
                        versions.insert(0, v);
                    }
                }
            }
            send(Response::Versions(versions));
            Ok(())
        }
        Request::SetSecretWhenFree { name, secret, .. } => {
            let saved = poll_until(poll, Phase::WaitingForName, send, || async {
                match set_secret(client, &name, &secret).await {
                    Ok(p) => Ok(Some(p)),
                    Err(e) if e.kind == ErrorKind::BeingDeleted => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .await?;
            send(Response::Saved(saved));
            Ok(())
        }
        Request::SetSecret { name, secret, .. } => {
            send(Response::Saved(set_secret(client, &name, &secret).await?));
            Ok(())
        }
        Request::UpdateProperties {
            name,
            version,
            patch,
            ..
        } => {
            let attributes =
                (patch.enabled.is_some() || patch.not_before.is_some() || patch.expires.is_some())
                    .then(|| SecretAttributes {
                        enabled: patch.enabled,
                        not_before: patch.not_before,
                        expires: patch.expires,
                        ..Default::default()
                    });
            let params = UpdateSecretPropertiesParameters {
                content_type: patch.content_type.clone(),
                tags: patch.tags.clone().map(|t| t.into_iter().collect()),
                secret_attributes: attributes,
            };
            let opts = SecretClientUpdateSecretPropertiesOptions {
                secret_version: version,
                ..Default::default()
            };
            let body = params.try_into().map_err(sdk)?;
            let saved = client
                .update_secret_properties(&name, body, Some(opts))
                .await
                .map_err(sdk)?
                .into_model()
                .map_err(sdk)?;
            send(Response::Saved(SecretProps::from(&saved)));
            Ok(())
        }
        Request::Delete { name, .. } => {
            let deleted = match client.delete_secret(&name, None).await {
                Ok(r) => DeletedProps::from(&r.into_model().map_err(sdk)?),
                Err(e) => {
                    // A delete whose answer was cut and retried finds the secret gone: judge it by
                    // the state it was meant to reach.
                    let err = VaultError::from_sdk(&e);
                    if err.kind != ErrorKind::NotFound {
                        return Err(err);
                    }
                    match client.get_deleted_secret(&name, None).await {
                        Ok(r) => DeletedProps::from(&r.into_model().map_err(sdk)?),
                        Err(_) => return Err(err),
                    }
                }
            };
            if deleted.recovery_id.is_none() {
                // No soft delete on this vault: the secret is gone, nothing to wait for.
                send(Response::Deleted(deleted));
                return Ok(());
            }
            let done = poll_until(poll, Phase::WaitingForDeletion, send, || async {
                match client.get_deleted_secret(&name, None).await {
                    Ok(r) => Ok(Some(r.into_model().map(|d| DeletedProps::from(&d)).ok())),
                    Err(e) => match VaultError::from_sdk(&e).kind {
                        ErrorKind::NotFound => Ok(None),
                        // 403: no permission to read deleted secrets; the delete itself is done.
                        ErrorKind::Forbidden => Ok(Some(None)),
                        _ => Err(sdk(e)),
                    },
                }
            })
            .await?;
            send(Response::Deleted(done.unwrap_or(deleted)));
            Ok(())
        }
        Request::Recover { name, .. } => {
            let recovered = match client.recover_deleted_secret(&name, None).await {
                Ok(r) => SecretProps::from(&r.into_model().map_err(sdk)?),
                Err(e) => {
                    // Recovered already (a retried request): the secret is there.
                    let err = VaultError::from_sdk(&e);
                    if err.kind != ErrorKind::NotFound {
                        return Err(err);
                    }
                    let mut versions = client
                        .list_secret_properties_versions(&name, None)
                        .map_err(sdk)?;
                    match versions.try_next().await {
                        Ok(Some(p)) => SecretProps::from(&p),
                        _ => return Err(err),
                    }
                }
            };
            poll_until(poll, Phase::WaitingForRecovery, send, || async {
                match client.get_secret(&name, None).await {
                    Ok(r) => {
                        if let Ok(mut s) = r.into_model() {
                            drop(take_value(&mut s));
                        }
                        Ok(Some(()))
                    }
                    Err(e) => match VaultError::from_sdk(&e).kind {
                        ErrorKind::NotFound => Ok(None),
                        // A disabled secret answers 403 once it is back: recovered.
                        ErrorKind::Disabled | ErrorKind::Forbidden => Ok(Some(())),
                        _ => Err(sdk(e)),
                    },
                }
            })
            .await?;
            send(Response::Saved(recovered));
            Ok(())
        }
        Request::Purge { name, .. } => {
            let mut first = true;
            poll_until(poll, Phase::WaitingToPurge, send, || {
                let retried = !std::mem::replace(&mut first, false);
                let name = name.clone();
                async move {
                    match client.purge_deleted_secret(&name, None).await {
                        Ok(_) => Ok(Some(())),
                        Err(e) => {
                            let err = VaultError::from_sdk(&e);
                            match err.kind {
                                ErrorKind::BeingDeleted => Ok(None),
                                // Purged by an earlier attempt whose answer was lost.
                                ErrorKind::NotFound if retried => Ok(Some(())),
                                _ => Err(err),
                            }
                        }
                    }
                }
            })
            .await?;
            send(Response::Purged { name });
            Ok(())
        }
        Request::GetDeleted { name, .. } => {
            let d = client
                .get_deleted_secret(&name, None)
                .await
                .map_err(sdk)?
                .into_model()
                .map_err(sdk)?;
            send(Response::DeletedInfo(DeletedProps::from(&d)));
            Ok(())
        }
        Request::Backup {
            name,
            path,
            overwrite,
            ..
        } => {
            if !overwrite && tokio::fs::symlink_metadata(&path).await.is_ok() {
                return Err(VaultError::new(
                    ErrorKind::FileExists,
                    format!("{} exists already", path.display()),
                ));
            }
            let blob = client
                .backup_secret(&name, None)
                .await
                .map_err(sdk)?
                .into_model()
                .map_err(sdk)?
                .value
                .unwrap_or_default();
            let bytes = blob.len();
            let write_path = path.clone();
            tokio::task::spawn_blocking(move || {
                crate::paths::write_private_atomic(&write_path, &blob)
            })
            .await
            .map_err(|e| VaultError::new(ErrorKind::Other, e.to_string()))?
            .map_err(|e| {
                VaultError::new(ErrorKind::Other, format!("writing {}: {e}", path.display()))
            })?;
            send(Response::BackedUp { path, bytes });
            Ok(())
        }
        Request::ExportEnv { names, path, .. } => export_env(client, names, path, send).await,
        Request::Restore { path, .. } => {
            let blob = read_backup(&path).await?;
            let restored = poll_until(poll, Phase::WaitingForName, send, || async {
                let params = RestoreSecretParameters {
                    secret_backup: Some(blob.clone()),
                };
                let body = params.try_into().map_err(sdk)?;
                match client.restore_secret(body, None).await {
                    Ok(r) => Ok(Some(r.into_model().map_err(sdk)?)),
                    Err(e) => {
                        let err = VaultError::from_sdk(&e);
                        // 409 while the name is still being purged: wait it out, as create does.
                        // A name in use (live or deleted) is a real conflict.
                        if err.status == Some(409) && name_is_purging(client, &err).await {
                            Ok(None)
                        } else {
                            Err(err)
                        }
                    }
                }
            })
            .await?;
            send(Response::Saved(SecretProps::from(&restored)));
            Ok(())
        }
        // Handled before: they involve the worker's key or two vaults.
        Request::Discover
        | Request::ReadNamesCache { .. }
        | Request::Fingerprint { .. }
        | Request::Copy { .. } => Ok(()),
    }
}
