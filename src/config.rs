//! The configuration file, `$XDG_CONFIG_HOME/kvtui/config.toml`. A bad file gives a precise error
//! (file, line, what was expected) and kvtui goes on with defaults.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One vault in the config: a name or URL, or a table with options.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum VaultSpec {
    Plain(String),
    Detailed {
        #[serde(alias = "name")]
        url: String,
        #[serde(default)]
        tenant: Option<String>,
        #[serde(default)]
        read_only: bool,
    },
}

impl VaultSpec {
    pub fn spec(&self) -> &str {
        match self {
            VaultSpec::Plain(s) => s,
            VaultSpec::Detailed { url, .. } => url,
        }
    }
}

/// `[clipboard]`: where copies go and when they are cleared.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClipboardConfig {
    pub mode: Option<crate::clipboard::Mode>,
    /// Seconds; 0 never clears.
    pub clear_after: Option<u64>,
}

/// `[theme]`: a built-in theme and colour overrides (names like "cyan" or "#005f87").
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ThemeConfig {
    pub name: Option<String>,
    pub accent: Option<String>,
    pub selected_bg: Option<String>,
    pub selected_fg: Option<String>,
    pub muted: Option<String>,
    pub error: Option<String>,
    pub warn: Option<String>,
    pub ok: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub vaults: Vec<VaultSpec>,
    #[serde(default)]
    pub clipboard: ClipboardConfig,
    /// Key → action name, e.g. `"ctrl-d" = "delete"`.
    #[serde(default)]
    pub keys: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub theme: ThemeConfig,
}

/// The actions keys can be bound to, with their default key.
pub const ACTIONS: [(&str, &str); 30] = [
    ("up", "up"),
    ("down", "down"),
    ("page_up", "pageup"),
    ("page_down", "pagedown"),
    ("top", "g"),
    ("bottom", "G"),
    ("open", "enter"),
    ("back", "esc"),
    ("filter", "/"),
    ("command", ":"),
    ("refresh", "R"),
    ("help", "?"),
    ("quit", "q"),
    ("tab", "tab"),
    ("sort", "s"),
    ("delete", "d"),
    ("recover", "r"),
    ("purge", "P"),
    ("new", "n"),
    ("new_version", "u"),
    ("properties", "e"),
    ("toggle_enabled", "x"),
    ("versions", "v"),
    ("edit", "E"),
    ("backup", "b"),
    ("copy", "c"),
    ("copy_id", "y"),
    ("copy_name", "Y"),
    ("reveal", "space"),
    ("compare", "="),
];

/// Parses a key: `d`, `D`, `ctrl-d`, `alt-x`, `f2`, `enter`, `esc`, `tab`, `space`, `up`, `pageup`…
pub fn parse_key(spec: &str) -> Option<crossterm::event::KeyEvent> {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut mods = KeyModifiers::NONE;
    let mut rest = spec;
    loop {
        let lower = rest.to_ascii_lowercase();
        if lower.starts_with("ctrl-") {
            mods |= KeyModifiers::CONTROL;
            rest = &rest[5..];
        } else if lower.starts_with("alt-") {
            mods |= KeyModifiers::ALT;
            rest = &rest[4..];
        } else {
            break;
        }
    }
    let code = match rest.to_ascii_lowercase().as_str() {
        "enter" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "space" => KeyCode::Char(' '),
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pageup" => KeyCode::PageUp,
        "pagedown" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "backspace" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        f if f.len() >= 2
            && f.starts_with('f')
            && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
        {
            KeyCode::F(f[1..].parse().unwrap_or(1))
        }
        _ => {
            let mut chars = rest.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => KeyCode::Char(if mods.contains(KeyModifiers::CONTROL) {
                    c.to_ascii_lowercase()
                } else {
                    c
                }),
                _ => return None,
            }
        }
    };
    Some(KeyEvent::new(code, mods))
}

fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// Checks what TOML cannot: key names, action names, theme names and colours.
fn check(cfg: &Config, text: &str, file: &Path) -> Result<(), ConfigError> {
    let err = |needle: &str, message: String| ConfigError {
        file: file.to_path_buf(),
        line: line_of(text, needle),
        message,
    };
    for (key, action) in &cfg.keys {
        if parse_key(key).is_none() {
            return Err(err(key, format!("'{key}' is not a key: use d, D, ctrl-d, alt-x, f2, enter, esc, tab, space, up, pageup…")));
        }
        if !ACTIONS.iter().any(|(a, _)| a == action) {
            let names: Vec<&str> = ACTIONS.iter().map(|(a, _)| *a).collect();
            return Err(err(
                action,
                format!(
                    "'{action}' is not an action; expected one of: {}",
                    names.join(", ")
                ),
            ));
        }
    }
    if let Some(n) = &cfg.theme.name {
        if !["dark", "light"].contains(&n.as_str()) {
            return Err(err(
                n,
                format!("theme '{n}' does not exist: expected dark or light"),
            ));
        }
    }
    let t = &cfg.theme;
    for c in [
        &t.accent,
        &t.selected_bg,
        &t.selected_fg,
        &t.muted,
        &t.error,
        &t.warn,
        &t.ok,
    ]
    .into_iter()
    .flatten()
    {
        if crate::ui::theme::parse_color(c).is_none() {
            return Err(err(
                c,
                format!(
                    "'{c}' is not a colour: use a name (cyan, darkgray, lightblue…) or #rrggbb"
                ),
            ));
        }
    }
    Ok(())
}

/// A config file that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{} line {l}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

pub fn default_path() -> Option<PathBuf> {
    crate::paths::config_dir().map(|d| d.join("config.toml"))
}

/// Reads the config; a missing file is the default config.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(e) => {
            return Err(ConfigError {
                file: path.to_path_buf(),
                line: None,
                message: e.to_string(),
            })
        }
    };
    let cfg: Config = toml::from_str(&text).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        line: e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1)),
        message: e.message().to_string(),
    })?;
    check(&cfg, &text, path)?;
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vaults_as_names_urls_and_tables() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("config.toml");
        std::fs::write(
            &p,
            "vaults = [\"kv-dev\", { url = \"https://kv-prod.vault.azure.net\", tenant = \"t1\", read_only = true }]\n",
        )
        .expect("write");
        let c = load(&p).expect("loads");
        assert_eq!(c.vaults.len(), 2);
        assert_eq!(c.vaults[0].spec(), "kv-dev");
        assert!(matches!(
            &c.vaults[1],
            VaultSpec::Detailed {
                read_only: true,
                ..
            }
        ));
        assert_eq!(
            load(&dir.path().join("missing.toml")),
            Ok(Config::default())
        );
    }

    #[test]
    fn keys_and_themes_are_checked_with_their_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("config.toml");
        std::fs::write(&p, "[keys]\n\"ctrl-d\" = \"delete\"\n\"D\" = \"nuke\"\n").expect("write");
        let e = load(&p).expect_err("unknown action");
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("'nuke' is not an action"), "{e}");
        std::fs::write(&p, "[keys]\n\"hyper-q\" = \"quit\"\n").expect("write");
        assert!(load(&p).expect_err("bad key").message.contains("not a key"));
        std::fs::write(&p, "[theme]\nname = \"light\"\nselected_bg = \"#zz0000\"\n")
            .expect("write");
        let e = load(&p).expect_err("bad colour");
        assert_eq!(e.line, Some(3));
        std::fs::write(
            &p,
            "[theme]\nname = \"light\"\naccent = \"#005f87\"\n[keys]\n\"ctrl-d\" = \"delete\"\n",
        )
        .expect("write");
        let c = load(&p).expect("valid");
        assert_eq!(c.keys.get("ctrl-d").map(String::as_str), Some("delete"));
        assert!(
            parse_key("ctrl-d").is_some()
                && parse_key("f2").is_some()
                && parse_key("space").is_some()
        );
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("config.toml");
        std::fs::write(&p, "# comment\n\nvaults = [\"a\",\nbogus = 1\n").expect("write");
        let e = load(&p).expect_err("bad");
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.to_string().contains("config.toml line 4"), "{e}");
    }
}
