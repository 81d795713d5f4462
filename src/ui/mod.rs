//! The views: pure functions of `&App`. Only the visible rows of a list are drawn, so a vault of
//! 100,000 secrets costs what 50 do.

mod form;
mod lists;
mod popup;
pub mod theme;
mod value;
mod versions;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::app::{App, Screen, Tab};
use theme::Theme;

pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn draw(frame: &mut Frame, app: &App) {
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
    draw_tabs(frame, app, &t, tabs);
    if let Some(panel) = &app.value {
        value::draw(frame, app, panel, &t, body);
    } else if let Some(v) = &app.versions {
        versions::draw(frame, app, v, &t, body);
    } else {
        match (app.screen, app.tab) {
            (Screen::Vaults, _) => lists::vaults(frame, app, &t, body),
            (Screen::Vault, Tab::Secrets) => lists::secrets(frame, app, &t, body),
            (Screen::Vault, Tab::Deleted) => lists::deleted(frame, app, &t, body),
        }
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
        spans.push(Span::styled(format!("  as {id}"), t.muted()));
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

fn draw_tabs(frame: &mut Frame, app: &App, t: &Theme, area: Rect) {
    let mut spans = Vec::new();
    let (shown, total) = (app.rows.len(), app.total());
    let counter = |loading: bool| {
        if loading {
            format!("{} loading… {}", spinner(app), thousands(total))
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
            spans.push(Span::styled(secrets, t.tab(app.tab == Tab::Secrets)));
            spans.push(Span::styled(" │ ", t.muted()));
            spans.push(Span::styled(deleted, t.tab(app.tab == Tab::Deleted)));
            let loading = match app.tab {
                Tab::Secrets => v.secrets_loading.is_some(),
                Tab::Deleted => v.deleted_loading.is_some(),
            };
            spans.push(Span::styled(format!("   {}", counter(loading)), t.muted()));
            spans.push(Span::styled(
                format!("   sort: {}", app.sort.label()),
                t.muted(),
            ));
        }
        _ => {
            spans.push(Span::styled(" Vaults ", t.tab(true)));
            spans.push(Span::styled(
                format!("  {}", counter(app.discovering.is_some())),
                t.muted(),
            ));
            if app.discovering.is_some() {
                spans.push(Span::styled("  discovering…", t.muted()));
            }
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_filter(frame: &mut Frame, app: &App, t: &Theme, area: Rect) {
    if !app.filter_editing && app.filter_input.is_empty() {
        return;
    }
    let mut spans = vec![
        Span::styled(" /", t.key()),
        Span::raw(app.filter_input.clone()),
    ];
    if app.filter_editing {
        spans.push(Span::styled("▏", t.key()));
        spans.push(Span::styled(
            "   fuzzy name · tag:k=v · type:json · Enter keep · Esc clear",
            t.muted(),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_status(frame: &mut Frame, app: &App, t: &Theme, area: Rect) {
    let mut spans = Vec::new();
    for op in &app.ops {
        spans.push(Span::styled(format!(" {} ", spinner(app)), t.key()));
        spans.push(Span::raw(op.describe(app.instant)));
    }
    if let Some(panel) = &app.value {
        if panel.request.is_some() {
            spans.push(Span::styled(format!(" {} ", spinner(app)), t.key()));
            spans.push(Span::raw(format!("fetching '{}'…", panel.name)));
        }
    }
    if let Some((_, name)) = &app.pending_copy {
        spans.push(Span::styled(format!(" {} ", spinner(app)), t.key()));
        spans.push(Span::raw(format!("fetching '{name}' to copy…")));
    }
    if let Some(c) = &app.clip {
        if !spans.is_empty() {
            spans.push(Span::styled("  │ ", t.muted()));
        }
        let mut text = format!(" Copied {} to the {}", c.label, c.backend);
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
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The keys of the current view, as (key, what) pairs; the help overlay shows them all.
pub fn keys(app: &App) -> Vec<(&'static str, &'static str)> {
    let ro = app.vault.as_ref().is_some_and(|v| v.read_only);
    let mut k: Vec<(&str, &str)> = Vec::new();
    if app.versions.as_ref().is_some_and(|v| v.compare.is_some()) && app.value.is_none() {
        k.extend([
            ("Space", "reveal / hide both"),
            ("Esc", "close the comparison"),
        ]);
    } else if app.versions.is_some() && app.value.is_none() {
        k.extend([
            ("Enter", "open this version's value"),
            ("c", "copy this version's value"),
            ("Space", "mark for comparing"),
            ("=", "compare with the marked (or the newest) version"),
        ]);
        if !ro {
            k.extend([
                ("x", "enable / disable this version"),
                ("e", "properties of this version"),
            ]);
        }
        k.push(("Esc", "back to the secrets"));
    } else if app.value.is_some() {
        k.extend([
            ("Space", "reveal / hide"),
            ("↑↓ j k", "scroll"),
            ("Esc", "close (drops the value)"),
        ]);
    } else {
        match (app.screen, app.tab) {
            (Screen::Vaults, _) => {
                k.extend([("Enter", "open vault"), ("o", "open a vault by URL")])
            }
            (Screen::Vault, Tab::Secrets) => {
                k.extend([
                    ("Enter", "open value"),
                    ("Tab", "deleted secrets"),
                    ("s", "sort"),
                ]);
                if !ro {
                    k.extend([
                        ("n", "new secret"),
                        ("u", "new version"),
                        ("e", "properties"),
                        ("x", "enable / disable"),
                        ("d", "delete"),
                    ]);
                }
                k.push(("v", "versions"));
                if !ro {
                    k.push(("E", "edit the value in $EDITOR (new version)"));
                    k.push(("b", "back up to a file"));
                }
                k.push(("Esc", "back to vaults"));
            }
            (Screen::Vault, Tab::Deleted) => {
                k.extend([("Tab", "secrets"), ("s", "sort")]);
                if !ro {
                    k.extend([("r", "recover"), ("P", "purge")]);
                }
                k.push(("Esc", "back to vaults"));
            }
        }
        k.extend([
            ("↑↓ j k", "move"),
            ("PgUp PgDn g G", "page, top, bottom"),
            ("/", "filter"),
            ("R", "refresh"),
        ]);
    }
    k.extend([("?", "help"), ("q", "quit"), ("Ctrl-C", "quit now")]);
    k
}

/// The one-line reminder at the bottom: the few keys of this view, short.
fn hints(app: &App) -> Vec<(&'static str, &'static str)> {
    let ro = app.vault.as_ref().is_some_and(|v| v.read_only);
    let mut h: Vec<(&str, &str)> = Vec::new();
    if app.value.is_some() {
        h.extend([
            ("Space", "reveal"),
            ("c", "copy"),
            ("↑↓", "scroll"),
            ("Esc", "close"),
        ]);
    } else if app.versions.as_ref().is_some_and(|v| v.compare.is_some()) {
        h.extend([("Space", "reveal"), ("Esc", "close")]);
    } else if app.versions.is_some() {
        h.extend([
            ("Enter", "value"),
            ("c", "copy"),
            ("Space", "mark"),
            ("=", "compare"),
        ]);
        if !ro {
            h.push(("x", "on/off"));
        }
        h.push(("Esc", "back"));
    } else {
        match (app.screen, app.tab) {
            (Screen::Vaults, _) => {
                h.extend([("Enter", "open"), ("o", "open URL"), ("/", "filter")])
            }
            (Screen::Vault, Tab::Secrets) => {
                h.extend([
                    ("Enter", "value"),
                    ("c", "copy"),
                    ("/", "filter"),
                    ("v", "versions"),
                ]);
                if !ro {
                    h.extend([("n", "new"), ("d", "delete")]);
                }
            }
            (Screen::Vault, Tab::Deleted) => {
                h.extend([("/", "filter"), ("Tab", "secrets")]);
                if !ro {
                    h.extend([("r", "recover"), ("P", "purge")]);
                }
                h.push(("Esc", "vaults"));
            }
        }
    }
    h.extend([("?", "help"), ("q", "quit")]);
    h
}

fn draw_hints(frame: &mut Frame, app: &App, t: &Theme, area: Rect) {
    let mut spans = Vec::new();
    for (key, what) in hints(app) {
        spans.push(Span::styled(format!(" {key}"), t.key()));
        spans.push(Span::styled(format!(" {what} "), t.muted()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
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
