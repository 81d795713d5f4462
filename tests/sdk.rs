//! The real `azure_security_keyvault_secrets::SecretClient` (default options, challenge verification on)
//! against the local vault over TLS on an ephemeral port: every operation and every error row.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use azure_security_keyvault_secrets::models::{
    DeletionRecoveryLevel, RestoreSecretParameters, SecretAttributes, SecretClientGetSecretOptions,
    SecretClientListDeletedSecretPropertiesOptions, SecretClientListSecretPropertiesOptions,
    SecretClientListSecretPropertiesVersionsOptions, SecretClientUpdateSecretPropertiesOptions,
    UpdateSecretPropertiesParameters,
};
use azure_security_keyvault_secrets::{ResourceExt, SecretClient};
use common::*;
use futures::{StreamExt, TryStreamExt};
use kvtui::emulator::VaultPolicy;

fn version_of(id: &Option<String>) -> String {
    id.as_deref()
        .and_then(|i| i.rsplit('/').next())
        .expect("versioned id")
        .to_string()
}

async fn get_version(c: &SecretClient, name: &str, version: &str) -> azure_core::Result<String> {
    let opts = SecretClientGetSecretOptions {
        secret_version: Some(version.to_string()),
        ..Default::default()
    };
    let s = c.get_secret(name, Some(opts)).await?.into_model()?;
    Ok(s.value.unwrap_or_default())
}

async fn list_names(c: &SecretClient, maxresults: Option<i32>) -> (Vec<String>, usize) {
    let opts = SecretClientListSecretPropertiesOptions {
        maxresults,
        ..Default::default()
    };
    let mut pages = c
        .list_secret_properties(Some(opts))
        .expect("pager")
        .into_pages();
    let mut names = Vec::new();
    let mut page_count = 0;
    while let Some(page) = pages.try_next().await.expect("page") {
        let page = page.into_model().expect("page model");
        assert!(page.value.len() <= maxresults.unwrap_or(25) as usize);
        page_count += 1;
        for item in page.value {
            names.push(item.resource_id().expect("id").name);
        }
    }
    (names, page_count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_get_latest_and_specific_versions() {
    let emu = start().await;
    let c = client(&emu, "demo");
    let first = c
        .set_secret(
            "db-password",
            params_with(
                "v1 line1\nline2 ✓",
                Some("text/plain"),
                &[("env", "prod")],
                None,
            ),
            None,
        )
        .await
        .expect("set")
        .into_model()
        .expect("model");
    assert_eq!(first.value.as_deref(), Some("v1 line1\nline2 ✓"));
    assert_eq!(first.content_type.as_deref(), Some("text/plain"));
    assert_eq!(
        first
            .tags
            .as_ref()
            .and_then(|t| t.get("env"))
            .map(String::as_str),
        Some("prod")
    );
    let id = first.id.clone().expect("id");
    let prefix = format!("https://demo.localhost:{}/secrets/db-password/", emu.port);
    assert!(id.starts_with(&prefix), "{id}");
    let v1 = version_of(&first.id);
    assert_eq!(v1.len(), 32);
    assert!(v1
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    let attrs = first.attributes.clone().expect("attributes");
    assert_eq!(attrs.enabled, Some(true));
    assert_eq!(attrs.recoverable_days, Some(90));
    assert_eq!(
        attrs.recovery_level,
        Some(DeletionRecoveryLevel::RecoverablePurgeable)
    );
    assert!(attrs.created.is_some() && attrs.updated.is_some());

    let second = set(&c, "db-password", "v2").await;
    let v2 = version_of(&second.id);
    assert_ne!(v1, v2);
    let latest = c
        .get_secret("db-password", None)
        .await
        .expect("get")
        .into_model()
        .expect("m");
    assert_eq!(latest.value.as_deref(), Some("v2"));
    assert_eq!(
        get_version(&c, "db-password", &v1).await.expect("v1"),
        "v1 line1\nline2 ✓"
    );
    // Names are case-insensitive identities; ids keep the first spelling.
    let upper = c
        .get_secret("DB-PASSWORD", None)
        .await
        .expect("get")
        .into_model()
        .expect("m");
    assert!(upper.id.expect("id").contains("/secrets/db-password/"));
    // Empty values are allowed.
    assert_eq!(set(&c, "empty", "").await.value.as_deref(), Some(""));
    let missing = expect_err(get_version(&c, "db-password", &"0".repeat(32)).await);
    assert_eq!(
        (missing.status, missing.code.as_str()),
        (404, "SecretNotFound")
    );
    assert!(missing
        .message
        .contains(&format!("db-password/{}", "0".repeat(32))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_properties_of_latest_and_of_a_version_and_disabled_reads() {
    let emu = start().await;
    let c = client(&emu, "demo");
    let v1 = version_of(&set(&c, "api-key", "one").await.id);
    set(&c, "api-key", "two").await;

    let patch = UpdateSecretPropertiesParameters {
        content_type: Some("application/json".into()),
        tags: Some([("team".to_string(), "payments".to_string())].into()),
        ..Default::default()
    };
    let updated = c
        .update_secret_properties("api-key", patch.try_into().expect("body"), None)
        .await
        .expect("update latest")
        .into_model()
        .expect("m");
    assert_eq!(updated.value, None, "PATCH answers without the value");
    assert_eq!(updated.content_type.as_deref(), Some("application/json"));

    // Disable the first version only.
    let disable = UpdateSecretPropertiesParameters {
        secret_attributes: Some(SecretAttributes {
            enabled: Some(false),
            ..Default::default()
        }),
        ..Default::default()
    };
    let opts = SecretClientUpdateSecretPropertiesOptions {
        secret_version: Some(v1.clone()),
        ..Default::default()
    };
    let d = c
        .update_secret_properties("api-key", disable.try_into().expect("body"), Some(opts))
        .await
        .expect("update version")
        .into_model()
        .expect("m");
    assert_eq!(d.attributes.and_then(|a| a.enabled), Some(false));
    let e = expect_err(get_version(&c, "api-key", &v1).await);
    assert_eq!(
        (e.status, e.code.as_str(), e.inner.as_deref()),
        (403, "Forbidden", Some("SecretDisabled"))
    );
    assert_eq!(
        e.message,
        "Operation get is not allowed on a disabled secret."
    );
    // The latest is still readable, and its content type survived.
    let latest = c
        .get_secret("api-key", None)
        .await
        .expect("get")
        .into_model()
        .expect("m");
    assert_eq!(latest.value.as_deref(), Some("two"));
    assert_eq!(latest.content_type.as_deref(), Some("application/json"));

    // A secret created disabled: PUT returns the value, GET is 403, PATCH still works.
    let created = c
        .set_secret("off", params_with("hidden", None, &[], Some(false)), None)
        .await
        .expect("set disabled")
        .into_model()
        .expect("m");
    assert_eq!(created.value.as_deref(), Some("hidden"));
    assert_eq!(expect_err(c.get_secret("off", None).await).status, 403);
    let enable = UpdateSecretPropertiesParameters {
        secret_attributes: Some(SecretAttributes {
            enabled: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    };
    c.update_secret_properties("off", enable.try_into().expect("body"), None)
        .await
        .expect("patch a disabled secret");
    assert!(c.get_secret("off", None).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_through_1000_secrets_loses_and_repeats_nothing() {
    let emu = start().await;
    let c = client(&emu, "demo");
    let names: Vec<String> = (0..1000).map(|i| format!("secret-{i:04}")).collect();
    futures::stream::iter(names.iter())
        .map(|n| {
            let c = &c;
            async move { c.set_secret(n, params("v"), None).await.map(|_| ()) }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await
        .expect("1000 sets");

    let (listed, pages) = list_names(&c, None).await;
    assert_eq!(pages, 40, "1000 secrets in pages of 25");
    assert_eq!(listed, names, "every secret once, in name order");

    let (listed, pages) = list_names(&c, Some(7)).await;
    assert_eq!(pages, 143);
    assert_eq!(listed.len(), 1000);
    assert_eq!(listed.iter().collect::<HashSet<_>>().len(), 1000);

    // The item pager (what most callers use) sees the same.
    let all: Vec<_> = c
        .list_secret_properties(None)
        .expect("pager")
        .try_collect()
        .await
        .expect("items");
    assert_eq!(all.len(), 1000);
    assert!(all.iter().all(|p| p
        .id
        .as_deref()
        .is_some_and(|id| !id.ends_with(char::is_numeric) || id.contains("secret-"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_is_sorted_case_insensitively_and_items_have_unversioned_ids() {
    let emu = start().await;
    let c = client(&emu, "demo");
    for n in ["bravo", "Alpha", "charlie", "ALPHA-2", "0-first"] {
        set(&c, n, "x").await;
    }
    let (names, _) = list_names(&c, None).await;
    assert_eq!(names, ["0-first", "Alpha", "ALPHA-2", "bravo", "charlie"]);
    let items: Vec<_> = c
        .list_secret_properties(None)
        .expect("p")
        .try_collect()
        .await
        .expect("i");
    let id = items[1].id.clone().expect("id");
    assert_eq!(
        id,
        format!("https://demo.localhost:{}/secrets/Alpha", emu.port)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_are_listed_with_paging_and_unknown_names_list_empty() {
    let emu = start().await;
    let c = client(&emu, "demo");
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(version_of(&set(&c, "rotating", &format!("v{i}")).await.id));
    }
    let opts = SecretClientListSecretPropertiesVersionsOptions {
        maxresults: Some(3),
        ..Default::default()
    };
    let versions: Vec<_> = c
        .list_secret_properties_versions("rotating", Some(opts))
        .expect("pager")
        .try_collect()
        .await
        .expect("versions");
    let listed: Vec<String> = versions.iter().map(|v| version_of(&v.id)).collect();
    let mut sorted = made.clone();
    sorted.sort();
    assert_eq!(
        listed, sorted,
        "all versions, ordered by version id as the service does"
    );
    let none: Vec<_> = c
        .list_secret_properties_versions("never-existed", None)
        .expect("pager")
        .try_collect()
        .await
        .expect("empty, not 404");
    assert!(none.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_recover_purge_life_cycle() {
    let emu = start().await;
    let c = client(&emu, "demo");
    set(&c, "conn-string", "a").await;
    set(&c, "conn-string", "b").await;
    let deleted = c
        .delete_secret("conn-string", None)
        .await
        .expect("delete")
        .into_model()
        .expect("m");
    assert_eq!(deleted.value, None);
    let recovery_id = deleted.recovery_id.clone().expect("recoveryId");
    assert_eq!(
        recovery_id,
        format!(
            "https://demo.localhost:{}/deletedsecrets/conn-string",
            emu.port
        )
    );
    let (dd, sp) = (
        deleted.deleted_date.expect("deletedDate"),
        deleted.scheduled_purge_date.expect("scheduledPurgeDate"),
    );
    assert_eq!((sp - dd).whole_days(), 90);

    let e = expect_err(c.get_secret("conn-string", None).await);
    assert_eq!((e.status, e.code.as_str()), (404, "SecretNotFound"));
    assert!(e
        .message
        .starts_with("A secret with (name/id) conn-string was not found in this key vault."));

    let e = expect_err(c.set_secret("conn-string", params("c"), None).await);
    assert_eq!(
        (e.status, e.code.as_str(), e.inner.as_deref()),
        (409, "Conflict", Some("ObjectIsDeletedButRecoverable"))
    );
    assert_eq!(e.message, "Secret conn-string is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.");

    let got = c
        .get_deleted_secret("conn-string", None)
        .await
        .expect("get deleted")
        .into_model()
        .expect("m");
    assert_eq!(got.recovery_id.as_deref(), Some(recovery_id.as_str()));
    let listed: Vec<_> = c
        .list_deleted_secret_properties(Some(SecretClientListDeletedSecretPropertiesOptions {
            maxresults: Some(1),
            ..Default::default()
        }))
        .expect("pager")
        .try_collect()
        .await
        .expect("deleted list");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].scheduled_purge_date.is_some());

    let recovered = c
        .recover_deleted_secret("conn-string", None)
        .await
        .expect("recover")
        .into_model()
        .expect("m");
    assert_eq!(recovered.value, None);
    let latest = c
        .get_secret("conn-string", None)
        .await
        .expect("get")
        .into_model()
        .expect("m");
    assert_eq!(latest.value.as_deref(), Some("b"));
    let versions: Vec<_> = c
        .list_secret_properties_versions("conn-string", None)
        .expect("p")
        .try_collect()
        .await
        .expect("v");
    assert_eq!(versions.len(), 2, "recover brings every version back");

    c.delete_secret("conn-string", None)
        .await
        .expect("delete again");
    let purged = c
        .purge_deleted_secret("conn-string", None)
        .await
        .expect("purge");
    assert_eq!(u16::from(purged.status()), 204);
    let e = expect_err(c.get_deleted_secret("conn-string", None).await);
    assert_eq!(
        (e.status, e.message.as_str()),
        (404, "Deleted Secret not found: conn-string")
    );
    set(&c, "conn-string", "fresh").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_recover_and_purge_windows_behave_like_the_service() {
    let window = Duration::from_millis(1500);
    let emu = start_with(
        VaultPolicy {
            delete_delay_ms: 1500,
            recover_delay_ms: 1500,
            ..VaultPolicy::default()
        },
        &["demo"],
    )
    .await;
    let c = client(&emu, "demo");
    set(&c, "slow", "v").await;

    let t0 = Instant::now();
    c.delete_secret("slow", None)
        .await
        .expect("delete returns at once");
    let e = expect_err(c.get_deleted_secret("slow", None).await);
    assert_eq!(
        (e.status, e.message.as_str()),
        (404, "Deleted Secret not found: slow")
    );
    let e = expect_err(c.purge_deleted_secret("slow", None).await);
    assert_eq!(
        (e.status, e.inner.as_deref()),
        (409, Some("ObjectIsBeingDeleted"))
    );
    assert_eq!(e.message, "Secret is currently being deleted.");
    let e = expect_err(c.set_secret("slow", params("again"), None).await);
    assert_eq!(
        (e.status, e.inner.as_deref()),
        (409, Some("ObjectIsBeingDeleted"))
    );
    wait_for(
        "the deleted secret to appear",
        Duration::from_secs(20),
        || async { c.get_deleted_secret("slow", None).await.ok() },
    )
    .await;
    assert!(t0.elapsed() >= window - Duration::from_millis(100));

    let t1 = Instant::now();
    c.recover_deleted_secret("slow", None)
        .await
        .expect("recover returns at once");
    let e = expect_err(c.get_secret("slow", None).await);
    assert_eq!(e.status, 404);
    wait_for(
        "the recovered secret to be readable",
        Duration::from_secs(20),
        || async { c.get_secret("slow", None).await.ok() },
    )
    .await;
    assert!(t1.elapsed() >= window - Duration::from_millis(100));

    // After a purge the name stays busy for the window: set and restore are refused.
    let blob = backup(&c, "slow").await;
    c.delete_secret("slow", None).await.expect("delete");
    wait_for("deleted", Duration::from_secs(20), || async {
        c.get_deleted_secret("slow", None).await.ok()
    })
    .await;
    c.purge_deleted_secret("slow", None).await.expect("purge");
    let e = expect_err(c.set_secret("slow", params("x"), None).await);
    assert_eq!(
        (e.status, e.inner.as_deref()),
        (409, Some("ObjectIsBeingDeleted"))
    );
    let restore = RestoreSecretParameters {
        secret_backup: Some(blob.clone()),
    };
    let e = expect_err(
        c.restore_secret(restore.try_into().expect("body"), None)
            .await,
    );
    assert_eq!((e.status, e.code.as_str()), (409, "Conflict"));
    assert!(e
        .message
        .starts_with("There was a conflict restoring the secret"));
    wait_for(
        "the purged name to be free",
        Duration::from_secs(20),
        || async {
            let restore = RestoreSecretParameters {
                secret_backup: Some(blob.clone()),
            };
            c.restore_secret(restore.try_into().ok()?, None).await.ok()
        },
    )
    .await;
    assert_eq!(
        c.get_secret("slow", None)
            .await
            .expect("restored")
            .into_model()
            .expect("m")
            .value
            .as_deref(),
        Some("v")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_keep_versions_and_dates_and_refuse_bad_blobs() {
    let emu = start().await;
    let c = client(&emu, "demo");
    let first = set(&c, "tls-key", "-----BEGIN KEY-----\nAAA\n-----END KEY-----").await;
    let second = set(&c, "tls-key", "canary-value-0xC0FFEE").await;
    let blob = backup(&c, "tls-key").await;
    assert!(
        !blob.windows(21).any(|w| w == b"canary-value-0xC0FFEE"),
        "no plain text in backups"
    );
    assert!(!blob.windows(7).any(|w| w == b"tls-key"));

    let e = expect_err(
        c.restore_secret(
            RestoreSecretParameters {
                secret_backup: Some(blob.clone()),
            }
            .try_into()
            .expect("b"),
            None,
        )
        .await,
    );
    assert_eq!(
        (e.status, e.code.as_str()),
        (409, "Conflict"),
        "the name is in use"
    );

    c.delete_secret("tls-key", None).await.expect("delete");
    c.purge_deleted_secret("tls-key", None)
        .await
        .expect("purge");
    let restored = c
        .restore_secret(
            RestoreSecretParameters {
                secret_backup: Some(blob.clone()),
            }
            .try_into()
            .expect("b"),
            None,
        )
        .await
        .expect("restore")
        .into_model()
        .expect("m");
    assert_eq!(restored.value, None);
    assert_eq!(restored.id, second.id, "restore keeps the version id");
    let (a, b) = (
        restored.attributes.expect("a"),
        second.attributes.clone().expect("a"),
    );
    assert_eq!(
        (a.created, a.updated),
        (b.created, b.updated),
        "and the dates"
    );
    assert_eq!(
        get_version(&c, "tls-key", &version_of(&first.id))
            .await
            .expect("old version"),
        "-----BEGIN KEY-----\nAAA\n-----END KEY-----"
    );

    let mut tampered = blob.clone();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0x20;
    c.delete_secret("tls-key", None).await.expect("delete");
    c.purge_deleted_secret("tls-key", None)
        .await
        .expect("purge");
    for bad in [tampered, vec![0u8; 4728], b"AAAA".to_vec()] {
        let e = expect_err(
            c.restore_secret(
                RestoreSecretParameters {
                    secret_backup: Some(bad),
                }
                .try_into()
                .expect("b"),
                None,
            )
            .await,
        );
        assert_eq!(
            (e.status, e.code.as_str(), e.message.as_str()),
            (
                400,
                "Malformed backup blob",
                "Backup blob contains invalid or corrupt version."
            )
        );
    }
    // A blob sealed by another local vault instance is refused too.
    let other = start().await;
    let e = expect_err(
        client(&other, "demo")
            .restore_secret(
                RestoreSecretParameters {
                    secret_backup: Some(blob),
                }
                .try_into()
                .expect("b"),
                None,
            )
            .await,
    );
    assert_eq!(e.code, "Malformed backup blob");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_rows_for_every_operation() {
    let emu = start().await;
    let c = client(&emu, "demo");
    let tail = "was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182";
    let expected = format!("A secret with (name/id) ghost {tail}");
    let errs = [
        expect_err(c.get_secret("ghost", None).await),
        expect_err(c.delete_secret("ghost", None).await),
        expect_err(c.backup_secret("ghost", None).await),
        expect_err(c.recover_deleted_secret("ghost", None).await),
        expect_err(
            c.update_secret_properties(
                "ghost",
                UpdateSecretPropertiesParameters::default()
                    .try_into()
                    .expect("b"),
                None,
            )
            .await,
        ),
    ];
    for e in errs {
        assert_eq!(
            (e.status, e.code.as_str(), e.inner.as_deref()),
            (404, "SecretNotFound", None)
        );
        assert_eq!(e.message, expected);
    }
    for e in [
        expect_err(c.get_deleted_secret("ghost", None).await),
        expect_err(c.purge_deleted_secret("ghost", None).await),
    ] {
        assert_eq!((e.status, e.code.as_str()), (404, "SecretNotFound"));
        assert_eq!(e.message, "Deleted Secret not found: ghost");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_invalid_names_are_bad_parameters() {
    let emu = start().await;
    let c = client(&emu, "demo");
    let e = expect_err(c.set_secret("bad_name", params("x"), None).await);
    assert_eq!((e.status, e.code.as_str()), (400, "BadParameter"));
    assert_eq!(
        e.message,
        "The request URI contains an invalid name: bad_name"
    );
    let long_name = "n".repeat(128);
    assert_eq!(
        expect_err(c.set_secret(&long_name, params("x"), None).await).status,
        400
    );
    set(&c, &"n".repeat(127), "x").await;

    let big = "x".repeat(25 * 1024 + 1);
    let e = expect_err(c.set_secret("big", params(&big), None).await);
    assert_eq!((e.status, e.code.as_str()), (400, "BadParameter"));
    assert!(e.message.contains("too large"), "{}", e.message);
    set(&c, "big", &"x".repeat(25 * 1024)).await;

    let tags: Vec<(String, String)> = (0..16).map(|i| (format!("k{i}"), "v".into())).collect();
    let tag_refs: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let e = expect_err(
        c.set_secret("tagged", params_with("x", None, &tag_refs, None), None)
            .await,
    );
    assert!(e.status == 400 && e.message.contains("at most 15"), "{e:?}");
    c.set_secret(
        "tagged",
        params_with("x", None, &tag_refs[..15], None),
        None,
    )
    .await
    .expect("15 tags");
    let long_tag = "t".repeat(513);
    let e = expect_err(
        c.set_secret(
            "tagged",
            params_with("x", None, &[("k", long_tag.as_str())], None),
            None,
        )
        .await,
    );
    assert_eq!(e.status, 400);
    let ct = "c".repeat(256);
    let e = expect_err(
        c.set_secret("typed", params_with("x", Some(&ct), &[], None), None)
            .await,
    );
    assert!(
        e.status == 400 && e.message.contains("content type"),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_protection_and_vaults_without_soft_delete() {
    let emu = start_with(
        VaultPolicy {
            purge_protection: true,
            recoverable_days: 30,
            ..VaultPolicy::default()
        },
        &["locked"],
    )
    .await;
    let c = client(&emu, "locked");
    let s = set(&c, "keep", "v").await;
    assert_eq!(
        s.attributes.and_then(|a| a.recovery_level),
        Some(DeletionRecoveryLevel::CustomizedRecoverable)
    );
    let d = c
        .delete_secret("keep", None)
        .await
        .expect("d")
        .into_model()
        .expect("m");
    assert_eq!(
        (d.scheduled_purge_date.expect("s") - d.deleted_date.expect("d")).whole_days(),
        30
    );
    let e = expect_err(c.purge_deleted_secret("keep", None).await);
    assert_eq!((e.status, e.code.as_str()), (403, "Forbidden"));
    assert!(e.message.contains("purge protection is enabled"));

    let emu = start_with(
        VaultPolicy {
            recoverable_days: 0,
            ..VaultPolicy::default()
        },
        &["plain"],
    )
    .await;
    let c = client(&emu, "plain");
    let s = set(&c, "gone", "v").await;
    assert_eq!(
        s.attributes.and_then(|a| a.recovery_level),
        Some(DeletionRecoveryLevel::Purgeable)
    );
    let d = c
        .delete_secret("gone", None)
        .await
        .expect("d")
        .into_model()
        .expect("m");
    assert_eq!(d.recovery_id, None, "no soft delete: no recoveryId");
    assert_eq!(
        expect_err(c.get_deleted_secret("gone", None).await).status,
        404
    );
    set(&c, "gone", "reused at once").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_secrets_expire_at_their_scheduled_purge_date() {
    let emu = start().await;
    let c = client(&emu, "demo");
    set(&c, "old", "v").await;
    c.delete_secret("old", None).await.expect("delete");
    emu.service()
        .advance_clock(Duration::from_secs(89 * 86_400));
    assert!(c.get_deleted_secret("old", None).await.is_ok());
    emu.service().advance_clock(Duration::from_secs(86_400 + 1));
    assert_eq!(
        expect_err(c.get_deleted_secret("old", None).await).status,
        404
    );
    let listed: Vec<_> = c
        .list_deleted_secret_properties(None)
        .expect("p")
        .try_collect()
        .await
        .expect("l");
    assert!(listed.is_empty());
    set(&c, "old", "new life").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sets_of_one_name_make_distinct_versions() {
    let emu = start().await;
    let c = client(&emu, "demo");
    let ids: Vec<String> = futures::stream::iter(0..32)
        .map(|i| {
            let c = &c;
            async move {
                c.set_secret("hot", params(&format!("v{i}")), None)
                    .await
                    .expect("set")
                    .into_model()
                    .expect("m")
                    .id
                    .expect("id")
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 32);
    let versions: Vec<_> = c
        .list_secret_properties_versions("hot", None)
        .expect("p")
        .try_collect()
        .await
        .expect("v");
    assert_eq!(versions.len(), 32, "no lost writes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_vault_is_a_clear_404_and_vaults_are_separate() {
    let emu = start_with(VaultPolicy::default(), &["alpha", "beta"]).await;
    set(&client(&emu, "alpha"), "only-in-alpha", "v").await;
    assert_eq!(
        expect_err(client(&emu, "beta").get_secret("only-in-alpha", None).await).status,
        404
    );
    let e = expect_err(client(&emu, "nosuch").get_secret("x", None).await);
    assert_eq!((e.status, e.code.as_str()), (404, "VaultNotFound"));
    assert!(e.message.contains("alpha, beta"), "{}", e.message);
}
