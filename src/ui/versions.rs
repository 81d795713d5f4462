//! The versions of a secret, newest first, and two versions compared side by side.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::theme::Theme;
use super::value::MASK;
use crate::app::versions::{differing_lines, short, Compare, VersionsView};
use crate::app::{expiry, list_height, relative, App, Expiry};

pub fn draw(frame: &mut Frame, app: &App, view: &VersionsView, t: &Theme, area: Rect) {
    if let Some(c) = &view.compare {
        return compare(frame, c, t, area);
    }
    let block = Block::default().borders(Borders::TOP).title(Span::styled(
        format!(" versions of '{}' (newest first) ", view.name),
        t.title(),
    ));
    if view.items.is_empty() {
        let text = if view.loading.is_some() {
            "loading…"
        } else {
            "no versions"
        };
        frame.render_widget(Paragraph::new(format!("  {text}")).block(block), area);
        return;
    }
    let h = list_height(app.size).saturating_sub(1).max(1);
    let offset = view.cursor.selected.saturating_sub(h - 1);
    let rows: Vec<Row> = view
        .items
        .iter()
        .enumerate()
        .skip(offset)
        .take(h)
        .map(|(i, p)| {
            let base = if i == view.cursor.selected {
                t.selected()
            } else {
                Style::default()
            };
            let v = p.version.clone().unwrap_or_default();
            let mark = if view.marked.as_deref() == Some(v.as_str()) {
                "="
            } else {
                " "
            };
            let latest = if i == 0 { "latest" } else { "" };
            let (exp, exp_style) = match (p.expires, expiry(p.expires, app.now)) {
                (Some(e), Some(Expiry::Expired)) => (
                    format!("expired {}", relative(e, app.now).trim_end_matches(" ago")),
                    t.danger(),
                ),
                (Some(e), Some(Expiry::Soon)) => (relative(e, app.now), t.warn()),
                (Some(e), _) => (relative(e, app.now), Style::default()),
                (None, _) => ("—".into(), t.muted()),
            };
            Row::new(vec![
                Cell::from(format!("{mark} {v}")),
                Cell::from(Span::styled(latest, t.ok())),
                Cell::from(if p.enabled {
                    Span::styled("✓", t.ok())
                } else {
                    Span::styled("off", t.muted())
                }),
                Cell::from(p.created.map(|c| relative(c, app.now)).unwrap_or_default()),
                Cell::from(p.updated.map(|c| relative(c, app.now)).unwrap_or_default()),
                Cell::from(Span::styled(exp, exp_style.patch(base))),
            ])
            .style(base)
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(35),
            Constraint::Length(7),
            Constraint::Length(3),
            Constraint::Length(9),
            Constraint::Length(9),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(["  VERSION", "", "ON", "CREATED", "UPDATED", "EXPIRES"]).style(t.header()))
    .block(block);
    frame.render_widget(table, area);
}

fn side<'a>(
    version: &str,
    value: Option<&str>,
    other: Option<&str>,
    revealed: bool,
    t: &Theme,
) -> (Vec<Line<'a>>, String) {
    let title = format!(" {} ", short(version));
    let Some(v) = value else {
        return (
            vec![Line::from(Span::styled("fetching…", t.muted()))],
            title,
        );
    };
    let diff = differing_lines(v, other.unwrap_or_default());
    let lines = if revealed {
        v.lines()
            .enumerate()
            .map(|(i, l)| {
                let changed = diff.get(i).copied().unwrap_or(true);
                Line::from(vec![
                    Span::styled(if changed { "≠ " } else { "  " }, t.warn()),
                    Span::styled(
                        l.to_string(),
                        if changed { t.warn() } else { Style::default() },
                    ),
                ])
            })
            .collect()
    } else {
        // Masked: the lines that differ are still marked, so you can tell where without seeing it.
        (0..v.lines().count().max(1))
            .map(|i| {
                let changed = diff.get(i).copied().unwrap_or(true);
                Line::from(vec![
                    Span::styled(if changed { "≠ " } else { "  " }, t.warn()),
                    Span::styled(MASK, t.muted()),
                ])
            })
            .collect()
    };
    (lines, title)
}

fn compare(frame: &mut Frame, c: &Compare, t: &Theme, area: Rect) {
    let [l, r] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let lv = c.left.1.as_ref().map(|v| v.expose());
    let rv = c.right.1.as_ref().map(|v| v.expose());
    let state = if c.revealed {
        " Space hides "
    } else {
        " masked — Space reveals · ≠ marks differing lines "
    };
    for (rect, (version, value, other)) in [(l, (&c.left.0, lv, rv)), (r, (&c.right.0, rv, lv))] {
        let (mut lines, title) = side(version, value, other, c.revealed, t);
        if let Some(e) = &c.error {
            lines.push(Line::from(Span::styled(e.clone(), t.error())));
        }
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Span::styled(title, t.title()))
            .title_bottom(Span::styled(state, t.muted()));
        frame.render_widget(Paragraph::new(lines).block(block), rect);
    }
}
