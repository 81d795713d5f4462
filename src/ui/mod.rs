//! The views: pure functions of `&App`. Only the visible rows of a list are drawn, so a vault of
//! 100,000 secrets costs what 50 do.

mod across;
mod form;
mod lists;
mod popup;
pub mod svg;
pub mod theme;
mod value;
mod versions;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::app::keymap::{display, Context, Entry};
use crate::app::{App, Hits, Screen, Tab};
use theme::Theme;

pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Draws the whole screen; returns where it put what the mouse can hit.
pub fn draw(frame: &mut Frame, app: &App) -> Hits {
    let mut hits = Hits::default();
    let t = Theme {
        color: app.color,
        palette: app.palette,
    };
    let area = frame.area();
    let [title, tabs, body, filter, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_title(frame, app, &t, title);
    hits.tabs = draw_tabs(frame, app, &t, tabs);
    if let Some(panel) = &app.value {
        value::draw(frame, app, panel, &t, body);
    } else if let Some(v) = &app.versions {
        hits.rows = versions::draw(frame, app, v, &t, body);
    } else {
        hits.rows = match (app.screen, app.tab) {
            (Screen::Vaults, _) => lists::vaults(frame, app, &t, body),
            (Screen::Vault, Tab::Secrets) => lists::secrets(frame, app, &t, body),
            (Screen::Vault, Tab::Deleted) => lists::deleted(frame, app, &t, body),
        };
    }
    draw_filter(frame, app, &t, filter);
    draw_status(frame, app, &t, status);
    draw_hints(frame, app, &t, hints);
    if let Some(f) = &app.form {
        form::draw(frame, app, f, &t, area);
    }
    if let Some(p) = &app.popup {
        popup::draw(frame, app, p, &t, area);
    }
    hits
}

fn draw_title(frame: &mut Frame, app: &App, t: &Theme, area: Rect) {
    let mut spans = vec![Span::styled(" kvtui ", t.title())];
    match &app.vault {
        Some(v) if app.screen == Screen::Vault => {
            spans.push(Span::raw(" "));
            spans.push(Span::styled(v.name.clone(), t.title()));
            spans.push(Span::styled(format!("  {}", v.url), t.muted()));
            if v.read_only {
                spans.push(Span::styled("  [read-only]", t.warn()));
            }
        }
        _ => spans.push(Span::styled(" vaults", t.title())),
    }
    if let Some(id) = &app.identity {
        let short =
            |s: &Option<String>| s.as_deref().map(|v| v.chars().take(8).collect::<String>());
        let mut text = format!("  as {}", id.who());
        if id.upn.is_some() || id.appid.is_some() {
            text.push_str(&format!(" ({}", id.credential));
            if let Some(oid) = short(&id.oid) {
                text.push_str(&format!(", oid {oid}…"));
            }
            if let Some(tid) = short(&id.tid) {
                text.push_str(&format!(", tenant {tid}…"));
            }
            text.push(')');
        }
        spans.push(Span::styled(text, t.muted()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn spinner(app: &App) -> &'static str {
    SPINNER[(app.tick % SPINNER.len() as u64) as usize]
}

/// The tabs line; returns where each tab is, for the mouse.
fn draw_tabs(frame: &mut Frame, app: &App, t: &Theme, area: Rect) -> Vec<(Rect, Tab)> {
    let mut spans = Vec::new();
    let mut hits = Vec::new();
    let (shown, total) = (app.rows.len(), app.total());
    let counter = |loading: bool| {
        if loading {
            format!("{} loading… {}", spinner(app), thousands(total))
        } else if app.filtering() {
            // A big list's matcher is still at work: what it found so far.
            format!(
                "{} matching… {} of {}",
                spinner(app),
                thousands(shown),
                thousands(total)
            )
        } else if shown != total {
            format!("{} of {}", thousands(shown), thousands(total))
        } else {
            String::new()
        }
    };
    match (app.screen, &app.vault) {
        (Screen::Vault, Some(v)) => {
            let secrets = format!(" Secrets ({})", thousands(v.secrets.len()));
            let deleted = format!("Deleted ({}) ", thousands(v.deleted.len()));
            let (sw, dw) = (
                secrets.chars().count() as u16,
                deleted.chars().count() as u16,
            );
            let gap = 3;
            let tab_rect = |x: u16, w: u16| Rect {
                x: area.x + x.min(area.width),
                y: area.y,
                width: w.min(area.width.saturating_sub(x)),
                height: 1,
            };
            hits.push((tab_rect(0, sw), Tab::Secrets));
            hits.push((tab_rect(sw + gap, dw), Tab::Deleted));
            spans.push(Span::styled(secrets, t.tab(app.tab == Tab::Secrets)));
            spans.push(Span::styled(" │ ", t.muted()));
            spans.push(Span::styled(deleted, t.tab(app.tab == Tab::Deleted)));
            let loading = match app.tab {
                Tab::Secrets => app.running(|j| matches!(j, crate::app::Job::ListSecrets)),
                Tab::Deleted => app.running(|j| matches!(j, crate::app::Job::ListDeleted)),
            };
            spans.push(Span::styled(format!("   {}", counter(loading)), t.muted()));
            if let Some(at) = v.cached_at {
                let ago = time::OffsetDateTime::from_unix_timestamp(at)
                    .map(|t| crate::app::dates::relative(t, app.now))
                    .unwrap_or_default();
                let what = if v.fresh.is_some() {
                    "refreshing…"
                } else {
                    "the listing failed"
                };
                spans.push(Span::styled(format!("   cached {ago}, {what}"), t.warn()));
            }
            if let Some(m) = app.marks_label() {
                spans.push(Span::styled(format!("   {m} (Esc clears)"), t.key()));
            }
            spans.push(Span::styled(
                format!("   sort: {}", app.sort.label()),
                t.muted(),
            ));
        }
        _ => {
            spans.push(Span::styled(" Vaults ", t.tab(true)));
            spans.push(Span::styled(
                format!("  {}", counter(app.discovering())),
                t.muted(),
            ));
            if app.discovering() {
                spans.push(Span::styled("  discovering…", t.muted()));
            }
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    hits
}

fn draw_filter(frame: &mut Frame, app: &App, t: &Theme, area: Rect) {
    if !app.filter_editing && app.filter.is_empty() {
        return;
    }
    let mut spans = vec![Span::styled(" /", t.key())];
    if app.filter_editing {
        spans.extend(field_spans(app.filter.value(), app.filter.cursor(), t));
        spans.push(Span::styled(
            "   fuzzy name ('exact ^start end$ !not) · tag:k=v · type:json · Enter keep · Esc clear",
            t.muted(),
        ));
    } else {
        spans.push(Span::raw(app.filter.value().to_string()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_status(frame: &mut Frame, app: &App, t: &Theme, area: Rect) {
    let mut spans = Vec::new();
    // What runs, as the jobs table has it (a bulk action's items as one line).
    if let Some(b) = &app.batch {
        spans.push(Span::styled(format!(" {} ", spinner(app)), t.key()));
        spans.push(Span::raw(b.describe(app.instant)));
    }
    for (_, job) in app.jobs.iter() {
        if let Some(text) = job.describe(app.instant) {
            spans.push(Span::styled(format!(" {} ", spinner(app)), t.key()));
            spans.push(Span::raw(text));
        }
    }
    if let Some(panel) = &app.value {
        if app.running(|j| matches!(j, crate::app::Job::Value)) {
            spans.push(Span::styled(format!(" {} ", spinner(app)), t.key()));
            spans.push(Span::raw(format!("fetching '{}'…", panel.name)));
        }
    }
    // The newest notice first: a long copy countdown must not push it off the line.
    if let Some(s) = &app.status {
        if !spans.is_empty() {
            spans.push(Span::styled("  │ ", t.muted()));
        } else {
            spans.push(Span::raw(" "));
        }
        spans.push(Span::styled(
            s.text.clone(),
            if s.error { t.error() } else { t.ok() },
        ));
        // A later notice never hides an error nobody has looked at.
        if !s.error && app.unseen_error {
            let key = app
                .keymap
                .key_for(app.context(), crate::app::Action::LastError)
                .unwrap_or_else(|| ":messages".into());
            spans.push(Span::styled(format!("  │ {key} last error"), t.error()));
        }
    }
    if let Some(c) = &app.clip {
        if !spans.is_empty() {
            spans.push(Span::styled("  │ ", t.muted()));
        }
        let mut text = if c.confirming {
            format!(" Copying {} to the {}…", c.label, c.backend)
        } else {
            format!(" Copied {} to the {}", c.label, c.backend)
        };
        if let Some(d) = c.deadline {
            let left = d
                .saturating_duration_since(app.instant)
                .as_secs_f64()
                .ceil() as u64;
            text.push_str(&format!(" — clears in {left} s"));
        }
        spans.push(Span::styled(text, t.ok()));
        if let Some(h) = &c.hint {
            spans.push(Span::styled(format!("  ({h})"), t.warn()));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The keymap entries of a context that can be used now (read-only hides what would change the vault).
pub fn entries(app: &App, ctx: Context) -> Vec<&Entry> {
    let ro = app.vault.as_ref().is_some_and(|v| v.read_only);
    app.keymap
        .entries(ctx)
        .iter()
        .filter(|e| !(e.keys.is_empty() || ro && e.action.writes()))
        .collect()
}

/// How many entries the hint line shows.
pub const HINTS: usize = 8;

/// The one-line reminder at the bottom: the keymap's first entries for the current context.
fn draw_hints(frame: &mut Frame, app: &App, t: &Theme, area: Rect) {
    let mut spans = Vec::new();
    let mut used = 0usize;
    for e in entries(app, app.context()).into_iter().take(HINTS) {
        let key = e.keys.first().map(|k| display(*k)).unwrap_or_default();
        let (k, what) = (format!(" {key}"), format!(" {} ", e.action.hint()));
        // Whole entries only: a hint cut in half says nothing.
        used += k.chars().count() + what.chars().count();
        if used > area.width as usize {
            break;
        }
        spans.push(Span::styled(k, t.key()));
        spans.push(Span::styled(what, t.muted()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A dialog's text line: `prefix` (` > `, ` :`) and the field with its cursor.
pub fn input_line(
    prefix: &'static str,
    field: &crate::app::text::LineField,
    t: &Theme,
) -> Line<'static> {
    Line::from(
        [Span::styled(prefix, t.key())]
            .into_iter()
            .chain(field_spans(field.value(), field.cursor(), t))
            .collect::<Vec<_>>(),
    )
}

/// What a dialog that wants something typed shows below its question: what to type, the field, and
/// the keys — Enter (`verb`) once it matches, `mismatch` until then.
pub fn typed_confirmation(
    prompt: String,
    field: &crate::app::text::LineField,
    ok: bool,
    verb: &str,
    mismatch: &str,
    t: &Theme,
) -> [Line<'static>; 3] {
    let first = if ok {
        vec![
            Span::styled(" Enter", t.key()),
            Span::raw(format!(" {verb}   ")),
        ]
    } else {
        vec![
            Span::styled(format!(" {mismatch}"), t.muted()),
            Span::raw("   "),
        ]
    };
    [
        Line::from(Span::raw(prompt)),
        input_line(" > ", field, t),
        Line::from(
            first
                .into_iter()
                .chain([Span::styled("Esc", t.key()), Span::raw(" cancel")])
                .collect::<Vec<_>>(),
        ),
    ]
}

/// A text field with its cursor: the character under the cursor reversed (a bar at the end).
pub fn field_spans(text: &str, cursor: usize, t: &Theme) -> Vec<Span<'static>> {
    let before: String = text.chars().take(cursor).collect();
    let at: Option<char> = text.chars().nth(cursor);
    let after: String = text.chars().skip(cursor + 1).collect();
    let mut spans = vec![Span::raw(before)];
    match at {
        Some(c) => spans.push(Span::styled(
            c.to_string(),
            ratatui::style::Style::default().add_modifier(ratatui::style::Modifier::REVERSED),
        )),
        None => spans.push(Span::styled("▏", t.key())),
    }
    spans.push(Span::raw(after));
    spans
}

/// `area` without its first `rows` rows (a table's header, a block's top line): where its rows are.
pub fn below(area: Rect, rows: u16) -> Rect {
    Rect {
        y: area.y + rows.min(area.height),
        height: area.height.saturating_sub(rows),
        ..area
    }
}

/// A rectangle of `w`×`h` centred in `area` (clipped to it).
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub use lists::highlight;
