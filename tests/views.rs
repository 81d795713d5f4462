//! Snapshots of every view, overlay, confirmation and error state at 100×30 and 80×24, drawn into
//! ratatui's TestBackend from fixed App states (fixed clock, fixed URLs).

use kvtui::app::{App, OpKind, Operation, Popup, Screen, StatusMessage, Tab, ValuePanel};
use kvtui::vault::discovery::DiscoveredVault;
use kvtui::vault::sources::{Source, VaultList};
use kvtui::vault::worker::{Phase, Progress};
use kvtui::vault::{DeletedProps, Envelope, Request, Response, SecretProps, SecretValue};
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;
use time::{Duration, OffsetDateTime};

const SIZES: [(u16, u16); 2] = [(100, 30), (80, 24)];
const URL: &str = "https://demo.localhost:8443";

fn now() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
}

fn secret(
    name: &str,
    days_ago: i64,
    expires_in: Option<i64>,
    ct: Option<&str>,
    tags: &[(&str, &str)],
) -> SecretProps {
    SecretProps {
        name: name.into(),
        id: format!("{URL}/secrets/{name}"),
        version: Some("0f3c9a0d5e6b4c2a8d7e1f2a3b4c5d6e".into()),
        enabled: true,
        content_type: ct.map(str::to_string),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<kvtui::vault::Tags>(),
        created: Some(now() - Duration::days(days_ago + 30)),
        updated: Some(now() - Duration::days(days_ago)),
        expires: expires_in.map(|d| now() + Duration::days(d)),
        recovery_level: Some("Recoverable+Purgeable".into()),
        recoverable_days: Some(90),
        ..SecretProps::default()
    }
}

fn base_app() -> App {
    let mut vaults = VaultList::default();
    vaults.add(URL, Source::Flag);
    let i = vaults.add("https://kv-prod.vault.azure.net", Source::Recent);
    vaults.add_discovered(&DiscoveredVault {
        tenant_name: None,
        resource_id: None,
        name: "kv-prod".into(),
        url: "https://kv-prod.vault.azure.net/".into(),
        subscription_id: "s1".into(),
        subscription_name: Some("Production".into()),
        location: Some("westeurope".into()),
        tenant: None,
    });
    let _ = i;
    vaults.add("https://kv-dev.vault.azure.net", Source::Config);
    let mut app = App::new(vaults);
    app.now = now();
    app.color = true;
    app.identity = Some(kvtui::vault::credential::Identity {
        credential: "AzureCliCredential".into(),
        ..Default::default()
    });
    app
}

fn open(app: &mut App) {
    let effects = app.open_vault(URL);
    let ids: Vec<u64> = effects
        .iter()
        .filter_map(|e| {
            if let kvtui::app::Effect::Send(id, _) = e {
                Some(*id)
            } else {
                None
            }
        })
        .collect();
    let secrets = vec![
        secret(
            "api-key",
            3,
            None,
            Some("text/plain"),
            &[("env", "prod"), ("team", "payments")],
        ),
        secret(
            "app-config",
            12,
            Some(200),
            Some("application/json"),
            &[("team", "web")],
        ),
        secret(
            "db-connection-string",
            1,
            Some(-4),
            Some("text/plain"),
            &[("team", "data")],
        ),
        secret(
            "db-password",
            40,
            Some(12),
            Some("text/plain"),
            &[("team", "data")],
        ),
        {
            let mut s = secret(
                "legacy-ftp-password",
                400,
                None,
                None,
                &[("deprecated", "true")],
            );
            s.enabled = false;
            s
        },
        secret(
            "tls-private-key",
            90,
            Some(365),
            Some("application/x-pem-file"),
            &[],
        ),
    ];
    app.on_response(Envelope {
        id: ids[0],
        response: Response::SecretsPage {
            items: secrets,
            done: true,
        },
    });
    let deleted = vec![
        DeletedProps {
            props: secret("old-db-password", 10, None, Some("text/plain"), &[]),
            recovery_id: Some(format!("{URL}/deletedsecrets/old-db-password")),
            deleted_on: Some(now() - Duration::days(2)),
            scheduled_purge: Some(now() + Duration::days(88)),
        },
        DeletedProps {
            props: secret("temp-token", 50, None, None, &[]),
            recovery_id: Some(format!("{URL}/deletedsecrets/temp-token")),
            deleted_on: Some(now() - Duration::days(86)),
            scheduled_purge: Some(now() + Duration::days(4)),
        },
    ];
    app.on_response(Envelope {
        id: ids[1],
        response: Response::DeletedPage {
            items: deleted,
            done: true,
        },
    });
}

fn render(app: &mut App, size: (u16, u16)) -> (String, ratatui::buffer::Buffer) {
    app.size = size;
    app.settle_filter();
    let mut terminal = Terminal::new(TestBackend::new(size.0, size.1)).expect("terminal");
    terminal
        .draw(|f| {
            kvtui::ui::draw(f, app);
        })
        .expect("draw");
    let buffer = terminal.backend().buffer().clone();
    let text = buffer
        .content
        .chunks(size.0 as usize)
        .map(|row| {
            row.iter()
                .map(|c| c.symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    (text, buffer)
}

fn snap(name: &str, mut make: impl FnMut() -> App) {
    for size in SIZES {
        let mut app = make();
        let (text, _) = render(&mut app, size);
        insta::assert_snapshot!(format!("{name}_{}x{}", size.0, size.1), text);
    }
}

#[test]
fn vault_picker() {
    snap("vaults", base_app);
    // Discovered across two tenants, streaming in out of order: grouped by tenant and subscription,
    // the tenant named.
    snap("vaults_two_tenants", || {
        let mut vaults = VaultList::default();
        for (name, sub, tenant) in [
            ("kv-contoso-prod", "Contoso Prod", "Contoso"),
            ("kv-fabrikam", "Fabrikam Shared", "Fabrikam"),
            ("kv-contoso-dev", "Contoso Dev", "Contoso"),
            ("kv-contoso-prod2", "Contoso Prod", "Contoso"),
            ("kv-fabrikam-2", "Fabrikam Shared", "Fabrikam"),
        ] {
            vaults.add_discovered(&DiscoveredVault {
                tenant_name: Some(tenant.into()),
                resource_id: None,
                name: name.into(),
                url: format!("https://{name}.vault.azure.net"),
                subscription_id: sub.to_ascii_lowercase(),
                subscription_name: Some(sub.into()),
                location: Some("westeurope".into()),
                tenant: Some(format!("{}-tenant-id", tenant.to_ascii_lowercase())),
            });
        }
        let mut app = App::new(vaults);
        app.now = now();
        app
    });
    snap("vaults_discovering_empty", || {
        let mut app = App::new(VaultList::default());
        app.now = now();
        app.discover();
        app
    });
}

#[test]
fn marked_rows_and_their_bulk_confirmation() {
    snap("secrets_marked_confirm_delete", || {
        let mut app = base_app();
        open(&mut app);
        app.prepare();
        app.update(kvtui::app::Action::Mark);
        app.update(kvtui::app::Action::Down);
        app.update(kvtui::app::Action::Mark);
        app.prepare();
        app.update(kvtui::app::Action::Delete);
        app
    });
}

#[test]
fn secret_list_filtered_loading_and_empty() {
    snap("secrets", || {
        let mut app = base_app();
        open(&mut app);
        app
    });
    snap("secrets_filtered", || {
        let mut app = base_app();
        open(&mut app);
        app.filter = "db".into();
        app.filter_editing = true;
        app.invalidate();
        app
    });
    snap("secrets_loading", || {
        let mut app = base_app();
        let _ = app.open_vault(URL);
        app
    });
}

#[test]
fn deleted_list() {
    snap("deleted", || {
        let mut app = base_app();
        open(&mut app);
        app.tab = Tab::Deleted;
        app.invalidate();
        app
    });
}

fn with_value(revealed: bool, value: &str) -> App {
    let mut app = base_app();
    open(&mut app);
    let mut p = secret(
        "app-config",
        12,
        Some(200),
        Some("application/json"),
        &[("team", "web")],
    );
    p.id = format!("{URL}/secrets/app-config/0f3c9a0d5e6b4c2a8d7e1f2a3b4c5d6e");
    app.value = Some(ValuePanel {
        name: "app-config".into(),
        props: Some(p),
        value: Some(SecretValue::new(value.into())),
        shown: Some(kvtui::app::versions::pretty(value)),
        revealed,
        scroll: 0,
        error: None,
    });
    app
}

const JSON_VALUE: &str =
    r#"{"featureFlags":{"newCheckout":true},"retries":3,"canary":"s3cr3t-canary"}"#;

#[test]
fn value_panel_masked_and_revealed() {
    snap("value_masked", || with_value(false, JSON_VALUE));
    snap("value_revealed_json_pretty", || {
        with_value(true, JSON_VALUE)
    });
    for size in SIZES {
        let (text, _) = render(&mut with_value(false, JSON_VALUE), size);
        assert!(
            !text.contains("s3cr3t-canary"),
            "the masked panel shows no value"
        );
        assert!(!text.contains("featureFlags"));
        assert!(text.contains("••••••••••••••••"));
        // The mask does not reveal the length.
        let (short, _) = render(&mut with_value(false, "x"), size);
        assert_eq!(short.matches('•').count(), text.matches('•').count());
        let (revealed, _) = render(&mut with_value(true, JSON_VALUE), size);
        assert!(revealed.contains("s3cr3t-canary"));
        assert!(
            revealed.contains("  \"retries\": 3"),
            "JSON is pretty-printed"
        );
    }
}

#[test]
fn overlays_and_confirmations() {
    let popup = |p: Popup, tab: Tab| {
        move || {
            let mut app = base_app();
            open(&mut app);
            app.tab = tab;
            app.popup = Some(p.clone());
            app.invalidate();
            app
        }
    };
    snap(
        "help",
        popup(
            Popup::Help {
                context: kvtui::app::Context::Secrets,
                scroll: 0,
            },
            Tab::Secrets,
        ),
    );
    snap(
        "confirm_delete",
        popup(
            Popup::ConfirmDelete {
                name: "db-password".into(),
            },
            Tab::Secrets,
        ),
    );
    snap(
        "confirm_purge_typing",
        popup(
            Popup::ConfirmPurge {
                name: "old-db-password".into(),
                typed: "old-db".into(),
            },
            Tab::Deleted,
        ),
    );
    snap("confirm_quit", popup(Popup::ConfirmQuit, Tab::Secrets));
    snap("open_vault_error", || {
        let mut app = base_app();
        app.popup = Some(Popup::OpenVault { input: "bad_name".into(), error: Some("'bad_name' is not a vault name (3–24 letters, digits and hyphens, starting with a letter) or an https URL".into()) });
        app
    });
}

/// The list with a delete of `db-password` three seconds in, waiting for the soft-delete to finish.
fn deleting_app() -> App {
    let mut app = base_app();
    open(&mut app);
    let started = app.instant;
    app.instant = started + std::time::Duration::from_secs(3);
    app.jobs.insert(
        1,
        kvtui::app::Job::Op(Operation {
            kind: OpKind::Delete,
            name: "db-password".into(),
            started,
            progress: Some(Progress {
                elapsed: std::time::Duration::from_secs(3),
                attempts: 5,
                phase: Phase::WaitingForDeletion,
            }),
            followup: None,
            batch: false,
        }),
    );
    app
}

#[test]
fn progress_and_error_states() {
    snap("deleting_with_progress", deleting_app);
    snap("error_status", || {
        let mut app = base_app();
        open(&mut app);
        app.status = Some(StatusMessage { text: "delete 'api-key': 403 Forbidden (ForbiddenByRbac): caller lacks secrets/delete on demo".into(), error: true });
        app
    });
    snap("read_only", || {
        let mut app = base_app();
        app.read_only = true;
        open(&mut app);
        app
    });
}

#[test]
fn expiry_colours_and_the_selected_row() {
    let mut app = base_app();
    open(&mut app);
    let (text, buf) = render(&mut app, (100, 30));
    let find = |needle: &str| -> (u16, u16) {
        for (y, line) in text.lines().enumerate() {
            if let Some(x) = line.find(needle) {
                let x = line[..x].chars().count();
                return (x as u16, y as u16);
            }
        }
        panic!("{needle} not on screen:\n{text}");
    };
    let (x, y) = find("expired 4d");
    assert_eq!(buf[(x, y)].fg, Color::Red, "expired is red");
    let (x, y) = find("in 12d");
    assert_eq!(
        buf[(x, y)].fg,
        Color::Yellow,
        "expiring within 30 days is yellow"
    );
    let (x, y) = find("api-key");
    assert_eq!(buf[(x, y)].bg, Color::Blue, "the selected row stands out");
    // NO_COLOR: no colours at all, the selection is reversed instead.
    app.color = false;
    let (_, buf) = render(&mut app, (100, 30));
    assert!(buf
        .content
        .iter()
        .all(|c| c.fg == Color::Reset && c.bg == Color::Reset));
}

#[test]
fn only_visible_rows_are_built_for_100k_secrets() {
    let mut app = base_app();
    let effects = app.open_vault(URL);
    let id = effects
        .iter()
        .find_map(|e| {
            if let kvtui::app::Effect::Send(id, Request::ListSecrets { .. }) = e {
                Some(*id)
            } else {
                None
            }
        })
        .expect("list");
    let items: Vec<SecretProps> = (0..100_000)
        .map(|i| secret(&format!("secret-{i:06}"), i % 300, None, None, &[]))
        .collect();
    app.on_response(Envelope {
        id,
        response: Response::SecretsPage { items, done: true },
    });
    app.size = (100, 30);
    app.prepare();
    let t = std::time::Instant::now();
    for _ in 0..20 {
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
        terminal
            .draw(|f| {
                kvtui::ui::draw(f, &app);
            })
            .expect("draw");
    }
    let per_frame = t.elapsed() / 20;
    println!("100,000 secrets: {per_frame:?} per frame (debug build)");
    app.filter = "99999".into();
    app.invalidate();
    let t = std::time::Instant::now();
    app.settle_filter();
    println!("filtering 100,000 secrets: {:?} (debug build)", t.elapsed());
    let subsequence = |name: &str| {
        let mut it = name.chars();
        "99999".chars().all(|c| it.any(|x| x == c))
    };
    let expected = (0..100_000)
        .filter(|i| subsequence(&format!("secret-{i:06}")))
        .count();
    assert_eq!(app.rows.len(), expected, "filtered over all 100,000");
    assert_eq!(app.screen, Screen::Vault);
}

fn form_app(f: kvtui::app::form::Form) -> App {
    let mut app = base_app();
    open(&mut app);
    app.local_offset = time::UtcOffset::from_hms(1, 0, 0).expect("offset");
    app.form = Some(f);
    app
}

#[test]
fn forms_and_their_errors() {
    use kvtui::app::form::Form;
    snap("form_create_errors", || {
        let mut f = Form::create();
        f.name = "bad name".into();
        f.value = kvtui::app::text::SecretField::with("line one\nline two");
        f.tags = "env=prod\nnot a tag".into();
        f.expires = "+30d".into();
        f.not_before = "someday".into();
        form_app(f)
    });
    snap("form_create_value_shown", || {
        let mut f = Form::create();
        f.name = "tls-cert".into();
        f.value = kvtui::app::text::SecretField::with(
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        );
        f.show_value = true;
        f.focus = 1;
        f.expires = "2026-12-31T08:00".into();
        form_app(f)
    });
    snap("form_new_version", || {
        let p = secret(
            "db-password",
            40,
            Some(12),
            Some("text/plain"),
            &[("team", "data")],
        );
        form_app(Form::new_version(&p))
    });
    snap("form_properties_service_error", || {
        let p = secret(
            "app-config",
            12,
            Some(200),
            Some("application/json"),
            &[("team", "web")],
        );
        let mut f = Form::properties(&p, None, time::UtcOffset::UTC);
        let message = "Caller is not authorized to perform action on resource.\nCaller: appid=app;oid=0f3c9a0d-5e6b-4c2a-8d7e-1f2a3b4c5d6e;iss=https://sts.windows.net/t/\nAction: 'Microsoft.KeyVault/vaults/secrets/update/action'\nVault: demo;location=local";
        f.service_error = Some(kvtui::vault::VaultError {
            kind: kvtui::vault::ErrorKind::Forbidden,
            status: Some(403),
            code: Some("ForbiddenByRbac".into()),
            message: message.replace('\n', " "),
            detail: message.into(),
            tenant: None,
        });
        form_app(f)
    });
    snap("conflict_dialog", || {
        let mut f = Form::create();
        f.name = "old-db-password".into();
        let mut app = form_app(f);
        app.popup = Some(Popup::Conflict {
            name: "old-db-password".into(),
        });
        app
    });
    snap("backup_prompt", || {
        let mut app = base_app();
        open(&mut app);
        app.popup = Some(Popup::Backup {
            name: "api-key".into(),
            path: "./api-key.kvbackup".into(),
            error: None,
        });
        app
    });
    snap("command_line_candidates", || {
        let mut app = base_app();
        app.popup = Some(Popup::Command {
            input: "v".into(),
            error: Some("vaults  versions  vault ".into()),
        });
        app
    });
}

fn versions_app() -> App {
    use kvtui::app::versions::VersionsView;
    let mut app = base_app();
    open(&mut app);
    let mut v1 = secret("db-password", 40, None, Some("text/plain"), &[]);
    v1.version = Some("a1b2c3d4e5f60718293a4b5c6d7e8f90".into());
    let mut v2 = secret("db-password", 100, Some(-3), Some("text/plain"), &[]);
    v2.version = Some("0f9e8d7c6b5a49382716051423324150".into());
    v2.enabled = false;
    app.versions = Some(VersionsView {
        name: "db-password".into(),
        items: vec![v1, v2],
        marked: Some("0f9e8d7c6b5a49382716051423324150".into()),
        ..VersionsView::default()
    });
    app
}

#[test]
fn versions_and_the_comparison() {
    use kvtui::app::versions::{Compare, Side};
    snap("versions", versions_app);
    let compare = |revealed: bool| {
        move || {
            let mut app = versions_app();
            if let Some(v) = app.versions.as_mut() {
                let side = |i: usize, value: &str| Side {
                    props: v.items[i].clone(),
                    value: Some(SecretValue::new(value.into())),
                };
                let (newer, older) = (
                    "host=db\nport=6432\nuser=old",
                    "host=db\nport=5432\nuser=old",
                );
                v.compare = Some(Compare {
                    newer: side(0, newer),
                    older: side(1, older),
                    rows: Some(kvtui::app::versions::diff_rows(newer, older)),
                    revealed,
                    scroll: 0,
                    error: None,
                });
            }
            app
        }
    };
    snap("versions_compare_masked", compare(false));
    snap("versions_compare_revealed", compare(true));
    for size in SIZES {
        let (text, _) = render(&mut compare(false)(), size);
        assert!(!text.contains("port="), "masked comparison shows no value");
        assert_eq!(
            text.matches("≠ ••").count(),
            2,
            "the one differing line is marked on both sides"
        );
    }
}

#[test]
fn the_light_theme_and_colour_overrides() {
    let mut app = base_app();
    open(&mut app);
    let cfg = kvtui::config::ThemeConfig {
        name: Some("light".into()),
        selected_bg: Some("#005f87".into()),
        ..Default::default()
    };
    app.palette = kvtui::ui::theme::Palette::from_config(&cfg);
    let (text, buf) = render(&mut app, (100, 30));
    let y = text
        .lines()
        .position(|l| l.starts_with("api-key"))
        .expect("row") as u16;
    assert_eq!(buf[(0, y)].bg, Color::Rgb(0x00, 0x5f, 0x87));
    assert_eq!(buf[(1, 0)].fg, Color::Blue, "the light theme's accent");
}

/// Runs a `:` command as typed, returning the requests it sent.
fn command(app: &mut App, line: &str) -> Vec<(u64, Request)> {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    let key = |c: KeyCode| Event::Key(KeyEvent::new(c, KeyModifiers::NONE));
    let mut effects = app.on_event(&key(KeyCode::Char(':')));
    for c in line.chars() {
        effects.extend(app.on_event(&key(KeyCode::Char(c))));
    }
    effects.extend(app.on_event(&key(KeyCode::Enter)));
    effects
        .into_iter()
        .filter_map(|e| match e {
            kvtui::app::Effect::Send(id, r) => Some((id, r)),
            _ => None,
        })
        .collect()
}

/// Three secrets marked and being deleted together.
fn bulk_app() -> App {
    let mut app = base_app();
    open(&mut app);
    app.prepare();
    for a in [
        kvtui::app::Action::Mark,
        kvtui::app::Action::Mark,
        kvtui::app::Action::Down,
        kvtui::app::Action::Mark,
        kvtui::app::Action::Delete,
        kvtui::app::Action::Confirm,
    ] {
        app.update(a);
        app.prepare();
    }
    app.instant += std::time::Duration::from_secs(2);
    app
}

/// `:search` over the open vault and kv-dev (kv-prod refused).
fn search_app() -> App {
    let mut app = base_app();
    open(&mut app);
    let sent = command(&mut app, "search");
    for (id, r) in sent {
        let Request::ScanSecrets { vault } = r else {
            continue;
        };
        let response = if vault.contains("kv-dev") {
            Response::SecretsPage {
                items: vec![
                    secret(
                        "db-password",
                        2,
                        Some(5),
                        Some("text/plain"),
                        &[("team", "data")],
                    ),
                    secret("feature-flags", 9, None, Some("application/json"), &[]),
                ],
                done: true,
            }
        } else {
            Response::Failed(kvtui::vault::VaultError::new(
                kvtui::vault::ErrorKind::Forbidden,
                "ForbiddenByRbac: caller lacks secrets/list",
            ))
        };
        app.on_response(Envelope { id, response });
    }
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    for c in "db".chars() {
        app.on_event(&Event::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }
    app
}

/// The open vault compared with kv-dev: one of each kind.
fn compare_app() -> App {
    let mut app = base_app();
    open(&mut app);
    let sent = command(&mut app, "compare-vaults kv-dev");
    let right = |name: &str, ct: Option<&str>| secret(name, 5, None, ct, &[]);
    let mut fingerprints = Vec::new();
    for (id, r) in sent {
        let response = match r {
            Request::ScanSecrets { .. } => Response::SecretsPage {
                items: vec![
                    right("api-key", Some("text/plain")),
                    right("app-config", Some("text/plain")),
                    right("db-password", Some("text/plain")),
                    right("only-in-dev", None),
                ],
                done: true,
            },
            Request::ListDeleted { .. } => Response::DeletedPage {
                items: vec![DeletedProps {
                    props: right("tls-private-key", None),
                    ..DeletedProps::default()
                }],
                done: true,
            },
            _ => continue,
        };
        for (id, r) in app
            .on_response(Envelope { id, response })
            .into_iter()
            .filter_map(|e| match e {
                kvtui::app::Effect::Send(id, r) => Some((id, r)),
                _ => None,
            })
        {
            fingerprints.push((id, r));
        }
    }
    while let Some((id, r)) = fingerprints.pop() {
        let Request::Fingerprint { vault, name } = r else {
            continue;
        };
        let same = name != "db-password" || vault.contains("demo");
        let mut hash = [if same { 1 } else { 2 }; 32];
        if name == "db-password" && vault.contains("demo") {
            hash[0] = 9;
        }
        let props = if vault.contains("demo") {
            app.vault
                .as_ref()
                .and_then(|v| v.secrets.iter().find(|p| p.name == name).cloned())
                .unwrap_or_default()
        } else {
            right(&name, Some("text/plain"))
        };
        for e in app.on_response(Envelope {
            id,
            response: Response::Fingerprint { props, hash },
        }) {
            if let kvtui::app::Effect::Send(id, r) = e {
                fingerprints.push((id, r));
            }
        }
    }
    app
}

/// `:expiring` over the open vault and kv-dev.
fn expiring_app() -> App {
    let mut app = base_app();
    open(&mut app);
    for (id, r) in command(&mut app, "expiring") {
        let Request::ScanSecrets { vault } = r else {
            continue;
        };
        let response = if vault.contains("kv-dev") {
            Response::SecretsPage {
                items: vec![
                    secret(
                        "db-password",
                        2,
                        Some(5),
                        Some("text/plain"),
                        &[("team", "data")],
                    ),
                    secret("tls-cert-pfx", 40, Some(-9), None, &[]),
                    secret("feature-flags", 9, Some(75), Some("application/json"), &[]),
                ],
                done: true,
            }
        } else {
            Response::SecretsPage {
                items: Vec::new(),
                done: true,
            }
        };
        app.on_response(Envelope { id, response });
    }
    app
}

/// The comparison's `p`: what promoting the differences would do.
fn promote_app() -> App {
    let mut app = compare_app();
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    app.on_event(&Event::Key(KeyEvent::new(
        KeyCode::Char('p'),
        KeyModifiers::NONE,
    )));
    app
}

/// README's pictures: the real views drawn into the test backend and written as SVG. Regenerate with
/// `KVTUI_WRITE_SCREENSHOTS=1 cargo test -q --test views screenshots`; this test fails when one is
/// out of date.
#[test]
fn screenshots_are_current() {
    let scenes: Vec<(&str, App)> = vec![
        ("secret-list", {
            let mut app = base_app();
            open(&mut app);
            app
        }),
        ("value-masked", with_value(false, JSON_VALUE)),
        ("delete-progress", deleting_app()),
        ("deleted-tab", {
            let mut app = base_app();
            open(&mut app);
            app.tab = Tab::Deleted;
            app.invalidate();
            app
        }),
        ("bulk-delete", bulk_app()),
        ("search-everywhere", search_app()),
        ("compare-vaults", compare_app()),
        ("expiring", expiring_app()),
        ("promote-preview", promote_app()),
        ("refusal-explained", {
            let mut app = with_value(false, JSON_VALUE);
            let message = "Caller is not authorized to perform action on resource.\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\nCaller: appid=04b07795-8ddb-461a-bbee-02f9e1bf7b46;oid=0f3c9a0d-5e6b-4c2a-8d7e-1f2a3b4c5d6e;iss=https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/\nAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'\nResource: '/subscriptions/6b767475-0000-4000-8000-000000000001/resourcegroups/kvtui-local/providers/microsoft.keyvault/vaults/demo/secrets/app-config'\nAssignment: (not found)\nDenyAssignmentId: null\nDecisionReason: 'DeniedWithNoValidRBAC'\nVault: demo;location=local";
            let e = kvtui::vault::VaultError {
                kind: kvtui::vault::ErrorKind::Forbidden,
                status: Some(403),
                code: Some("ForbiddenByRbac".into()),
                message: message.replace('\n', " "),
                detail: message.into(),
                tenant: None,
            };
            if let Some(p) = app.value.as_mut() {
                p.value = None;
                p.error = Some(e);
            }
            app
        }),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/screenshots");
    let write = std::env::var_os("KVTUI_WRITE_SCREENSHOTS").is_some();
    let mut stale = Vec::new();
    for (name, mut app) in scenes {
        let (_, buffer) = render(&mut app, (100, 30));
        let svg = kvtui::ui::svg::to_svg(&buffer);
        let path = dir.join(format!("{name}.svg"));
        if write {
            std::fs::create_dir_all(&dir).expect("dir");
            std::fs::write(&path, &svg).expect("write");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(svg.as_str()) {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "out of date: {stale:?} — run `KVTUI_WRITE_SCREENSHOTS=1 cargo test -q --test views screenshots`"
    );
}
