//! The real binary in a pseudo-terminal, against `kvtui emulator` on loopback: what a user feels.
//! Prints, for a vault of N secrets (`KVTUI_BENCH_SECRETS`, default 100,000) streamed at 10 ms a page:
//! key→frame while the pages stream in (p50/p99/max of `?` opening help), the stream's wall and CPU
//! time, RSS once listed, filter keystrokes at N names, and the re-open from the names cache; then
//! listing 10,000 secrets against a raw keep-alive page loop over the same server.
//!
//! Run: `cargo bench --bench pty` (release build; a minute or two at 100,000).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::pty::Tui;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(label: &str, mut lat: Vec<Duration>) {
    lat.sort();
    println!(
        "{label:<44} n={:<5} p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms",
        lat.len(),
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        ms(lat.last().copied().unwrap_or_default())
    );
}

fn seed(dir: &std::path::Path, vault: &str, n: usize) -> String {
    use std::io::Write;
    let path = dir.join(format!("{vault}.jsonl"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("seed"));
    for i in 0..n {
        let name = format!("secret-{i:06}");
        writeln!(
            f,
            r#"{{"vault":"{vault}","name":"{name}","live":{{"record":{{"name":"{name}","versions":[{{"version":"{:032x}","value":"v{i}","enabled":true,"created":1700000000,"updated":1700000000,"content_type":"text/plain","tags":{{"team":"t{}"}}}}]}}}}}}"#,
            i,
            i % 7
        )
        .expect("write");
    }
    path.display().to_string()
}

/// Waits until the screen shows (or no longer shows) `text`, busy-polling for millisecond figures.
fn until(tui: &Tui, text: &str, shown: bool, deadline: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if tui.screen().contains(text) == shown {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < deadline,
            "waiting for {text:?} ({shown}):\n{}",
            tui.screen()
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// (user+system CPU seconds, RSS kB) of a process, from /proc.
fn cpu_and_rss(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    (cpu, rss)
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

fn main() {
    let n: usize = std::env::var("KVTUI_BENCH_SECRETS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("dir");
    let seed_big = seed(dir.path(), "big", n);
    let emu = support::start_emulator(
        dir.path(),
        &["--vault", "big", "--seed", &seed_big, "--latency-ms", "10"],
    );
    let ca = emu.ca_file();
    let url = emu.vault_url("big");
    let home = tempfile::tempdir().expect("home");
    let args = [
        "--vault",
        url.as_str(),
        "--ca",
        ca.as_str(),
        "--no-discovery",
    ];

    // 1. Key→frame while N secrets stream in: `?` opens help, Esc closes it.
    let start = Instant::now();
    let mut tui = Tui::start_sized(&args, home.path(), &[], (120, 40));
    until(&tui, "secret-000000", true, Duration::from_secs(60));
    let total = format!("Secrets ({})", thousands(n));
    let mut keys = Vec::new();
    loop {
        let screen = tui.screen();
        if screen.contains(&total) && !screen.contains("loading") {
            break;
        }
        tui.send("?");
        keys.push(until(&tui, "help —", true, Duration::from_secs(30)));
        tui.send("\x1b");
        keys.push(until(&tui, "help —", false, Duration::from_secs(30)));
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "streaming never ended"
        );
    }
    let streamed = start.elapsed();
    let pid = tui.child.process_id().unwrap_or(0);
    let (cpu, rss) = cpu_and_rss(pid);
    report(&format!("key→frame while {} stream in", thousands(n)), keys);
    println!(
        "{:<44} wall {:>6.1} s   CPU {:>5.2} s   RSS {:>4} MB",
        format!("stream {} at 10 ms a page", thousands(n)),
        streamed.as_secs_f64(),
        cpu,
        rss / 1024
    );

    // 2. Filter keystrokes over N names: each until the frame echoes it, and until it shows the
    // final count (the matcher runs off the UI thread).
    tui.send("/");
    until(&tui, "fuzzy name", true, Duration::from_secs(30));
    let names: Vec<String> = (0..n).map(|i| format!("secret-{i:06}")).collect();
    let mut typed = String::new();
    let (mut echoes, mut results) = (Vec::new(), Vec::new());
    for c in "secret-09999".chars() {
        typed.push(c);
        let f = kvtui::app::filter::Filter::parse(&typed);
        let expected = names.iter().filter(|s| f.score(s).is_some()).count();
        let count = format!(" {} of {}", thousands(expected), thousands(n));
        let t = Instant::now();
        tui.send(&c.to_string());
        let mut echoed = None;
        loop {
            let screen = tui.screen();
            if echoed.is_none() && screen.contains(&format!("/{typed}")) {
                echoed = Some(t.elapsed());
            }
            let done = !screen.contains("matching…") && (expected == n || screen.contains(&count));
            if echoed.is_some() && done {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
            assert!(t.elapsed() < Duration::from_secs(30), "{typed}: {screen}");
        }
        echoes.extend(echoed);
        results.push(t.elapsed());
    }
    report(
        &format!("filter keystroke echoed, {} names", thousands(n)),
        echoes,
    );
    report(
        &format!("filter keystroke's result, {} names", thousands(n)),
        results,
    );
    // Esc alone (a key right after it would read as Alt-key), then quit.
    tui.send("\x1b");
    until(&tui, "fuzzy name", false, Duration::from_secs(30));
    tui.send("q");
    tui.wait_exit();

    // 3. Re-open: the cached rows, before the (slow) listing.
    let t = Instant::now();
    let tui = Tui::start_sized(&args, home.path(), &[], (120, 40));
    until(&tui, "cached", true, Duration::from_secs(60));
    println!(
        "{:<44} {:>7.1} ms after start (the listing takes {:.1} s)",
        format!("re-open {} from the names cache", thousands(n)),
        ms(t.elapsed()),
        streamed.as_secs_f64()
    );
    drop(tui);
    // And from Enter in the vault picker (the vault is a recent one now): what a user waits for.
    let picker_args = [args[2], args[3], args[4]];
    let mut tui = Tui::start_sized(&picker_args, home.path(), &[], (120, 40));
    until(&tui, "big.localhost", true, Duration::from_secs(60));
    let t = Instant::now();
    tui.send("\r");
    until(&tui, "cached", true, Duration::from_secs(60));
    println!(
        "{:<44} {:>7.1} ms after Enter in the vault picker",
        format!("re-open {} from the names cache", thousands(n)),
        ms(t.elapsed()),
    );
    drop(tui);
    drop(emu);

    // 4. Listing 10,000 (no latency): kvtui against a raw keep-alive page loop, same server.
    let seed_ten = seed(dir.path(), "ten", 10_000);
    let emu = support::start_emulator(dir.path(), &["--vault", "ten", "--seed", &seed_ten]);
    let ca = emu.ca_file();
    let url = emu.vault_url("ten");
    let home = tempfile::tempdir().expect("home");
    let args = [
        "--vault",
        url.as_str(),
        "--ca",
        ca.as_str(),
        "--no-discovery",
        "--no-cache",
    ];
    let mut tui = Tui::start_sized(&args, home.path(), &[], (120, 40));
    // Warm: the connection and the token, as the raw loop below has them.
    until(&tui, "Secrets (10,000)", true, Duration::from_secs(60));
    until(&tui, "loading", false, Duration::from_secs(60));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pem = std::fs::read_to_string(&ca).expect("ca");
    let http = kvtui::vault::transport::http_client(Some(&pem)).expect("http");
    let first = format!("{url}/secrets?api-version=7.5&maxresults=25");
    let raw_loop = || {
        rt.block_on(async {
            let mut next = Some(first.clone());
            let mut count = 0;
            while let Some(u) = next.take() {
                let body: serde_json::Value = serde_json::from_slice(
                    &http
                        .get(&u)
                        .bearer_auth("bench")
                        .send()
                        .await
                        .expect("page")
                        .bytes()
                        .await
                        .expect("body"),
                )
                .expect("json");
                count += body["value"].as_array().map(Vec::len).unwrap_or(0);
                next = body["nextLink"].as_str().map(str::to_string);
            }
            count
        })
    };
    raw_loop();
    // Taken in turns, seven each (a single run of either varies by ±30 % on a shared machine).
    let (mut kvtui_runs, mut raw_runs) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let t = Instant::now();
        tui.send("R");
        until(&tui, "loading", true, Duration::from_secs(30));
        until(&tui, "loading", false, Duration::from_secs(60));
        kvtui_runs.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(raw_loop(), 10_000);
        raw_runs.push(t.elapsed());
    }
    tui.send("q");
    tui.wait_exit();
    kvtui_runs.sort();
    raw_runs.sort();
    let (kvtui_list, raw) = (kvtui_runs[3], raw_runs[3]);
    println!(
        "{:<44} kvtui {:>6.0} ms   raw page loop {:>6.0} ms   ratio {:.2}",
        "list 10,000, warm (R), vs a raw loop: medians",
        ms(kvtui_list),
        ms(raw),
        kvtui_list.as_secs_f64() / raw.as_secs_f64()
    );
}
