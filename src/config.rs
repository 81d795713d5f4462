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
    /// Keep each vault's names and properties (never values) to show them at once on re-open.
    #[serde(default)]
    pub cache: Option<bool>,
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
            &self.cache,
            &self.clipboard,
            &self.keys,
            &self.theme,
            &self.bindings,
        ) == (
            &other.vaults,
            &other.cache,
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
fn bindings(text: &str, file: &Path) -> (Vec<Binding>, Vec<ConfigError>) {
    let mut errors = Vec::new();
    let found = bindings_or_first(text, file, &mut errors);
    (found, errors)
}

fn bindings_or_first(text: &str, file: &Path, errors: &mut Vec<ConfigError>) -> Vec<Binding> {
    let err = |offset: usize, message: String| ConfigError {
        file: file.to_path_buf(),
        line: Some(line_at(text, offset)),
        message,
    };
    let Ok(doc) = DeTable::parse(text) else {
        return Vec::new();
    };
    let Some(keys) = doc.get_ref().get("keys") else {
        return Vec::new();
    };
    let DeValue::Table(keys) = keys.get_ref() else {
        errors.push(err(keys.span().start, "[keys] must be a table".into()));
        return Vec::new();
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
                    errors.push(err(
                        key.span().start,
                        format!(
                            "[keys.{}] is not a view; expected one of: {}",
                            key.get_ref(),
                            names.join(", ")
                        ),
                    ));
                    continue;
                };
                for (k, v) in section {
                    if let Err(e) = entry(Some(ctx), k, v) {
                        errors.push(e);
                    }
                }
            }
            _ => {
                if let Err(e) = entry(None, key, value) {
                    errors.push(e);
                }
            }
        }
    }
    out
}

/// Checks what TOML cannot: theme names and colours.
fn check(cfg: &Config, text: &str, file: &Path) -> Vec<ConfigError> {
    let err = |needle: &str, message: String| ConfigError {
        file: file.to_path_buf(),
        line: line_of(text, needle),
        message,
    };
    let mut errors = Vec::new();
    if let Some(n) = &cfg.theme.name {
        if !["dark", "light"].contains(&n.as_str()) {
            errors.push(err(
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
            errors.push(err(
                c,
                format!(
                    "'{c}' is not a colour: use a name (cyan, darkgray, lightblue…) or #rrggbb"
                ),
            ));
        }
    }
    errors
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

/// Reads a config file: the config and every mistake (a file TOML cannot read is one mistake and
/// no config). A missing file is the default config.
fn read(path: &Path) -> Result<(Config, Vec<ConfigError>), ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((Config::default(), Vec::new()))
        }
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
    let mut errors = check(&cfg, &text, path);
    let (found, wrong) = bindings(&text, path);
    errors.extend(wrong);
    cfg.bindings = found;
    let at = |line: usize, message: String| ConfigError {
        file: path.to_path_buf(),
        line: Some(line),
        message,
    };
    match cfg.keymap.bind(&cfg.bindings) {
        Ok(shadows) => cfg.warnings = shadows.into_iter().map(|s| at(s.line, s.message)).collect(),
        Err(e) => errors.push(at(e.line, e.message)),
    }
    Ok((cfg, errors))
}

/// Reads the config; a missing file is the default config; the first mistake refuses the file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let (cfg, errors) = read(path)?;
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(cfg),
    }
}

/// Every mistake of a config file, with its line (`kvtui config check`): the ones that refuse the
/// file, then the warnings (a binding that shadows another).
pub fn check_file(path: &Path) -> Vec<ConfigError> {
    match read(path) {
        Err(e) => vec![e],
        Ok((cfg, mut errors)) => {
            errors.extend(cfg.warnings);
            errors
        }
    }
}

/// A commented default config: every section, every view's actions with their default keys.
pub fn default_file() -> String {
    let km = Keymap::default();
    let mut out = String::from(
        "# kvtui configuration (kvtui config check validates it).\n\n\
         # Vaults to list: names (kv-prod → https://kv-prod.vault.azure.net), URLs, or tables.\n\
         # vaults = [\n\
         #   \"kv-dev\",\n\
         #   { url = \"https://kv-prod.vault.azure.net\", tenant = \"00000000-0000-0000-0000-000000000000\", read_only = true },\n\
         # ]\n\n\
         # Show a vault's names and properties (never values) from $XDG_CACHE_HOME/kvtui at once when\n\
         # it is opened again, while a fresh listing runs (--no-cache turns it off for one run).\n\
         # cache = true\n\n\
         [clipboard]\n\
         # mode = \"auto\"      # auto | system | osc52 | off\n\
         # clear_after = 30    # seconds; 0 never clears\n\n\
         [theme]\n\
         # name = \"dark\"      # dark | light\n\
         # Colour overrides: names (cyan, darkgray, lightblue…) or #rrggbb.\n\
         # accent = \"cyan\"\n\
         # selected_bg = \"#005f87\"\n\
         # selected_fg = \"white\"\n\
         # muted = \"darkgray\"\n\
         # error = \"red\"\n\
         # warn = \"yellow\"\n\
         # ok = \"green\"\n\n\
         # Key bindings: KEY = \"action\" in [keys] applies in every view that has the action;\n\
         # [keys.VIEW] in one view. A binding replaces the action's default key there (a second\n\
         # binding adds one). Keys: d, G (= shift-g), ctrl-d, alt-x, f2, enter, esc, tab, space, up, pageup…\n\
         [keys]\n\
         # \"ctrl-d\" = \"delete\"\n",
    );
    for ctx in Context::ALL {
        out.push_str(&format!("\n[keys.{}]   # {}\n", ctx.name(), ctx.title()));
        for e in km.entries(ctx) {
            let keys: Vec<String> = e
                .keys
                .iter()
                .map(|k| crate::app::keymap::spec(*k))
                .collect();
            let also = match keys.get(1..) {
                Some(more) if !more.is_empty() => format!(" (also {})", more.join(", ")),
                _ => String::new(),
            };
            out.push_str(&format!(
                "# {:<16} = {:<18} # {}{also}\n",
                format!("\"{}\"", keys.first().cloned().unwrap_or_default()),
                format!("\"{}\"", e.action.name()),
                e.what
            ));
        }
    }
    out
}

/// Writes the commented default config (`kvtui config init`), never over an existing file.
pub fn init(path: &Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    if path.exists() {
        anyhow::bail!(
            "{} exists already: kvtui config check validates it (nothing was written)",
            path.display()
        );
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, default_file()).with_context(|| format!("writing {}", path.display()))
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Whatever the file holds, loading it gives a config or mistakes with lines, never a panic.
        #[test]
        fn the_loader_never_panics(
            key in "\\PC{0,12}",
            action in "[a-z_]{0,14}",
            view in "[a-z_]{0,10}",
            junk in "\\PC{0,80}",
        ) {
            let dir = tempfile::tempdir().expect("tempdir");
            let p = dir.path().join("config.toml");
            let text = format!(
                "[keys]\n{key:?} = {action:?}\n[keys.{view}]\n{key:?} = {action:?}\n{junk}\n"
            );
            std::fs::write(&p, text).expect("write");
            let _ = load(&p);
            for m in check_file(&p) {
                proptest::prop_assert!(!m.message.is_empty());
            }
        }
    }
}
