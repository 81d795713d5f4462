//! The `:` command line: the commands, their completion, and running one.

use super::text::LineField;
use super::{App, Effect, Popup, Screen, Tab};
use crate::vault::sources::Source;

/// The `:` commands with what they do, for completion and for the dialog's reminder.
pub const COMMANDS: [(&str, &str); 16] = [
    ("vaults", "the vault picker"),
    ("secrets", "the secret list"),
    ("deleted", "the deleted secrets"),
    ("versions", "the selected secret's versions"),
    ("vault ", "open a vault: NAME or URL"),
    ("backup ", "back up the selected secret: FILE"),
    ("restore ", "restore a backup into this vault: FILE"),
    (
        "export ",
        "names and properties of the marked (or shown) secrets: FILE.json or FILE.csv",
    ),
    ("new", "a new secret"),
    (
        "export-env ",
        "the marked secrets' VALUES as NAME=value lines: FILE (0600)",
    ),
    (
        "compare-vaults ",
        "the open vault beside another, name by name: OTHER",
    ),
    (
        "promote ",
        "copy the marked (or selected) secrets to another vault: OTHER",
    ),
    (
        "search",
        "one fuzzy list over the secrets of every known vault",
    ),
    (
        "expiring",
        "what expires (or has), in every known vault, by time left",
    ),
    ("messages", "every error and notice of the session"),
    ("q", "quit"),
];

/// The reminder under the `:` line.
pub fn reminder() -> String {
    let names: Vec<String> = COMMANDS
        .iter()
        .map(|(c, _)| match c.trim_end() {
            "vault" => "vault NAME".to_string(),
            "compare-vaults" | "promote" => format!("{} OTHER", c.trim_end()),
            "backup" | "restore" | "export" | "export-env" => format!("{} FILE", c.trim_end()),
            other => other.to_string(),
        })
        .collect();
    format!("{}   (Tab completes)", names.join(" · "))
}

/// Completes `input` against the commands and, after `vault `, `compare-vaults ` and `promote `,
/// the vault names. Returns the new
/// input, or the candidates when there are several.
pub fn complete(input: &str, vault_names: &[String]) -> Result<String, Vec<String>> {
    // The commands that take a vault complete its name.
    let with_vault = ["vault ", "compare-vaults ", "promote "]
        .into_iter()
        .find_map(|c| input.strip_prefix(c).map(|rest| (c, rest)));
    let candidates: Vec<String> = if let Some((cmd, rest)) = with_vault {
        vault_names
            .iter()
            .filter(|n| n.to_lowercase().starts_with(&rest.to_lowercase()))
            .map(|n| format!("{cmd}{n}"))
            .collect()
    } else {
        COMMANDS
            .iter()
            .filter(|(c, _)| c.starts_with(input))
            .map(|(c, _)| c.to_string())
            .collect()
    };
    match candidates.len() {
        0 => Err(Vec::new()),
        1 => Ok(candidates[0].clone()),
        _ => {
            // The longest common prefix (by character), if it adds anything.
            let first: Vec<char> = candidates[0].chars().collect();
            let common = (0..first.len())
                .take_while(|i| {
                    candidates
                        .iter()
                        .all(|c| c.chars().nth(*i) == Some(first[*i]))
                })
                .count();
            if common > input.chars().count() {
                Ok(first[..common].iter().collect())
            } else {
                Err(candidates)
            }
        }
    }
}

impl App {
    /// Tab in the `:` line.
    pub(super) fn complete_command(&mut self, input: LineField) {
        let names: Vec<String> = self.vaults.entries.iter().map(|e| e.name.clone()).collect();
        let (input, error) = match complete(input.value(), &names) {
            Ok(c) => (LineField::new(c), None),
            Err(c) if c.is_empty() => {
                let e = format!("no command starts with '{}'", input.value());
                (input, Some(e))
            }
            Err(c) => (input, Some(c.join("  "))),
        };
        self.popup = Some(Popup::Command { input, error });
    }

    /// Enter in the `:` line.
    pub(super) fn run_command(&mut self, input: LineField) -> Vec<Effect> {
        let text = input.value().to_string();
        let line = text.trim();
        let (cmd, arg) = line
            .split_once(' ')
            .map(|(c, a)| (c, a.trim()))
            .unwrap_or((line, ""));
        let in_vault = self.vault.is_some();
        let refuse = |app: &mut App, why: String| {
            app.popup = Some(Popup::Command {
                input: input.clone(),
                error: Some(why),
            });
            Vec::new()
        };
        match (cmd, arg) {
            ("q" | "quit", _) => self.quit(false),
            ("messages", _) => {
                self.show_messages();
                Vec::new()
            }
            ("q!", _) => self.quit(true),
            ("vaults", _) => self.back_to_vaults(),
            ("secrets" | "deleted", _) if in_vault => {
                let mut effects = self.close_versions();
                effects.extend(self.close_value());
                self.screen = Screen::Vault;
                self.tab = if cmd == "secrets" {
                    Tab::Secrets
                } else {
                    Tab::Deleted
                };
                self.reorder();
                effects
            }
            ("versions", _) if in_vault => {
                let mut effects = self.close_versions();
                effects.extend(self.close_value());
                self.tab = Tab::Secrets;
                effects.extend(self.open_versions());
                effects
            }
            ("search", _) => self.open_across(super::across::AcrossKind::Search),
            ("compare-vaults" | "promote", other) if in_vault && !other.is_empty() => {
                match self.open_diff(other, cmd == "promote") {
                    Ok(effects) => effects,
                    Err(e) => refuse(self, e),
                }
            }
            ("expiring", _) => self.open_across(super::across::AcrossKind::Expiring),
            ("new", _) if in_vault => {
                self.open_form('n');
                Vec::new()
            }
            ("vault", name) if !name.is_empty() => {
                let found = self
                    .vaults
                    .entries
                    .iter()
                    .find(|e| e.name.eq_ignore_ascii_case(name) || e.url.eq_ignore_ascii_case(name))
                    .map(|e| e.url.clone());
                let url = match found {
                    Some(u) => u,
                    None => match crate::vault::sources::vault_url(
                        name,
                        crate::vault::credential::Cloud::Public,
                    ) {
                        Ok(u) => {
                            self.vaults.add(&u, Source::Flag);
                            u
                        }
                        Err(e) => return refuse(self, e),
                    },
                };
                self.open_vault(&url)
            }
            ("backup", path) if in_vault && !path.is_empty() => {
                match self.selected_secret().map(|p| p.name.clone()) {
                    Some(name) => self.backup_to(name, path.to_string(), false),
                    None => refuse(self, "select a secret to back up first".into()),
                }
            }
            ("restore", path) if !path.is_empty() => self.restore_from(path.to_string()),
            ("export-env", path) if in_vault && !path.is_empty() => {
                match self.confirm_export_env(path) {
                    Ok(()) => Vec::new(),
                    Err(e) => refuse(self, e),
                }
            }
            ("export" | "export!", path) if in_vault && !path.is_empty() => {
                match self.export_to(path, cmd == "export!") {
                    Ok(effects) => effects,
                    Err(e) => refuse(self, e),
                }
            }
            _ => {
                let needs_vault = [
                    "secrets",
                    "deleted",
                    "versions",
                    "new",
                    "backup",
                    "export",
                    "compare-vaults",
                    "promote",
                ];
                let why = if needs_vault.contains(&cmd) && !in_vault {
                    format!(":{cmd} needs an open vault")
                } else if [
                    "vault",
                    "backup",
                    "restore",
                    "export",
                    "compare-vaults",
                    "promote",
                ]
                .contains(&cmd)
                {
                    format!(":{cmd} needs an argument (Tab completes)")
                } else {
                    format!("unknown command ':{cmd}' — {}", reminder())
                };
                refuse(self, why)
            }
        }
    }
}
