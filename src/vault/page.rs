//! A page of a listing read straight from its JSON into kvtui's records. The SDK's pager parses each
//! page once for its next link and `into_model` parses it again into the SDK's models (a `HashMap`
//! of tags, an id parsed as a URL), which kvtui then copies into its own records: a third of the
//! worker's time per page. Here the page's body (the `SecretClient`'s own response) is read once,
//! into the same records the SDK path makes (a test holds the two to each other on the recorded
//! answers of the real service).

use std::borrow::Cow;

use time::OffsetDateTime;

use super::secret::{recovery_level, DeletedProps, SecretProps};
use super::Tags;

#[derive(serde::Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "nextLink", default)]
    next_link: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Attributes {
    enabled: Option<bool>,
    created: Option<i64>,
    updated: Option<i64>,
    nbf: Option<i64>,
    exp: Option<i64>,
    #[serde(rename = "recoveryLevel")]
    recovery_level: Option<String>,
    #[serde(rename = "recoverableDays")]
    recoverable_days: Option<i32>,
}

#[derive(serde::Deserialize)]
struct Item<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(default)]
    attributes: Option<Attributes>,
    #[serde(rename = "contentType", default)]
    content_type: Option<String>,
    #[serde(default)]
    tags: Option<Tags>,
    #[serde(default)]
    managed: Option<bool>,
}

#[derive(serde::Deserialize)]
struct DeletedItem<'a> {
    #[serde(flatten, borrow)]
    item: Item<'a>,
    #[serde(rename = "recoveryId", default)]
    recovery_id: Option<String>,
    #[serde(rename = "deletedDate", default)]
    deleted_date: Option<i64>,
    #[serde(rename = "scheduledPurgeDate", default)]
    scheduled_purge_date: Option<i64>,
}

fn date(secs: Option<i64>) -> Option<OffsetDateTime> {
    secs.and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
}

/// A secret's name and version from its id (`https://host/secrets/NAME[/VERSION]`), as the SDK's
/// `resource_id` reads them; `None` for anything else.
fn name_and_version(id: &str) -> Option<(String, Option<String>)> {
    let (_, rest) = id.split_once("://")?;
    let path = rest.find('/').map(|i| &rest[i..])?;
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    if segments.next()? != "secrets" {
        return None;
    }
    let name = segments.next()?.to_string();
    let version = segments.next().map(str::to_string);
    if segments.next().is_some() {
        return None;
    }
    Some((name, version))
}

impl From<Item<'_>> for SecretProps {
    fn from(s: Item<'_>) -> Self {
        let id = s.id.unwrap_or_default();
        let (name, version) = name_and_version(&id).unwrap_or_default();
        let a = s.attributes;
        SecretProps {
            name,
            id: id.into_owned(),
            version,
            enabled: a.as_ref().is_none_or(|a| a.enabled.unwrap_or(true)),
            content_type: s.content_type,
            tags: s.tags.unwrap_or_default(),
            created: date(a.as_ref().and_then(|a| a.created)),
            updated: date(a.as_ref().and_then(|a| a.updated)),
            not_before: date(a.as_ref().and_then(|a| a.nbf)),
            expires: date(a.as_ref().and_then(|a| a.exp)),
            recovery_level: a
                .as_ref()
                .and_then(|a| a.recovery_level.clone())
                .map(recovery_level),
            recoverable_days: a.as_ref().and_then(|a| a.recoverable_days),
            managed: s.managed.unwrap_or(false),
        }
    }
}

/// A page of `GET /secrets`: its secrets and whether it is the last page.
pub fn secrets(body: &[u8]) -> Result<(Vec<SecretProps>, Option<String>), serde_json::Error> {
    let page: Page<Item> = serde_json::from_slice(body)?;
    Ok((
        page.value.into_iter().map(SecretProps::from).collect(),
        page.next_link,
    ))
}

/// A page of `GET /deletedsecrets`.
pub fn deleted(body: &[u8]) -> Result<(Vec<DeletedProps>, Option<String>), serde_json::Error> {
    let page: Page<DeletedItem> = serde_json::from_slice(body)?;
    Ok((
        page.value
            .into_iter()
            .map(|d| DeletedProps {
                props: SecretProps::from(d.item),
                recovery_id: d.recovery_id,
                deleted_on: date(d.deleted_date),
                scheduled_purge: date(d.scheduled_purge_date),
            })
            .collect(),
        page.next_link,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_security_keyvault_secrets::models::{
        ListDeletedSecretPropertiesResult, ListSecretPropertiesResult,
    };

    /// Every recorded list answer of the real service (tests/golden), read both ways.
    fn recorded_pages(path_part: &str) -> Vec<String> {
        let mut out = Vec::new();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let mut dirs = vec![root];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&p) else {
                    continue;
                };
                let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
                    continue;
                };
                for entry in json["Entries"].as_array().into_iter().flatten() {
                    let uri = entry["RequestUri"].as_str().unwrap_or_default();
                    let path = uri.split('?').next().unwrap_or_default();
                    if entry["RequestMethod"] == "GET"
                        && path.ends_with(path_part)
                        && entry["StatusCode"] == 200
                    {
                        out.push(entry["ResponseBody"].to_string());
                    }
                }
            }
        }
        out
    }

    #[test]
    fn pages_read_as_the_sdk_reads_them() {
        let pages = recorded_pages("/secrets");
        assert!(!pages.is_empty(), "recorded listings");
        let mut items = 0;
        for body in &pages {
            let sdk: ListSecretPropertiesResult = serde_json::from_str(body).expect("sdk model");
            let want: Vec<SecretProps> = sdk.value.iter().map(SecretProps::from).collect();
            let (got, next) = secrets(body.as_bytes()).expect("page");
            assert_eq!(got, want, "{body}");
            assert_eq!(next, sdk.next_link);
            items += got.len();
        }
        assert!(items > 0, "the recordings list secrets");
    }

    #[test]
    fn deleted_pages_read_as_the_sdk_reads_them() {
        let pages = recorded_pages("/deletedsecrets");
        assert!(!pages.is_empty(), "recorded deleted listings");
        for body in &pages {
            let sdk: ListDeletedSecretPropertiesResult =
                serde_json::from_str(body).expect("sdk model");
            let want: Vec<DeletedProps> = sdk.value.iter().map(DeletedProps::from).collect();
            let (got, next) = deleted(body.as_bytes()).expect("page");
            assert_eq!(got, want, "{body}");
            assert_eq!(next, sdk.next_link);
        }
    }

    #[test]
    fn names_and_versions_from_ids() {
        assert_eq!(
            name_and_version("https://kv.vault.azure.net/secrets/db-password"),
            Some(("db-password".into(), None))
        );
        assert_eq!(
            name_and_version("https://kv.localhost:8443/secrets/a/0123?x=1"),
            Some(("a".into(), Some("0123".into())))
        );
        assert_eq!(name_and_version("https://kv/keys/a"), None);
        assert_eq!(name_and_version("not a url"), None);
    }
}
