//! Faults for reliability tests, applied to vault requests: added latency, random 503s, throttling
//! (429 past N requests per window per vault, as the service's limit behaves), and connections dropped
//! in the middle of a response. A seeded generator makes a run repeatable.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct FaultConfig {
    pub latency: Duration,
    /// Probability (0–1) of a 503 with `Retry-After`.
    pub fail_rate: f64,
    /// Requests allowed per vault per window; more get 429 Throttled.
    pub throttle: Option<u32>,
    pub throttle_window: Duration,
    /// Send `Retry-After` with a vault's 429. The service's recorded 429s carry none, so by default
    /// neither does this; Resource Manager's 429s always do.
    pub throttle_retry_after: bool,
    /// Probability (0–1) that the connection is cut halfway through the response.
    pub drop_rate: f64,
    pub seed: u64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            fail_rate: 0.0,
            throttle: None,
            throttle_window: Duration::from_secs(10),
            throttle_retry_after: false,
            drop_rate: 0.0,
            seed: 0x6b76_7475_6920_6b76,
        }
    }
}

impl FaultConfig {
    pub fn is_active(&self) -> bool {
        !self.latency.is_zero()
            || self.fail_rate > 0.0
            || self.throttle.is_some()
            || self.drop_rate > 0.0
    }
}

/// What happens to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    Unavailable,
    /// Seconds until the window resets.
    Throttled(u64),
    Drop,
}

/// Counts of what was injected, for tests and the benchmark.
#[derive(Debug, Default)]
pub struct FaultStats {
    pub requests: AtomicU64,
    pub unavailable: AtomicU64,
    pub throttled: AtomicU64,
    pub dropped: AtomicU64,
}

pub struct Faults {
    pub config: FaultConfig,
    rng: Mutex<u64>,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
    pub stats: FaultStats,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Self {
        let seed = config.seed | 1;
        Self {
            config,
            rng: Mutex::new(seed),
            windows: Mutex::new(HashMap::new()),
            stats: FaultStats::default(),
        }
    }

    /// xorshift64*: uniform in [0, 1).
    fn next_f64(&self) -> f64 {
        let mut s = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let mut x = *s;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *s = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Counts one request against `key`'s budget: `Some(seconds until the window resets)` when it
    /// is over the limit.
    pub fn throttle(&self, key: &str) -> Option<u64> {
        let limit = self.config.throttle?;
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let entry = w.entry(key.to_ascii_lowercase()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.config.throttle_window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 <= limit {
            return None;
        }
        let left = self
            .config
            .throttle_window
            .saturating_sub(now.duration_since(entry.0));
        self.stats.throttled.fetch_add(1, Ordering::Relaxed);
        Some(left.as_secs_f64().ceil().max(1.0) as u64)
    }

    /// Decides the fate of one request to `vault`.
    pub fn decide(&self, vault: &str) -> Fault {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(secs) = self.throttle(vault) {
            return Fault::Throttled(secs);
        }
        if self.config.fail_rate > 0.0 && self.next_f64() < self.config.fail_rate {
            self.stats.unavailable.fetch_add(1, Ordering::Relaxed);
            return Fault::Unavailable;
        }
        if self.config.drop_rate > 0.0 && self.next_f64() < self.config.drop_rate {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            return Fault::Drop;
        }
        Fault::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_counts_per_vault_and_resets_with_the_window() {
        let f = Faults::new(FaultConfig {
            throttle: Some(2),
            throttle_window: Duration::from_millis(200),
            ..FaultConfig::default()
        });
        assert_eq!(f.decide("a"), Fault::None);
        assert_eq!(f.decide("a"), Fault::None);
        assert_eq!(f.decide("a"), Fault::Throttled(1));
        assert_eq!(
            f.decide("b"),
            Fault::None,
            "another vault has its own budget"
        );
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(f.decide("a"), Fault::None);
    }

    #[test]
    fn rates_are_roughly_honoured_and_repeatable() {
        let run = || {
            let f = Faults::new(FaultConfig {
                fail_rate: 0.25,
                ..FaultConfig::default()
            });
            (0..4000).map(|_| f.decide("v")).collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run(), "same seed, same faults");
        let fails = a.iter().filter(|f| **f == Fault::Unavailable).count();
        assert!((800..1200).contains(&fails), "{fails}");
    }
}
