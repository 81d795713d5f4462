//! The secrets handlers: set, get, update, delete, list, versions, deleted, backup, restore.

use super::*;

/// The most versions a backup may hold.
pub const MAX_BACKUP_VERSIONS: usize = 500;

impl Service {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn dispatch(
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

    pub(super) fn set(
        &self,
        vault: &mut Vault,
        ctx: &Ctx<'_>,
        name: &str,
        body: &[u8],
    ) -> ApiResult {
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

    pub(super) fn get(
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

    pub(super) fn update(
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

    pub(super) fn delete(&self, vault: &mut Vault, ctx: &Ctx<'_>, name: &str) -> ApiResult {
        let d = vault
            .delete(name, ctx.now)
            .map_err(|e| store_error(e, ctx))?;
        Ok((StatusCode::OK, deleted_json(ctx, &d, &vault.policy, true)))
    }

    pub(super) fn list(
        &self,
        vault: &mut Vault,
        ctx: &Ctx<'_>,
        params: &[(String, String)],
    ) -> ApiResult {
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

    pub(super) fn versions(
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

    pub(super) fn list_deleted(
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

    pub(super) fn backup(&self, vault: &mut Vault, ctx: &Ctx<'_>, name: &str) -> ApiResult {
        let record = vault
            .backup(name, ctx.now)
            .map_err(|e| store_error(e, ctx))?;
        // The service refuses to back up a secret with more than 500 versions (the wording is ours:
        // no recorded answer), so every blob it makes can be restored.
        if record.versions.len() > MAX_BACKUP_VERSIONS {
            return Err(ApiError::bad(format!(
                "Secret {name} has {} versions; a backup holds at most {MAX_BACKUP_VERSIONS}.",
                record.versions.len()
            )));
        }
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

    pub(super) fn restore(&self, vault: &mut Vault, ctx: &Ctx<'_>, body: &[u8]) -> ApiResult {
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
