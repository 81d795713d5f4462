//! The versions of a secret, newest first, and two versions compared side by side.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use super::theme::Theme;
use super::value::MASK;
use crate::app::versions::{short, Compare, Side, VersionsView};
use crate::app::{list_height, relative, App};

/// Draws the versions list (or the comparison); returns where the rows are, for the mouse.
pub fn draw(
    frame: &mut Frame,
    app: &App,
    view: &VersionsView,
    t: &Theme,
    area: Rect,
) -> Option<(Rect, usize)> {
    if let Some(c) = &view.compare {
        compare(frame, app, c, t, area);
        return None;
    }
    let block = Block::default().borders(Borders::TOP).title(Span::styled(
        format!(" versions of '{}' (newest first) ", view.name),
        t.title(),
    ));
    if view.items.is_empty() {
        let text = if app.versions_loading() {
            "loading…"
        } else {
            "no versions"
        };
        frame.render_widget(Paragraph::new(format!("  {text}")).block(block), area);
        return None;
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
            let (exp, exp_style) = super::lists::expiry_cell(p.expires, app, t);
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
    // Below the block's top line and the header.
    Some((super::below(area, 2), offset))
}

/// A side's title: newer/older, the version, when it was made.
fn title(which: &str, side: &Side, app: &App) -> String {
    let v = side.props.version.as_deref().unwrap_or_default();
    let when = side
        .props
        .created
        .map(|c| format!(" · {} UTC ({})", c.date(), relative(c, app.now)))
        .unwrap_or_default();
    format!(" {which} {}{when} ", short(v))
}

fn compare(frame: &mut Frame, app: &App, c: &Compare, t: &Theme, area: Rect) {
    let [l, r] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let state = if c.revealed {
        " Space hides · ↑↓ scroll "
    } else {
        " masked — Space reveals · ≠ marks differing lines "
    };
    let rows = &c.rows;
    for (rect, side, which, newer) in [(l, &c.newer, "newer", true), (r, &c.older, "older", false)]
    {
        let mut lines: Vec<Line> = match (&rows, side.value.is_some()) {
            (None, false) | (None, true) => vec![Line::from(Span::styled("fetching…", t.muted()))],
            (Some(rows), _) => rows
                .iter()
                .map(|row| {
                    let text = if newer { &row.newer } else { &row.older };
                    let mark = Span::styled(if row.changed { "≠ " } else { "  " }, t.warn());
                    let style = if row.changed {
                        t.warn()
                    } else {
                        Style::default()
                    };
                    match (text, c.revealed) {
                        (None, _) => Line::from(vec![mark, Span::styled("∅", t.muted())]),
                        (Some(_), false) => Line::from(vec![mark, Span::styled(MASK, t.muted())]),
                        (Some(s), true) => {
                            Line::from(vec![mark, Span::styled(s.expose().to_string(), style)])
                        }
                    }
                })
                .collect(),
        };
        if let Some(e) = &c.error {
            lines.push(Line::from(Span::styled(e.clone(), t.error())));
        }
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Span::styled(title(which, side, app), t.title()))
            .title_bottom(Span::styled(state, t.muted()));
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false })
                .scroll((c.scroll, 0)),
            rect,
        );
    }
}
