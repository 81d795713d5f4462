//! The dialogs of work across many secrets and vaults: `:search` / `:expiring`, `:compare-vaults` /
//! `:promote`, and the confirmation of a bulk action.

use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::{input_line, typed_confirmation};
use crate::app::App;

/// `:search` / `:expiring`: the filter, the loading progress, and the rows around the cursor, cut to
/// the width (one line each).
pub(super) fn across_lines(
    app: &App,
    kind: crate::app::across::AcrossKind,
    input: &crate::app::text::LineField,
    cursor: usize,
    size: (u16, u16),
    t: &Theme,
) -> (String, Vec<Line<'static>>, bool) {
    use crate::app::across::{bucket, AcrossKind};
    let (width, height) = size;
    let cut = |s: String, w: usize| -> String {
        if s.chars().count() <= w {
            format!("{s:<w$}")
        } else {
            s.chars().take(w.saturating_sub(1)).collect::<String>() + "…"
        }
    };
    let rows = app.across_rows(kind, input.value());
    let progress = app
        .across
        .as_ref()
        .map(|a| a.progress())
        .unwrap_or_default();
    let mut lines = vec![
        input_line(" > ", input, t),
        Line::from(Span::styled(
            format!(
                " {} of {} secrets · {progress} · fuzzy name, tag:k=v, type:json",
                rows.len(),
                app.across.as_ref().map(|a| a.items.len()).unwrap_or(0)
            ),
            t.muted(),
        )),
    ];
    let inner = width.saturating_sub(2) as usize;
    let (c1, c2) = (14usize, 34usize);
    let c3 = inner.saturating_sub(c1 + c2 + 3);
    let header = match kind {
        AcrossKind::Search => format!(
            " {} {} {}",
            cut("VAULT".into(), c1),
            cut("SECRET".into(), c2),
            cut("SUBSCRIPTION · TYPE".into(), c3)
        ),
        AcrossKind::Expiring => format!(
            " {} {} {}",
            cut("EXPIRES".into(), c1),
            cut("SECRET".into(), c2),
            cut("VAULT · SUBSCRIPTION".into(), c3)
        ),
    };
    lines.push(Line::from(Span::styled(header, t.header())));
    let room = (height as usize).saturating_sub(8).max(1);
    let cursor = cursor.min(rows.len().saturating_sub(1));
    let first = cursor.saturating_sub(room - 1);
    let Some(a) = &app.across else {
        return (kind.title().into(), lines, false);
    };
    let mut last_bucket = None;
    for (pos, i) in rows.iter().enumerate().skip(first).take(room) {
        let Some(it) = a.items.get(*i) else {
            continue;
        };
        let p = &it.props;
        let base = if pos == cursor {
            t.selected()
        } else {
            ratatui::style::Style::default()
        };
        let line = match kind {
            AcrossKind::Search => {
                let place = [it.subscription.as_deref(), p.content_type.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · ");
                Line::from(vec![
                    Span::styled(
                        format!(" {} ", cut(it.vault_name.clone(), c1)),
                        t.muted().patch(base),
                    ),
                    Span::styled(format!("{} ", cut(p.name.clone(), c2)), base),
                    Span::styled(cut(place, c3), t.muted().patch(base)),
                ])
            }
            AcrossKind::Expiring => {
                let (b, label) = bucket(p.expires, app.now);
                let (text, style) = crate::ui::lists::expiry_cell(p.expires, app, t);
                let group = if last_bucket != Some(b) {
                    last_bucket = Some(b);
                    format!(" · {label}")
                } else {
                    String::new()
                };
                let place = [Some(it.vault_name.as_str()), it.subscription.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · ");
                Line::from(vec![
                    Span::styled(format!(" {} ", cut(text, c1)), style.patch(base)),
                    Span::styled(format!("{} ", cut(p.name.clone(), c2)), base),
                    Span::styled(cut(format!("{place}{group}"), c3), t.muted().patch(base)),
                ])
            }
        };
        lines.push(line);
    }
    if rows.is_empty() {
        lines.push(Line::from(Span::styled(
            if a.loaded + a.failed.len() < a.total {
                " loading…"
            } else {
                " nothing matches"
            },
            t.muted(),
        )));
    }
    (kind.title().into(), lines, false)
}

/// `:compare-vaults` / `:promote`: one line a name — what differs, or what promoting would do.
pub(super) fn diff_lines(
    app: &App,
    cursor: usize,
    size: (u16, u16),
    t: &Theme,
) -> (String, Vec<Line<'static>>, bool) {
    use crate::app::transfer::{Diff, Plan};
    let Some(d) = &app.diff else {
        return ("compare".into(), Vec::new(), false);
    };
    let (width, height) = size;
    let left = crate::vault::sources::vault_name(&d.left);
    let right = crate::vault::sources::vault_name(&d.right);
    let rows = d.rows();
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!(" {left}"), t.title()),
            Span::raw(" (left) → "),
            Span::styled(right.clone(), t.title()),
            Span::raw(" (right)"),
        ]),
        Line::from(Span::styled(format!(" {}", d.summary()), t.muted())),
    ];
    if let Some(e) = &d.list_error {
        lines.push(Line::from(Span::styled(
            format!(" could not list {right}: {}", e.summary()),
            t.error(),
        )));
    }
    let inner = width.saturating_sub(2) as usize;
    let name_w = 36usize.min(inner / 2);
    let room = (height as usize).saturating_sub(8).max(1);
    let cursor = cursor.min(rows.len().saturating_sub(1));
    let first = cursor.saturating_sub(room - 1);
    for (pos, key) in rows.iter().enumerate().skip(first).take(room) {
        let base = if pos == cursor {
            t.selected()
        } else {
            ratatui::style::Style::default()
        };
        let (label, style) = match &d.promote {
            Some(_) => {
                let plan = d.plan(key);
                let style = match plan {
                    Plan::Create | Plan::NewVersion | Plan::RecoverThenUpdate => t.warn(),
                    Plan::Done | Plan::Identical => t.ok(),
                    Plan::Refused | Plan::Failed => t.error(),
                    _ => t.muted(),
                };
                let why = match (plan, d.outcome.get(key.as_str())) {
                    (Plan::Failed, Some(Err(e))) => format!("failed: {}", e.summary()),
                    _ => plan.label().to_string(),
                };
                (why, style)
            }
            None => {
                let diff = d.diff(key);
                let style = match diff {
                    Diff::Same => t.ok(),
                    Diff::Refused => t.error(),
                    Diff::Checking => t.muted(),
                    _ => t.warn(),
                };
                let why = match (diff, d.names.get(key.as_str())) {
                    // Which side could not be read, and why (a disabled secret, a refusal).
                    (Diff::Refused, Some((l, r))) => {
                        let (side, e) = match (&l.error, &r.error) {
                            (Some(e), _) => ("left", e),
                            (None, Some(e)) => ("right", e),
                            (None, None) => (
                                "",
                                &crate::vault::VaultError::new(crate::vault::ErrorKind::Other, ""),
                            ),
                        };
                        format!("could not read the {side} value: {}", e.summary())
                    }
                    _ => diff.label().to_string(),
                };
                (why, style)
            }
        };
        let name = d.display_name(key);
        let name = if name.chars().count() > name_w {
            name.chars().take(name_w - 1).collect::<String>() + "…"
        } else {
            format!("{name:<name_w$}")
        };
        let label: String = label
            .chars()
            .take(inner.saturating_sub(name_w + 2))
            .collect();
        lines.push(Line::from(vec![
            Span::styled(format!(" {name} "), base),
            Span::styled(label, style.patch(base)),
        ]));
    }
    let title = match &d.promote {
        Some(p) => format!("promote {} to {right} — preview", p.len()),
        None => format!("{left} compared with {right}"),
    };
    (title, lines, false)
}

/// The confirmation of a bulk action: what, how many, the first names; a purge wants the count typed.
pub(super) fn batch_lines(
    kind: crate::app::OpKind,
    names: &[String],
    typed: &crate::app::text::LineField,
    t: &Theme,
) -> (String, Vec<Line<'static>>, bool) {
    use crate::app::OpKind;
    let n = names.len();
    let what = if n == 1 { "secret" } else { "secrets" };
    let verb = match kind {
        OpKind::Delete => "Delete",
        OpKind::Recover => "Recover",
        OpKind::Purge => "Purge",
        OpKind::Create => "Create",
    };
    let shown: Vec<String> = names.iter().take(5).map(|n| format!("'{n}'")).collect();
    let more = if n > 5 {
        format!(" and {} more", n - 5)
    } else {
        String::new()
    };
    let mut lines = vec![
        Line::from(vec![
            Span::raw(format!(" {verb} ")),
            Span::styled(format!("{n} marked {what}"), t.danger()),
            Span::raw(match kind {
                OpKind::Delete => " and all their versions?",
                OpKind::Purge => " for good? This cannot be undone.",
                _ => "?",
            }),
        ]),
        Line::from(Span::styled(
            format!(" {}{more}", shown.join(", ")),
            t.muted(),
        )),
    ];
    match kind {
        OpKind::Purge => {
            let ok = typed.value().trim() == n.to_string();
            lines.extend(typed_confirmation(
                format!(" Type {n} (how many) to confirm:"),
                typed,
                ok,
                "purge",
                "the count does not match yet",
                t,
            ));
        }
        _ => {
            if kind == OpKind::Delete {
                lines.push(Line::from(Span::styled(
                    " With soft delete they can be recovered until purged.",
                    t.muted(),
                )));
            }
            lines.push(Line::raw(""));
            lines.push(Line::from(vec![
                Span::styled(" y", t.key()),
                Span::raw(format!(" {}   ", verb.to_lowercase())),
                Span::styled("n/Esc", t.key()),
                Span::raw(" cancel"),
            ]));
        }
    }
    (format!("{} marked", verb.to_lowercase()), lines, true)
}
