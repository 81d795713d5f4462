//! The service's error bodies: outer and inner codes, and the store's errors in the service's words.

use super::*;

/// An error row: status, code, optional inner code, message.
pub(super) struct ApiError {
    pub(super) status: StatusCode,
    code: &'static str,
    inner: Option<&'static str>,
    message: String,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            inner: None,
            message: message.into(),
        }
    }

    pub(super) fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadParameter", message)
    }

    pub(super) fn inner(mut self, inner: &'static str) -> Self {
        self.inner = Some(inner);
        self
    }

    pub(super) fn body(&self) -> Value {
        let mut e = Map::new();
        e.insert("code".into(), json!(self.code));
        e.insert("message".into(), json!(self.message));
        if let Some(inner) = self.inner {
            e.insert("innererror".into(), json!({ "code": inner }));
        }
        json!({ "error": e })
    }
}

pub(super) fn store_error(e: StoreError, ctx: &Ctx<'_>) -> ApiError {
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
        StoreError::Managed(op) => ApiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("Operation \"{op}\" is not allowed as this object's lifetime is managed by Key Vault"),
        )
        .inner("SecretManagedByKeyVault"),
    }
}

pub(super) fn malformed_backup() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "Malformed backup blob",
        "Backup blob contains invalid or corrupt version.",
    )
}

pub(super) fn method_not_allowed(method: &Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("HTTP {method} not allowed"),
    )
}
