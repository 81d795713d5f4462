//! The default key bindings of every context, in the order help lists them; the hint line shows the
//! first entries, so each list starts with what a user needs most there.

use super::action::Action;
use super::keymap::Context;

type Defaults = &'static [(Action, &'static [&'static str], &'static str)];

const NAV: Defaults = &[
    (Action::Up, &["up", "k"], "move up"),
    (Action::Down, &["down", "j"], "move down"),
    (Action::PageUp, &["pageup"], "page up"),
    (Action::PageDown, &["pagedown"], "page down"),
    (Action::Top, &["home", "g"], "first row"),
    (Action::Bottom, &["end", "shift-g"], "last row"),
];

const SCROLL: Defaults = &[
    (Action::Up, &["up", "k"], "scroll up"),
    (Action::Down, &["down", "j"], "scroll down"),
    (Action::PageUp, &["pageup"], "scroll a page up"),
    (Action::PageDown, &["pagedown"], "scroll a page down"),
    (Action::Top, &["home", "g"], "scroll to the top"),
    (Action::Bottom, &["end", "shift-g"], "scroll to the end"),
];

const QUIT: Defaults = &[(Action::ForceQuit, &["ctrl-c"], "quit now, whatever runs")];

/// What every view (not the dialogs) also takes.
const VIEW: Defaults = &[
    (Action::Command, &[":"], "command line"),
    (Action::LastError, &["!"], "the last error, explained"),
];

/// The default bindings of a context, in the order help lists them; the hint line shows the first
/// entries.
pub(super) fn defaults(ctx: Context) -> Vec<(Action, &'static [&'static str], &'static str)> {
    let own: Defaults = match ctx {
        Context::Vaults => &[
            (Action::Open, &["enter"], "open the vault"),
            (Action::OpenUrl, &["o"], "open a vault by name or URL"),
            (Action::Filter, &["/"], "filter (fuzzy)"),
            (Action::Help, &["?"], "help"),
            (Action::Quit, &["q"], "quit"),
            (Action::Refresh, &["shift-r"], "discover vaults again"),
            (Action::Back, &["esc"], "clear the filter or the error"),
        ],
        Context::Secrets => &[
            (Action::Open, &["enter"], "show the value (masked)"),
            (Action::Copy, &["c"], "copy the value"),
            (
                Action::Filter,
                &["/"],
                "filter: fuzzy name, tag:k=v, type:json",
            ),
            (Action::Versions, &["v"], "versions"),
            (Action::New, &["n"], "new secret"),
            (Action::Delete, &["d"], "delete (the marked ones, if any)"),
            (Action::Help, &["?"], "help"),
            (Action::Quit, &["q"], "quit"),
            (Action::NewVersion, &["u"], "new version"),
            (Action::Properties, &["e"], "properties"),
            (Action::ToggleEnabled, &["x"], "enable / disable"),
            (
                Action::Edit,
                &["shift-e"],
                "edit the value in $EDITOR (new version)",
            ),
            (Action::Backup, &["b"], "back up to a file"),
            (Action::CopyId, &["y"], "copy the identifier (URL)"),
            (Action::CopyName, &["shift-y"], "copy the name"),
            (
                Action::CopyEnv,
                &["shift-c"],
                "copy as NAME=value (an env line)",
            ),
            (
                Action::Promote,
                &["p"],
                "promote the marked (or selected) to another vault",
            ),
            (
                Action::CompareVaults,
                &["shift-v"],
                "compare with another vault",
            ),
            (Action::Mark, &["space"], "mark / unmark, then the next row"),
            (
                Action::MarkAll,
                &["*"],
                "mark every row shown (again: unmark)",
            ),
            (Action::Tab, &["tab", "backtab"], "deleted secrets"),
            (Action::Sort, &["s"], "sort: name, updated, expires"),
            (Action::Refresh, &["shift-r"], "list again"),
            (
                Action::Back,
                &["esc"],
                "stop a bulk action, unmark, clear the filter, or back",
            ),
        ],
        Context::Deleted => &[
            (Action::Recover, &["r"], "recover (the marked ones, if any)"),
            (
                Action::Purge,
                &["shift-p"],
                "purge for good (the marked ones, if any)",
            ),
            (Action::Filter, &["/"], "filter"),
            (Action::Tab, &["tab", "backtab"], "secrets"),
            (Action::Help, &["?"], "help"),
            (Action::Quit, &["q"], "quit"),
            (Action::Mark, &["space"], "mark / unmark, then the next row"),
            (
                Action::MarkAll,
                &["*"],
                "mark every row shown (again: unmark)",
            ),
            (Action::Sort, &["s"], "sort: name, updated, expires"),
            (Action::New, &["n"], "new secret"),
            (Action::Refresh, &["shift-r"], "list again"),
            (
                Action::Back,
                &["esc"],
                "stop a bulk action, unmark, clear the filter, or back",
            ),
        ],
        Context::Value => &[
            (Action::Reveal, &["space"], "reveal / hide"),
            (Action::Copy, &["c"], "copy the value"),
            (Action::Back, &["esc"], "close (drops the value)"),
            (Action::Edit, &["shift-e"], "edit in $EDITOR (new version)"),
            (Action::Help, &["?"], "help"),
            (Action::Quit, &["q"], "quit"),
            (Action::CopyId, &["y"], "copy the identifier (URL)"),
            (Action::CopyName, &["shift-y"], "copy the name"),
            (Action::CopyEnv, &["shift-c"], "copy as NAME=value"),
        ],
        Context::Versions => &[
            (Action::Open, &["enter"], "open this version's value"),
            (Action::Copy, &["c"], "copy this version's value"),
            (Action::Mark, &["space"], "mark for comparing"),
            (
                Action::Compare,
                &["="],
                "compare with the marked (or the newest) version",
            ),
            (Action::Back, &["esc"], "back to the secrets"),
            (Action::Help, &["?"], "help"),
            (Action::Quit, &["q"], "quit"),
            (
                Action::ToggleEnabled,
                &["x"],
                "enable / disable this version",
            ),
            (Action::Properties, &["e"], "properties of this version"),
        ],
        Context::Compare => &[
            (Action::Reveal, &["space"], "reveal / hide both"),
            (Action::Back, &["esc"], "close the comparison"),
            (Action::Help, &["?"], "help"),
            (Action::Quit, &["q"], "quit"),
        ],
        Context::Form => &[
            (Action::Submit, &["ctrl-s"], "save"),
            (Action::NextField, &["tab", "down"], "next field"),
            (Action::PrevField, &["backtab", "up"], "previous field"),
            (Action::ToggleMask, &["ctrl-t"], "show / mask the value"),
            (
                Action::Confirm,
                &["enter"],
                "next field; save on the last; new line in value, tags",
            ),
            (Action::Cancel, &["esc"], "close without saving"),
            (Action::Help, &["f1"], "help"),
        ],
        Context::Confirm => &[
            (Action::Confirm, &["y", "shift-y"], "yes"),
            (Action::Cancel, &["n", "shift-n", "esc"], "no"),
        ],
        Context::Purge => &[
            (Action::Confirm, &["enter"], "purge (once the name matches)"),
            (Action::Cancel, &["esc"], "cancel"),
        ],
        Context::Conflict => &[
            (Action::Recover, &["r"], "recover it, then open it"),
            (
                Action::Purge,
                &["p"],
                "purge it for good, then create the new secret",
            ),
            (
                Action::Cancel,
                &["c", "esc"],
                "back to the form, nothing lost",
            ),
        ],
        Context::Prompt => &[
            (Action::Confirm, &["enter"], "ok"),
            (Action::Cancel, &["esc"], "cancel"),
        ],
        Context::Command => &[
            (Action::Confirm, &["enter"], "run"),
            (Action::Complete, &["tab"], "complete"),
            (Action::Cancel, &["esc"], "cancel"),
        ],
        Context::Filter => &[
            (Action::Confirm, &["enter"], "keep the filter"),
            (Action::Cancel, &["esc"], "clear the filter"),
            (Action::Up, &["up"], "keep the filter, move up"),
            (Action::Down, &["down"], "keep the filter, move down"),
            (Action::Help, &["f1"], "help"),
        ],
        Context::Help => &[
            (Action::Down, &["down", "j"], "scroll down"),
            (Action::Up, &["up", "k"], "scroll up"),
            (Action::Back, &["esc", "?", "q"], "close the help"),
        ],
        Context::ErrorPanel => &[
            (Action::Copy, &["c"], "copy the suggested command"),
            (Action::Back, &["esc", "q", "enter"], "close"),
            (Action::Down, &["down", "j"], "scroll down"),
            (Action::Up, &["up", "k"], "scroll up"),
        ],
        Context::VaultDiff => &[
            (
                Action::Promote,
                &["p"],
                "promote what differs (a preview first)",
            ),
            (Action::Confirm, &["y"], "apply the promote preview"),
            (
                Action::Mark,
                &["space"],
                "leave the row out of the promote (again: back in)",
            ),
            (Action::Back, &["esc"], "close"),
            (Action::Up, &["up", "k"], "move up"),
            (Action::Down, &["down", "j"], "move down"),
            (Action::PageUp, &["pageup"], "page up"),
            (Action::PageDown, &["pagedown"], "page down"),
        ],
        Context::Across => &[
            (Action::Open, &["enter"], "open the secret in its vault"),
            (Action::Back, &["esc"], "close"),
            (Action::Up, &["up"], "move up"),
            (Action::Down, &["down"], "move down"),
            (Action::PageUp, &["pageup"], "page up"),
            (Action::PageDown, &["pagedown"], "page down"),
        ],
        Context::Messages => &[
            (Action::Open, &["enter"], "explain this error"),
            (Action::Copy, &["c"], "copy this message"),
            (Action::Back, &["esc", "q"], "close"),
            (Action::Up, &["up", "k"], "previous message"),
            (Action::Down, &["down", "j"], "next message"),
            (Action::PageUp, &["pageup"], "a page up"),
            (Action::PageDown, &["pagedown"], "a page down"),
            (Action::Top, &["home", "g"], "first message"),
            (Action::Bottom, &["end", "shift-g"], "last message"),
        ],
    };
    let (view, moves): (Defaults, Defaults) = match ctx {
        Context::Vaults | Context::Secrets | Context::Deleted | Context::Versions => (VIEW, NAV),
        Context::Value | Context::Compare => (VIEW, SCROLL),
        _ => (&[], &[]),
    };
    own.iter()
        .chain(view)
        .chain(moves)
        .chain(QUIT)
        .copied()
        .collect()
}
