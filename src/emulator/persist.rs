//! Durable state for `--data FILE` (and the same format for `--seed FILE`): JSON lines, each the whole
//! state of one name in one vault. Every change appends a line and syncs it to disk before the client
//! gets its answer, so `kill -9` loses no acknowledged write. On start the file is read (the last line
//! of a name wins; a torn final line from a crash is ignored), then rewritten compacted, atomically.

use std::collections::HashMap;
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

/// The open data file. Each change appends the name's new state; when the file has grown past twice
/// what is live (plus 1 MiB), it is rewritten compacted, so its size stays proportional to the data.
pub struct DataFile {
    path: PathBuf,
    inner: Mutex<Inner>,
}

struct Inner {
    file: File,
    /// Bytes in the file now.
    written: u64,
    /// The last line of each name, and their total size: what a compacted file would hold.
    last: HashMap<(String, String), Zeroizing<Vec<u8>>>,
    live: u64,
}

const COMPACT_SLACK: u64 = 1024 * 1024;

fn key(vault: &str, name: &str) -> (String, String) {
    (vault.to_ascii_lowercase(), name.to_ascii_lowercase())
}

impl DataFile {
    /// Rewrites `path` to hold exactly `entries` (atomically), then opens it for appending.
    pub fn create_compacted(path: &Path, entries: &[Entry]) -> Result<Self> {
        let mut last = HashMap::new();
        for e in entries {
            let mut line = Zeroizing::new(serde_json::to_vec(e).context("serialising state")?);
            line.push(b'\n');
            last.insert(key(&e.vault, &e.name), line);
        }
        let inner = Self::rewrite(path, last)?;
        Ok(Self {
            path: path.to_path_buf(),
            inner: Mutex::new(inner),
        })
    }

    /// Writes the live lines atomically and opens the file for appending.
    fn rewrite(path: &Path, last: HashMap<(String, String), Zeroizing<Vec<u8>>>) -> Result<Inner> {
        // Values pass through these buffers: wipe them afterwards.
        let mut text = Zeroizing::new(Vec::new());
        for line in last.values() {
            text.extend_from_slice(line);
        }
        crate::paths::write_private_atomic(path, &text)
            .with_context(|| format!("writing {}", path.display()))?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("opening {} for appending", path.display()))?;
        let size = text.len() as u64;
        Ok(Inner {
            file,
            written: size,
            live: size,
            last,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's size now (for tests and figures).
    pub fn size(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).written
    }

    /// Appends the state of one name and syncs it to disk; compacts when the file has grown past
    /// twice the live size.
    pub fn append(&self, vault: &str, name: &str, state: &NameState) -> io::Result<()> {
        let entry = Entry {
            vault: vault.to_string(),
            name: name.to_string(),
            state: state.clone(),
        };
        let mut line = Zeroizing::new(serde_json::to_vec(&entry).map_err(io::Error::other)?);
        line.push(b'\n');
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.file.write_all(&line)?;
        inner.file.sync_data()?;
        inner.written += line.len() as u64;
        let k = key(vault, name);
        if let Some(old) = inner.last.remove(&k) {
            inner.live -= old.len() as u64;
        }
        if !state.is_empty() {
            inner.live += line.len() as u64;
            inner.last.insert(k, line);
        }
        if inner.written > 2 * inner.live + COMPACT_SLACK {
            let last = std::mem::take(&mut inner.last);
            match Self::rewrite(&self.path, last.clone()) {
                Ok(fresh) => *inner = fresh,
                // The appended file is still whole and correct: compact another time.
                Err(e) => {
                    inner.last = last;
                    tracing::warn!(error = %e, "could not compact the data file");
                }
            }
        }
        Ok(())
    }
}
