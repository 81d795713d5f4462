//! The configuration file, `$XDG_CONFIG_HOME/kvtui/config.toml`. A bad file gives a precise error
//! (file, line, what was expected) and kvtui goes on with defaults.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::de::{DeTable, DeValue};

use crate::app::action::Action;
use crate::app::keymap::{parse_key, Binding, Context, Keymap};

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

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub vaults: Vec<VaultSpec>,
    #[serde(default)]
    pub clipboard: ClipboardConfig,
    /// Key → action name, e.g. `"ctrl-d" = "delete"`, globally or per view (`[keys.secrets]`). Read
    /// with their lines into `bindings` by `load`.
    #[serde(default)]
    pub keys: toml::Table,
    #[serde(default)]
    pub theme: ThemeConfig,
    /// `[keys]`, checked, with the line of each.
    #[serde(skip)]
    pub bindings: Vec<Binding>,
    /// The default keymap with `bindings` applied.
    #[serde(skip)]
    pub keymap: Keymap,
    /// Mistakes that do not stop the file from being used (a binding that shadows another).
    #[serde(skip)]
    pub warnings: Vec<ConfigError>,
}

impl PartialEq for Config {
    fn eq(&self, other: &Self) -> bool {
        (
            &self.vaults,
            &self.clipboard,
            &self.keys,
            &self.theme,
            &self.bindings,
        ) == (
            &other.vaults,
            &other.clipboard,
            &other.keys,
            &other.theme,
            &other.bindings,
        )
    }
}

fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// The line (1-based) of a byte offset.
fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Reads `[keys]` with the line of every binding (`toml::Spanned`), checking key and action names.
fn bindings(text: &str, file: &Path) -> Result<Vec<Binding>, ConfigError> {
    let err = |offset: usize, message: String| ConfigError {
        file: file.to_path_buf(),
        line: Some(line_at(text, offset)),
        message,
    };
    let Ok(doc) = DeTable::parse(text) else {
        return Ok(Vec::new());
    };
    let Some(keys) = doc.get_ref().get("keys") else {
        return Ok(Vec::new());
    };
    let DeValue::Table(keys) = keys.get_ref() else {
        return Err(err(keys.span().start, "[keys] must be a table".into()));
    };
    let mut out = Vec::new();
    let mut entry = |context: Option<Context>,
                     key: &toml::Spanned<toml::de::DeString>,
                     value: &toml::Spanned<DeValue>|
     -> Result<(), ConfigError> {
        let at = key.span().start;
        let DeValue::String(action) = value.get_ref() else {
            return Err(err(
                at,
                format!("'{}' must name an action, as a string", key.get_ref()),
            ));
        };
        let Some(kc) = parse_key(key.get_ref()) else {
            return Err(err(at, format!("'{}' is not a key: use d, G (shift-g), ctrl-d, alt-x, f2, enter, esc, tab, space, up, pageup…", key.get_ref())));
        };
        let Some(action) = Action::from_name(action) else {
            let names: Vec<String> = Action::ALL.iter().map(|a| a.name()).collect();
            return Err(err(
                value.span().start,
                format!(
                    "'{action}' is not an action; expected one of: {}",
                    names.join(", ")
                ),
            ));
        };
        out.push(Binding {
            context,
            key: kc,
            spec: key.get_ref().to_string(),
            action,
            line: line_at(text, at),
        });
        Ok(())
    };
    for (key, value) in keys {
        match value.get_ref() {
            DeValue::Table(section) => {
                let Some(ctx) = Context::from_name(key.get_ref()) else {
                    let names: Vec<String> = Context::ALL.iter().map(|c| c.name()).collect();
                    return Err(err(
                        key.span().start,
                        format!(
                            "[keys.{}] is not a view; expected one of: {}",
                            key.get_ref(),
                            names.join(", ")
                        ),
                    ));
                };
                for (k, v) in section {
                    entry(Some(ctx), k, v)?;
                }
            }
            _ => entry(None, key, value)?,
        }
    }
    Ok(out)
}

/// Checks what TOML cannot: theme names and colours.
fn check(cfg: &Config, text: &str, file: &Path) -> Result<(), ConfigError> {
    let err = |needle: &str, message: String| ConfigError {
        file: file.to_path_buf(),
        line: line_of(text, needle),
        message,
    };
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
    let mut cfg: Config = toml::from_str(&text).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        line: e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1)),
        message: e.message().to_string(),
    })?;
    check(&cfg, &text, path)?;
    cfg.bindings = bindings(&text, path)?;
    let at = |line: usize, message: String| ConfigError {
        file: path.to_path_buf(),
        line: Some(line),
        message,
    };
    match cfg.keymap.bind(&cfg.bindings) {
        Ok(shadows) => cfg.warnings = shadows.into_iter().map(|s| at(s.line, s.message)).collect(),
        Err(e) => return Err(at(e.line, e.message)),
    }
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
        assert_eq!(c.bindings.len(), 1);
        assert_eq!(c.bindings[0].action, Action::Delete);
        assert_eq!(c.bindings[0].line, 5);
        assert!(
            parse_key("ctrl-d").is_some()
                && parse_key("f2").is_some()
                && parse_key("space").is_some()
        );
    }

    #[test]
    fn a_binding_that_shadows_another_is_reported_at_its_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("config.toml");
        // A short key ("d") also appears in earlier lines' text: the line must still be the binding's.
        std::fs::write(
            &p,
            "[theme]\nname = \"dark\"\n[keys]\n\"ctrl-d\" = \"delete\"\nd = \"copy\"\n",
        )
        .expect("write");
        let c = load(&p).expect("usable");
        assert_eq!(c.warnings.len(), 0, "ctrl-d took delete first: d was free");
        std::fs::write(&p, "[theme]\nname = \"dark\"\n[keys]\nd = \"copy\"\n").expect("write");
        let c = load(&p).expect("usable");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert_eq!(c.warnings[0].line, Some(4));
        assert!(
            c.warnings[0].message.contains("shadows delete"),
            "{}",
            c.warnings[0]
        );
        std::fs::write(
            &p,
            "[keys.secrets]\nK = \"delete\"\n[keys.vaults]\nx = \"delete\"\n",
        )
        .expect("write");
        let e = load(&p).expect_err("delete is not a vault-picker action");
        assert_eq!(e.line, Some(4), "{e}");
        std::fs::write(&p, "[keys.nowhere]\nx = \"delete\"\n").expect("write");
        assert!(load(&p)
            .expect_err("no such view")
            .message
            .contains("not a view"));
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
