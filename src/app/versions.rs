//! The versions view (`v`): every version of a secret, newest first; open, copy, enable/disable or edit
//! the properties of an old version; `=` compares two versions' values side by side.

use crossterm::event::{KeyCode, KeyEvent};

use super::{form, App, Cursor, Effect, ValuePanel};
use crate::vault::{Request, RequestId, Response, SecretProps, SecretValue};

#[derive(Debug, Default)]
pub struct VersionsView {
    pub name: String,
    pub items: Vec<SecretProps>,
    pub loading: Option<RequestId>,
    pub cursor: Cursor,
    /// A version marked with Space, to compare with `=`.
    pub marked: Option<String>,
    pub compare: Option<Compare>,
}

/// Two versions side by side; values masked until revealed.
#[derive(Debug, Default)]
pub struct Compare {
    pub left: (String, Option<SecretValue>, Option<RequestId>),
    pub right: (String, Option<SecretValue>, Option<RequestId>),
    pub revealed: bool,
    pub error: Option<String>,
}

/// Line-by-line: which lines differ (the longer side's extra lines differ too).
pub fn differing_lines(a: &str, b: &str) -> Vec<bool> {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    (0..la.len().max(lb.len()))
        .map(|i| la.get(i) != lb.get(i))
        .collect()
}

impl App {
    pub(super) fn open_versions(&mut self) -> Vec<Effect> {
        let Some((p, url)) = self.selected_in_vault() else {
            return Vec::new();
        };
        let id = self.id();
        self.versions = Some(VersionsView {
            name: p.name.clone(),
            loading: Some(id),
            ..VersionsView::default()
        });
        vec![Effect::Send(
            id,
            Request::ListVersions {
                vault: url,
                name: p.name,
            },
        )]
    }

    pub fn selected_version(&self) -> Option<&SecretProps> {
        let v = self.versions.as_ref()?;
        v.items.get(v.cursor.selected)
    }

    fn version_request(&mut self, version: &str) -> Option<(RequestId, Request)> {
        let name = self.versions.as_ref()?.name.clone();
        let url = self.vault.as_ref()?.url.clone();
        let id = self.id();
        Some((
            id,
            Request::GetSecret {
                vault: url,
                name,
                version: Some(version.to_string()),
            },
        ))
    }

    pub(super) fn on_versions_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let Some(view) = self.versions.as_mut() else {
            return Vec::new();
        };
        if view.compare.is_some() {
            match k.code {
                KeyCode::Esc | KeyCode::Char('q') => {
                    // Dropping the comparison drops both values.
                    let c = view.compare.take();
                    return c
                        .map(|c| {
                            [c.left.2, c.right.2]
                                .into_iter()
                                .flatten()
                                .map(Effect::Cancel)
                                .collect()
                        })
                        .unwrap_or_default();
                }
                KeyCode::Char(' ') => {
                    if let Some(c) = view.compare.as_mut() {
                        c.revealed = !c.revealed;
                    }
                }
                _ => {}
            }
            return Vec::new();
        }
        let len = view.items.len();
        match k.code {
            KeyCode::Char('q') if self.ops.is_empty() => {
                self.quit = true;
                return Vec::new();
            }
            KeyCode::Char('q') => self.popup = Some(super::Popup::ConfirmQuit),
            KeyCode::Char('?') => self.popup = Some(super::Popup::Help),
            KeyCode::Esc => {
                let loading = view.loading;
                self.versions = None;
                return loading.map(Effect::Cancel).into_iter().collect();
            }
            KeyCode::Up | KeyCode::Char('k') => view.cursor.step(-1, len),
            KeyCode::Down | KeyCode::Char('j') => view.cursor.step(1, len),
            KeyCode::Char('g') | KeyCode::Home => view.cursor.selected = 0,
            KeyCode::Char('G') | KeyCode::End => view.cursor.selected = len.saturating_sub(1),
            KeyCode::Char(' ') => {
                let v = view
                    .items
                    .get(view.cursor.selected)
                    .and_then(|p| p.version.clone());
                view.marked = if view.marked == v { None } else { v };
            }
            KeyCode::Enter => {
                let Some(p) = self.selected_version().cloned() else {
                    return Vec::new();
                };
                let Some(version) = p.version.clone() else {
                    return Vec::new();
                };
                let Some((id, req)) = self.version_request(&version) else {
                    return Vec::new();
                };
                self.value = Some(ValuePanel {
                    name: p.name.clone(),
                    props: Some(p),
                    value: None,
                    revealed: false,
                    scroll: 0,
                    request: Some(id),
                    error: None,
                });
                return vec![Effect::Send(id, req)];
            }
            KeyCode::Char('c') => {
                let Some(p) = self.selected_version().cloned() else {
                    return Vec::new();
                };
                let Some(version) = p.version.clone() else {
                    return Vec::new();
                };
                let Some((id, req)) = self.version_request(&version) else {
                    return Vec::new();
                };
                self.pending_copy = Some((id, format!("{} ({})", p.name, short(&version))));
                return vec![Effect::Send(id, req)];
            }
            KeyCode::Char('x') => {
                let Some(p) = view.items.get(view.cursor.selected).cloned() else {
                    return Vec::new();
                };
                let latest = view.cursor.selected == 0;
                let version = p.version.clone();
                return self.toggle(p, version, latest);
            }
            KeyCode::Char('e') => {
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
            KeyCode::Char('=') => {
                let Some(right) = view
                    .items
                    .get(view.cursor.selected)
                    .and_then(|p| p.version.clone())
                else {
                    return Vec::new();
                };
                let left = view.marked.clone().filter(|m| *m != right).or_else(|| {
                    view.items
                        .iter()
                        .filter_map(|p| p.version.clone())
                        .find(|v| *v != right)
                });
                let Some(left) = left else {
                    self.info("there is only one version: nothing to compare");
                    return Vec::new();
                };
                let (Some((lid, lreq)), Some((rid, rreq))) =
                    (self.version_request(&left), self.version_request(&right))
                else {
                    return Vec::new();
                };
                if let Some(view) = self.versions.as_mut() {
                    view.compare = Some(Compare {
                        left: (left, None, Some(lid)),
                        right: (right, None, Some(rid)),
                        revealed: false,
                        error: None,
                    });
                }
                return vec![Effect::Send(lid, lreq), Effect::Send(rid, rreq)];
            }
            _ => {}
        }
        Vec::new()
    }

    /// Responses for the versions view; `None` when the id is not one of its requests.
    pub(super) fn on_versions_response(
        &mut self,
        id: RequestId,
        response: Response,
    ) -> Result<Vec<Effect>, Box<Response>> {
        let Some(view) = self.versions.as_mut() else {
            return Err(Box::new(response));
        };
        if view.loading == Some(id) {
            view.loading = None;
            match response {
                Response::Versions(items) => {
                    view.items = items;
                    view.cursor = Cursor::default();
                }
                Response::Failed(e) => self.error(format!("versions: {}", e.summary())),
                _ => {}
            }
            return Ok(Vec::new());
        }
        if let Some(c) = view.compare.as_mut() {
            for side in [&mut c.left, &mut c.right] {
                if side.2 == Some(id) {
                    side.2 = None;
                    match response {
                        Response::Value { value, .. } => side.1 = Some(value),
                        Response::Failed(e) => c.error = Some(e.summary()),
                        _ => {}
                    }
                    return Ok(Vec::new());
                }
            }
        }
        Err(Box::new(response))
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
    fn differing_lines_are_marked() {
        assert_eq!(
            differing_lines("a\nb\nc", "a\nB\nc\nd"),
            [false, true, false, true]
        );
        assert_eq!(differing_lines("same", "same"), [false]);
    }
}
