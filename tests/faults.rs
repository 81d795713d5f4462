//! Fault knobs as the real Rust SDK experiences them: latency, 503 with Retry-After, throttling past
//! N requests per window (429, with Retry-After only when asked: the service's carry none), and connections cut mid-response.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use kvtui::emulator::{FaultConfig, VaultPolicy};

async fn with_faults(faults: FaultConfig) -> kvtui::emulator::Emulator {
    let mut cfg = config(VaultPolicy::default(), &["demo"]);
    cfg.faults = faults;
    start_config(cfg).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_is_added_to_every_vault_request() {
    let emu = with_faults(FaultConfig {
        latency: Duration::from_millis(250),
        ..FaultConfig::default()
    })
    .await;
    let c = client(&emu, "demo");
    set(&c, "slow", "v").await;
    let t = Instant::now();
    c.get_secret("slow", None).await.expect("get");
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_retries_503s_honouring_retry_after() {
    let emu = with_faults(FaultConfig {
        fail_rate: 0.3,
        seed: 7,
        ..FaultConfig::default()
    })
    .await;
    let c = client(&emu, "demo");
    let t = Instant::now();
    for i in 0..8 {
        set(&c, &format!("s{i}"), "v").await;
    }
    let stats = &emu.service().faults().expect("faults").stats;
    let failed = stats.unavailable.load(Ordering::Relaxed);
    assert!(failed >= 1, "the seed gives some 503s");
    // Retry-After: 1 on each 503, and the SDK waited for it.
    assert!(
        t.elapsed() >= Duration::from_millis(900) * failed as u32,
        "{failed} 503s in {:?}",
        t.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_past_the_limit_answers_429_and_the_sdk_waits() {
    let emu = with_faults(FaultConfig {
        throttle: Some(4),
        throttle_window: Duration::from_millis(1500),
        ..FaultConfig::default()
    })
    .await;
    let c = client(&emu, "demo");
    set(&c, "hot", "v").await;
    let t = Instant::now();
    for _ in 0..6 {
        c.get_secret("hot", None)
            .await
            .expect("every get succeeds in the end");
    }
    let throttled = emu
        .service()
        .faults()
        .expect("faults")
        .stats
        .throttled
        .load(Ordering::Relaxed);
    assert!(throttled >= 1, "the limit was reached");
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "waited for Retry-After: {:?}",
        t.elapsed()
    );

    // The 429 itself, as the service words it.
    let http = raw(&emu, true);
    let mut saw = false;
    for _ in 0..6 {
        let r = http
            .get(format!(
                "{}/secrets/hot?api-version=7.4",
                emu.vault_url("demo")
            ))
            .header("authorization", "Bearer t")
            .send()
            .await
            .expect("response");
        if r.status().as_u16() == 429 {
            assert!(
                !r.headers().contains_key("retry-after"),
                "the service's 429s carry no Retry-After"
            );
            let body: serde_json::Value =
                serde_json::from_str(&r.text().await.expect("b")).expect("json");
            assert_eq!(body["error"]["code"], "Throttled");
            assert!(body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("VaultRequestTypeLimitReached")));
            saw = true;
            break;
        }
    }
    assert!(saw, "a 429 was answered");

    // With --throttle-retry-after, it does (and Resource Manager's 429s always do).
    let emu = with_faults(FaultConfig {
        throttle: Some(1),
        throttle_window: Duration::from_millis(60_000),
        throttle_retry_after: true,
        ..FaultConfig::default()
    })
    .await;
    let http = raw(&emu, true);
    for (url, code) in [
        (
            format!("{}/secrets?api-version=7.4", emu.vault_url("demo")),
            "Throttled",
        ),
        (
            format!(
                "{}/subscriptions?api-version=2022-12-01",
                emu.management_endpoint()
            ),
            "TooManyRequests",
        ),
    ] {
        let statuses: Vec<(u16, Option<String>, String)> = {
            let mut v = Vec::new();
            for _ in 0..2 {
                let r = http
                    .get(&url)
                    .header("authorization", "Bearer t")
                    .send()
                    .await
                    .expect("response");
                let status = r.status().as_u16();
                let ra = r
                    .headers()
                    .get("retry-after")
                    .and_then(|h| h.to_str().ok())
                    .map(str::to_string);
                v.push((status, ra, r.text().await.expect("body")));
            }
            v
        };
        assert_eq!(statuses[0].0, 200, "{url}: {}", statuses[0].2);
        assert_eq!(statuses[1].0, 429, "{url}");
        assert!(
            statuses[1]
                .1
                .as_deref()
                .is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n >= 1)),
            "{url}: {:?}",
            statuses[1].1
        );
        assert!(statuses[1].2.contains(code), "{}", statuses[1].2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_cut_mid_response_are_retried_by_the_sdk() {
    let emu = with_faults(FaultConfig {
        drop_rate: 0.5,
        seed: 3,
        ..FaultConfig::default()
    })
    .await;
    let c = client(&emu, "demo");
    for i in 0..6 {
        let name = format!("cut-{i}");
        // A retried PUT may have been applied before its answer was cut: the SDK just sets again.
        set(&c, &name, "v").await;
        let got = c
            .get_secret(&name, None)
            .await
            .expect("get")
            .into_model()
            .expect("m");
        assert_eq!(got.value.as_deref(), Some("v"));
    }
    let dropped = emu
        .service()
        .faults()
        .expect("faults")
        .stats
        .dropped
        .load(Ordering::Relaxed);
    assert!(
        dropped >= 2,
        "connections were cut ({dropped}) and the calls still succeeded"
    );
}
