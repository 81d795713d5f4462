//! The versions view (`v`): every version of a secret, newest first; open, copy, enable/disable or edit
//! the properties of an old version; `=` compares two versions' values side by side.

use similar::{ChangeTag, TextDiff};

use super::jobs::Job;
use super::{form, Action, App, Cursor, Effect};
use crate::vault::{Request, Response, SecretProps, SecretValue};

#[derive(Debug, Default)]
pub struct VersionsView {
    pub name: String,
    pub items: Vec<SecretProps>,
    pub cursor: Cursor,
    /// A version marked with Space, to compare with `=`.
    pub marked: Option<String>,
    pub compare: Option<Compare>,
}

/// One side of a comparison: the version, its properties, its value once fetched.
#[derive(Debug, Default)]
pub struct Side {
    pub props: SecretProps,
    pub value: Option<SecretValue>,
}

/// Two versions side by side, the newer on the left; values masked until revealed.
#[derive(Debug, Default)]
pub struct Compare {
    pub newer: Side,
    pub older: Side,
    /// The line diff, made once when both values are in.
    pub rows: Option<Vec<DiffRow>>,
    pub revealed: bool,
    pub scroll: u16,
    pub error: Option<String>,
}

/// One row of a line diff: the newer side's line, the older side's, and whether they differ. The
/// lines are values: zeroized when dropped, redacted in `Debug`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffRow {
    pub newer: Option<SecretValue>,
    pub older: Option<SecretValue>,
    pub changed: bool,
}

/// Pretty-prints JSON (two-space indent, as serde_json does) into a zeroized buffer, without parsing
/// the value into strings that would be dropped unwiped; other text as it is. Done once, when a value
/// arrives, not per frame.
pub fn pretty(value: &str) -> SecretValue {
    let t = value.trim_start();
    let json = (t.starts_with('{') || t.starts_with('['))
        && serde_json::from_str::<serde::de::IgnoredAny>(value).is_ok();
    if !json {
        return SecretValue::new(value.to_string());
    }
    let mut out = String::with_capacity(value.len() * 2);
    let mut depth = 0usize;
    let (mut in_str, mut escaped) = (false, false);
    let chars: Vec<char> = value.chars().collect();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_str {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
        } else {
            match c {
                '"' => {
                    in_str = true;
                    out.push(c);
                }
                '{' | '[' => {
                    out.push(c);
                    // An empty object or array stays on one line.
                    let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
                    if matches!((c, next), ('{', Some('}')) | ('[', Some(']'))) {
                        while chars.get(i + 1).is_some_and(|c| c.is_whitespace()) {
                            i += 1;
                        }
                    } else {
                        depth += 1;
                        newline(&mut out, depth);
                    }
                }
                '}' | ']' => {
                    let opened = out.ends_with('{') || out.ends_with('[');
                    if !opened {
                        depth = depth.saturating_sub(1);
                        newline(&mut out, depth);
                    }
                    out.push(c);
                }
                ',' => {
                    out.push(',');
                    newline(&mut out, depth);
                }
                ':' => out.push_str(": "),
                c if c.is_whitespace() => {}
                c => out.push(c),
            }
        }
        i += 1;
    }
    let mut chars = chars;
    zeroize::Zeroize::zeroize(&mut chars);
    // Capacity was reserved ahead, so `out` did not reallocate (and leave copies) as it grew much.
    SecretValue::new(out)
}

/// A real line diff: an inserted line shows as one added row, not as every later line changed.
pub fn diff_rows(newer: &str, older: &str) -> Vec<DiffRow> {
    let diff = TextDiff::from_lines(older, newer);
    let mut rows: Vec<DiffRow> = Vec::new();
    // Pair deletions with the insertions that follow them, so a changed line sits beside its old self.
    let mut deleted: Vec<SecretValue> = Vec::new();
    let flush = |rows: &mut Vec<DiffRow>, deleted: &mut Vec<SecretValue>| {
        for d in deleted.drain(..) {
            rows.push(DiffRow {
                newer: None,
                older: Some(d),
                changed: true,
            });
        }
    };
    let mut paired = 0usize;
    for change in diff.iter_all_changes() {
        let line = SecretValue::new(change.value().trim_end_matches(['\n', '\r']).to_string());
        match change.tag() {
            ChangeTag::Equal => {
                flush(&mut rows, &mut deleted);
                paired = 0;
                rows.push(DiffRow {
                    newer: Some(line.clone()),
                    older: Some(line),
                    changed: false,
                });
            }
            ChangeTag::Delete => deleted.push(line),
            ChangeTag::Insert => {
                if paired < deleted.len() {
                    // Replace the pending deletion with a changed pair.
                    let old = deleted.remove(paired);
                    rows.push(DiffRow {
                        newer: Some(line),
                        older: Some(old),
                        changed: true,
                    });
                } else {
                    flush(&mut rows, &mut deleted);
                    rows.push(DiffRow {
                        newer: Some(line),
                        older: None,
                        changed: true,
                    });
                }
            }
        }
    }
    flush(&mut rows, &mut deleted);
    rows
}

impl App {
    pub(super) fn open_versions(&mut self) -> Vec<Effect> {
        let Some((p, url)) = self.selected_in_vault() else {
            return Vec::new();
        };
        self.versions = Some(VersionsView {
            name: p.name.clone(),
            ..VersionsView::default()
        });
        self.send(
            Job::Versions,
            Request::ListVersions {
                vault: url,
                name: p.name,
            },
        )
    }

    pub fn versions_loading(&self) -> bool {
        self.running(|j| matches!(j, Job::Versions))
    }

    pub fn selected_version(&self) -> Option<&SecretProps> {
        let v = self.versions.as_ref()?;
        v.items.get(v.cursor.selected)
    }

    fn version_request(&self, version: &str) -> Option<Request> {
        Some(Request::GetSecret {
            vault: self.vault.as_ref()?.url.clone(),
            name: self.versions.as_ref()?.name.clone(),
            version: Some(version.to_string()),
        })
    }

    /// An action in the comparison.
    pub(super) fn on_compare_action(&mut self, a: Action) -> Vec<Effect> {
        let Some(c) = self.versions.as_mut().and_then(|v| v.compare.as_mut()) else {
            return Vec::new();
        };
        match a {
            Action::Back => {
                // Dropping the comparison drops both values.
                if let Some(v) = self.versions.as_mut() {
                    v.compare = None;
                }
                return self.cancel(|j| matches!(j, Job::CompareSide { .. }));
            }
            Action::Reveal => c.revealed = !c.revealed,
            _ => {
                a.scroll(&mut c.scroll);
            }
        }
        Vec::new()
    }

    /// An action in the versions list.
    pub(super) fn on_versions_action(&mut self, a: Action) -> Vec<Effect> {
        let Some(view) = self.versions.as_mut() else {
            return Vec::new();
        };
        let len = view.items.len();
        let page = super::list_height(self.size).max(1) as isize;
        match a {
            Action::Back => return self.close_versions(),
            Action::Up => view.cursor.step(-1, len),
            Action::Down => view.cursor.step(1, len),
            Action::PageUp => view.cursor.step(-page, len),
            Action::PageDown => view.cursor.step(page, len),
            Action::Top => view.cursor.selected = 0,
            Action::Bottom => view.cursor.selected = len.saturating_sub(1),
            Action::Mark => {
                let v = view
                    .items
                    .get(view.cursor.selected)
                    .and_then(|p| p.version.clone());
                view.marked = if view.marked == v { None } else { v };
            }
            Action::Open => {
                let Some(p) = self.selected_version().cloned() else {
                    return Vec::new();
                };
                let Some(url) = self.vault.as_ref().map(|v| v.url.clone()) else {
                    return Vec::new();
                };
                let version = p.version.clone();
                return self.show_value(p, url, version);
            }
            Action::Copy => {
                let Some(p) = self.selected_version().cloned() else {
                    return Vec::new();
                };
                return self.copy_value(&p, p.version.clone(), None);
            }
            Action::ToggleEnabled => {
                let Some(p) = view.items.get(view.cursor.selected).cloned() else {
                    return Vec::new();
                };
                let latest = view.cursor.selected == 0;
                let version = p.version.clone();
                return self.toggle(p, version, latest);
            }
            Action::Properties => {
                if self.refuse_read_only("editing properties") {
                    return Vec::new();
                }
                if let Some(p) = self.selected_version().cloned() {
                    self.form = Some(form::Form::properties(
                        &p,
                        p.version.clone(),
                        self.local_offset,
                    ));
                }
            }
            Action::Compare => return self.start_compare(),
            _ => {}
        }
        Vec::new()
    }

    /// `=`: the selected version against the marked one (or the newest other one).
    fn start_compare(&mut self) -> Vec<Effect> {
        let Some(view) = self.versions.as_ref() else {
            return Vec::new();
        };
        let Some(this) = view.items.get(view.cursor.selected).cloned() else {
            return Vec::new();
        };
        let other = view
            .items
            .iter()
            .find(|p| p.version.is_some() && p.version == view.marked && p.version != this.version)
            .or_else(|| view.items.iter().find(|p| p.version != this.version))
            .cloned();
        let Some(other) = other else {
            self.info("there is only one version: nothing to compare");
            return Vec::new();
        };
        // Newest first in the list: the lower index is the newer.
        let pos = |p: &SecretProps| view.items.iter().position(|x| x.version == p.version);
        let (newer, older) = if pos(&this) <= pos(&other) {
            (this, other)
        } else {
            (other, this)
        };
        let (Some(nreq), Some(oreq)) = (
            newer
                .version
                .as_deref()
                .and_then(|v| self.version_request(v)),
            older
                .version
                .as_deref()
                .and_then(|v| self.version_request(v)),
        ) else {
            return Vec::new();
        };
        if let Some(view) = self.versions.as_mut() {
            view.compare = Some(Compare {
                newer: Side {
                    props: newer,
                    value: None,
                },
                older: Side {
                    props: older,
                    value: None,
                },
                ..Compare::default()
            });
        }
        let mut effects = self.send(Job::CompareSide { left: true }, nreq);
        effects.extend(self.send(Job::CompareSide { left: false }, oreq));
        effects
    }

    /// Responses for the versions view.
    pub(super) fn on_versions_response(&mut self, job: Job, response: Response) -> Vec<Effect> {
        let Some(view) = self.versions.as_mut() else {
            return Vec::new();
        };
        match (job, response) {
            (Job::Versions, Response::Versions(items)) => {
                view.items = items;
                view.cursor = Cursor::default();
            }
            (Job::Versions, Response::Failed(e)) => self.fail("versions", e),
            (Job::CompareSide { left }, response) => {
                if let Some(c) = view.compare.as_mut() {
                    let side = if left { &mut c.newer } else { &mut c.older };
                    match response {
                        Response::Value { value, .. } => side.value = Some(value),
                        Response::Failed(e) => c.error = Some(e.summary()),
                        _ => {}
                    }
                    if let (Some(n), Some(o)) = (&c.newer.value, &c.older.value) {
                        c.rows = Some(diff_rows(
                            pretty(n.expose()).expose(),
                            pretty(o.expose()).expose(),
                        ));
                    }
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// After a property change, keep the versions list in step.
    pub(super) fn versions_saved(&mut self, p: &SecretProps) {
        if let Some(view) = self.versions.as_mut() {
            if let Some(item) = view
                .items
                .iter_mut()
                .find(|i| i.version.is_some() && i.version == p.version)
            {
                *item = p.clone();
            }
        }
    }
}

/// The first 8 characters of a version id (by character: the id comes from the network).
pub fn short(version: &str) -> &str {
    let end = version
        .char_indices()
        .nth(8)
        .map(|(i, _)| i)
        .unwrap_or(version.len());
    &version[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_pretty_printed_as_serde_does() {
        for v in [
            r#"{"a":{"b":[1,2,{}],"c":"x,{y}:\"z\""},"d":[],"e":null}"#,
            r#"[ {"k": true} , 3.5 ]"#,
        ] {
            let ours = pretty(v);
            let serde = serde_json::to_string_pretty(
                &serde_json::from_str::<serde_json::Value>(v).expect("json"),
            )
            .expect("pretty");
            assert_eq!(ours.expose(), serde);
        }
        assert_eq!(pretty("not json {").expose(), "not json {");
    }

    #[test]
    fn one_inserted_line_marks_one_row() {
        let rows = diff_rows("a\nnew\nb\nc", "a\nb\nc");
        let changed: Vec<bool> = rows.iter().map(|r| r.changed).collect();
        assert_eq!(changed, [false, true, false, false]);
        assert_eq!(rows[1].newer.as_ref().map(|v| v.expose()), Some("new"));
        assert_eq!(rows[1].older, None);
    }

    #[test]
    fn a_changed_line_sits_beside_its_old_self() {
        let rows = diff_rows("a\nB\nc", "a\nb\nc");
        assert_eq!(
            rows[1],
            DiffRow {
                newer: Some(SecretValue::new("B".into())),
                older: Some(SecretValue::new("b".into())),
                changed: true
            }
        );
        assert_eq!(rows.len(), 3);
        assert!(diff_rows("same", "same").iter().all(|r| !r.changed));
    }
}
