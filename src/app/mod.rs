//! The application state and its pure update: terminal events become actions through the keymap,
//! `App::update(Action)` changes state and returns the effects to run; worker responses come back
//! through `on_response`. No I/O, no awaits: every behaviour is a unit test.

pub mod across;
pub mod action;
mod bindings;
pub mod command;
pub mod dates;
mod engine;
pub mod explain;
pub mod export;
pub mod filter;
pub mod form;
mod input;
pub mod jobs;
pub mod keymap;
pub mod marks;
pub mod messages;
mod popups;
mod requests;
mod responses;
mod rows;
pub mod state;
pub mod text;
pub mod transfer;
mod update;
mod values;
pub mod versions;

use std::time::Instant;

use time::OffsetDateTime;

pub use action::Action;
pub use command::{complete, COMMANDS};
pub use dates::{days_left, expiry, relative, since, Expiry};
pub use input::Hits;
pub use jobs::{Job, Jobs};
pub use keymap::{Context, Keymap};
pub use rows::{list_height, Cursor, Row};
pub use state::{
    ClipInfo, Effect, Followup, OpKind, OpenVault, Operation, Popup, Screen, SortKey,
    StatusMessage, Tab, ValuePanel,
};
use text::LineField;

use crate::vault::sources::VaultList;
use crate::vault::RequestId;

pub struct App {
    pub screen: Screen,
    pub tab: Tab,
    pub vaults: VaultList,
    pub vault_cursor: Cursor,
    pub vault: Option<OpenVault>,
    pub secrets_cursor: Cursor,
    pub deleted_cursor: Cursor,
    pub filter: LineField,
    pub filter_editing: bool,
    pub sort: SortKey,
    pub value: Option<ValuePanel>,
    pub popup: Option<Popup>,
    pub status: Option<StatusMessage>,
    pub clip: Option<ClipInfo>,
    /// The create / new version / properties form.
    pub form: Option<form::Form>,
    pub versions: Option<versions::VersionsView>,
    /// Every request in flight.
    pub jobs: Jobs,
    /// Marked rows, and the bulk action over them that runs.
    pub marks: marks::Marks,
    pub batch: Option<marks::Batch>,
    /// The listings of every known vault, for `:search` and `:expiring`.
    pub across: Option<across::Across>,
    /// `:compare-vaults` and `:promote`.
    pub diff: Option<transfer::VaultDiff>,
    /// Where vaults' names are cached (`None`: `--no-cache`, the demo, tests).
    pub names_cache: Option<crate::cache::NamesCache>,
    /// The local UTC offset, read once at start-up (dates without an offset are local time).
    pub local_offset: time::UtcOffset,
    pub palette: crate::ui::theme::Palette,
    pub keymap: Keymap,
    /// Who the worker's last token says kvtui is signed in as.
    pub identity: Option<crate::vault::credential::Identity>,
    pub read_only: bool,
    pub quit: bool,
    pub color: bool,
    /// Terminal size.
    pub size: (u16, u16),
    /// Every error and notice of the session (`:messages`).
    pub messages: Vec<messages::LogEntry>,
    /// The last error, for `!`; `unseen_error` until the user has looked at it.
    pub last_error: Option<crate::vault::VaultError>,
    pub unseen_error: bool,
    /// The CA file kvtui trusts for local vaults, for explaining certificate errors.
    pub local_ca: Option<String>,
    /// Where the last frame put tabs and rows, for the mouse.
    pub hits: Hits,
    /// Wall clock for relative dates, and a monotonic one for spinners and elapsed times.
    pub now: OffsetDateTime,
    pub instant: Instant,
    pub tick: u64,
    /// Derived: the visible rows of the current list (filtered and sorted).
    pub rows: Vec<Row>,
    rows_dirty: bool,
    /// The open vault's list in sort order (new pages merge in), and its filter's matcher.
    base: Option<rows::Base>,
    engine: Option<engine::Engine>,
    engine_rows_for: Option<rows::EngineRowsKey>,
    /// Bumped whenever the list's data change other than by a page appended.
    generation: u64,
    /// Woken (from the matcher's threads) when the filter has a newer result: the loop draws it.
    pub wake: std::sync::Arc<tokio::sync::Notify>,
    /// A secret to put the cursor on once the rows are recomputed (a created one).
    select_name: Option<String>,
    next_id: RequestId,
}

impl App {
    pub fn new(vaults: VaultList) -> Self {
        Self {
            screen: Screen::Vaults,
            tab: Tab::Secrets,
            vaults,
            vault_cursor: Cursor::default(),
            vault: None,
            secrets_cursor: Cursor::default(),
            deleted_cursor: Cursor::default(),
            filter: LineField::default(),
            filter_editing: false,
            sort: SortKey::Name,
            value: None,
            popup: None,
            status: None,
            clip: None,
            form: None,
            versions: None,
            jobs: Jobs::default(),
            marks: Default::default(),
            batch: None,
            across: None,
            diff: None,
            names_cache: None,
            local_offset: time::UtcOffset::UTC,
            palette: crate::ui::theme::Palette::DARK,
            keymap: Keymap::default(),
            identity: None,
            read_only: false,
            quit: false,
            color: true,
            size: (100, 30),
            hits: Hits::default(),
            messages: Vec::new(),
            last_error: None,
            unseen_error: false,
            local_ca: None,
            now: OffsetDateTime::UNIX_EPOCH,
            instant: Instant::now(),
            tick: 0,
            rows: Vec::new(),
            rows_dirty: true,
            base: None,
            engine: None,
            engine_rows_for: None,
            generation: 0,
            wake: Default::default(),
            select_name: None,
            next_id: 1 << 32,
        }
    }

    fn id(&mut self) -> RequestId {
        self.next_id += 1;
        self.next_id
    }

    /// True while something animates (a job runs, a countdown shows, the filter matches): the event
    /// loop ticks only then.
    pub fn needs_tick(&self) -> bool {
        // While the filter's matcher works, a tick also bounds a missed wake-up to 100 ms.
        !self.jobs.is_empty()
            || self.filtering()
            || self
                .clip
                .as_ref()
                .is_some_and(|c| c.deadline.is_some() || c.confirming)
    }

    /// Whether a job of this kind runs (`app.running(|j| matches!(j, Job::ListSecrets))`).
    pub fn running(&self, f: impl Fn(&Job) -> bool) -> bool {
        self.jobs.any(f)
    }

    pub fn discovering(&self) -> bool {
        self.running(|j| matches!(j, Job::Discover))
    }

    pub fn submitting(&self) -> bool {
        self.running(|j| {
            matches!(
                j,
                Job::Form
                    | Job::Op(Operation {
                        kind: OpKind::Create,
                        ..
                    })
            )
        })
    }

    /// The long operations in flight, oldest first.
    pub fn ops(&self) -> impl Iterator<Item = &Operation> {
        self.jobs.ops()
    }

    pub fn set_clock(&mut self, now: OffsetDateTime, instant: Instant) {
        self.now = now;
        self.instant = instant;
    }

    pub fn on_tick(&mut self) {
        self.tick = self.tick.wrapping_add(1);
    }

    /// The key the user has for an action here, for messages ("press R to retry").
    fn key_of(&self, ctx: Context, action: Action) -> String {
        self.keymap
            .key_for(ctx, action)
            .unwrap_or_else(|| format!(":{}", action.name()))
    }
}

#[cfg(test)]
mod tests;
