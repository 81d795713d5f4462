//! Overlays: help, confirmations (delete: y/N; purge: type the name), quit, open a vault by URL.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::theme::Theme;
use super::{centered, keys};
use crate::app::{App, Popup};

pub fn draw(frame: &mut Frame, app: &App, popup: &Popup, t: &Theme, area: Rect) {
    let (title, lines, danger): (&str, Vec<Line>, bool) = match popup {
        Popup::Help => {
            let lines = keys(app)
                .into_iter()
                .map(|(k, what)| {
                    Line::from(vec![
                        Span::styled(format!(" {k:<16}"), t.key()),
                        Span::raw(what),
                    ])
                })
                .chain([
                    Line::raw(""),
                    Line::from(Span::styled(
                        " Filter: fuzzy name, tag:key=value, tag:key, type:json",
                        t.muted(),
                    )),
                    Line::from(Span::styled(" any key closes this help", t.muted())),
                ])
                .collect();
            ("help", lines, false)
        }
        Popup::ConfirmDelete { name } => (
            "delete secret",
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
        Popup::ConfirmPurge { name, typed } => {
            let ok = typed == name;

            (
                "purge secret",
                vec![
                    Line::from(vec![
                        Span::raw(" Purge "),
                        Span::styled(format!("'{name}'"), t.danger()),
                        Span::raw(" for good? This cannot be undone."),
                    ]),
                    Line::from(Span::raw(" Type the secret's name to confirm:")),
                    Line::from(vec![
                        Span::styled(" > ", t.key()),
                        Span::raw(typed.clone()),
                        Span::styled("▏", t.key()),
                    ]),
                    Line::from(if ok {
                        vec![
                            Span::styled(" Enter", t.key()),
                            Span::raw(" purge   "),
                            Span::styled("Esc", t.key()),
                            Span::raw(" cancel"),
                        ]
                    } else {
                        vec![
                            Span::styled(" the name does not match yet", t.muted()),
                            Span::raw("   "),
                            Span::styled("Esc", t.key()),
                            Span::raw(" cancel"),
                        ]
                    }),
                ],
                true,
            )
        }
        Popup::ConfirmQuit => (
            "quit",
            vec![
                Line::from(format!(
                    " {} operation(s) still in flight: quit anyway?",
                    app.ops.len()
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
            "deleted but recoverable",
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
                Line::from(vec![
                    Span::styled(" > ", t.key()),
                    Span::raw(path.clone()),
                    Span::styled("▏", t.key()),
                ]),
                Line::from(Span::styled(
                    " The file is created readable by you only. Restore it with :restore FILE.",
                    t.muted(),
                )),
            ];
            if let Some(e) = error {
                l.push(Line::from(Span::styled(format!(" {e}"), t.error())));
            }
            ("backup", l, false)
        }
        Popup::Command { input, error } => {
            let mut l = vec![Line::from(vec![
                Span::styled(" :", t.key()),
                Span::raw(input.clone()),
                Span::styled("▏", t.key()),
            ])];
            match error {
                Some(e) => l.push(Line::from(Span::styled(format!(" {e}"), t.warn()))),
                None => l.push(Line::from(Span::styled(
                    " vaults · secrets · deleted · versions · vault NAME · backup FILE · restore FILE · new · q   (Tab completes)",
                    t.muted(),
                ))),
            }
            ("command", l, false)
        }
        Popup::OpenVault { input, error } => {
            let mut l = vec![
                Line::raw(" Vault name (kv-prod) or URL (https://demo.localhost:8443):"),
                Line::from(vec![
                    Span::styled(" > ", t.key()),
                    Span::raw(input.clone()),
                    Span::styled("▏", t.key()),
                ]),
            ];
            if let Some(e) = error {
                l.push(Line::from(Span::styled(format!(" {e}"), t.error())));
            }
            ("open vault", l, false)
        }
    };
    let width = (area.width.saturating_sub(4)).clamp(20, 76);
    let height = (lines.len() as u16 + 2).min(area.height);
    let rect = centered(area, width, height);
    let style = if danger { t.danger() } else { t.title() };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .title(Span::styled(format!(" {title} "), style));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}
