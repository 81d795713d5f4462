//! The three lists: vaults, secrets, deleted secrets. Only the rows in view are built.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row as TableRow, Table};
use ratatui::Frame;

use super::theme::Theme;
use crate::app::text::visible as printable;
use crate::app::{days_left, expiry, list_height, relative, App, Expiry, Job};
use crate::vault::SecretProps;

/// Column widths by importance: each column, most important first, gets the width it wants while
/// there is room (a column left with fewer than 3 cells is dropped); the `fill` column takes what is
/// left. `cols` is (wanted width, rank); rank 0 is the most important.
pub fn fit(width: u16, cols: &[(u16, u8)], fill: Option<usize>) -> Vec<Constraint> {
    let spacing = cols.len().saturating_sub(1) as u16;
    let mut left = width.saturating_sub(spacing);
    let mut widths = vec![0u16; cols.len()];
    let mut order: Vec<usize> = (0..cols.len()).filter(|i| Some(*i) != fill).collect();
    order.sort_by_key(|i| cols[*i].1);
    for i in order {
        let w = cols[i].0.min(left);
        if w >= 3 {
            widths[i] = w;
            left -= w;
        }
    }
    if let Some(f) = fill {
        widths[f] = left;
    }
    widths.into_iter().map(Constraint::Length).collect()
}

/// A list's table: the header, the rows in view, the widths; returns where the rows are, for the
/// mouse.
fn draw_table(
    frame: &mut Frame,
    t: &Theme,
    area: Rect,
    header: Vec<&'static str>,
    rows: Vec<TableRow<'static>>,
    widths: Vec<Constraint>,
    first: usize,
) -> Option<(Rect, usize)> {
    let header = TableRow::new(header).style(t.header());
    let table = Table::new(rows, widths).header(header).column_spacing(1);
    frame.render_widget(table, area);
    Some((super::below(area, 1), first))
}

/// A marked row's name, with the mark in front; a row a bulk action works on shows that instead.
fn marked(mark: Mark, mut name: Line<'static>, t: &Theme, base: Style) -> Line<'static> {
    match mark {
        Mark::None => {}
        Mark::Marked => name
            .spans
            .insert(0, Span::styled("● ", t.key().patch(base))),
        Mark::Working => name
            .spans
            .insert(0, Span::styled("◌ ", t.warn().patch(base))),
    }
    name
}

#[derive(Clone, Copy)]
enum Mark {
    None,
    Marked,
    Working,
}

fn mark_of(app: &App, tab: crate::app::Tab, name: &str) -> Mark {
    if app.in_batch(name) {
        Mark::Working
    } else if app.is_marked(tab, name) {
        Mark::Marked
    } else {
        Mark::None
    }
}

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

/// The indexes of the rows in view: from the scroll offset, as many as the area holds under its header.
fn in_view(app: &App, area: Rect) -> std::ops::Range<usize> {
    let cursor = app.current_cursor();
    let h = list_height(app.size).min(area.height.saturating_sub(1) as usize);
    let start = cursor.offset.min(app.rows.len());
    start..(start + h).min(app.rows.len())
}

fn empty(frame: &mut Frame, t: &Theme, area: Rect, text: &str) -> Option<(Rect, usize)> {
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(format!("  {text}"), t.muted()))),
        area,
    );
    None
}

fn row_style(t: &Theme, selected: bool) -> Style {
    if selected {
        t.selected()
    } else {
        Style::default()
    }
}

/// The prefix of the credential chain's error when nothing could sign in.
const NO_CREDENTIAL: &str = "no credential could get a token —";

/// The sign-in page: shown in place of an empty list when no credential could get a token — each
/// credential tried, why it failed and how to fix it, and R to retry after signing in elsewhere.
fn sign_in(frame: &mut Frame, app: &App, t: &Theme, area: Rect) -> bool {
    let Some(e) = app.last_error.as_ref().filter(|e| {
        e.kind == crate::vault::ErrorKind::Unauthorized && e.detail.contains(NO_CREDENTIAL)
    }) else {
        return false;
    };
    let tried = e.detail.split(NO_CREDENTIAL).nth(1).unwrap_or_default();
    let mut lines = vec![
        Line::from(Span::styled(" Not signed in", t.danger())),
        Line::from(Span::styled(
            " No credential could get a token. Each was tried in turn:",
            t.muted(),
        )),
        Line::raw(""),
    ];
    for c in tried.lines().filter(|c| !c.trim().is_empty()) {
        lines.push(Line::from(vec![
            Span::styled("  ✗ ", t.error()),
            Span::raw(c.trim().to_string()),
        ]));
    }
    let key = app
        .keymap
        .key_for(app.context(), crate::app::Action::Refresh)
        .unwrap_or_default();
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::raw(" Sign in — e.g. "),
        Span::styled("az login", t.key()),
        Span::raw(" in another pane, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET — then press "),
        Span::styled(key, t.key()),
        Span::raw(" to try again."),
    ]));
    frame.render_widget(
        Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }),
        area,
    );
    true
}

pub fn vaults(frame: &mut Frame, app: &App, t: &Theme, area: Rect) -> Option<(Rect, usize)> {
    if app.rows.is_empty() && !app.discovering() && sign_in(frame, app, t, area) {
        return None;
    }
    if app.rows.is_empty() {
        let text = if app.vaults.entries.is_empty() {
            if app.discovering() {
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
    let shown = in_view(app, area);
    let first = shown.start;
    // The tenant is named once vaults of more than one are listed.
    let first_tenant = app.vaults.entries.iter().find_map(|e| e.tenant.as_deref());
    let many_tenants = app
        .vaults
        .entries
        .iter()
        .filter_map(|e| e.tenant.as_deref())
        .any(|t| Some(t) != first_tenant);
    let filter = app.parsed_filter();
    let rows: Vec<TableRow> = shown
        .filter_map(|i| {
            let r = &app.rows[i];
            let e = app.vaults.entries.get(r.index)?;
            let tenant = many_tenants
                .then(|| e.tenant_name.as_deref().or(e.tenant.as_deref()))
                .flatten();
            let sel = i == cursor.selected;
            let base = row_style(t, sel);
            let sources = e
                .sources
                .iter()
                .map(|s| s.label())
                .collect::<Vec<_>>()
                .join(",");
            let place = [tenant, e.subscription.as_deref(), e.location.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ");
            Some(
                TableRow::new(vec![
                    Cell::from(highlight(
                        &e.name,
                        &filter.highlights(&e.name),
                        base,
                        t.matched().patch(base),
                    )),
                    Cell::from(e.url.clone()),
                    Cell::from(sources),
                    Cell::from(place),
                ])
                .style(base),
            )
        })
        .collect();
    // Names keep their width before URLs do.
    let name_width = app
        .vaults
        .entries
        .iter()
        .map(|e| e.name.chars().count() as u16)
        .max()
        .unwrap_or(0)
        .clamp(20, 24);
    let widths = fit(
        area.width,
        &[(name_width, 0), (34, 1), (16, 2), (0, 3)],
        Some(3),
    );
    draw_table(
        frame,
        t,
        area,
        vec![
            "VAULT",
            "URL",
            "FROM",
            if many_tenants {
                "TENANT · SUBSCRIPTION · LOCATION"
            } else {
                "SUBSCRIPTION · LOCATION"
            },
        ],
        rows,
        widths,
        first,
    )
}

/// An expiry as the lists show it: relative, red once expired, yellow when soon.
pub fn expiry_cell(exp: Option<time::OffsetDateTime>, app: &App, t: &Theme) -> (String, Style) {
    match (exp, expiry(exp, app.now)) {
        (Some(e), Some(Expiry::Expired)) => (
            format!("expired {}", relative(e, app.now).trim_end_matches(" ago")),
            t.danger(),
        ),
        (Some(e), Some(Expiry::Week)) => (relative(e, app.now), t.danger()),
        (Some(e), Some(Expiry::Month)) => (relative(e, app.now), t.warn()),
        (Some(e), _) => (relative(e, app.now), Style::default()),
        (None, _) => ("—".to_string(), t.muted()),
    }
}

/// What an empty list says: loading, empty, or nothing matching the filter.
fn when_empty(
    app: &App,
    loading: bool,
    failed: Option<&crate::vault::VaultError>,
    none: bool,
    empty: &'static str,
    what: &str,
) -> String {
    if loading {
        "loading…".into()
    } else if let Some(e) = failed {
        // Never "no secrets" when the listing failed.
        let ctx = app.context();
        let key = |a| app.keymap.key_for(ctx, a).unwrap_or_default();
        format!(
            "could not list: {} — {} retries, {} explains",
            e.summary(),
            key(crate::app::Action::Refresh),
            key(crate::app::Action::LastError)
        )
    } else if none {
        empty.into()
    } else {
        format!("no {what} matches the filter (Esc clears it)")
    }
}

fn tags_text(p: &SecretProps) -> String {
    p.tags
        .iter()
        .map(|(k, v)| format!("{}={}", printable(k), printable(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn secrets(frame: &mut Frame, app: &App, t: &Theme, area: Rect) -> Option<(Rect, usize)> {
    let vault = app.vault.as_ref()?;
    let signed_out = vault
        .list_error
        .as_ref()
        .is_some_and(|e| e.kind == crate::vault::ErrorKind::Unauthorized);
    if app.rows.is_empty() && signed_out && sign_in(frame, app, t, area) {
        return None;
    }
    if app.rows.is_empty() {
        let text = when_empty(
            app,
            app.running(|j| matches!(j, Job::ListSecrets)),
            vault.list_error.as_ref(),
            vault.secrets.is_empty(),
            "no secrets in this vault",
            "secret",
        );
        return empty(frame, t, area, &text);
    }
    let cursor = app.current_cursor();
    let shown = in_view(app, area);
    let first = shown.start;
    let filter = app.parsed_filter();
    let rows: Vec<TableRow> = shown
        .clone()
        .filter_map(|i| {
            let r = &app.rows[i];
            let p = vault.secrets.get(r.index)?;
            let sel = i == cursor.selected;
            let base = row_style(t, sel);
            let (exp_text, exp_style) = expiry_cell(p.expires, app, t);
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
            Some(
                TableRow::new(vec![
                    Cell::from(marked(
                        mark_of(app, crate::app::Tab::Secrets, &p.name),
                        highlight(
                            &p.name,
                            &filter.highlights(&p.name),
                            name_style,
                            t.matched().patch(base),
                        ),
                        t,
                        base,
                    )),
                    Cell::from(Line::from(enabled.patch_style(base))),
                    Cell::from(
                        printable(p.content_type.as_deref().unwrap_or_default()).into_owned(),
                    ),
                    Cell::from(p.updated.map(|u| relative(u, app.now)).unwrap_or_default()),
                    Cell::from(Span::styled(exp_text, exp_style.patch(base))),
                    Cell::from(tags_text(p)),
                ])
                .style(base),
            )
        })
        .collect();
    // Names are what a user looks for: they keep the width of the longest in view.
    let name_width = shown
        .filter_map(|i| vault.secrets.get(app.rows[i].index))
        .map(|p| {
            p.name.chars().count() as u16
                + if !matches!(mark_of(app, crate::app::Tab::Secrets, &p.name), Mark::None) {
                    2
                } else {
                    0
                }
        })
        .max()
        .unwrap_or(0)
        .clamp(20, 48);
    let widths = fit(
        area.width,
        &[(name_width, 0), (3, 1), (18, 4), (8, 3), (12, 2), (0, 5)],
        Some(5),
    );
    draw_table(
        frame,
        t,
        area,
        vec!["NAME", "ON", "TYPE", "UPDATED", "EXPIRES", "TAGS"],
        rows,
        widths,
        first,
    )
}

pub fn deleted(frame: &mut Frame, app: &App, t: &Theme, area: Rect) -> Option<(Rect, usize)> {
    let vault = app.vault.as_ref()?;
    if app.rows.is_empty() {
        let text = when_empty(
            app,
            app.running(|j| matches!(j, Job::ListDeleted)),
            vault.deleted_error.as_ref(),
            vault.deleted.is_empty(),
            "no deleted secrets: nothing to recover or purge",
            "deleted secret",
        );
        return empty(frame, t, area, &text);
    }
    let cursor = app.current_cursor();
    let shown = in_view(app, area);
    let first = shown.start;
    // The recovery id is shown only where it fits whole: a cut-off id is of no use.
    let id_width = shown
        .clone()
        .filter_map(|i| vault.deleted.get(app.rows[i].index)?.recovery_id.as_ref())
        .map(|id| id.chars().count() as u16)
        .max()
        .unwrap_or(0);
    let mut widths = fit(area.width, &[(20, 0), (9, 2), (24, 1), (0, 3)], Some(3));
    let room = match widths[3] {
        Constraint::Length(w) => w,
        _ => 0,
    };
    let show_id = room >= id_width;
    if !show_id {
        widths[3] = Constraint::Length(0);
    }
    let filter = app.parsed_filter();
    let rows: Vec<TableRow> = shown
        .filter_map(|i| {
            let r = &app.rows[i];
            let d = vault.deleted.get(r.index)?;
            let sel = i == cursor.selected;
            let base = row_style(t, sel);
            let days_left = d.scheduled_purge.map(|p| days_left(p, app.now));
            let purge = match (d.scheduled_purge, days_left) {
                (Some(p), Some(days)) => format!("{} ({days} d left)", p.date()),
                _ => "—".to_string(),
            };
            let purge_style = if days_left.is_some_and(|d| d < 7) {
                t.warn()
            } else {
                Style::default()
            };
            Some(
                TableRow::new(vec![
                    Cell::from(marked(
                        mark_of(app, crate::app::Tab::Deleted, &d.props.name),
                        highlight(
                            &d.props.name,
                            &filter.highlights(&d.props.name),
                            base,
                            t.matched().patch(base),
                        ),
                        t,
                        base,
                    )),
                    Cell::from(
                        d.deleted_on
                            .map(|x| relative(x, app.now))
                            .unwrap_or_default(),
                    ),
                    Cell::from(Span::styled(purge, purge_style.patch(base))),
                    Cell::from(if show_id {
                        d.recovery_id.clone().unwrap_or_default()
                    } else {
                        String::new()
                    }),
                ])
                .style(base),
            )
        })
        .collect();
    let id_header = if show_id { "RECOVERY ID" } else { "" };
    draw_table(
        frame,
        t,
        area,
        vec!["NAME", "DELETED", "PURGED ON", id_header],
        rows,
        widths,
        first,
    )
}
