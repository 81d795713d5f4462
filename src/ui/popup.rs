//! Overlays: help, confirmations (delete: y/N; purge: type the name), quit, open a vault by URL.
//! Each grows to fit its wrapped text; the help lists the keymap of the view it was opened from.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::across::{across_lines, batch_lines, diff_lines};
use super::theme::Theme;
use super::{centered, entries, input_line, typed_confirmation};
use crate::app::explain::Explanation;
use crate::app::keymap::Context;
use crate::app::text::EDIT_KEYS;
use crate::app::{App, Popup};

fn help_lines(app: &App, ctx: Context, t: &Theme) -> Vec<Line<'static>> {
    let row = |k: String, what: String| {
        Line::from(vec![
            Span::styled(format!(" {k:<18}"), t.key()),
            Span::raw(what),
        ])
    };
    let mut lines: Vec<Line> = entries(app, ctx)
        .into_iter()
        .map(|e| row(e.keys_label(), e.what.to_string()))
        .collect();
    if ctx.takes_text() {
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled(" Editing", t.header())));
        lines.extend(
            EDIT_KEYS
                .iter()
                .map(|(k, w)| row(k.to_string(), w.to_string())),
        );
    }
    if matches!(ctx, Context::Secrets | Context::Deleted | Context::Vaults) {
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled(
            " Filter: fuzzy name (words in any order; 'exact ^start end$ !not), tag:key=value, tag:key, type:json",
            t.muted(),
        )));
    }
    lines.push(Line::from(Span::styled(
        " Keys are set in [keys] of the config file.",
        t.muted(),
    )));
    lines
}

/// An error explained: status, the service's message whole, what to do, the command.
pub(super) fn error_lines(app: &App, x: &Explanation, t: &Theme) -> Vec<Line<'static>> {
    // What to do first; the service's words, whole, after.
    let mut l = vec![Line::from(Span::styled(
        format!(" {}", x.status),
        t.danger(),
    ))];
    for a in &x.advice {
        l.push(Line::from(format!(" • {a}")));
    }
    if let Some(c) = &x.command {
        l.push(Line::raw(""));
        l.push(Line::from(Span::styled(format!(" {c}"), t.key())));
        let key = app
            .keymap
            .key_for(Context::ErrorPanel, crate::app::Action::Copy)
            .unwrap_or_else(|| "c".into());
        l.push(Line::from(Span::styled(
            format!(" ({key} in the error panel copies it)"),
            t.muted(),
        )));
    }
    l.push(Line::raw(""));
    l.push(Line::from(Span::styled(" What the vault said", t.header())));
    for m in x.message.lines() {
        l.push(Line::from(format!(" {m}")));
    }
    l
}

/// The message log: time, mark, text; the selected line reversed.
fn message_lines(app: &App, cursor: usize, t: &Theme) -> Vec<Line<'static>> {
    if app.messages.is_empty() {
        return vec![Line::from(Span::styled(" nothing yet", t.muted()))];
    }
    app.messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let at = m.at.to_offset(app.local_offset);
            let time = format!(" {:02}:{:02}:{:02} ", at.hour(), at.minute(), at.second());
            let (mark, style) = if m.error {
                ("✗ ", t.error())
            } else {
                ("· ", t.muted())
            };
            let base = if i == cursor {
                t.selected()
            } else {
                ratatui::style::Style::default()
            };
            Line::from(vec![
                Span::styled(time, t.muted().patch(base)),
                Span::styled(mark, style.patch(base)),
                Span::styled(m.text.clone(), base),
            ])
        })
        .collect()
}

pub fn draw(frame: &mut Frame, app: &App, popup: &Popup, t: &Theme, area: Rect) {
    let (title, lines, danger): (String, Vec<Line>, bool) = match popup {
        Popup::Error { explanation, .. } => (
            explanation.title.clone(),
            error_lines(app, explanation, t),
            true,
        ),
        Popup::Messages { cursor } => (
            format!("messages ({})", app.messages.len()),
            message_lines(app, *cursor, t),
            false,
        ),
        Popup::Help { context, .. } => (
            format!("help — {}", context.title()),
            help_lines(app, *context, t),
            false,
        ),
        Popup::ConfirmDelete { name } => (
            "delete secret".into(),
            vec![
                Line::from(vec![
                    Span::raw(" Delete "),
                    Span::styled(format!("'{name}'"), t.danger()),
                    Span::raw(" and all its versions?"),
                ]),
                Line::from(Span::styled(
                    " With soft delete it can be recovered until it is purged.",
                    t.muted(),
                )),
                Line::raw(""),
                Line::from(vec![
                    Span::styled(" y", t.key()),
                    Span::raw(" delete   "),
                    Span::styled("n/Esc", t.key()),
                    Span::raw(" cancel"),
                ]),
            ],
            true,
        ),
        Popup::ConfirmBatch { kind, names, typed } => batch_lines(*kind, names, typed, t),
        Popup::VaultDiff { cursor } => diff_lines(
            app,
            *cursor,
            ((area.width.saturating_sub(4)).clamp(20, 110), area.height),
            t,
        ),
        Popup::Across {
            kind,
            input,
            cursor,
        } => across_lines(
            app,
            *kind,
            input,
            *cursor,
            ((area.width.saturating_sub(4)).clamp(20, 110), area.height),
            t,
        ),
        Popup::ConfirmPurge { name, typed } => {
            let ok = typed.value() == name;

            (
                "purge secret".into(),
                vec![Line::from(vec![
                    Span::raw(" Purge "),
                    Span::styled(format!("'{name}'"), t.danger()),
                    Span::raw(" for good? This cannot be undone."),
                ])]
                .into_iter()
                .chain(typed_confirmation(
                    " Type the secret's name to confirm:".into(),
                    typed,
                    ok,
                    "purge",
                    "the name does not match yet",
                    t,
                ))
                .collect(),
                true,
            )
        }
        Popup::ConfirmOverwrite { name, path } => (
            "file exists".into(),
            vec![
                Line::from(vec![
                    Span::raw(" "),
                    Span::styled(path.clone(), t.danger()),
                    Span::raw(" exists. Replace it with the backup of "),
                    Span::styled(format!("'{name}'"), t.title()),
                    Span::raw("?"),
                ]),
                Line::raw(""),
                Line::from(vec![
                    Span::styled(" y", t.key()),
                    Span::raw(" replace   "),
                    Span::styled("n/Esc", t.key()),
                    Span::raw(" keep the file"),
                ]),
            ],
            true,
        ),
        Popup::ConfirmQuit => (
            "quit".into(),
            vec![
                Line::from(format!(
                    " {} operation(s) still in flight: quit anyway?",
                    app.ops().count()
                )),
                Line::from(vec![
                    Span::styled(" y", t.key()),
                    Span::raw(" quit   "),
                    Span::styled("any key", t.key()),
                    Span::raw(" stay"),
                ]),
            ],
            false,
        ),
        Popup::Conflict { name } => (
            "deleted but recoverable".into(),
            vec![
                Line::from(vec![
                    Span::raw(" "),
                    Span::styled(format!("'{name}'"), t.danger()),
                    Span::raw(" is deleted but recoverable: its name cannot be reused"),
                ]),
                Line::from(" until it is recovered or purged."),
                Line::raw(""),
                Line::from(vec![
                    Span::styled(" r", t.key()),
                    Span::raw(" recover it (then open it)"),
                ]),
                Line::from(vec![
                    Span::styled(" p", t.key()),
                    Span::raw(" purge it for good, then create the new secret"),
                ]),
                Line::from(vec![
                    Span::styled(" c", t.key()),
                    Span::raw(" cancel: back to the form, nothing lost"),
                ]),
            ],
            true,
        ),
        Popup::Backup { name, path, error } => {
            let mut l = vec![
                Line::from(vec![
                    Span::raw(" Back up "),
                    Span::styled(format!("'{name}'"), t.title()),
                    Span::raw(" (every version, sealed by the vault) to:"),
                ]),
                input_line(" > ", path, t),
                Line::from(Span::styled(
                    " The file is created readable by you only. Restore it with :restore FILE.",
                    t.muted(),
                )),
            ];
            if let Some(e) = error {
                l.push(Line::from(Span::styled(format!(" {e}"), t.error())));
            }
            ("backup".into(), l, false)
        }
        Popup::Command { input, error } => {
            let mut l = vec![input_line(" :", input, t)];
            match error {
                Some(e) => l.push(Line::from(Span::styled(format!(" {e}"), t.warn()))),
                None => l.push(Line::from(Span::styled(
                    format!(" {}", crate::app::command::reminder()),
                    t.muted(),
                ))),
            }
            ("command".into(), l, false)
        }
        Popup::ConfirmExportEnv { path, names, typed } => {
            let vault = app
                .vault
                .as_ref()
                .map(|v| v.name.clone())
                .unwrap_or_default();
            let ok = typed.value().trim() == vault;
            (
                "write values to a file".into(),
                vec![
                    Line::from(vec![
                        Span::raw(" Write the VALUES of "),
                        Span::styled(format!("{} marked secrets", names.len()), t.danger()),
                        Span::raw(format!(" to {path} as NAME=value lines?")),
                    ]),
                    Line::from(Span::styled(
                        " The file is created readable by you only, never over an existing one; it holds the secrets in plain text until you delete it.",
                        t.muted(),
                    )),
                ]
                .into_iter()
                .chain(typed_confirmation(
                    format!(" Type the vault's name ({vault}) to confirm:"),
                    typed,
                    ok,
                    "write",
                    "the name does not match yet",
                    t,
                ))
                .collect(),
                true,
            )
        }
        Popup::OpenVault { input, error } => {
            let mut l = vec![
                Line::raw(" Vault name (kv-prod) or URL (https://demo.localhost:8443):"),
                input_line(" > ", input, t),
            ];
            if let Some(e) = error {
                l.push(Line::from(Span::styled(format!(" {e}"), t.error())));
            }
            ("open vault".into(), l, false)
        }
    };
    let widest = match popup {
        Popup::Error { .. }
        | Popup::Messages { .. }
        | Popup::Across { .. }
        | Popup::VaultDiff { .. } => 110,
        _ => 76,
    };
    let width = (area.width.saturating_sub(4))
        .clamp(20, widest)
        .min(area.width);
    let scroll = match popup {
        Popup::Help { scroll, .. } | Popup::Error { scroll, .. } => *scroll,
        // Keep the selected message in view.
        Popup::Messages { cursor } => {
            (*cursor as u16).saturating_sub(area.height.saturating_sub(6))
        }
        _ => 0,
    };
    // Grow to fit the wrapped text (the borders take two rows and two columns).
    let text = Paragraph::new(lines).wrap(Wrap { trim: false });
    let wrapped = text.line_count(width.saturating_sub(2)) as u16;
    // The long ones leave the status line in view (a copy from the error panel is confirmed there).
    let room = match popup {
        Popup::Error { .. }
        | Popup::Messages { .. }
        | Popup::Help { .. }
        | Popup::Across { .. }
        | Popup::VaultDiff { .. }
            if area.height > 12 =>
        {
            area.height - 3
        }
        _ => area.height,
    };
    let height = (wrapped + 2).min(room);
    let scroll = scroll.min(wrapped.saturating_sub(height.saturating_sub(2)));
    let rect = centered(area, width, height);
    let style = if danger { t.danger() } else { t.title() };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .title(Span::styled(format!(" {title} "), style));
    if let Popup::Help { .. } = popup {
        // Always in view, however long the list.
        block = block.title_bottom(Span::styled(
            " ↑↓ scroll · any other key closes this help ",
            t.muted(),
        ));
    }
    if let Popup::VaultDiff { .. } = popup {
        let hint = match app.diff.as_ref().map(|d| d.promote.is_some()) {
            Some(true) => " y applies what the preview says · Esc closes ",
            _ => " p promotes what differs (a preview first) · ↑↓ move · Esc closes ",
        };
        block = block.title_bottom(Span::styled(hint, t.muted()));
    }
    if let Popup::Across { .. } = popup {
        block = block.title_bottom(Span::styled(
            " type to filter · ↑↓ move · Enter opens it in its vault · Esc closes ",
            t.muted(),
        ));
    }
    if let Popup::Error { .. } | Popup::Messages { .. } = popup {
        block = block.title_bottom(Span::styled(" ↑↓ scroll · Esc closes ", t.muted()));
    }
    frame.render_widget(Clear, rect);
    frame.render_widget(text.block(block).scroll((scroll, 0)), rect);
}
