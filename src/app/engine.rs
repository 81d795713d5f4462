//! The open vault's filter runs off the UI thread: nucleo's parallel matcher holds the list's names
//! (item = index into the list) and matches them on its own threads; the UI asks for the latest
//! complete result at each frame, and is woken when a newer one is ready. A query that extends the
//! previous one searches only the previous matches (nucleo's "append").

use std::sync::Arc;

use nucleo::pattern::{CaseMatching, Normalization};
use nucleo::Nucleo;

/// Names handed to the matcher per frame: a million-name list is fed over a few frames, never in
/// one long pause of the UI.
const CHUNK: usize = 50_000;

/// How long a keystroke's frame waits for the matcher over `len` names: lists it matches within a
/// frame show the result at once (as if synchronously); bigger ones echo the keystroke at once,
/// with the previous result, and are woken when the new one is ready.
pub fn wait_ms(len: usize) -> u64 {
    if len <= 200_000 {
        8
    } else {
        0
    }
}

pub struct Engine {
    nucleo: Nucleo<u32>,
    wake: Arc<dyn Fn() + Send + Sync>,
    /// Which list the injected names are (an opaque id: the list's tab and data generation).
    source: Option<(u8, u64)>,
    injected: usize,
    query: String,
    running: bool,
}

impl Engine {
    /// `wake` is called (from the matcher's threads) when a result is ready or names were fed.
    pub fn new(wake: Arc<dyn Fn() + Send + Sync>) -> Self {
        Self {
            nucleo: Nucleo::new(super::filter::config(), wake.clone(), None, 1),
            wake,
            source: None,
            injected: 0,
            query: String::new(),
            running: false,
        }
    }

    /// Makes the engine match `query` over the list `source` of `len` names (`name(i)`). A new
    /// source starts over; names not yet given are fed, up to a chunk per call (the rest on the
    /// next frames: `wake` is called so that there is one).
    pub fn feed<'a>(
        &mut self,
        source: (u8, u64),
        len: usize,
        name: impl Fn(usize) -> Option<&'a str>,
        query: &str,
    ) {
        if self.source != Some(source) || len < self.injected {
            self.nucleo.restart(true);
            self.source = Some(source);
            self.injected = 0;
        }
        if query != self.query {
            let append = !self.query.is_empty() && query.starts_with(self.query.as_str());
            self.nucleo.pattern.reparse(
                0,
                query,
                CaseMatching::Ignore,
                Normalization::Smart,
                append,
            );
            self.query = query.to_string();
        }
        let end = len.min(self.injected + CHUNK);
        if end > self.injected {
            let injector = self.nucleo.injector();
            for i in self.injected..end {
                let n = name(i).unwrap_or_default();
                injector.push(i as u32, |_, cols| cols[0] = n.into());
            }
            self.injected = end;
            if end < len {
                (self.wake)();
            }
        }
    }

    /// Whether every name of the list has been given to the matcher.
    pub fn fed(&self, len: usize) -> bool {
        self.injected >= len
    }

    /// Takes the matcher's latest result, waiting at most `wait_ms`; true if it changed.
    pub fn tick(&mut self, wait_ms: u64) -> bool {
        let status = self.nucleo.tick(wait_ms);
        self.running = status.running;
        status.changed
    }

    /// Whether matching was still going on at the last tick (a newer result will come).
    pub fn running(&self) -> bool {
        self.running
    }

    /// The list the engine holds the names of.
    pub fn source(&self) -> Option<(u8, u64)> {
        self.source
    }

    /// The matched items' list indices, best first (then shorter names, then list order).
    pub fn matched(&self) -> impl ExactSizeIterator<Item = usize> + '_ {
        let snap = self.nucleo.snapshot();
        snap.matched_items(..).map(|it| *it.data as usize)
    }
}
