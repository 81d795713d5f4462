//! `kvtui --demo`: the local vault inside the process on a free port with an in-memory CA, seeded from
//! `assets/demo-seed.jsonl`, with a 2 s delete/recover window so poller progress is visible. Nothing
//! is written to disk.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{Context, Result};

use crate::emulator::persist::Entry;
use crate::emulator::{ArmConfig, Config, Emulator, KeyStore, VaultPolicy};

pub const SEED: &str = include_str!("../assets/demo-seed.jsonl");
/// The seed's times are written relative to this instant (2026-01-01T00:00:00Z).
pub const DEMO_EPOCH: i64 = 1_767_225_600;
pub const VAULTS: [&str; 3] = ["demo", "staging", "dev"];
pub const WINDOW_MS: u64 = 2000;

/// The seed's entries with every time moved so that the seed's epoch is `now` (Unix seconds).
pub fn entries(now: i64) -> Result<Vec<Entry>> {
    let delta = now - DEMO_EPOCH;
    let mut out = Vec::new();
    for (i, line) in SEED
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let mut e: Entry =
            serde_json::from_str(line).with_context(|| format!("demo seed line {}", i + 1))?;
        let shift = |r: &mut crate::emulator::store::SecretRecord| {
            for v in &mut r.versions {
                v.created += delta;
                v.updated += delta;
                v.nbf = v.nbf.map(|t| t + delta);
                v.exp = v.exp.map(|t| t + delta);
            }
        };
        if let Some(l) = e.state.live.as_mut() {
            shift(&mut l.record);
        }
        if let Some(d) = e.state.deleted.as_mut() {
            shift(&mut d.record);
            d.deleted_date += delta;
            d.scheduled_purge_date += delta;
        }
        out.push(e);
    }
    Ok(out)
}

/// Starts the seeded local vault on 127.0.0.1 and a free port.
pub async fn start() -> Result<Emulator> {
    let emu = Emulator::start(Config {
        listen: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        port: 0,
        vaults: VAULTS.iter().map(|v| v.to_string()).collect(),
        policy: VaultPolicy {
            delete_delay_ms: WINDOW_MS,
            recover_delay_ms: WINDOW_MS,
            ..VaultPolicy::default()
        },
        keys: KeyStore::Memory,
        arm: ArmConfig {
            subscriptions: 2,
            ..ArmConfig::default()
        },
        ..Config::default()
    })
    .await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    emu.service().load(entries(now)?);
    Ok(emu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_parses_and_holds_a_realistic_demo() {
        let e = entries(DEMO_EPOCH).expect("seed");
        let demo: Vec<_> = e.iter().filter(|x| x.vault == "demo").collect();
        assert!(demo.len() >= 50, "{}", demo.len());
        assert!(
            e.iter().any(|x| x.state.deleted.is_some()),
            "some already deleted"
        );
        let live = || e.iter().filter_map(|x| x.state.live.as_ref());
        assert!(
            live().any(|l| l.record.versions.len() >= 3),
            "several versions"
        );
        assert!(
            live().any(|l| l.record.latest().is_some_and(|v| !v.enabled)),
            "some disabled"
        );
        assert!(
            live().any(|l| l
                .record
                .latest()
                .and_then(|v| v.exp)
                .is_some_and(|x| x < DEMO_EPOCH)),
            "some expired"
        );
        assert!(
            live().any(|l| l
                .record
                .latest()
                .and_then(|v| v.exp)
                .is_some_and(|x| x > DEMO_EPOCH && x < DEMO_EPOCH + 30 * 86_400)),
            "some expiring soon"
        );
        assert!(
            live().any(|l| l
                .record
                .latest()
                .is_some_and(|v| v.value.contains("BEGIN") && v.value.contains('\n'))),
            "multi-line PEM"
        );
        assert!(
            live().any(|l| l
                .record
                .latest()
                .is_some_and(|v| v.content_type.as_deref() == Some("application/json"))),
            "JSON"
        );
    }

    #[test]
    fn times_are_shifted_to_now() {
        let later = entries(DEMO_EPOCH + 1000).expect("seed");
        let base = entries(DEMO_EPOCH).expect("seed");
        let a = base[0]
            .state
            .live
            .as_ref()
            .and_then(|l| l.record.latest())
            .map(|v| v.created);
        let b = later[0]
            .state
            .live
            .as_ref()
            .and_then(|l| l.record.latest())
            .map(|v| v.created);
        assert_eq!(b, a.map(|x| x + 1000));
    }
}
