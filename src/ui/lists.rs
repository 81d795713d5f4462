//! The three lists: vaults, secrets, deleted secrets. Only the rows in view are built.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row as TableRow, Table};
use ratatui::Frame;

use super::theme::Theme;
use crate::app::{expiry, list_height, relative, App, Expiry};
use crate::vault::SecretProps;

/// `text` with the characters at `matched` (char indices) in `hit` style.
pub fn highlight(text: &str, matched: &[usize], base: Style, hit: Style) -> Line<'static> {
    if matched.is_empty() {
        return Line::from(Span::styled(text.to_string(), base));
    }
    let spans: Vec<Span<'static>> = text
        .chars()
        .enumerate()
        .map(|(i, c)| Span::styled(c.to_string(), if matched.contains(&i) { hit } else { base }))
        .collect();
    Line::from(spans)
}

fn visible(app: &App, area: Rect) -> std::ops::Range<usize> {
    let cursor = app.current_cursor();
    let h = list_height(app.size).min(area.height.saturating_sub(1) as usize);
    let start = cursor.offset.min(app.rows.len());
    start..(start + h).min(app.rows.len())
}

fn empty(frame: &mut Frame, t: &Theme, area: Rect, text: &str) {
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(format!("  {text}"), t.muted()))),
        area,
    );
}

fn row_style(t: &Theme, selected: bool) -> Style {
    if selected {
        t.selected()
    } else {
        Style::default()
    }
}

pub fn vaults(frame: &mut Frame, app: &App, t: &Theme, area: Rect) {
    if app.rows.is_empty() {
        let text = if app.vaults.entries.is_empty() {
            if app.discovering.is_some() {
                "looking for vaults… (press o to open one by URL)"
            } else {
                "no vaults yet: press o to open one by URL, or pass --vault NAME|URL"
            }
        } else {
            "no vault matches the filter (Esc clears it)"
        };
        return empty(frame, t, area, text);
    }
    let cursor = app.current_cursor();
    let rows: Vec<TableRow> = visible(app, area)
        .map(|i| {
            let r = &app.rows[i];
            let e = &app.vaults.entries[r.index];
            let sel = i == cursor.selected;
            let base = row_style(t, sel);
            let sources = e
                .sources
                .iter()
                .map(|s| s.label())
                .collect::<Vec<_>>()
                .join(",");
            let place = [e.subscription.as_deref(), e.location.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ");
            TableRow::new(vec![
                Cell::from(highlight(
                    &e.name,
                    &r.matched,
                    base,
                    t.matched().patch(base),
                )),
                Cell::from(e.url.clone()),
                Cell::from(sources),
                Cell::from(place),
            ])
            .style(base)
        })
        .collect();
    let header =
        TableRow::new(["VAULT", "URL", "FROM", "SUBSCRIPTION · LOCATION"]).style(t.header());
    let table = Table::new(
        rows,
        [
            Constraint::Length(20),
            Constraint::Min(34),
            Constraint::Length(16),
            Constraint::Fill(1),
        ],
    )
    .header(header)
    .column_spacing(1);
    frame.render_widget(table, area);
}

fn tags_text(p: &SecretProps) -> String {
    p.tags
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn secrets(frame: &mut Frame, app: &App, t: &Theme, area: Rect) {
    let Some(vault) = &app.vault else { return };
    if app.rows.is_empty() {
        let text = if vault.secrets_loading.is_some() {
            "loading…"
        } else if vault.secrets.is_empty() {
            "no secrets in this vault"
        } else {
            "no secret matches the filter (Esc clears it)"
        };
        return empty(frame, t, area, text);
    }
    let cursor = app.current_cursor();
    let rows: Vec<TableRow> = visible(app, area)
        .map(|i| {
            let r = &app.rows[i];
            let p = &vault.secrets[r.index];
            let sel = i == cursor.selected;
            let base = row_style(t, sel);
            let (exp_text, exp_style) = match (p.expires, expiry(p.expires, app.now)) {
                (Some(e), Some(Expiry::Expired)) => (
                    format!("expired {}", relative(e, app.now).trim_end_matches(" ago")),
                    t.danger(),
                ),
                (Some(e), Some(Expiry::Soon)) => (relative(e, app.now), t.warn()),
                (Some(e), _) => (relative(e, app.now), Style::default()),
                (None, _) => ("—".to_string(), t.muted()),
            };
            let enabled = if p.enabled {
                Span::styled("✓", t.ok())
            } else {
                Span::styled("off", t.muted())
            };
            let name_style = if p.enabled {
                base
            } else {
                t.muted().patch(base)
            };
            TableRow::new(vec![
                Cell::from(highlight(
                    &p.name,
                    &r.matched,
                    name_style,
                    t.matched().patch(base),
                )),
                Cell::from(Line::from(enabled.patch_style(base))),
                Cell::from(p.content_type.clone().unwrap_or_default()),
                Cell::from(p.updated.map(|u| relative(u, app.now)).unwrap_or_default()),
                Cell::from(Span::styled(exp_text, exp_style.patch(base))),
                Cell::from(tags_text(p)),
            ])
            .style(base)
        })
        .collect();
    let header =
        TableRow::new(["NAME", "ON", "TYPE", "UPDATED", "EXPIRES", "TAGS"]).style(t.header());
    let table = Table::new(
        rows,
        [
            Constraint::Min(20),
            Constraint::Length(3),
            Constraint::Length(18),
            Constraint::Length(8),
            Constraint::Length(12),
            Constraint::Fill(1),
        ],
    )
    .header(header)
    .column_spacing(1);
    frame.render_widget(table, area);
}

pub fn deleted(frame: &mut Frame, app: &App, t: &Theme, area: Rect) {
    let Some(vault) = &app.vault else { return };
    if app.rows.is_empty() {
        let text = if vault.deleted_loading.is_some() {
            "loading…"
        } else if vault.deleted.is_empty() {
            "no deleted secrets: nothing to recover or purge"
        } else {
            "no deleted secret matches the filter (Esc clears it)"
        };
        return empty(frame, t, area, text);
    }
    let cursor = app.current_cursor();
    let rows: Vec<TableRow> = visible(app, area)
        .map(|i| {
            let r = &app.rows[i];
            let d = &vault.deleted[r.index];
            let sel = i == cursor.selected;
            let base = row_style(t, sel);
            let days_left = d.scheduled_purge.map(|p| (p - app.now).whole_days());
            let purge = match (d.scheduled_purge, days_left) {
                (Some(p), Some(days)) => format!("{} ({days} d left)", p.date()),
                _ => "—".to_string(),
            };
            let purge_style = if days_left.is_some_and(|d| d < 7) {
                t.warn()
            } else {
                Style::default()
            };
            TableRow::new(vec![
                Cell::from(highlight(
                    &d.props.name,
                    &r.matched,
                    base,
                    t.matched().patch(base),
                )),
                Cell::from(
                    d.deleted_on
                        .map(|x| relative(x, app.now))
                        .unwrap_or_default(),
                ),
                Cell::from(Span::styled(purge, purge_style.patch(base))),
                Cell::from(d.recovery_id.clone().unwrap_or_default()),
            ])
            .style(base)
        })
        .collect();
    let header = TableRow::new(["NAME", "DELETED", "PURGED ON", "RECOVERY ID"]).style(t.header());
    let table = Table::new(
        rows,
        [
            Constraint::Min(20),
            Constraint::Length(9),
            Constraint::Length(24),
            Constraint::Fill(1),
        ],
    )
    .header(header)
    .column_spacing(1);
    frame.render_widget(table, area);
}
