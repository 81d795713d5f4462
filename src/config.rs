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

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub vaults: Vec<VaultSpec>,
    #[serde(default)]
    pub clipboard: ClipboardConfig,
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
    toml::from_str(&text).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        line: e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1)),
        message: e.message().to_string(),
    })
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
    fn errors_name_the_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("config.toml");
        std::fs::write(&p, "# comment\n\nvaults = [\"a\",\nbogus = 1\n").expect("write");
        let e = load(&p).expect_err("bad");
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.to_string().contains("config.toml line 4"), "{e}");
    }
}
