//! The create / new version / properties form: one line per field (value and tags grow), the value
//! masked while typing unless shown, and each field's error beside it as you type.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::theme::Theme;
use super::{centered, entries, field_spans};
use crate::app::form::{parse_date, show_date, Field, Form, FormKind};
use crate::app::keymap::{display, Context};
use crate::app::text::MASK;
use crate::app::App;

/// A field's lines, with the cursor drawn when it has the focus.
fn field_lines(text: &str, cursor: Option<(usize, usize)>, t: &Theme) -> Vec<Vec<Span<'static>>> {
    text.split('\n')
        .enumerate()
        .map(|(i, line)| match cursor {
            Some((row, col)) if row == i => field_spans(line, col, t),
            _ => vec![Span::raw(line.to_string())],
        })
        .collect()
}

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
        let one = |l: &crate::app::text::LineField| {
            field_lines(l.value(), focused.then(|| (0, l.cursor())), t)
        };
        let rows: Vec<Vec<Span>> = match field {
            Field::Name => one(&f.name),
            // A fixed-width mask: the length is not shown either.
            Field::Value if !f.show_value => {
                let mask = if f.value.is_empty() { "" } else { MASK };
                let mut spans = vec![Span::styled(mask, t.muted())];
                if focused {
                    spans.push(Span::styled("▏", t.key()));
                }
                vec![spans]
            }
            Field::Value => field_lines(f.value.expose(), focused.then(|| f.value.cursor()), t),
            Field::ContentType => one(&f.content_type),
            Field::Tags => field_lines(&f.tags.text(), focused.then(|| f.tags.cursor()), t),
            Field::Enabled => vec![vec![Span::raw(if f.enabled {
                "[x] yes (Space toggles)"
            } else {
                "[ ] no (Space toggles)"
            })]],
            Field::NotBefore => one(&f.not_before),
            Field::Expires => one(&f.expires),
        };
        let error = f.field_error(field, app.now, app.local_offset);
        let note = match (&error, field) {
            (Some(e), _) => Span::styled(format!("  ✗ {e}"), t.error()),
            (None, Field::NotBefore) | (None, Field::Expires) => {
                let value = if field == Field::NotBefore {
                    &f.not_before
                } else {
                    &f.expires
                };
                match parse_date(value.value(), app.now, app.local_offset) {
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
            (None, Field::Value) if f.value.expose().contains('\n') || f.value.is_empty() => {
                Span::styled("  Enter: new line · Ctrl-T shows", t.muted())
            }
            _ => Span::raw(""),
        };
        let mut rows = rows.into_iter();
        let mut first = vec![label];
        first.extend(rows.next().unwrap_or_default());
        first.push(note);
        lines.push(Line::from(first));
        for more in rows {
            let mut l = vec![Span::raw(" ".repeat(15))];
            l.extend(more);
            lines.push(Line::from(l));
        }
    }
    lines.push(Line::raw(""));
    if let Some(e) = &f.service_error {
        // Refused, or never reached: the user's next step differs.
        let what = match e.kind {
            crate::vault::ErrorKind::Network | crate::vault::ErrorKind::Tls => {
                "Could not reach the vault"
            }
            crate::vault::ErrorKind::Unauthorized => "Not signed in",
            _ => "The vault refused it",
        };
        lines.push(Line::from(Span::styled(
            format!(" {what}: {}", e.summary()),
            t.error(),
        )));
        let x = app.explain(e);
        if let Some(a) = x.advice.first() {
            lines.push(Line::from(Span::styled(format!(" {a}"), t.muted())));
        }
        if let Some(c) = &x.command {
            lines.push(Line::from(Span::styled(format!(" {c}"), t.key())));
        }
    }
    if app.submitting() {
        lines.push(Line::from(Span::styled(" saving…", t.muted())));
    }
    let mut keys = Vec::new();
    for e in entries(app, Context::Form) {
        if matches!(
            e.action,
            crate::app::Action::Confirm | crate::app::Action::ForceQuit
        ) {
            continue;
        }
        let k = e
            .keys
            .iter()
            .map(|k| display(*k))
            .collect::<Vec<_>>()
            .join("/");
        keys.push(Span::styled(format!(" {k}"), t.key()));
        keys.push(Span::raw(format!(" {} ", e.action.hint())));
    }
    lines.push(Line::from(keys));
    let width = area.width.saturating_sub(2).clamp(20, 110).min(area.width);
    let text = Paragraph::new(lines).wrap(Wrap { trim: false });
    let height = (text.line_count(width.saturating_sub(2)) as u16 + 2).min(area.height);
    let rect = centered(area, width, height);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.title())
        .title(Span::styled(title, t.title()));
    frame.render_widget(Clear, rect);
    frame.render_widget(text.block(block), rect);
}
