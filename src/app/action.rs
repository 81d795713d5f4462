//! What the user can ask for, by name. The names (snake_case) are the config's action names:
//! `[keys] "ctrl-d" = "delete"`. Keys become actions in the keymap; `App::update` turns actions into
//! state changes and effects.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    // Moving around a list (or scrolling a panel).
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    // Views.
    Open,
    OpenUrl,
    Back,
    Filter,
    Command,
    Refresh,
    Help,
    Quit,
    ForceQuit,
    Tab,
    Sort,
    // Secrets.
    New,
    NewVersion,
    Properties,
    ToggleEnabled,
    Versions,
    Edit,
    Backup,
    Delete,
    Recover,
    Purge,
    Copy,
    CopyId,
    CopyName,
    /// Copy as `NAME=value`.
    CopyEnv,
    Reveal,
    // Versions.
    Mark,
    /// Mark every row shown (again: unmark them).
    MarkAll,
    Compare,
    // Forms and dialogs.
    Submit,
    ToggleMask,
    NextField,
    PrevField,
    Confirm,
    Cancel,
    Complete,
    /// The last error, explained.
    LastError,
    /// Compare the open vault with another (`:compare-vaults OTHER`).
    CompareVaults,
    /// Copy the marked (or selected, or differing) secrets to another vault, after a preview.
    Promote,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: [Action; 45] = [
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::Open,
        Action::OpenUrl,
        Action::Back,
        Action::Filter,
        Action::Command,
        Action::Refresh,
        Action::Help,
        Action::Quit,
        Action::ForceQuit,
        Action::Tab,
        Action::Sort,
        Action::New,
        Action::NewVersion,
        Action::Properties,
        Action::ToggleEnabled,
        Action::Versions,
        Action::Edit,
        Action::Backup,
        Action::Delete,
        Action::Recover,
        Action::Purge,
        Action::Copy,
        Action::CopyId,
        Action::CopyName,
        Action::CopyEnv,
        Action::Reveal,
        Action::Mark,
        Action::MarkAll,
        Action::Compare,
        Action::Submit,
        Action::ToggleMask,
        Action::NextField,
        Action::PrevField,
        Action::Confirm,
        Action::Cancel,
        Action::Complete,
        Action::LastError,
        Action::CompareVaults,
        Action::Promote,
    ];

    /// The config name (`"copy_id"`).
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    pub fn from_name(name: &str) -> Option<Action> {
        serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
    }

    /// Whether the action changes the vault (refused in read-only mode, hidden from its help).
    pub fn writes(self) -> bool {
        matches!(
            self,
            Action::New
                | Action::NewVersion
                | Action::Properties
                | Action::ToggleEnabled
                | Action::Edit
                | Action::Delete
                | Action::Recover
                | Action::Purge
        )
    }

    /// Scrolls a panel for the movement actions; `false` for any other action.
    pub fn scroll(self, offset: &mut u16) -> bool {
        *offset = match self {
            Action::Down => offset.saturating_add(1),
            Action::Up => offset.saturating_sub(1),
            Action::PageDown => offset.saturating_add(10),
            Action::PageUp => offset.saturating_sub(10),
            Action::Top => 0,
            Action::Bottom => u16::MAX / 2,
            _ => return false,
        };
        true
    }

    /// The short word of the hint line.
    pub fn hint(self) -> &'static str {
        match self {
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Open => "open",
            Action::OpenUrl => "open URL",
            Action::Back => "back",
            Action::Filter => "filter",
            Action::Command => "command",
            Action::Refresh => "refresh",
            Action::Help => "help",
            Action::Quit => "quit",
            Action::ForceQuit => "quit now",
            Action::Tab => "switch tab",
            Action::Sort => "sort",
            Action::New => "new",
            Action::NewVersion => "new version",
            Action::Properties => "properties",
            Action::ToggleEnabled => "on/off",
            Action::Versions => "versions",
            Action::Edit => "$EDITOR",
            Action::Backup => "backup",
            Action::Delete => "delete",
            Action::Recover => "recover",
            Action::Purge => "purge",
            Action::Copy => "copy",
            Action::CopyId => "copy id",
            Action::CopyName => "copy name",
            Action::CopyEnv => "copy NAME=value",
            Action::Reveal => "reveal",
            Action::Mark => "mark",
            Action::MarkAll => "mark all",
            Action::Compare => "compare",
            Action::Submit => "save",
            Action::ToggleMask => "show value",
            Action::NextField => "next field",
            Action::PrevField => "previous field",
            Action::Confirm => "ok",
            Action::Cancel => "cancel",
            Action::Complete => "complete",
            Action::LastError => "last error",
            Action::CompareVaults => "compare vaults",
            Action::Promote => "promote",
        }
    }
}
