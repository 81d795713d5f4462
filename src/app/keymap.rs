//! One keymap: `(context, key) → action` for every view and dialog. The same table drives the
//! handling, the help overlay (`?`), the hint line and README's key table, so they cannot drift.
//! Keys are parsed and shown by `crokey`; upper-case letters are written `shift-g` (crokey lower-cases
//! its input), and today's `"G"` style is mapped to that.

use std::collections::BTreeMap;

use crokey::KeyCombination;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::{Deserialize, Serialize};

use super::action::Action;

/// Where a key is pressed. The names are the config's sections: `[keys.secrets]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Context {
    Vaults,
    Secrets,
    Deleted,
    Value,
    Versions,
    Compare,
    Form,
    /// Yes/no dialogs: delete, quit.
    Confirm,
    /// Purge: the name typed out.
    Purge,
    /// Deleted but recoverable, on create.
    Conflict,
    /// A dialog that takes a line: open a vault, back up to a file.
    Prompt,
    /// The `:` line.
    Command,
    /// The `/` filter while it is typed.
    Filter,
    Help,
    /// An error explained (`!`).
    #[serde(rename = "error")]
    ErrorPanel,
    /// The message log (`:messages`).
    Messages,
    /// `:search` and `:expiring`: secrets across vaults.
    Across,
    /// `:compare-vaults` and `:promote`.
    #[serde(rename = "compare_vaults")]
    VaultDiff,
}

impl Context {
    pub const ALL: [Context; 18] = [
        Context::Vaults,
        Context::Secrets,
        Context::Deleted,
        Context::Value,
        Context::Versions,
        Context::Compare,
        Context::Form,
        Context::Confirm,
        Context::Purge,
        Context::Conflict,
        Context::Prompt,
        Context::Command,
        Context::Filter,
        Context::Help,
        Context::ErrorPanel,
        Context::Messages,
        Context::Across,
        Context::VaultDiff,
    ];

    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    pub fn from_name(name: &str) -> Option<Context> {
        serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
    }

    /// Whether unbound printable keys are typed into a field here.
    pub fn takes_text(self) -> bool {
        matches!(
            self,
            Context::Form
                | Context::Purge
                | Context::Prompt
                | Context::Command
                | Context::Filter
                | Context::Across
        )
    }

    /// What the help overlay calls it.
    pub fn title(self) -> &'static str {
        match self {
            Context::Vaults => "vault picker",
            Context::Secrets => "secret list",
            Context::Deleted => "deleted secrets",
            Context::Value => "value panel",
            Context::Versions => "versions",
            Context::Compare => "version comparison",
            Context::Form => "secret form",
            Context::Confirm => "confirmation",
            Context::Purge => "purge confirmation",
            Context::Conflict => "deleted-but-recoverable dialog",
            Context::Prompt => "dialog",
            Context::Command => "command line",
            Context::Filter => "filter",
            Context::Help => "help",
            Context::ErrorPanel => "error panel",
            Context::Messages => "message log",
            Context::Across => "across vaults (:search, :expiring)",
            Context::VaultDiff => "two vaults compared (:compare-vaults, :promote)",
        }
    }
}

use super::bindings::defaults;

/// Parses a key as the config writes it: `d`, `G` (= `shift-g`), `ctrl-d`, `alt-x`, `f2`, `enter`,
/// `esc`, `tab`, `space`, `up`, `pageup`…
pub fn parse_key(spec: &str) -> Option<KeyCombination> {
    let spec = spec.trim();
    // crokey lower-cases its input: an upper-case letter alone (or after alt-) means shift.
    let (prefix, last) = match spec.rfind('-') {
        Some(i) if i + 1 < spec.len() => spec.split_at(i + 1),
        _ => ("", spec),
    };
    let mut chars = last.chars();
    let upper = matches!((chars.next(), chars.next()), (Some(c), None) if c.is_ascii_uppercase());
    let spec = if upper && !prefix.to_ascii_lowercase().contains("ctrl-") {
        format!("{prefix}shift-{}", last.to_ascii_lowercase())
    } else {
        spec.to_string()
    };
    let kc = crokey::parse(&spec).ok()?;
    kc.is_ansi_compatible().then(|| normalize(kc))
}

/// One form for a key however the terminal reports it: letters carry their case with SHIFT, other
/// characters without it (terminals differ in whether `?` comes with SHIFT).
pub fn normalize(kc: KeyCombination) -> KeyCombination {
    let mut kc = kc.normalized();
    if let Some(KeyCode::Char(c)) = kc.codes.iter().next().copied() {
        if !c.is_ascii_alphabetic() {
            kc.modifiers.remove(KeyModifiers::SHIFT);
        }
    }
    kc
}

pub fn from_event(k: KeyEvent) -> KeyCombination {
    normalize(KeyCombination::from(KeyEvent::new(k.code, k.modifiers)))
}

/// How the config writes a key (`parse_key` reads it back): `d`, `shift-g`, `ctrl-d`, `enter`.
pub fn spec(kc: KeyCombination) -> String {
    crokey::KeyCombinationFormat::default()
        .with_lowercase_modifiers()
        .to_string(kc)
        .to_ascii_lowercase()
}

/// How a key is shown in help and hints: `G`, `Ctrl-s`, `Enter`, `↑`, `PgDn`.
pub fn display(kc: KeyCombination) -> String {
    let s = crokey::KeyCombinationFormat::default()
        .with_implicit_shift()
        .to_string(kc);
    // Ctrl with a letter is written Ctrl-S, as terminals and editors do.
    if let (Some(KeyCode::Char(c)), true) = (
        kc.codes.iter().next().copied(),
        kc.modifiers == KeyModifiers::CONTROL,
    ) {
        return format!("Ctrl-{}", c.to_ascii_uppercase());
    }
    match s.as_str() {
        "BackTab" => "Shift-Tab".into(),
        "Up" => "↑".into(),
        "Down" => "↓".into(),
        "Left" => "←".into(),
        "Right" => "→".into(),
        "PageUp" => "PgUp".into(),
        "PageDown" => "PgDn".into(),
        _ => s,
    }
}

/// One action of a context with its keys (the user's bindings included) and what it does there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub action: Action,
    pub keys: Vec<KeyCombination>,
    pub what: &'static str,
}

impl Entry {
    /// The keys as help shows them: `↑ k`.
    pub fn keys_label(&self) -> String {
        self.keys
            .iter()
            .map(|k| display(*k))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A binding from the config: `KEY = "action"`, globally or in one context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub context: Option<Context>,
    pub key: KeyCombination,
    pub spec: String,
    pub action: Action,
    pub line: usize,
}

/// A binding that took a key another action of the same context had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shadow {
    pub line: usize,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct Keymap {
    map: BTreeMap<Context, Vec<Entry>>,
}

impl Default for Keymap {
    fn default() -> Self {
        let map = Context::ALL
            .iter()
            .map(|&ctx| {
                let entries = defaults(ctx)
                    .into_iter()
                    .map(|(action, keys, what)| Entry {
                        action,
                        keys: keys.iter().filter_map(|k| parse_key(k)).collect(),
                        what,
                    })
                    .collect();
                (ctx, entries)
            })
            .collect();
        Keymap { map }
    }
}

impl Keymap {
    pub fn entries(&self, ctx: Context) -> &[Entry] {
        self.map.get(&ctx).map(Vec::as_slice).unwrap_or_default()
    }

    /// The action a key stands for in a context.
    pub fn resolve(&self, ctx: Context, key: KeyEvent) -> Option<Action> {
        let kc = from_event(key);
        self.entries(ctx)
            .iter()
            .find(|e| e.keys.contains(&kc))
            .map(|e| e.action)
    }

    /// The first key of an action in a context, as shown (`"d"`), for messages such as "press R".
    pub fn key_for(&self, ctx: Context, action: Action) -> Option<String> {
        self.entries(ctx)
            .iter()
            .find(|e| e.action == action)
            .and_then(|e| e.keys.first())
            .map(|k| display(*k))
    }

    /// Whether the action can be reached in the context.
    pub fn has(&self, ctx: Context, action: Action) -> bool {
        self.entries(ctx)
            .iter()
            .any(|e| e.action == action && !e.keys.is_empty())
    }

    /// Applies the config's bindings: global ones first, then each context's own. A binding replaces
    /// the action's default keys in its context (a second binding of the same action adds a key). A
    /// key taken from another action of the same context is reported; the binding wins.
    pub fn bind(&mut self, bindings: &[Binding]) -> Result<Vec<Shadow>, Shadow> {
        let mut shadows = Vec::new();
        let mut rebound: BTreeMap<(Context, Action), bool> = BTreeMap::new();
        let ordered = bindings
            .iter()
            .filter(|b| b.context.is_none())
            .chain(bindings.iter().filter(|b| b.context.is_some()));
        for b in ordered {
            let contexts: Vec<Context> = match b.context {
                Some(c) => {
                    if !self.entries(c).iter().any(|e| e.action == b.action) {
                        let names: Vec<String> =
                            self.entries(c).iter().map(|e| e.action.name()).collect();
                        return Err(Shadow {
                            line: b.line,
                            message: format!(
                                "'{}' is not an action of [keys.{}]; there: {}",
                                b.action.name(),
                                c.name(),
                                names.join(", ")
                            ),
                        });
                    }
                    vec![c]
                }
                None => Context::ALL
                    .iter()
                    .copied()
                    .filter(|c| self.entries(*c).iter().any(|e| e.action == b.action))
                    .collect(),
            };
            for ctx in contexts {
                let Some(entries) = self.map.get_mut(&ctx) else {
                    continue;
                };
                // Per-context bindings replace what the global ones set.
                let first = match rebound.get(&(ctx, b.action)) {
                    None => true,
                    Some(global) => *global && b.context.is_some(),
                };
                rebound.insert((ctx, b.action), b.context.is_none());
                for e in entries.iter_mut() {
                    if e.action == b.action {
                        if first {
                            e.keys.clear();
                        }
                        if !e.keys.contains(&b.key) {
                            e.keys.push(b.key);
                        }
                    } else if let Some(i) = e.keys.iter().position(|k| *k == b.key) {
                        e.keys.remove(i);
                        let left = if e.keys.is_empty() {
                            format!(
                                "{} has no key left there: bind it to another",
                                e.action.name()
                            )
                        } else {
                            format!("{} keeps {}", e.action.name(), e.keys_label())
                        };
                        shadows.push(Shadow {
                            line: b.line,
                            message: format!(
                                "'{}' = \"{}\" shadows {} in the {}; {left}",
                                b.spec,
                                b.action.name(),
                                e.action.name(),
                                ctx.title()
                            ),
                        });
                    }
                }
            }
        }
        Ok(shadows)
    }

    /// README's key table: one row per context and action.
    pub fn markdown_table(&self) -> String {
        let mut out = String::from("| where | keys | action | what it does |\n|---|---|---|---|\n");
        for ctx in Context::ALL {
            for e in self.entries(ctx) {
                let keys = e
                    .keys
                    .iter()
                    .map(|k| format!("`{}`", display(*k).replace('|', "\\|")))
                    .collect::<Vec<_>>()
                    .join(" ");
                out.push_str(&format!(
                    "| {} | {} | `{}` | {} |\n",
                    ctx.name(),
                    keys,
                    e.action.name(),
                    e.what
                ));
            }
        }
        out
    }
}
