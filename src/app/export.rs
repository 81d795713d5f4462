//! Getting secrets out in a form other tools take: `:export FILE` writes the names and properties
//! of the marked (or shown) rows — never a value — as JSON or CSV by the file's extension, and
//! "copy as env line" puts `NAME=value` on the clipboard, quoted where a shell needs it, with the
//! usual clear.

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;

use super::{App, Effect, Tab};
use crate::vault::{DeletedProps, SecretProps};

pub use crate::vault::secret::{env_line, env_name};

fn date(t: Option<time::OffsetDateTime>) -> Value {
    t.and_then(|t| t.format(&Rfc3339).ok())
        .map(Value::String)
        .unwrap_or(Value::Null)
}

fn props_json(p: &SecretProps) -> Value {
    json!({
        "name": p.name,
        "id": p.id,
        "enabled": p.enabled,
        "contentType": p.content_type,
        "tags": p.tags,
        "created": date(p.created),
        "updated": date(p.updated),
        "notBefore": date(p.not_before),
        "expires": date(p.expires),
        "recoveryLevel": p.recovery_level,
        "managed": p.managed,
    })
}

fn deleted_json(d: &DeletedProps) -> Value {
    let mut v = props_json(&d.props);
    v["deletedOn"] = date(d.deleted_on);
    v["scheduledPurgeDate"] = date(d.scheduled_purge);
    v["recoveryId"] = json!(d.recovery_id);
    v
}

/// A CSV field: quoted when it holds a comma, a quote or a line break.
fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

const CSV_COLUMNS: [&str; 14] = [
    "name",
    "enabled",
    "contentType",
    "tags",
    "created",
    "updated",
    "notBefore",
    "expires",
    "recoveryLevel",
    "managed",
    "id",
    "deletedOn",
    "scheduledPurgeDate",
    "recoveryId",
];

fn csv_row(v: &Value) -> String {
    CSV_COLUMNS
        .iter()
        .map(|c| {
            let f = &v[*c];
            let text = match f {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                Value::Object(m) => m
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(";"),
                other => other.to_string(),
            };
            csv(&text)
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl App {
    /// The rows `:export` writes: the marked ones, else those shown.
    fn export_items(&mut self) -> Vec<Value> {
        self.prepare();
        let marked = self.marks_label().is_some();
        let Some(v) = self.vault.as_ref() else {
            return Vec::new();
        };
        let marks = self.marks.of(self.tab);
        let take = |name: &str| !marked || marks.contains(&name.to_lowercase());
        self.rows
            .iter()
            .filter_map(|r| match self.tab {
                Tab::Secrets => v
                    .secrets
                    .get(r.index)
                    .filter(|p| take(&p.name))
                    .map(props_json),
                Tab::Deleted => v
                    .deleted
                    .get(r.index)
                    .filter(|d| take(&d.props.name))
                    .map(deleted_json),
            })
            .collect()
    }

    /// `:export FILE` (`:export! FILE` replaces one that exists).
    pub(super) fn export_to(&mut self, path: &str, replace: bool) -> Result<Vec<Effect>, String> {
        let lower = path.to_ascii_lowercase();
        let json = if lower.ends_with(".json") {
            true
        } else if lower.ends_with(".csv") {
            false
        } else {
            return Err(format!(
                "'{path}': name the file .json or .csv (names and properties; values are never exported)"
            ));
        };
        let items = self.export_items();
        if items.is_empty() {
            return Err("nothing to export: no secret is shown".into());
        }
        let count = items.len();
        let contents = if json {
            serde_json::to_string_pretty(&Value::Array(items)).unwrap_or_default() + "\n"
        } else {
            let mut out = CSV_COLUMNS.join(",") + "\n";
            for v in &items {
                out.push_str(&csv_row(v));
                out.push('\n');
            }
            out
        };
        Ok(vec![Effect::Export {
            path: path.to_string(),
            contents,
            count,
            replace,
        }])
    }

    /// `:export-env FILE`: the marked secrets' values to a file, after the vault's name is typed.
    pub(super) fn confirm_export_env(&mut self, path: &str) -> Result<(), String> {
        let names = self.marked_names();
        if names.is_empty() || self.tab != Tab::Secrets {
            return Err(
                "mark the secrets whose values to write (Space, or * for all shown)".into(),
            );
        }
        self.popup = Some(super::Popup::ConfirmExportEnv {
            path: path.to_string(),
            names,
            typed: Default::default(),
        });
        Ok(())
    }

    pub(super) fn export_env(&mut self, path: String, names: Vec<String>) -> Vec<Effect> {
        let Some(vault) = self.vault_url() else {
            return Vec::new();
        };
        self.send(
            super::jobs::Job::ExportEnv { path: path.clone() },
            crate::vault::Request::ExportEnv {
                vault,
                names,
                path: path.into(),
            },
        )
    }

    /// What the event loop reports of an export.
    pub fn exported(&mut self, path: &str, count: usize, result: Result<(), String>) {
        match result {
            Ok(()) => self.info(format!(
                "exported {count} {} to {path} (names and properties, no values)",
                if count == 1 { "secret" } else { "secrets" }
            )),
            Err(e) => self.error(format!("export to {path} failed: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lines_quote_what_a_shell_would_read() {
        let line = |n: &str, v: &str| env_line(n, v).expose().to_string();
        assert_eq!(line("db-password", "s3cr3t"), "DB_PASSWORD=s3cr3t");
        assert_eq!(line("api.key", "a b"), "API_KEY='a b'");
        assert_eq!(line("1st", "it's"), "_1ST='it'\\''s'");
        assert_eq!(line("x", "$(rm -rf ~)"), "X='$(rm -rf ~)'");
        assert_eq!(line("x", ""), "X=''");
        assert_eq!(line("url", "https://a.b/c?d=1"), "URL='https://a.b/c?d=1'");
        assert_eq!(line("multi", "a\nb"), "MULTI='a\nb'");
    }

    #[test]
    fn csv_fields_are_quoted_when_they_must_be() {
        assert_eq!(csv("plain"), "plain");
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
