//! The create / new version / properties form: one line per field (value and tags grow), the value
//! masked while typing unless shown, and each field's error beside it as you type.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::centered;
use super::theme::Theme;
use crate::app::form::{parse_date, show_date, Field, Form, FormKind};
use crate::app::App;

pub fn draw(frame: &mut Frame, app: &App, f: &Form, t: &Theme, area: Rect) {
    let title = match &f.kind {
        FormKind::Create => " new secret ".to_string(),
        FormKind::NewVersion { name } => format!(" new version of '{name}' "),
        FormKind::Properties {
            name,
            version: None,
        } => format!(" properties of '{name}' "),
        FormKind::Properties {
            name,
            version: Some(v),
        } => format!(
            " properties of '{name}' version {} ",
            crate::app::versions::short(v)
        ),
    };
    let mut lines: Vec<Line> = Vec::new();
    for (i, field) in f.fields().into_iter().enumerate() {
        let focused = i == f.focus;
        let label = Span::styled(
            format!("{} {:<13}", if focused { "›" } else { " " }, field.label()),
            if focused { t.key() } else { t.header() },
        );
        let text: String = match field {
            Field::Name => f.name.clone(),
            Field::Value if !f.show_value => f
                .value
                .lines()
                .map(|l| "•".repeat(l.chars().count()))
                .collect::<Vec<_>>()
                .join("\n"),
            Field::Value => f.value.to_string(),
            Field::ContentType => f.content_type.clone(),
            Field::Tags => f.tags.clone(),
            Field::Enabled => {
                if f.enabled {
                    "[x] yes (Space toggles)".into()
                } else {
                    "[ ] no (Space toggles)".into()
                }
            }
            Field::NotBefore => f.not_before.clone(),
            Field::Expires => f.expires.clone(),
        };
        let error = f.field_error(field, app.now, app.local_offset);
        let mut note = match (&error, field) {
            (Some(e), _) => Span::styled(format!("  ✗ {e}"), t.error()),
            (None, Field::NotBefore) | (None, Field::Expires) => {
                let value = if field == Field::NotBefore {
                    &f.not_before
                } else {
                    &f.expires
                };
                match parse_date(value, app.now, app.local_offset) {
                    Ok(Some(d)) => {
                        Span::styled(format!("  → {}", show_date(d, app.local_offset)), t.muted())
                    }
                    _ => Span::styled(
                        "  2026-12-31, 2026-12-31T08:00 (local), +30d, +12h",
                        t.muted(),
                    ),
                }
            }
            (None, Field::Tags) => {
                Span::styled("  one key=value per line (Enter: new line)", t.muted())
            }
            (None, Field::Value) if f.value.contains('\n') || text.is_empty() => {
                Span::styled("  Enter: new line · Ctrl-T shows", t.muted())
            }
            _ => Span::raw(""),
        };
        if focused && field != Field::Enabled {
            note = Span::styled(format!("▏{}", note.content), note.style);
        }
        let mut rows = text.split('\n');
        lines.push(Line::from(vec![
            label,
            Span::raw(rows.next().unwrap_or_default().to_string()),
            note,
        ]));
        for more in rows {
            lines.push(Line::from(vec![
                Span::raw(" ".repeat(15)),
                Span::raw(more.to_string()),
            ]));
        }
    }
    lines.push(Line::raw(""));
    if let Some(e) = &f.service_error {
        lines.push(Line::from(Span::styled(
            format!(" The vault refused it: {e}"),
            t.error(),
        )));
    }
    if f.submitting.is_some() {
        lines.push(Line::from(Span::styled(" saving…", t.muted())));
    }
    lines.push(Line::from(vec![
        Span::styled(" Ctrl-S", t.key()),
        Span::raw(" save  "),
        Span::styled("Tab/↑↓", t.key()),
        Span::raw(" fields  "),
        Span::styled("Ctrl-T", t.key()),
        Span::raw(" show value  "),
        Span::styled("Esc", t.key()),
        Span::raw(" cancel"),
    ]));
    let width = area.width.saturating_sub(2).clamp(20, 110);
    let height = (lines.len() as u16 + 2).min(area.height);
    let rect = centered(area, width, height);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.title())
        .title(Span::styled(title, t.title()));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
