//! The secret list's rows as a big vault streams in, and the filter over them: the figures issue 13
//! asks for (no assertion; run `cargo bench --bench rows`). Pages of 25, as the service sends them.

use std::time::{Duration, Instant};

use kvtui::app::{App, Job};
use kvtui::vault::sources::{Source, VaultList};
use kvtui::vault::{Envelope, Response, SecretProps};

fn props(i: usize) -> SecretProps {
    let at = time::OffsetDateTime::from_unix_timestamp(1_700_000_000 + i as i64).ok();
    SecretProps {
        name: format!("secret-{i:07}"),
        id: format!("https://v.localhost:1/secrets/secret-{i:07}"),
        enabled: true,
        content_type: Some("text/plain".into()),
        tags: [("team".to_string(), format!("t{}", i % 7))].into(),
        created: at,
        updated: at,
        recovery_level: Some("Recoverable+Purgeable".into()),
        recoverable_days: Some(90),
        ..SecretProps::default()
    }
}

/// The names cache: writing the whole list, and reading it back (what a re-open waits for).
fn names_cache(n: usize) {
    let dir = tempfile::tempdir().expect("dir");
    let cache = kvtui::cache::NamesCache::new(dir.path().join("names"));
    let items: Vec<SecretProps> = (0..n).map(props).collect();
    let vault = "https://v.localhost:1";
    let t = Instant::now();
    cache.save("local", vault, &items).expect("save");
    let saved = t.elapsed();
    let size: u64 = std::fs::read_dir(cache.dir())
        .expect("dir")
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    let t = Instant::now();
    let back = cache.load("local", vault).expect("load");
    let loaded = t.elapsed();
    assert_eq!(back.items.len(), n);
    println!(
        "  names cache: {:.1} MB, written in {:.0} ms, read back in {:.0} ms",
        size as f64 / 1e6,
        saved.as_secs_f64() * 1e3,
        loaded.as_secs_f64() * 1e3
    );
}

/// Streams `n` secrets in pages of 25 into a fresh app, preparing the rows after each page as the
/// event loop does; returns the app, the total time and the slowest page.
fn stream(n: usize) -> (App, Duration, Duration) {
    let mut list = VaultList::default();
    list.add("https://v.localhost:1", Source::Flag);
    let mut app = App::new(list);
    app.size = (200, 60);
    let _ = app.open_vault("https://v.localhost:1");
    let id = app
        .jobs
        .iter()
        .find(|(_, j)| matches!(j, Job::ListSecrets))
        .map(|(id, _)| id)
        .unwrap_or_default();
    let start = Instant::now();
    let mut worst = Duration::ZERO;
    let mut i = 0;
    while i < n {
        let end = (i + 25).min(n);
        let t = Instant::now();
        app.on_response(Envelope {
            id,
            response: Response::SecretsPage {
                items: (i..end).map(props).collect(),
                done: end == n,
            },
        });
        app.prepare();
        worst = worst.max(t.elapsed());
        i = end;
    }
    (app, start.elapsed(), worst)
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Typing a filter, one keystroke at a time, and drawing a frame. Per keystroke: how long the UI
/// thread was held (the frame's `prepare`), and how long until the matcher's final result.
fn filter_and_draw(app: &mut App) {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    let key = |c: KeyCode| Event::Key(KeyEvent::new(c, KeyModifiers::NONE));
    let (mut held, mut done) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        // A new filter, typed one character at a time as a user does.
        let _ = app.on_event(&key(KeyCode::Char('/')));
        // The frames right after `/` give the matcher the names, 50,000 a frame (the event loop
        // runs them at once, woken by the engine, before a person's first keystroke).
        for _ in 0..=app.total() / 50_000 {
            app.prepare();
        }
        for c in "secret-99".chars() {
            let _ = app.on_event(&key(KeyCode::Char(c)));
            let t = Instant::now();
            app.prepare();
            held.push(t.elapsed());
            app.settle_filter();
            done.push(t.elapsed());
        }
        let _ = app.on_event(&key(KeyCode::Esc));
        app.prepare();
    }
    let ms = |v: &[Duration], p| percentile(v.to_vec(), p).as_secs_f64() * 1e3;
    println!(
        "  filter keystroke: UI held p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; final result p50 {:.1} ms, p99 {:.1} ms",
        ms(&held, 0.5),
        ms(&held, 0.99),
        ms(&held, 1.0),
        ms(&done, 0.5),
        ms(&done, 0.99)
    );
    app.filter = kvtui::app::text::LineField::default();
    app.invalidate();
    app.prepare();
    let mut frames = Vec::new();
    for _ in 0..50 {
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(200, 60)).expect("terminal");
        let t = Instant::now();
        let _ = terminal.draw(|f| {
            kvtui::ui::draw(f, app);
        });
        frames.push(t.elapsed());
    }
    println!(
        "  draw at 200×60: p50 {:.2} ms, p99 {:.2} ms",
        percentile(frames.clone(), 0.5).as_secs_f64() * 1e3,
        percentile(frames, 0.99).as_secs_f64() * 1e3
    );
}

fn main() {
    let sizes: Vec<usize> = match std::env::var("KVTUI_BENCH_SIZES") {
        Ok(v) => v.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
        Err(_) => vec![1_000, 10_000, 100_000, 1_000_000],
    };
    for n in sizes {
        let (mut app, total, worst) = stream(n);
        println!(
            "stream {n:>7} secrets in pages of 25: {:>8.1} ms total, slowest page {:>6.2} ms",
            total.as_secs_f64() * 1e3,
            worst.as_secs_f64() * 1e3
        );
        filter_and_draw(&mut app);
        names_cache(n);
    }
}
