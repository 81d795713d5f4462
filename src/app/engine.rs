//! The open vault's filter runs off the UI thread: a matcher thread owns nucleo's parallel matcher,
//! which holds the list's names (item = index into the list). The UI gives it names and queries and
//! takes its latest complete result (the matched indices, best first) without ever waiting on it
//! longer than it chooses to; the thread wakes the UI when a newer result is ready. A query that
//! extends the previous one searches only the previous matches (nucleo's "append").
//!
//! nucleo's own `tick` blocks its caller for as long as a cancelled run takes to stop and copies
//! the matches into its snapshot: 5–10 ms a keystroke at 100,000 names, ~30 ms at a million, which
//! is why it is called on the matcher thread, not the UI's.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nucleo::pattern::{CaseMatching, Normalization};
use nucleo::{Injector, Nucleo};

/// Names handed to the matcher per frame: a million-name list is fed over a few frames, never in
/// one long pause of the UI.
const CHUNK: usize = 50_000;

/// How long a keystroke's frame waits for the matcher over `len` names: lists it matches within
/// 2 ms (tens of thousands of names) show the result at once, as if synchronously; bigger ones echo
/// the keystroke with the previous result and "matching…", and are woken when the new one is ready
/// (nucleo takes 3–9 ms for 100,000 names on 2 cores).
pub fn wait_ms(len: usize) -> u64 {
    if len <= 200_000 {
        2
    } else {
        0
    }
}

/// What the UI and the matcher thread tell each other.
#[derive(Default)]
struct Mailbox {
    /// UI → thread: a new query (its number, the text, whether it extends the previous one).
    query: Option<(u64, String, bool)>,
    /// UI → thread: stop.
    stop: bool,
    /// Thread → UI: the latest complete result not yet taken.
    result: Option<Outcome>,
}

struct Outcome {
    /// The number of the query it answers.
    query: u64,
    /// How many names it was matched over (the UI may have given more since).
    items: usize,
    matched: Arc<Vec<u32>>,
    /// Whether the matcher was still working when it was taken (more names, or a newer query).
    running: bool,
}

struct Link {
    mail: Mutex<Mailbox>,
    changed: Condvar,
    /// Set (from nucleo's threads, or the UI after feeding names) when the thread should tick.
    poked: AtomicBool,
}

impl Link {
    fn lock(&self) -> MutexGuard<'_, Mailbox> {
        // A panic on the matcher thread leaves the mailbox usable: its fields are plain data.
        self.mail.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn poke(&self) {
        if !self.poked.swap(true, Ordering::AcqRel) {
            let _guard = self.lock();
            self.changed.notify_all();
        }
    }
}

pub struct Engine {
    link: Arc<Link>,
    injector: Injector<u32>,
    /// Whether the matcher thread started (without it no result ever comes).
    thread: bool,
    /// Which list the injected names are (an opaque id: the list's tab and data generation).
    source: Option<(u8, u64)>,
    injected: usize,
    query: String,
    /// The number of the last query sent, and of the one the result below answers.
    sent: u64,
    answered: u64,
    /// How many names the result below was matched over.
    matched_over: usize,
    matched: Arc<Vec<u32>>,
    running: bool,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl Engine {
    /// `wake` is called (from the matcher thread) when a newer result is ready.
    pub fn new(wake: Arc<dyn Fn() + Send + Sync>) -> Self {
        let link = Arc::new(Link {
            mail: Mutex::new(Mailbox::default()),
            changed: Condvar::new(),
            poked: AtomicBool::new(false),
        });
        let poke = {
            let link = link.clone();
            Arc::new(move || link.poke())
        };
        let nucleo: Nucleo<u32> = Nucleo::new(super::filter::config(), poke, None, 1);
        let injector = nucleo.injector();
        let thread = {
            let (link, wake) = (link.clone(), wake.clone());
            std::thread::Builder::new()
                .name("kvtui-matcher".into())
                .spawn(move || matcher(nucleo, &link, &*wake))
                .is_ok()
        };
        Self {
            link,
            injector,
            thread,
            source: None,
            injected: 0,
            query: String::new(),
            sent: 0,
            answered: 0,
            matched_over: 0,
            matched: Arc::new(Vec::new()),
            running: false,
            wake,
        }
    }

    /// Makes the engine match `query` over the list `source` of `len` names (`name(i)`). A new
    /// source starts over (a new matcher); names not yet given are fed, up to a chunk per call (the
    /// rest on the next frames: `wake` is called so that there is one).
    pub fn feed<'a>(
        &mut self,
        source: (u8, u64),
        len: usize,
        name: impl Fn(usize) -> Option<&'a str>,
        query: &str,
    ) {
        if self.source.is_some() && (self.source != Some(source) || len < self.injected) {
            *self = Engine::new(self.wake.clone());
        }
        self.source = Some(source);
        if query != self.query {
            let append = !self.query.is_empty() && query.starts_with(self.query.as_str());
            self.sent += 1;
            self.query = query.to_string();
            let mut mail = self.link.lock();
            mail.query = Some((self.sent, self.query.clone(), append));
            self.link.changed.notify_all();
        }
        let end = len.min(self.injected + CHUNK);
        if end > self.injected {
            for i in self.injected..end {
                let n = name(i).unwrap_or_default();
                self.injector.push(i as u32, |_, cols| cols[0] = n.into());
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

    /// Takes the matcher's latest result, waiting at most `wait_ms` for the answer to the last
    /// query; true if the result changed.
    pub fn tick(&mut self, wait_ms: u64) -> bool {
        let deadline = Instant::now() + Duration::from_millis(wait_ms);
        let mut mail = self.link.lock();
        loop {
            let answered = mail
                .result
                .as_ref()
                .is_some_and(|r| self.covers(r) && !r.running);
            let left = deadline.saturating_duration_since(Instant::now());
            if answered || left.is_zero() || !self.thread {
                break;
            }
            mail = match self.link.changed.wait_timeout(mail, left) {
                Ok((m, _)) => m,
                Err(e) => e.into_inner().0,
            };
        }
        let Some(r) = mail.result.take() else {
            // Nothing newer: still running if the last result does not answer what was asked.
            self.running |= self.answered < self.sent || self.matched_over < self.injected;
            return false;
        };
        drop(mail);
        self.answered = r.query;
        self.matched_over = r.items;
        self.running = r.running || !self.covers(&r);
        self.matched = r.matched;
        true
    }

    /// Whether a result answers the last query over every name given.
    fn covers(&self, r: &Outcome) -> bool {
        r.query == self.sent && r.items >= self.injected
    }

    /// Whether a newer result will come (the last one taken was not final for the last query).
    pub fn running(&self) -> bool {
        self.running
    }

    /// The list the engine holds the names of.
    pub fn source(&self) -> Option<(u8, u64)> {
        self.source
    }

    /// The matched items' list indices, best first (then shorter names, then list order).
    pub fn matched(&self) -> impl ExactSizeIterator<Item = usize> + '_ {
        self.matched.iter().map(|&i| i as usize)
    }
}

impl Drop for Engine {
    /// The thread is told to stop and left to it (not joined: it may be in a 10 ms tick, and the UI
    /// does not wait for it).
    fn drop(&mut self) {
        let mut mail = self.link.lock();
        mail.stop = true;
        self.link.changed.notify_all();
    }
}

/// The matcher thread: takes queries, ticks nucleo while it works, and posts each newer result.
fn matcher(mut nucleo: Nucleo<u32>, link: &Link, wake: &(dyn Fn() + Send + Sync)) {
    let mut query = 0;
    let mut running = false;
    loop {
        let next = {
            let mut mail = link.lock();
            while !mail.stop
                && mail.query.is_none()
                && !running
                && !link.poked.load(Ordering::Acquire)
            {
                mail = match link.changed.wait(mail) {
                    Ok(m) => m,
                    Err(e) => e.into_inner(),
                };
            }
            if mail.stop {
                return;
            }
            mail.query.take()
        };
        link.poked.store(false, Ordering::Release);
        let asked = next.is_some();
        if let Some((n, text, append)) = next {
            query = n;
            nucleo
                .pattern
                .reparse(0, &text, CaseMatching::Ignore, Normalization::Smart, append);
        }
        // Waits (here, not on the UI thread) up to 10 ms for the matcher's workers.
        let status = nucleo.tick(10);
        if status.changed || asked || running != status.running {
            let snapshot = nucleo.snapshot();
            let matched: Vec<u32> = snapshot.matched_items(..).map(|it| *it.data).collect();
            let items = snapshot.item_count() as usize;
            let mut mail = link.lock();
            mail.result = Some(Outcome {
                query,
                items,
                matched: Arc::new(matched),
                running: status.running,
            });
            link.changed.notify_all();
            drop(mail);
            wake();
        }
        running = status.running;
    }
}
