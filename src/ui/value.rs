//! The value panel: a fixed-width mask until revealed (the length is not shown), multi-line values
//! scroll, JSON is pretty-printed; the metadata beside (or below, when narrow).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use super::theme::Theme;
use crate::app::{relative, App, ValuePanel};

/// What a masked value looks like, whatever its length.
pub use crate::app::text::MASK;

fn date(d: Option<time::OffsetDateTime>, now: time::OffsetDateTime) -> String {
    match d {
        Some(d) => format!(
            "{} {:02}:{:02} UTC ({})",
            d.date(),
            d.hour(),
            d.minute(),
            relative(d, now)
        ),
        None => "—".into(),
    }
}

pub fn draw(frame: &mut Frame, app: &App, panel: &ValuePanel, t: &Theme, area: Rect) {
    let wide = area.width >= 100;
    let [value_area, meta_area] = if wide {
        // An error explained needs the room more than the properties do.
        let left = if panel.error.is_some() { 62 } else { 45 };
        Layout::horizontal([
            Constraint::Percentage(left),
            Constraint::Percentage(100 - left),
        ])
        .areas(area)
    } else {
        Layout::vertical([Constraint::Min(4), Constraint::Length(9)]).areas(area)
    };
    let state = if panel.revealed {
        "revealed — Space hides"
    } else {
        "masked — Space reveals"
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(format!(" {} ", panel.name), t.title()))
        .title_bottom(Span::styled(format!(" {state} "), t.muted()));
    let body: Vec<Line> = match (&panel.value, &panel.error) {
        // The error whole, with what to do, where it happened.
        (_, Some(e)) => {
            let x = app.explain(e);
            let mut l = vec![Line::from(Span::styled(format!(" {}", x.title), t.error()))];
            l.extend(super::popup::error_lines(app, &x, t));
            l
        }
        (None, None) => vec![Line::from(Span::styled("fetching…", t.muted()))],
        (Some(_), None) if !panel.revealed => vec![Line::from(Span::styled(MASK, t.muted()))],
        (Some(v), None) if v.is_empty() => {
            vec![Line::from(Span::styled("(empty value)", t.muted()))]
        }
        (Some(v), None) => panel
            .shown
            .as_ref()
            .unwrap_or(v)
            .expose()
            .lines()
            .map(|l| Line::from(l.to_string()))
            .collect(),
    };
    frame.render_widget(
        Paragraph::new(body)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((panel.scroll, 0)),
        value_area,
    );

    let mut meta: Vec<Line> = Vec::new();
    let field = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<14}"), t.header()),
            Span::raw(v),
        ])
    };
    if let Some(p) = &panel.props {
        meta.push(field("id", p.id.clone()));
        meta.push(field(
            "version",
            p.version.clone().unwrap_or_else(|| "—".into()),
        ));
        meta.push(field(
            "enabled",
            if p.enabled { "yes".into() } else { "no".into() },
        ));
        meta.push(field("created", date(p.created, app.now)));
        meta.push(field("updated", date(p.updated, app.now)));
        meta.push(field("not before", date(p.not_before, app.now)));
        meta.push(field("expires", date(p.expires, app.now)));
        meta.push(field(
            "content type",
            p.content_type
                .as_deref()
                .map(|c| crate::app::text::visible(c).into_owned())
                .unwrap_or_else(|| "—".into()),
        ));
        let tags = if p.tags.is_empty() {
            "—".to_string()
        } else {
            p.tags
                .iter()
                .map(|(k, v)| {
                    use crate::app::text::visible;
                    format!("{}={}", visible(k), visible(v))
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        meta.push(field("tags", tags));
        meta.push(field(
            "recovery",
            match (&p.recovery_level, p.recoverable_days) {
                (Some(l), Some(d)) => format!("{l}, {d} days"),
                (Some(l), None) => l.to_string(),
                _ => "—".into(),
            },
        ));
        meta.push(field(
            "managed",
            if p.managed {
                "yes: certificate-backed, read-only".into()
            } else {
                "no".into()
            },
        ));
    }
    let block = Block::default()
        .borders(if wide { Borders::ALL } else { Borders::TOP })
        .title(Span::styled(" properties ", t.header()));
    frame.render_widget(
        Paragraph::new(meta).block(block).wrap(Wrap { trim: true }),
        meta_area,
    );
}
