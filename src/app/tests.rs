//! `App::update` and `App::on_response`: every action and worker response, no terminal, no network.

use super::filter::Filter;
use super::form;
use super::*;
use crate::vault::sources::{Source, VaultList};
use crate::vault::worker::{Phase, Progress};
use crate::vault::{
    DeletedProps, Envelope, Request, RequestId, Response, SecretProps, SecretValue, VaultError,
};
use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers, MouseEvent,
};
use std::time::Duration;

fn key(c: KeyCode) -> Event {
    Event::Key(KeyEvent {
        code: c,
        modifiers: KeyModifiers::NONE,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    })
}

fn ch(c: char) -> Event {
    key(KeyCode::Char(c))
}

fn props(name: &str) -> SecretProps {
    SecretProps {
        name: name.into(),
        id: format!("https://v.localhost/secrets/{name}"),
        enabled: true,
        recovery_level: Some("Recoverable+Purgeable".into()),
        ..SecretProps::default()
    }
}

fn deleted(name: &str, level: &str) -> DeletedProps {
    let mut p = props(name);
    p.recovery_level = Some(level.to_string().into());
    DeletedProps {
        props: p,
        recovery_id: Some(format!("https://v.localhost/deletedsecrets/{name}")),
        ..DeletedProps::default()
    }
}

fn sent(effects: &[Effect]) -> Vec<(RequestId, Request)> {
    effects
        .iter()
        .filter_map(|e| {
            if let Effect::Send(id, r) = e {
                Some((*id, r.clone()))
            } else {
                None
            }
        })
        .collect()
}

/// An app with vault "v" open and loaded with `names` and `deleted_names`.
fn loaded(names: &[&str], deleted_names: &[&str]) -> App {
    let mut list = VaultList::default();
    list.add("https://v.localhost:1", Source::Flag);
    let mut app = App::new(list);
    app.size = (100, 30);
    let effects = app.open_vault("https://v.localhost:1");
    let ids = sent(&effects);
    assert!(matches!(ids[0].1, Request::ListSecrets { .. }));
    assert!(matches!(ids[1].1, Request::ListDeleted { .. }));
    app.on_response(Envelope {
        id: ids[0].0,
        response: Response::SecretsPage {
            items: names.iter().map(|n| props(n)).collect(),
            done: true,
        },
    });
    app.on_response(Envelope {
        id: ids[1].0,
        response: Response::DeletedPage {
            items: deleted_names
                .iter()
                .map(|n| deleted(n, "Recoverable+Purgeable"))
                .collect(),
            done: true,
        },
    });
    app.prepare();
    app
}

/// Draws a frame as the event loop does, so the mouse hits what is on screen.
fn draw(app: &mut App) {
    let backend = ratatui::backend::TestBackend::new(app.size.0, app.size.1);
    let Ok(mut terminal) = ratatui::Terminal::new(backend);
    let mut hits = Hits::default();
    let _ = terminal.draw(|f| hits = crate::ui::draw(f, app));
    app.hits = hits;
}

fn press(app: &mut App, events: &[Event]) -> Vec<Effect> {
    let mut out = Vec::new();
    draw(app);
    for e in events {
        out.extend(app.on_event(e));
        app.settle_filter();
        draw(app);
    }
    out
}

#[test]
fn opening_a_vault_lists_secrets_and_deleted_and_records_it_as_recent() {
    let mut list = VaultList::default();
    list.add("https://v.localhost:1", Source::Flag);
    let mut app = App::new(list);
    app.prepare();
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    assert_eq!(app.screen, Screen::Vault);
    assert_eq!(sent(&effects).len(), 2);
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::RecordRecent(u) if u == "https://v.localhost:1")));
    assert!(app.needs_tick(), "loading animates");
}

#[test]
fn pages_stream_in_and_loading_ends_with_the_last() {
    let mut list = VaultList::default();
    list.add("https://v.localhost:1", Source::Flag);
    let mut app = App::new(list);
    let ids = sent(&app.open_vault("https://v.localhost:1"));
    app.on_response(Envelope {
        id: ids[0].0,
        response: Response::SecretsPage {
            items: vec![props("a"), props("b")],
            done: false,
        },
    });
    app.prepare();
    assert_eq!(app.rows.len(), 2);
    assert!(app.vault.as_ref().is_some());
    assert!(app.running(|j| matches!(j, Job::ListSecrets)));
    app.on_response(Envelope {
        id: ids[0].0,
        response: Response::SecretsPage {
            items: vec![props("c")],
            done: true,
        },
    });
    app.prepare();
    assert_eq!(app.rows.len(), 3);
    assert!(app.vault.as_ref().is_some());
    assert!(!app.running(|j| matches!(j, Job::ListSecrets)));
    // A response for a request nobody waits for changes nothing.
    app.on_response(Envelope {
        id: 999,
        response: Response::SecretsPage {
            items: vec![props("zzz")],
            done: true,
        },
    });
    app.prepare();
    assert_eq!(app.rows.len(), 3);
}

#[test]
fn navigation_moves_and_clamps() {
    let names: Vec<String> = (0..100).map(|i| format!("s{i:03}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut app = loaded(&refs, &[]);
    press(&mut app, &[ch('j'), key(KeyCode::Down)]);
    assert_eq!(app.secrets_cursor.selected, 2);
    press(&mut app, &[ch('k')]);
    assert_eq!(app.secrets_cursor.selected, 1);
    press(&mut app, &[ch('G')]);
    assert_eq!(app.secrets_cursor.selected, 99);
    assert_eq!(app.secrets_cursor.offset, 100 - list_height(app.size));
    press(&mut app, &[ch('g')]);
    assert_eq!(
        (app.secrets_cursor.selected, app.secrets_cursor.offset),
        (0, 0)
    );
    press(&mut app, &[key(KeyCode::PageDown)]);
    assert_eq!(app.secrets_cursor.selected, list_height(app.size));
    press(&mut app, &vec![key(KeyCode::Up); 200]);
    assert_eq!(app.secrets_cursor.selected, 0);
}

#[test]
fn opening_clearing_the_filter_tabs_and_sorts_keep_the_matchers_names() {
    // The matcher holds the list's names; only new data makes it take them again (100,000 names
    // cost frames to feed, which the first keystrokes would wait behind).
    let mut app = loaded(
        &["api-key", "db-password", "db-connection", "cache"],
        &["old"],
    );
    let before = app.generation;
    press(&mut app, &[ch('/'), ch('d'), ch('b')]);
    assert_eq!(app.rows.len(), 2);
    press(&mut app, &[key(KeyCode::Esc), ch('/'), key(KeyCode::Enter)]);
    assert_eq!(app.screen, Screen::Vault);
    press(&mut app, &[key(KeyCode::Tab), key(KeyCode::Tab), ch('s')]);
    assert_eq!(app.generation, before, "no data changed");
    assert_eq!(app.rows.len(), 4);
    press(&mut app, &[ch('/'), ch('c'), ch('a')]);
    assert_eq!(app.rows.len(), 1, "the kept names still match");
}

#[test]
fn filter_narrows_ranks_and_clears_with_escape() {
    let mut app = loaded(&["api-key", "db-password", "db-connection", "cache"], &[]);
    press(&mut app, &[ch('/'), ch('d'), ch('b'), ch('p')]);
    assert!(app.filter_editing);
    let names: Vec<&str> = app
        .rows
        .iter()
        .map(|r| {
            app.vault
                .as_ref()
                .map(|v| v.secrets[r.index].name.as_str())
                .unwrap_or("")
        })
        .collect();
    assert_eq!(names, ["db-password"]);
    assert_eq!(app.parsed_filter().highlights("db-password"), [0, 1, 3]);
    press(&mut app, &[key(KeyCode::Backspace)]);
    assert_eq!(app.rows.len(), 2);
    press(&mut app, &[key(KeyCode::Enter)]);
    assert!(!app.filter_editing);
    assert_eq!(app.filter.value(), "db");
    assert_eq!(app.rows.len(), 2, "Enter keeps the filter");
    press(&mut app, &[key(KeyCode::Down)]);
    let found = app.selected_secret().map(|p| p.name.clone());
    assert!(found.is_some());
    press(&mut app, &[key(KeyCode::Esc)]);
    assert_eq!(app.rows.len(), 4, "Esc clears it");
    assert_eq!(app.screen, Screen::Vault, "and does not leave the vault");
    assert_eq!(
        app.selected_secret().map(|p| p.name.clone()),
        found,
        "the secret found stays selected"
    );
}

#[test]
fn sort_cycles_name_updated_expires() {
    let mut app = loaded(&["b", "a", "c"], &[]);
    if let Some(v) = app.vault.as_mut() {
        v.secrets[0].updated = Some(OffsetDateTime::UNIX_EPOCH + time::Duration::days(3));
        v.secrets[1].updated = Some(OffsetDateTime::UNIX_EPOCH + time::Duration::days(1));
        v.secrets[2].updated = Some(OffsetDateTime::UNIX_EPOCH + time::Duration::days(2));
        v.secrets[2].expires = Some(OffsetDateTime::UNIX_EPOCH);
    }
    let order = |app: &App| -> Vec<String> {
        app.rows
            .iter()
            .filter_map(|r| app.vault.as_ref().map(|v| v.secrets[r.index].name.clone()))
            .collect()
    };
    app.invalidate();
    app.prepare();
    assert_eq!(order(&app), ["a", "b", "c"]);
    press(&mut app, &[ch('s')]);
    assert_eq!(app.sort, SortKey::Updated);
    assert_eq!(order(&app), ["b", "c", "a"], "most recently updated first");
    press(&mut app, &[ch('s')]);
    assert_eq!(order(&app)[0], "c", "soonest expiry first, none last");
    press(&mut app, &[ch('s')]);
    assert_eq!(app.sort, SortKey::Name);
}

#[test]
fn the_value_is_fetched_on_open_masked_revealed_and_dropped_on_close() {
    let mut app = loaded(&["db-password"], &[]);
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    let (id, req) = sent(&effects).remove(0);
    assert!(
        matches!(req, Request::GetSecret { ref name, version: None, .. } if name == "db-password")
    );
    assert!(app.value.as_ref().is_some_and(|v| !v.revealed));
    assert!(app.running(|j| matches!(j, Job::Value)));
    app.on_response(Envelope {
        id,
        response: Response::Value {
            props: props("db-password"),
            value: SecretValue::new("hunter2".into()),
        },
    });
    assert!(app
        .value
        .as_ref()
        .is_some_and(|v| v.value.is_some() && !v.revealed));
    press(&mut app, &[ch(' ')]);
    assert!(app.value.as_ref().is_some_and(|v| v.revealed));
    press(&mut app, &[ch(' ')]);
    assert!(app.value.as_ref().is_some_and(|v| !v.revealed));
    press(&mut app, &[key(KeyCode::Esc)]);
    assert!(app.value.is_none(), "closing drops the value");
    // Closing while the fetch is in flight cancels it.
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    let (id, _) = sent(&effects).remove(0);
    let effects = press(&mut app, &[key(KeyCode::Esc)]);
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::Cancel(c) if *c == id)));
}

#[test]
fn a_failed_fetch_shows_the_error_in_the_panel() {
    let mut app = loaded(&["off"], &[]);
    let (id, _) = sent(&press(&mut app, &[key(KeyCode::Enter)])).remove(0);
    let e = VaultError {
        kind: crate::vault::ErrorKind::Disabled,
        status: Some(403),
        code: Some("SecretDisabled".into()),
        message: "Operation get is not allowed on a disabled secret.".into(),
        detail: "Operation get is not allowed on a disabled secret.".into(),
        tenant: None,
    };
    app.on_response(Envelope {
        id,
        response: Response::Failed(e),
    });
    assert!(app
        .value
        .as_ref()
        .is_some_and(|v| v.error.as_ref().is_some_and(|e| e.status == Some(403))));
}

#[test]
fn delete_asks_first_then_shows_progress_then_moves_the_row() {
    let mut app = loaded(&["db-password", "other"], &[]);
    assert!(
        sent(&press(&mut app, &[ch('d')])).is_empty(),
        "nothing before confirmation"
    );
    assert_eq!(
        app.popup,
        Some(Popup::ConfirmDelete {
            name: "db-password".into()
        })
    );
    assert!(sent(&press(&mut app, &[ch('n')])).is_empty());
    assert_eq!(app.popup, None);
    press(&mut app, &[ch('d')]);
    let effects = press(&mut app, &[ch('y')]);
    let (id, req) = sent(&effects).remove(0);
    assert!(matches!(req, Request::Delete { ref name, .. } if name == "db-password"));
    assert_eq!(app.ops().count(), 1);
    app.instant += Duration::from_secs(3);
    app.on_response(Envelope {
        id,
        response: Response::Progress(Progress {
            elapsed: Duration::from_secs(3),
            attempts: 4,
            phase: Phase::WaitingForDeletion,
        }),
    });
    assert_eq!(
        app.ops()
            .next()
            .map(|o| o.describe(app.instant))
            .unwrap_or_default(),
        "Deleting 'db-password'… waiting for the deletion to complete (3 s)"
    );
    app.on_response(Envelope {
        id,
        response: Response::Deleted(deleted("db-password", "Recoverable+Purgeable")),
    });
    app.prepare();
    assert!(app.ops().next().is_none());
    let v = app.vault.as_ref().expect("vault");
    assert_eq!(v.secrets.len(), 1);
    assert_eq!(v.deleted.len(), 1);
    assert!(app
        .status
        .as_ref()
        .is_some_and(|s| !s.error && s.text.starts_with("Deleted 'db-password'")));
}

#[test]
fn recover_and_purge_from_the_deleted_tab() {
    let mut app = loaded(&["a"], &["gone", "old"]);
    press(&mut app, &[key(KeyCode::Tab)]);
    assert_eq!(app.tab, Tab::Deleted);
    assert_eq!(app.rows.len(), 2);
    let (id, req) = sent(&press(&mut app, &[ch('r')])).remove(0);
    assert!(matches!(req, Request::Recover { ref name, .. } if name == "gone"));
    app.on_response(Envelope {
        id,
        response: Response::Saved(props("gone")),
    });
    app.prepare();
    let v = app.vault.as_ref().expect("vault");
    assert!(
        v.secrets.iter().any(|s| s.name == "gone"),
        "back in the secret list"
    );
    assert_eq!(v.deleted.len(), 1);

    // Purge: the name must be typed exactly.
    press(&mut app, &[ch('P')]);
    assert!(matches!(app.popup, Some(Popup::ConfirmPurge { .. })));
    assert!(
        sent(&press(&mut app, &[ch('o'), ch('l'), key(KeyCode::Enter)])).is_empty(),
        "no match, no purge"
    );
    assert!(matches!(&app.popup, Some(Popup::ConfirmPurge { typed, .. }) if typed.value() == "ol"));
    let (id, req) = sent(&press(&mut app, &[ch('d'), key(KeyCode::Enter)])).remove(0);
    assert!(matches!(req, Request::Purge { ref name, .. } if name == "old"));
    app.on_response(Envelope {
        id,
        response: Response::Purged { name: "old".into() },
    });
    app.prepare();
    assert!(app.vault.as_ref().is_some_and(|v| v.deleted.is_empty()));
}

#[test]
fn purge_is_refused_in_a_purge_protected_vault() {
    let mut app = loaded(&[], &[]);
    if let Some(v) = app.vault.as_mut() {
        v.deleted.push(deleted("keep", "CustomizedRecoverable"));
    }
    press(&mut app, &[key(KeyCode::Tab)]);
    app.invalidate();
    app.prepare();
    assert!(sent(&press(&mut app, &[ch('P')])).is_empty());
    assert_eq!(app.popup, None);
    assert!(app
        .status
        .as_ref()
        .is_some_and(|s| s.error && s.text.contains("purge protection")));
}

#[test]
fn errors_of_operations_land_in_the_status_bar_and_escape_dismisses() {
    let mut app = loaded(&["x"], &[]);
    press(&mut app, &[ch('d')]);
    let (id, _) = sent(&press(&mut app, &[ch('y')])).remove(0);
    let e = VaultError {
        kind: crate::vault::ErrorKind::Forbidden,
        status: Some(403),
        code: Some("ForbiddenByRbac".into()),
        message: "caller lacks secrets/delete on kv-prod".into(),
        detail: "caller lacks secrets/delete on kv-prod".into(),
        tenant: None,
    };
    app.on_response(Envelope {
        id,
        response: Response::Failed(e),
    });
    let s = app.status.clone().expect("status");
    assert!(s.error);
    assert_eq!(
        s.text,
        "delete 'x': 403 Forbidden (ForbiddenByRbac): caller lacks secrets/delete on kv-prod — ! explains"
    );
    // `!` explains it whole, with the role that would allow it and the command.
    press(&mut app, &[ch('!')]);
    let Some(Popup::Error { explanation, .. }) = &app.popup else {
        panic!("the error panel opens");
    };
    assert_eq!(explanation.title, "Refused by Azure RBAC");
    assert!(explanation
        .command
        .as_deref()
        .is_some_and(|c| c.starts_with("az role assignment create --role")));
    let copied = press(&mut app, &[ch('c')]);
    assert!(copied.iter().any(
        |e| matches!(e, Effect::Copy { label, sensitive: false, .. } if label == "the suggested command")
    ));
    press(&mut app, &[key(KeyCode::Esc)]);
    assert!(app.popup.is_none());
    // The message log keeps it.
    assert!(app.messages.iter().any(|m| m.error && m.cause.is_some()));
    press(&mut app, &[key(KeyCode::Esc)]);
    assert_eq!(app.status, None);
    assert_eq!(app.screen, Screen::Vault);
}

#[test]
fn read_only_refuses_mutations_with_the_reason() {
    let mut app = loaded(&["x"], &["y"]);
    if let Some(v) = app.vault.as_mut() {
        v.read_only = true;
    }
    for (tab, k) in [(false, 'd'), (true, 'r'), (true, 'P')] {
        if tab && app.tab == Tab::Secrets {
            press(&mut app, &[key(KeyCode::Tab)]);
        }
        assert!(sent(&press(&mut app, &[ch(k)])).is_empty());
        assert!(app.popup.is_none());
        assert!(app
            .status
            .as_ref()
            .is_some_and(|s| s.error && s.text.starts_with("read-only")));
    }
}

#[test]
fn quit_asks_while_an_operation_is_in_flight_and_ctrl_c_always_quits() {
    let mut app = loaded(&["x"], &[]);
    press(&mut app, &[ch('d'), ch('y')]);
    press(&mut app, &[ch('q')]);
    assert!(!app.quit);
    assert_eq!(app.popup, Some(Popup::ConfirmQuit));
    press(&mut app, &[ch('n')]);
    assert!(!app.quit && app.popup.is_none());
    press(&mut app, &[ch('q'), ch('y')]);
    assert!(app.quit);
    let mut app = loaded(&["x"], &[]);
    let ctrl_c = Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    press(&mut app, &[ctrl_c]);
    assert!(app.quit);
}

#[test]
fn refresh_relists_and_help_opens_and_closes() {
    let mut app = loaded(&["x"], &[]);
    let effects = press(&mut app, &[ch('R')]);
    assert_eq!(sent(&effects).len(), 2);
    press(&mut app, &[ch('?')]);
    assert!(matches!(app.popup, Some(Popup::Help { .. })));
    press(&mut app, &[ch('x')]);
    assert_eq!(app.popup, None);
}

#[test]
fn open_vault_by_url_validates_what_is_typed() {
    let mut app = App::new(VaultList::default());
    app.prepare();
    press(&mut app, &[ch('o')]);
    for c in "bad_name".chars() {
        press(&mut app, &[ch(c)]);
    }
    assert!(sent(&press(&mut app, &[key(KeyCode::Enter)])).is_empty());
    assert!(
        matches!(&app.popup, Some(Popup::OpenVault { error: Some(e), input }) if e.contains("not a vault name") && input == "bad_name"),
        "the error shows and the input is kept"
    );
    app.popup = Some(Popup::OpenVault {
        input: Default::default(),
        error: None,
    });
    app.on_event(&Event::Paste("https://demo.localhost:8443\n".into()));
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    assert_eq!(sent(&effects).len(), 2);
    assert_eq!(app.vaults.entries.len(), 1);
    assert_eq!(app.screen, Screen::Vault);
}

#[test]
fn discovery_streams_into_the_vault_list() {
    let mut app = App::new(VaultList::default());
    let (id, _) = sent(&app.discover()).remove(0);
    app.on_response(Envelope {
        id,
        response: Response::VaultFound(crate::vault::discovery::DiscoveredVault {
            tenant_name: None,
            resource_id: None,
            name: "kv-prod".into(),
            url: "https://kv-prod.vault.azure.net/".into(),
            subscription_id: "s".into(),
            subscription_name: Some("Prod".into()),
            location: Some("westeurope".into()),
            tenant: None,
        }),
    });
    app.prepare();
    assert_eq!(app.rows.len(), 1);
    app.on_response(Envelope {
        id,
        response: Response::DiscoveryWarning("subscription Dev: 403 AuthorizationFailed".into()),
    });
    // A failure goes to the message log; one summary line says how it went.
    assert!(app.status.is_none(), "{:?}", app.status);
    assert!(app
        .messages
        .last()
        .is_some_and(|m| m.error && m.text.contains("403 AuthorizationFailed")));
    app.on_response(Envelope {
        id,
        response: Response::DiscoverySummary {
            text: "discovery: 1 vault in 2 subscriptions over 1 tenant; 1 failure".into(),
            failures: 1,
        },
    });
    assert!(app
        .status
        .as_ref()
        .is_some_and(|s| s.error && s.text.contains("1 failure")));
    app.on_response(Envelope {
        id,
        response: Response::DiscoveryDone,
    });
    assert!(!app.discovering());
    assert!(!app.needs_tick(), "idle is idle");
}

#[test]
fn resize_and_unknown_events_change_nothing_else() {
    let mut app = loaded(&["x"], &[]);
    app.on_event(&Event::Resize(80, 24));
    assert_eq!(app.size, (80, 24));
    let before = app.secrets_cursor;
    app.on_event(&Event::Mouse(MouseEvent {
        kind: crossterm::event::MouseEventKind::Moved,
        column: 0,
        row: 0,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(app.secrets_cursor, before);
}

#[test]
fn relative_dates_and_expiry_urgency() {
    let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(1000);
    assert_eq!(relative(now - time::Duration::days(3), now), "3d ago");
    assert_eq!(relative(now + time::Duration::hours(5), now), "in 5h");
    assert_eq!(
        expiry(Some(now - time::Duration::seconds(1)), now),
        Some(Expiry::Expired)
    );
    assert_eq!(
        expiry(Some(now + time::Duration::days(6)), now),
        Some(Expiry::Week)
    );
    assert_eq!(
        expiry(Some(now + time::Duration::days(29)), now),
        Some(Expiry::Month)
    );
    assert_eq!(
        expiry(Some(now + time::Duration::days(89)), now),
        Some(Expiry::Quarter)
    );
    assert_eq!(
        expiry(Some(now + time::Duration::days(91)), now),
        Some(Expiry::Later)
    );
    assert_eq!(expiry(None, now), None);
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, &[ch(c)]);
    }
}

#[test]
fn the_create_form_sends_nothing_until_valid_then_keeps_everything_on_refusal() {
    let mut app = loaded(&["a"], &[]);
    press(&mut app, &[ch('n')]);
    assert!(app.form.is_some());
    typed(&mut app, "bad name");
    let ctrl_s = Event::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    assert!(
        sent(&press(&mut app, std::slice::from_ref(&ctrl_s))).is_empty(),
        "invalid: nothing sent"
    );
    assert!(app
        .status
        .as_ref()
        .is_some_and(|s| s.error && s.text.starts_with("name:")));
    for _ in 0..5 {
        press(&mut app, &[key(KeyCode::Backspace)]);
    }
    typed(&mut app, "-x");
    press(&mut app, &[key(KeyCode::Tab)]);
    typed(&mut app, "v");
    let (id, req) = sent(&press(&mut app, std::slice::from_ref(&ctrl_s))).remove(0);
    assert!(
        matches!(req, Request::SetSecret { ref name, ref secret, .. } if name == "bad-x" && secret.value.expose() == "v")
    );
    let e = VaultError {
        kind: crate::vault::ErrorKind::Forbidden,
        status: Some(403),
        code: Some("ForbiddenByRbac".into()),
        message: "no".into(),
        detail: "no".into(),
        tenant: None,
    };
    app.on_response(Envelope {
        id,
        response: Response::Failed(e),
    });
    let f = app.form.as_ref().expect("the form stays open");
    assert_eq!(
        (f.name.value(), f.value.expose()),
        ("bad-x", "v"),
        "with what was typed"
    );
    assert!(f
        .service_error
        .as_ref()
        .is_some_and(|e| e.summary().contains("ForbiddenByRbac")));
    let (id, _) = sent(&press(&mut app, &[ctrl_s])).remove(0);
    app.on_response(Envelope {
        id,
        response: Response::Saved(props("bad-x")),
    });
    app.prepare();
    assert!(app.form.is_none());
    assert!(app
        .vault
        .as_ref()
        .is_some_and(|v| v.secrets.iter().any(|s| s.name == "bad-x")));
}

#[test]
fn deleted_but_recoverable_offers_recover_purge_and_create_or_cancel() {
    let mut app = loaded(&["a"], &["gone"]);
    press(&mut app, &[ch('n')]);
    typed(&mut app, "gone");
    let ctrl_s = Event::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    let (id, _) = sent(&press(&mut app, &[ctrl_s])).remove(0);
    let conflict = VaultError {
        kind: crate::vault::ErrorKind::DeletedButRecoverable,
        status: Some(409),
        code: Some("ObjectIsDeletedButRecoverable".into()),
        message: "…".into(),
        detail: "…".into(),
        tenant: None,
    };
    app.on_response(Envelope {
        id,
        response: Response::Failed(conflict),
    });
    assert_eq!(
        app.popup,
        Some(Popup::Conflict {
            name: "gone".into()
        })
    );
    // Cancel: the form is still there.
    press(&mut app, &[ch('c')]);
    assert!(app.popup.is_none() && app.form.as_ref().is_some_and(|f| f.name == "gone"));
    // Purge and create: a purge, then a set that waits for the name.
    app.popup = Some(Popup::Conflict {
        name: "gone".into(),
    });
    let (pid, req) = sent(&press(&mut app, &[ch('p')])).remove(0);
    assert!(matches!(req, Request::Purge { .. }));
    let effects = app.on_response(Envelope {
        id: pid,
        response: Response::Purged {
            name: "gone".into(),
        },
    });
    let (cid, req) = sent(&effects).remove(0);
    assert!(matches!(req, Request::SetSecretWhenFree { ref name, .. } if name == "gone"));
    app.on_response(Envelope {
        id: cid,
        response: Response::Saved(props("gone")),
    });
    assert!(app.form.is_none());
    assert!(app
        .status
        .as_ref()
        .is_some_and(|s| s.text == "Created 'gone'"));
    // Recover: then it opens.
    let mut app = loaded(&["a"], &["gone"]);
    app.form = Some(form::Form::create());
    app.popup = Some(Popup::Conflict {
        name: "gone".into(),
    });
    let (rid, req) = sent(&press(&mut app, &[ch('r')])).remove(0);
    assert!(matches!(req, Request::Recover { .. }));
    let effects = app.on_response(Envelope {
        id: rid,
        response: Response::Saved(props("gone")),
    });
    assert!(
        matches!(sent(&effects).first(), Some((_, Request::GetSecret { name, .. })) if name == "gone"),
        "opens it"
    );
    assert!(app.value.is_some());
}

#[test]
fn versions_toggle_a_version_and_compare_two() {
    let mut app = loaded(&["db"], &[]);
    let (id, req) = sent(&press(&mut app, &[ch('v')])).remove(0);
    assert!(matches!(req, Request::ListVersions { .. }));
    let mut v1 = props("db");
    v1.version = Some("b".repeat(32));
    let mut v2 = props("db");
    v2.version = Some("a".repeat(32));
    app.on_response(Envelope {
        id,
        response: Response::Versions(vec![v1, v2]),
    });
    press(&mut app, &[ch('j')]);
    let (tid, req) = sent(&press(&mut app, &[ch('x')])).remove(0);
    assert!(
        matches!(req, Request::UpdateProperties { ref version, ref patch, .. } if version.as_deref() == Some("a".repeat(32).as_str()) && patch.enabled == Some(false))
    );
    let mut off = props("db");
    off.version = Some("a".repeat(32));
    off.enabled = false;
    app.on_response(Envelope {
        id: tid,
        response: Response::Saved(off),
    });
    assert!(app.versions.as_ref().is_some_and(|v| !v.items[1].enabled));
    assert!(
        app.vault.as_ref().is_some_and(|v| v.secrets[0].enabled),
        "an old version does not change the list row"
    );
    let effects = press(&mut app, &[ch('=')]);
    assert_eq!(sent(&effects).len(), 2, "both values are fetched");
    press(&mut app, &[key(KeyCode::Esc)]);
    assert!(app.versions.as_ref().is_some_and(|v| v.compare.is_none()));
    press(&mut app, &[key(KeyCode::Esc)]);
    assert!(app.versions.is_none());
}

#[test]
fn the_command_line_completes_and_runs() {
    assert_eq!(complete("va", &[]), Ok("vault".into()));
    assert_eq!(complete("vaults", &[]), Ok("vaults".into()));
    assert_eq!(
        complete("vault d", &["demo".into(), "dev".into()]),
        Ok("vault de".into())
    );
    assert!(complete("vault de", &["demo".into(), "dev".into()]).is_err_and(|c| c.len() == 2));
    assert!(complete("zzz", &[]).is_err_and(|c| c.is_empty()));
    assert_eq!(
        complete("compare-vaults st", &["demo".into(), "staging".into()]),
        Ok("compare-vaults staging".into())
    );
    assert_eq!(
        complete("promote d", &["demo".into(), "staging".into()]),
        Ok("promote demo".into())
    );
    let mut app = loaded(&["a"], &["b"]);
    press(&mut app, &[ch(':')]);
    typed(&mut app, "deleted");
    press(&mut app, &[key(KeyCode::Enter)]);
    assert_eq!(app.tab, Tab::Deleted);
    press(&mut app, &[ch(':')]);
    typed(&mut app, "bogus");
    press(&mut app, &[key(KeyCode::Enter)]);
    assert!(
        matches!(&app.popup, Some(Popup::Command { error: Some(e), .. }) if e.contains("unknown command"))
    );
    app.popup = None;
    press(&mut app, &[ch(':')]);
    typed(&mut app, "restore /tmp/x.kvbackup");
    let (_, req) = sent(&press(&mut app, &[key(KeyCode::Enter)])).remove(0);
    assert!(
        matches!(req, Request::Restore { ref path, .. } if path.to_str() == Some("/tmp/x.kvbackup"))
    );
    press(&mut app, &[ch(':'), ch('q'), key(KeyCode::Enter)]);
    assert!(app.quit);
}

#[test]
fn mouse_clicks_select_rows_and_tabs_and_the_wheel_scrolls() {
    use crossterm::event::{MouseButton, MouseEventKind};
    let names: Vec<String> = (0..50).map(|i| format!("s{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut app = loaded(&refs, &["d"]);
    let click = |row: u16, column: u16| {
        Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    press(&mut app, &[click(5, 3)]);
    assert_eq!(app.secrets_cursor.selected, 2, "the third row");
    press(
        &mut app,
        &[Event::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: 0,
            row: 10,
            modifiers: KeyModifiers::NONE,
        })],
    );
    assert_eq!(app.secrets_cursor.selected, 5);
    press(&mut app, &[click(1, 20)]);
    assert_eq!(app.tab, Tab::Deleted, "the Deleted tab label");
    press(&mut app, &[click(1, 2)]);
    assert_eq!(app.tab, Tab::Secrets);
}

#[test]
fn bound_keys_stand_for_their_actions() {
    let mut app = loaded(&["a"], &[]);
    let bind = |spec: &str, action: Action| keymap::Binding {
        context: None,
        key: keymap::parse_key(spec).expect("a key"),
        spec: spec.into(),
        action,
        line: 1,
    };
    let shadows = app
        .keymap
        .bind(&[bind("ctrl-d", Action::Delete), bind("X", Action::Quit)])
        .expect("binds");
    assert!(shadows.is_empty());
    press(
        &mut app,
        &[Event::Key(KeyEvent::new(
            KeyCode::Char('d'),
            KeyModifiers::CONTROL,
        ))],
    );
    assert_eq!(app.popup, Some(Popup::ConfirmDelete { name: "a".into() }));
    app.popup = None;
    // Terminals may report an upper-case letter with SHIFT or without: both match "X".
    press(
        &mut app,
        &[Event::Key(KeyEvent::new(
            KeyCode::Char('X'),
            KeyModifiers::SHIFT,
        ))],
    );
    assert!(app.quit);
}

#[test]
fn every_text_dialog_takes_typing_backspace_and_paste() {
    let mut app = loaded(&["api-key"], &[]);
    press(&mut app, &[ch('b')]);
    app.on_event(&Event::Paste("/tmp/x.kvbackup\nignored".into()));
    assert!(
        matches!(&app.popup, Some(Popup::Backup { path, .. }) if path == "./api-key.kvbackup/tmp/x.kvbackup")
    );
    app.popup = None;
    press(&mut app, &[ch(':')]);
    app.on_event(&Event::Paste("restore /tmp/y".into()));
    press(&mut app, &[key(KeyCode::Backspace), ch('z')]);
    assert!(matches!(&app.popup, Some(Popup::Command { input, .. }) if input == "restore /tmp/z"));
}

// ---- the keymap: every action handled in a context has a key there and is in its help ----------

/// The screen as text, for "did anything change".
fn screen_text(app: &mut App) -> String {
    let backend = ratatui::backend::TestBackend::new(app.size.0, app.size.1);
    let Ok(mut terminal) = ratatui::Terminal::new(backend);
    let _ = terminal.draw(|f| {
        crate::ui::draw(f, app);
    });
    terminal
        .backend()
        .buffer()
        .content
        .iter()
        .map(|c| c.symbol())
        .collect()
}

/// An app showing each context, built through the keys a user would press.
fn in_context(ctx: Context) -> App {
    let mut app = loaded(&["alpha", "beta", "gamma"], &["old-one", "old-two"]);
    app.size = (120, 60);
    app.prepare();
    let value = |app: &mut App| {
        let effects = press(app, &[key(KeyCode::Enter)]);
        if let Some((id, _)) = sent(&effects).first() {
            app.on_response(Envelope {
                id: *id,
                response: Response::Value {
                    props: props("alpha"),
                    value: SecretValue::new("line1\nline2".into()),
                },
            });
        }
    };
    let versions = |app: &mut App| {
        let effects = press(app, &[ch('v')]);
        if let Some((id, _)) = sent(&effects).first() {
            let v = |n: &str| SecretProps {
                version: Some(n.into()),
                ..props("alpha")
            };
            app.on_response(Envelope {
                id: *id,
                response: Response::Versions(vec![v("v2"), v("v1"), v("v0")]),
            });
        }
    };
    match ctx {
        Context::Vaults => {
            press(&mut app, &[key(KeyCode::Esc)]);
        }
        Context::Secrets => {}
        Context::Deleted => {
            press(&mut app, &[key(KeyCode::Tab)]);
        }
        Context::Value => value(&mut app),
        Context::Versions => versions(&mut app),
        Context::Compare => {
            versions(&mut app);
            press(&mut app, &[ch('=')]);
        }
        Context::Form => {
            press(&mut app, &[ch('n')]);
        }
        Context::Confirm => {
            press(&mut app, &[ch('d')]);
        }
        Context::Purge => {
            press(&mut app, &[key(KeyCode::Tab), ch('P')]);
        }
        Context::Conflict => {
            press(&mut app, &[ch('n')]);
            app.popup = Some(Popup::Conflict {
                name: "alpha".into(),
            });
        }
        Context::Prompt => {
            press(&mut app, &[ch('b')]);
        }
        Context::Command => {
            press(&mut app, &[ch(':')]);
        }
        Context::Filter => {
            press(&mut app, &[ch('/'), ch('a')]);
        }
        Context::Help => {
            press(&mut app, &[ch('?')]);
        }
        Context::ErrorPanel => {
            app.last_error = Some(VaultError::new(crate::vault::ErrorKind::Network, "down"));
            press(&mut app, &[ch('!')]);
        }
        Context::Messages => {
            press(&mut app, &[ch('s')]);
            press(&mut app, &[ch(':')]);
            for c in "messages".chars() {
                press(&mut app, &[ch(c)]);
            }
            press(&mut app, &[key(KeyCode::Enter)]);
        }
        Context::Across => {
            press(&mut app, &[ch(':')]);
            for c in "search".chars() {
                press(&mut app, &[ch(c)]);
            }
            press(&mut app, &[key(KeyCode::Enter)]);
        }
        Context::VaultDiff => {
            app.vaults.add("https://other.localhost:1", Source::Recent);
            press(&mut app, &[ch(':')]);
            for c in "compare-vaults other".chars() {
                press(&mut app, &[ch(c)]);
            }
            press(&mut app, &[key(KeyCode::Enter)]);
        }
    }
    app.prepare();
    assert_eq!(app.context(), ctx, "the setup reaches {ctx:?}");
    app
}

#[test]
fn every_action_handled_in_a_context_has_a_key_there_and_is_in_its_help() {
    for ctx in Context::ALL {
        for action in Action::ALL {
            let mut app = in_context(ctx);
            let before = screen_text(&mut app);
            let effects = app.update(action);
            app.prepare();
            let after = screen_text(&mut app);
            let handled = !effects.is_empty() || before != after || app.quit;
            if handled {
                assert!(
                    app.keymap.has(ctx, action),
                    "{action:?} does something in {ctx:?} but has no key there"
                );
            }
        }
        // Help lists every entry of the context, with the key the user has.
        let mut app = in_context(ctx);
        app.popup = Some(Popup::Help {
            context: ctx,
            scroll: 0,
        });
        let help = screen_text(&mut app);
        for e in app.keymap.entries(ctx) {
            assert!(!e.keys.is_empty(), "{:?} in {ctx:?} has no key", e.action);
            assert!(
                help.contains(e.what) && help.contains(&e.keys_label()),
                "help for {ctx:?} lacks {:?} ({} {})",
                e.action,
                e.keys_label(),
                e.what
            );
        }
    }
}

#[test]
fn help_shows_the_users_own_keys() {
    let mut app = loaded(&["a"], &[]);
    app.size = (120, 60);
    let bind = keymap::Binding {
        context: Some(Context::Secrets),
        key: keymap::parse_key("ctrl-x").expect("key"),
        spec: "ctrl-x".into(),
        action: Action::Delete,
        line: 1,
    };
    app.keymap.bind(&[bind]).expect("binds");
    press(&mut app, &[ch('?')]);
    let help = screen_text(&mut app);
    assert!(help.contains("Ctrl-X"), "the user's key is listed");
    app.popup = None;
    press(&mut app, &[ch('d')]);
    assert!(app.popup.is_none(), "d no longer deletes");
}

#[test]
fn upper_case_keys_are_shift_letters_as_crokey_writes_them() {
    let g = keymap::parse_key("G").expect("G");
    assert_eq!(Some(g), keymap::parse_key("shift-g"));
    assert_eq!(keymap::display(g), "G");
    // However the terminal reports it.
    for k in [
        KeyEvent::new(KeyCode::Char('G'), KeyModifiers::NONE),
        KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT),
        KeyEvent::new(KeyCode::Char('g'), KeyModifiers::SHIFT),
    ] {
        assert_eq!(keymap::from_event(k), g, "{k:?}");
    }
    let km = Keymap::default();
    assert_eq!(
        km.resolve(
            Context::Secrets,
            KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT)
        ),
        Some(Action::Help)
    );
    assert_eq!(
        km.resolve(
            Context::Secrets,
            KeyEvent::new(KeyCode::Char('g'), KeyModifiers::NONE)
        ),
        Some(Action::Top)
    );
    assert_eq!(keymap::parse_key("ctrl-D"), keymap::parse_key("ctrl-d"));
    assert!(keymap::parse_key("hyper-q").is_none());
}

#[test]
fn actions_and_contexts_round_trip_their_config_names() {
    for a in Action::ALL {
        assert_eq!(Action::from_name(&a.name()), Some(a));
    }
    let mut names: Vec<String> = Action::ALL.iter().map(|a| a.name()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), Action::ALL.len(), "no action twice in ALL");
    for c in Context::ALL {
        assert_eq!(Context::from_name(&c.name()), Some(c));
    }
    assert_eq!(Action::CopyId.name(), "copy_id");
}

#[test]
fn readme_key_table_is_the_keymap() {
    let table = Keymap::default().markdown_table();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let (start, end) = ("<!-- keys -->\n", "<!-- /keys -->");
    let (Some(a), Some(b)) = (readme.find(start), readme.find(end)) else {
        panic!("README.md has no {start:?} … {end:?} section");
    };
    let current = &readme[a + start.len()..b];
    if current != table {
        if std::env::var_os("KVTUI_WRITE_README").is_some() {
            let updated = format!("{}{table}{}", &readme[..a + start.len()], &readme[b..]);
            std::fs::write(path, updated).expect("write README.md");
        } else {
            panic!("README's key table is not the keymap's: run `KVTUI_WRITE_README=1 cargo test -q --lib readme_key_table`");
        }
    }
}

#[test]
fn every_default_key_round_trips_through_the_config_spelling() {
    let km = Keymap::default();
    for ctx in Context::ALL {
        for e in km.entries(ctx) {
            for k in &e.keys {
                let spec = keymap::spec(*k);
                assert_eq!(keymap::parse_key(&spec), Some(*k), "{ctx:?} {spec}");
            }
        }
    }
}

#[test]
fn config_init_writes_a_file_that_checks_clean_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("kvtui/config.toml");
    crate::config::init(&p).expect("written");
    assert_eq!(crate::config::check_file(&p), Vec::new());
    let text = std::fs::read_to_string(&p).expect("read");
    for needle in [
        "[keys.secrets]",
        "\"copy_id\"",
        "[clipboard]",
        "[theme]",
        "\"shift-e\"",
        "(also shift-g)",
    ] {
        assert!(text.contains(needle), "{needle}");
    }
    let again = crate::config::init(&p).expect_err("refuses");
    assert!(again.to_string().contains("exists already"), "{again}");
    // Uncommenting every default binding of a view is a valid file that changes nothing.
    let uncommented = text
        .lines()
        .map(|l| match l.strip_prefix("# \"") {
            Some(rest) if text.contains("[keys.") => format!("\"{rest}"),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&p, uncommented).expect("write");
    let mistakes = crate::config::check_file(&p);
    assert!(
        mistakes.iter().all(|m| !m.message.contains("not a key")),
        "{mistakes:?}"
    );
}

#[test]
fn a_backup_onto_an_existing_file_asks_before_replacing_it() {
    let mut app = loaded(&["api-key"], &[]);
    press(&mut app, &[ch('b')]);
    let (id, req) = sent(&press(&mut app, &[key(KeyCode::Enter)])).remove(0);
    assert!(matches!(
        req,
        Request::Backup {
            overwrite: false,
            ..
        }
    ));
    app.on_response(Envelope {
        id,
        response: Response::Failed(VaultError::new(
            crate::vault::ErrorKind::FileExists,
            "./api-key.kvbackup exists already",
        )),
    });
    assert!(matches!(app.popup, Some(Popup::ConfirmOverwrite { .. })));
    // n keeps the file.
    press(&mut app, &[ch('n')]);
    assert!(app.popup.is_none());
    assert!(app
        .status
        .as_ref()
        .is_some_and(|s| s.text.contains("left as it was")));
    // Asked again and answered y: sent with overwrite.
    press(&mut app, &[ch('b')]);
    let (id, _) = sent(&press(&mut app, &[key(KeyCode::Enter)])).remove(0);
    app.on_response(Envelope {
        id,
        response: Response::Failed(VaultError::new(
            crate::vault::ErrorKind::FileExists,
            "exists",
        )),
    });
    let (_, req) = sent(&press(&mut app, &[ch('y')])).remove(0);
    assert!(matches!(
        req,
        Request::Backup {
            overwrite: true,
            ..
        }
    ));
}

#[test]
fn control_characters_are_shown_as_pictures_and_round_trip_through_the_form() {
    let evil = "\u{1b}]0;pwned\u{7}text/\u{1b}[2Jplain";
    assert_eq!(text::visible(evil), "␛]0;pwned␇text/␛[2Jplain");
    assert_eq!(text::invisible(&text::visible(evil)), evil);
    let mut p = props("evil");
    p.content_type = Some(evil.into());
    p.tags.insert("note".into(), "line1\r\nfake: line".into());
    let f = form::Form::properties(&p, None, time::UtcOffset::UTC);
    assert!(!f.content_type.value().contains('\u{1b}'));
    assert!(!f.tags.text().contains('\r'), "the tag stays on its line");
    let patch = f
        .patch(OffsetDateTime::UNIX_EPOCH, time::UtcOffset::UTC)
        .expect("valid");
    assert_eq!(patch.content_type.as_deref(), Some(evil));
    assert_eq!(
        patch.tags.as_ref().and_then(|t| t.get("note")),
        Some("line1\r\nfake: line")
    );
    // On screen: the pictures, never the raw escape.
    let mut app = loaded(&[], &[]);
    if let Some(v) = app.vault.as_mut() {
        v.secrets.push(p);
    }
    app.invalidate();
    app.prepare();
    let screen = screen_text(&mut app);
    assert!(screen.contains("␛]0;pwned"), "{screen}");
    assert!(!screen.contains('\u{1b}'));
}

#[test]
fn pages_merge_into_the_sorted_rows_and_the_cursor_stays_on_its_secret() {
    let mut list = VaultList::default();
    list.add("https://v.localhost:1", Source::Flag);
    let mut app = App::new(list);
    let ids = sent(&app.open_vault("https://v.localhost:1"));
    let page = |app: &mut App, names: &[&str], done: bool| {
        app.on_response(Envelope {
            id: ids[0].0,
            response: Response::SecretsPage {
                items: names.iter().map(|n| props(n)).collect(),
                done,
            },
        });
        app.prepare();
    };
    page(&mut app, &["b", "d", "M", "x"], false);
    // Put the cursor on "M", then a page that sorts before, between and after it.
    app.secrets_cursor.selected = 2;
    assert_eq!(app.selected_secret().map(|p| p.name.as_str()), Some("M"));
    page(&mut app, &["a", "c", "n", "zz"], false);
    assert_eq!(
        app.selected_secret().map(|p| p.name.as_str()),
        Some("M"),
        "the same secret"
    );
    page(&mut app, &["y"], true);
    let shown: Vec<String> = app
        .rows
        .iter()
        .filter_map(|r| app.vault.as_ref().map(|v| v.secrets[r.index].name.clone()))
        .collect();
    assert_eq!(shown, ["a", "b", "c", "d", "M", "n", "x", "y", "zz"]);
    // The same as sorting everything.
    app.invalidate();
    app.prepare();
    let again: Vec<String> = app
        .rows
        .iter()
        .filter_map(|r| app.vault.as_ref().map(|v| v.secrets[r.index].name.clone()))
        .collect();
    assert_eq!(shown, again);
}

#[test]
fn a_narrowing_query_finds_what_a_full_search_finds() {
    let names: Vec<String> = (0..300)
        .map(|i| format!("{}-{i:03}", ["db", "api", "dbx", "cache"][i % 4]))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut app = loaded(&refs, &[]);
    let shown = |app: &App| -> Vec<usize> { app.rows.iter().map(|r| r.index).collect() };
    press(&mut app, &[ch('/')]);
    // Typed in one batch with a backspace inside: "dbx" then back to "db", then "db-1".
    for c in ['d', 'b', 'x'] {
        app.on_event(&ch(c));
    }
    app.settle_filter();
    app.on_event(&key(KeyCode::Backspace));
    for c in ['-', '1'] {
        app.on_event(&ch(c));
    }
    app.settle_filter();
    let narrowed = shown(&app);
    app.invalidate();
    app.settle_filter();
    assert_eq!(
        narrowed,
        shown(&app),
        "the same rows as a search of everything"
    );
    assert!(!narrowed.is_empty());
}

#[test]
fn marked_secrets_are_deleted_a_few_at_a_time_with_one_confirmation_and_a_summary() {
    let names: Vec<String> = (0..7).map(|i| format!("s{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut app = loaded(&refs, &[]);
    // Space marks and moves on; * marks every row shown; the title counts them.
    press(&mut app, &[ch(' '), ch(' ')]);
    assert_eq!(app.marked_names(), ["s0", "s1"]);
    assert_eq!(app.current_cursor().selected, 2);
    press(&mut app, &[key(KeyCode::Up), ch(' ')]);
    assert_eq!(app.marked_names(), ["s0"], "Space again unmarks");
    press(&mut app, &[ch('*')]);
    assert_eq!(app.marked_names().len(), 7);
    assert!(screen_text(&mut app).contains("7 marked"));
    // One confirmation for all of them.
    let effects = press(&mut app, &[ch('d')]);
    assert!(sent(&effects).is_empty());
    assert!(matches!(&app.popup, Some(Popup::ConfirmBatch { names, .. }) if names.len() == 7));
    let effects = press(&mut app, &[ch('y')]);
    let first = sent(&effects);
    assert_eq!(first.len(), marks::BATCH_CONCURRENCY, "a few at a time");
    assert!(app.marked_names().is_empty(), "the marks went to the batch");
    assert!(screen_text(&mut app).contains("Deleting 7 marked: 0 done, 4 running, 3 to go"));
    // Each answer starts the next; one fails (certificate-backed, say).
    let mut pending: std::collections::VecDeque<(RequestId, Request)> = first.into();
    let mut answered = 0;
    while let Some((id, req)) = pending.pop_front() {
        let Request::Delete { name, .. } = req else {
            panic!("{req:?}")
        };
        let response = if name == "s3" {
            Response::Failed(VaultError::new(
                crate::vault::ErrorKind::Forbidden,
                "SecretManagedByKeyVault",
            ))
        } else {
            Response::Deleted(deleted(&name, "Recoverable+Purgeable"))
        };
        let effects = app.on_response(Envelope { id, response });
        pending.extend(sent(&effects));
        answered += 1;
    }
    assert_eq!(answered, 7);
    assert!(app.batch.is_none());
    let status = app.status.clone().expect("a summary");
    assert!(status.error, "{status:?}");
    assert!(
        status
            .text
            .starts_with("Deleted 6 of 7 secrets; 1 failed — 's3'"),
        "{}",
        status.text
    );
    let v = app.vault.as_ref().expect("vault");
    assert_eq!(v.secrets.len(), 1);
    assert_eq!(v.deleted.len(), 6);
}

#[test]
fn esc_stops_a_bulk_action_between_items_and_clears_marks() {
    let mut app = loaded(&["a", "b", "c", "d", "e", "f"], &[]);
    press(&mut app, &[ch('*')]);
    press(&mut app, &[key(KeyCode::Esc)]);
    assert!(app.marked_names().is_empty(), "Esc clears the marks");
    assert_eq!(app.screen, Screen::Vault, "and stays in the vault");
    press(&mut app, &[ch('*'), ch('d')]);
    let first = sent(&press(&mut app, &[ch('y')]));
    assert_eq!(first.len(), 4);
    press(&mut app, &[key(KeyCode::Esc)]);
    assert!(app
        .status
        .as_ref()
        .is_some_and(|s| s.text.contains("stopping: 2 not started")));
    let mut more = Vec::new();
    for (id, req) in first {
        let Request::Delete { name, .. } = req else {
            panic!()
        };
        more.extend(sent(&app.on_response(Envelope {
            id,
            response: Response::Deleted(deleted(&name, "Recoverable+Purgeable")),
        })));
    }
    assert!(more.is_empty(), "nothing new after Esc");
    assert!(app
        .status
        .as_ref()
        .is_some_and(|s| !s.error && s.text.starts_with("Deleted 4 secrets")));
    // Purging marked deleted secrets wants their count typed.
    press(&mut app, &[key(KeyCode::Tab), ch('*'), ch('P')]);
    assert!(matches!(
        app.popup,
        Some(Popup::ConfirmBatch {
            kind: OpKind::Purge,
            ..
        })
    ));
    assert!(
        sent(&press(&mut app, &[key(KeyCode::Enter)])).is_empty(),
        "not yet typed"
    );
    let effects = press(&mut app, &[ch('4'), key(KeyCode::Enter)]);
    assert_eq!(sent(&effects).len(), 4);
    assert!(sent(&effects)
        .iter()
        .all(|(_, r)| matches!(r, Request::Purge { .. })));
}

#[test]
fn search_and_expiring_span_every_known_vault_and_open_the_secret_in_its_vault() {
    let mut app = loaded(&["db-password", "api-key"], &[]);
    app.now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    for url in ["https://other.localhost:1", "https://third.localhost:1"] {
        app.vaults.add(url, Source::Recent);
    }
    // The open vault from what is loaded; the other two listed, a few at a time.
    let effects = app.open_across(across::AcrossKind::Search);
    let scans = sent(&effects);
    assert_eq!(scans.len(), 2);
    assert!(scans
        .iter()
        .all(|(_, r)| matches!(r, Request::ScanSecrets { .. })));
    let soon = |name: &str, days: i64| SecretProps {
        expires: Some(app.now + time::Duration::days(days)),
        ..props(name)
    };
    app.on_response(Envelope {
        id: scans[0].0,
        response: Response::SecretsPage {
            items: vec![soon("db-password", 3), soon("smtp-password", 60)],
            done: true,
        },
    });
    app.on_response(Envelope {
        id: scans[1].0,
        response: Response::Failed(VaultError::new(
            crate::vault::ErrorKind::Forbidden,
            "no list",
        )),
    });
    let a = app.across.as_ref().expect("across");
    assert_eq!((a.loaded, a.failed.len(), a.total), (2, 1, 3));
    assert!(
        a.progress().contains("1 failed (third: "),
        "{}",
        a.progress()
    );
    // Fuzzy over every vault's names.
    let rows = app.across_rows(across::AcrossKind::Search, "passw");
    let names: Vec<(String, String)> = rows
        .iter()
        .map(|i| {
            let it = &app.across.as_ref().expect("across").items[*i];
            (it.vault_name.clone(), it.props.name.clone())
        })
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.contains(&("other".into(), "smtp-password".into())));
    // By time left: the 3-day one first, then the 60-day one, then those with no expiry.
    let rows = app.across_rows(across::AcrossKind::Expiring, "");
    let first = &app.across.as_ref().expect("across").items[rows[0]];
    assert_eq!(
        (first.vault_name.as_str(), first.props.name.as_str()),
        ("other", "db-password")
    );
    assert_eq!(
        across::bucket(first.props.expires, app.now).1,
        "within 7 days"
    );
    // Enter on smtp-password opens its vault with it selected.
    app.popup = Some(Popup::Across {
        kind: across::AcrossKind::Search,
        input: text::LineField::new("smtp"),
        cursor: 0,
    });
    let effects = app.update(Action::Open);
    assert!(sent(&effects).iter().any(
        |(_, r)| matches!(r, Request::ListSecrets { vault } if vault == "https://other.localhost:1")
    ));
    assert!(app.popup.is_none() && app.across.is_none());
    let list = sent(&effects)
        .into_iter()
        .find(|(_, r)| matches!(r, Request::ListSecrets { .. }))
        .expect("listing");
    app.on_response(Envelope {
        id: list.0,
        response: Response::SecretsPage {
            items: vec![props("a-first"), props("smtp-password")],
            done: true,
        },
    });
    app.prepare();
    assert_eq!(
        app.selected_secret().map(|s| s.name.as_str()),
        Some("smtp-password")
    );
}

#[test]
fn a_vault_opened_again_shows_its_cached_names_at_once_then_the_fresh_list() {
    let dir = tempfile::tempdir().expect("dir");
    let cache = crate::cache::NamesCache::new(dir.path().join("names"));
    let url = "https://v.localhost:1";
    let opened = |app: &mut App| {
        let mut list = VaultList::default();
        list.add(url, Source::Flag);
        app.vaults = list;
        app.size = (100, 30);
        sent(&app.open_vault(url))
    };
    // First open: listed, then kept.
    let mut app = App::new(VaultList::default());
    app.names_cache = Some(cache.clone());
    let ids = opened(&mut app);
    let effects = app.on_response(Envelope {
        id: ids[0].0,
        response: Response::SecretsPage {
            items: vec![props("alpha"), props("beta"), props("gone-soon")],
            done: true,
        },
    });
    let Some(Effect::SaveNames { who, vault, items }) = effects.into_iter().next() else {
        panic!("the list is kept")
    };
    assert_eq!(who, "local");
    cache.save(&who, &vault, &items).expect("save");
    // Again, in a new session: the cached rows, read off the UI thread, before any page.
    let mut app = App::new(VaultList::default());
    app.names_cache = Some(cache.clone());
    let ids = opened(&mut app);
    let read = |app: &mut App, ids: &[(RequestId, Request)]| {
        let Some((id, Request::ReadNamesCache { cache, who, vault })) = ids
            .iter()
            .find(|(_, r)| matches!(r, Request::ReadNamesCache { .. }))
        else {
            panic!("the cache is read: {ids:?}")
        };
        app.on_response(Envelope {
            id: *id,
            response: Response::CachedNames(cache.load(who, vault)),
        });
        app.prepare();
    };
    read(&mut app, &ids);
    assert_eq!(app.rows.len(), 3, "cached rows at once");
    assert!(
        screen_text(&mut app).contains("cached"),
        "said to be cached"
    );
    app.update(Action::Down);
    assert_eq!(app.selected_secret().map(|s| s.name.as_str()), Some("beta"));
    // The fresh listing replaces them whole when it ends; the cursor stays on beta.
    app.on_response(Envelope {
        id: ids[0].0,
        response: Response::SecretsPage {
            items: vec![props("a-new-one")],
            done: false,
        },
    });
    app.prepare();
    assert_eq!(app.rows.len(), 3, "no half list");
    // A secret saved while the listing runs (past its name already) stays; a deleted one stays gone.
    app.upsert(props("made-meanwhile"));
    app.vault
        .as_mut()
        .expect("vault")
        .note_change("alpha", None);
    app.on_response(Envelope {
        id: ids[0].0,
        response: Response::SecretsPage {
            items: vec![props("alpha"), props("beta")],
            done: true,
        },
    });
    app.prepare();
    let names: Vec<&str> = app
        .vault
        .as_ref()
        .expect("vault")
        .secrets
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["a-new-one", "beta", "made-meanwhile"]);
    assert_eq!(app.selected_secret().map(|s| s.name.as_str()), Some("beta"));
    assert!(!screen_text(&mut app).contains("cached"));
    // Read after the listing's first page: the cached rows show, that page goes aside with the
    // rest, and the whole fresh list replaces them at the end.
    let mut app = App::new(VaultList::default());
    app.names_cache = Some(cache.clone());
    let ids = opened(&mut app);
    let page = |app: &mut App, name: &str, done: bool| {
        app.on_response(Envelope {
            id: ids[0].0,
            response: Response::SecretsPage {
                items: vec![props(name)],
                done,
            },
        });
        app.prepare();
    };
    page(&mut app, "first-page", false);
    read(&mut app, &ids);
    assert_eq!(shown_names(&app), ["alpha", "beta", "gone-soon"]);
    assert!(screen_text(&mut app).contains("cached"));
    page(&mut app, "last-page", true);
    assert_eq!(shown_names(&app), ["first-page", "last-page"]);
    // Read after the listing ended: not shown.
    let mut app = App::new(VaultList::default());
    app.names_cache = Some(cache.clone());
    let ids = opened(&mut app);
    app.on_response(Envelope {
        id: ids[0].0,
        response: Response::SecretsPage {
            items: vec![props("only")],
            done: true,
        },
    });
    read(&mut app, &ids);
    assert_eq!(shown_names(&app), ["only"]);
    assert!(!screen_text(&mut app).contains("cached"));
}

/// The names of the rows shown, in order.
fn shown_names(app: &App) -> Vec<String> {
    app.rows
        .iter()
        .filter_map(|r| app.vault.as_ref().map(|v| v.secrets[r.index].name.clone()))
        .collect()
}

/// What a full search of `names` for `query` finds, by the same scoring: best first, then
/// shorter, then list order.
fn expected_matches(names: &[String], query: &str) -> Vec<String> {
    let f = Filter::parse(query);
    let mut hits: Vec<(u32, usize, usize)> = names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| Some((f.score(n)?, n.len(), i)))
        .collect();
    hits.sort_by_key(|&(s, len, i)| (std::cmp::Reverse(s), len, i));
    hits.into_iter().map(|(_, _, i)| names[i].clone()).collect()
}

#[test]
fn a_big_list_is_matched_off_the_ui_thread_and_new_pages_join_the_result() {
    let names: Vec<String> = (0..40_000)
        .map(|i| format!("svc-{i:05}-{}", ["db-password", "api-key", "cache"][i % 3]))
        .collect();
    let mut list = VaultList::default();
    list.add("https://v.localhost:1", Source::Flag);
    let mut app = App::new(list);
    app.size = (100, 30);
    let ids = sent(&app.open_vault("https://v.localhost:1"));
    let page = |app: &mut App, names: &[String], done: bool| {
        app.on_response(Envelope {
            id: ids[0].0,
            response: Response::SecretsPage {
                items: names.iter().map(|n| props(n)).collect(),
                done,
            },
        });
        app.settle_filter();
    };
    page(&mut app, &names[..20_000], false);
    press(&mut app, &[ch('/')]);
    press(&mut app, &"9dbp".chars().map(ch).collect::<Vec<_>>());
    assert_eq!(
        shown_names(&app),
        expected_matches(&names[..20_000], "9dbp")
    );
    assert!(!shown_names(&app).is_empty());
    // The rest of the list streams in while the filter is on: its matches join.
    page(&mut app, &names[20_000..], true);
    assert_eq!(shown_names(&app), expected_matches(&names, "9dbp"));
    // Words match in any order; a narrowing query finds what a full search finds.
    press(&mut app, &" 12".chars().map(ch).collect::<Vec<_>>());
    assert_eq!(shown_names(&app), expected_matches(&names, "9dbp 12"));
    press(&mut app, &vec![key(KeyCode::Backspace); 3]);
    assert_eq!(shown_names(&app), expected_matches(&names, "9dbp"));
}

#[test]
fn a_filter_keeps_the_sort_when_not_sorting_by_name() {
    let mut app = loaded(&["db-a", "db-b", "api", "db-c"], &[]);
    let day = |d: i64| Some(time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(d));
    if let Some(v) = app.vault.as_mut() {
        for (p, d) in v.secrets.iter_mut().zip([3, 9, 5, 1]) {
            p.updated = day(d);
        }
        v.secrets[2].tags.insert("env".into(), "prod".into());
        v.secrets[3].tags.insert("env".into(), "prod".into());
    }
    app.sort = SortKey::Updated;
    app.invalidate();
    press(&mut app, &"/db".chars().map(ch).collect::<Vec<_>>());
    assert_eq!(shown_names(&app), ["db-b", "db-a", "db-c"], "newest first");
    press(
        &mut app,
        &" tag:env=prod".chars().map(ch).collect::<Vec<_>>(),
    );
    assert_eq!(shown_names(&app), ["db-c"]);
}

#[test]
fn the_loop_is_woken_when_a_slow_result_is_ready() {
    // Past 200,000 names a keystroke's frame does not wait for the matcher: it echoes the key
    // with the previous rows, and the wake brings the result.
    let names: Vec<String> = (0..210_000).map(|i| format!("n-{i:06}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut app = loaded(&refs, &[]);
    let wake = app.wake.clone();
    let _ = app.on_event(&ch('/'));
    app.prepare();
    let _ = app.on_event(&ch('7'));
    app.prepare();
    assert_eq!(app.filter.value(), "7");
    let expected = expected_matches(&names, "7").len();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    rt.block_on(async {
        while app.rows.len() != expected || app.filtering() {
            tokio::time::timeout(Duration::from_secs(30), wake.notified())
                .await
                .expect("woken with the result");
            app.prepare();
        }
    });
    assert_eq!(app.rows.len(), expected);
}
