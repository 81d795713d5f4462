//! Durable state for `--data FILE` (and the same format for `--seed FILE`): JSON lines, each the whole
//! state of one name in one vault. Every change appends a line and syncs it to disk before the client
//! gets its answer, so `kill -9` loses no acknowledged write. On start the file is read (the last line
//! of a name wins; a torn final line from a crash is ignored), then rewritten compacted, atomically.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::store::NameState;

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(vault: &str, name: &str, purged_until: Option<u64>) -> Entry {
        Entry {
            vault: vault.into(),
            name: name.into(),
            state: NameState {
                purged_until,
                ..NameState::default()
            },
        }
    }

    #[test]
    fn compaction_keeps_the_last_state_of_each_name_and_drops_empty_ones() {
        let out = compact(vec![
            entry("v", "a", Some(1)),
            entry("v", "B", Some(2)),
            entry("V", "A", Some(3)),
            entry("v", "b", None),
        ]);
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].name.as_str(), out[0].state.purged_until),
            ("A", Some(3))
        );
    }
}

/// One line of a data or seed file.
#[derive(Serialize, Deserialize)]
pub struct Entry {
    pub vault: String,
    pub name: String,
    #[serde(flatten)]
    pub state: NameState,
}

/// Reads a data or seed file. A final line that does not parse is a write cut short by a crash and is
/// dropped (it was never acknowledged); a bad line elsewhere is an error naming the line.
pub fn read_entries(path: &Path) -> Result<Vec<Entry>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<io::Result<_>>()
        .with_context(|| format!("reading {}", path.display()))?;
    let last = lines.iter().rposition(|l| !l.trim().is_empty());
    let mut entries = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Entry>(line) {
            Ok(e) => entries.push(e),
            Err(_) if Some(i) == last && !line.ends_with('}') => {}
            Err(e) => bail!(
                "{} line {}: not a valid entry ({e}); expected {{\"vault\", \"name\", \"live\"|\"deleted\"}}",
                path.display(),
                i + 1
            ),
        }
    }
    Ok(entries)
}

/// The last state of each name (names compare case-insensitively, as in the vault), in first-seen
/// order, without names that hold nothing any more.
pub fn compact(entries: Vec<Entry>) -> Vec<Entry> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut last: std::collections::HashMap<(String, String), Entry> =
        std::collections::HashMap::new();
    for e in entries {
        let key = (e.vault.to_ascii_lowercase(), e.name.to_ascii_lowercase());
        if !last.contains_key(&key) {
            order.push(key.clone());
        }
        last.insert(key, e);
    }
    order
        .into_iter()
        .filter_map(|k| last.remove(&k))
        .filter(|e| !e.state.is_empty())
        .collect()
}

/// The open data file.
pub struct DataFile {
    path: PathBuf,
    file: Mutex<File>,
}

impl DataFile {
    /// Rewrites `path` to hold exactly `entries` (atomically), then opens it for appending.
    pub fn create_compacted(path: &Path, entries: &[Entry]) -> Result<Self> {
        // Values pass through these buffers: wipe them afterwards.
        let mut text = Zeroizing::new(Vec::new());
        for e in entries {
            serde_json::to_writer(&mut *text, e).context("serialising state")?;
            text.push(b'\n');
        }
        crate::paths::write_private_atomic(path, &text)
            .with_context(|| format!("writing {}", path.display()))?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("opening {} for appending", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the state of one name and syncs it to disk.
    pub fn append(&self, vault: &str, name: &str, state: &NameState) -> io::Result<()> {
        let entry = Entry {
            vault: vault.to_string(),
            name: name.to_string(),
            state: state.clone(),
        };
        let mut line = Zeroizing::new(serde_json::to_vec(&entry).map_err(io::Error::other)?);
        line.push(b'\n');
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(&line)?;
        f.sync_data()
    }
}
