//! Text fields with a cursor. Single-line fields (names, dates, the filter, the `:` line, paths) are
//! `tui-input`; tags (several lines) are `ratatui-textarea`; the secret value is our own small editor
//! over a zeroized buffer (both crates keep yank buffers and undo history, which would be copies of the
//! secret). All three take the same editing keys, from one table.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::{CursorMove, TextArea};
use tui_input::{Input, InputRequest};
use zeroize::{Zeroize, Zeroizing};

/// Control characters made visible, as the Unicode control pictures (ESC → ␛, CR → ␍, LF → ␊):
/// a tag or content type carrying terminal escapes is shown as it is, never obeyed, and the form
/// gives it back unchanged (`invisible`).
pub fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c.is_control()) {
        return std::borrow::Cow::Borrowed(s);
    }
    s.chars()
        .map(|c| match c as u32 {
            n @ 0..=0x1f => char::from_u32(0x2400 + n).unwrap_or('?'),
            0x7f => '␡',
            n if c.is_control() => char::from_u32(0xfffd).filter(|_| n > 0).unwrap_or('?'),
            _ => c,
        })
        .collect::<String>()
        .into()
}

/// The reverse of `visible`, for what the form sends back.
pub fn invisible(s: &str) -> String {
    s.chars()
        .map(|c| match c as u32 {
            n @ 0x2400..=0x241f => char::from_u32(n - 0x2400).unwrap_or(c),
            0x2421 => '\u{7f}',
            _ => c,
        })
        .collect()
}

/// An editing operation, whatever the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    Insert(char),
    Newline,
    Left,
    Right,
    WordLeft,
    WordRight,
    Home,
    End,
    Up,
    Down,
    Backspace,
    Delete,
    DeleteWordBack,
    DeleteToStart,
    DeleteToEnd,
}

/// The editing keys, as help lists them.
pub const EDIT_KEYS: [(&str, &str); 8] = [
    ("← → Home End", "move the cursor"),
    ("Ctrl-← Ctrl-→", "move by word"),
    ("Backspace Delete", "delete a character"),
    ("Ctrl-W", "delete the word before the cursor"),
    ("Ctrl-U", "delete to the start of the line"),
    ("Ctrl-K", "delete to the end of the line"),
    ("↑ ↓", "move between lines (value, tags)"),
    ("paste", "inserts at the cursor"),
];

/// The editing operation of a key, if it is one.
pub fn edit_of(k: KeyEvent) -> Option<Edit> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    let alt = k.modifiers.contains(KeyModifiers::ALT);
    Some(match k.code {
        KeyCode::Left if ctrl || alt => Edit::WordLeft,
        KeyCode::Right if ctrl || alt => Edit::WordRight,
        KeyCode::Left => Edit::Left,
        KeyCode::Right => Edit::Right,
        KeyCode::Home => Edit::Home,
        KeyCode::End => Edit::End,
        KeyCode::Up => Edit::Up,
        KeyCode::Down => Edit::Down,
        KeyCode::Backspace if ctrl || alt => Edit::DeleteWordBack,
        KeyCode::Backspace => Edit::Backspace,
        KeyCode::Delete => Edit::Delete,
        KeyCode::Char('w') if ctrl => Edit::DeleteWordBack,
        KeyCode::Char('u') if ctrl => Edit::DeleteToStart,
        KeyCode::Char('k') if ctrl => Edit::DeleteToEnd,
        KeyCode::Char('a') if ctrl => Edit::Home,
        KeyCode::Char('e') if ctrl => Edit::End,
        KeyCode::Char('h') if ctrl => Edit::Backspace,
        KeyCode::Char(c) if !ctrl && !alt => Edit::Insert(c),
        _ => return None,
    })
}

/// A single-line field.
#[derive(Clone, Debug, Default)]
pub struct LineField {
    input: Input,
}

impl From<&str> for LineField {
    fn from(s: &str) -> Self {
        LineField::new(s)
    }
}

impl From<&str> for LinesField {
    fn from(s: &str) -> Self {
        LinesField::new(s)
    }
}

impl PartialEq for LineField {
    fn eq(&self, other: &Self) -> bool {
        (self.value(), self.cursor()) == (other.value(), other.cursor())
    }
}

impl Eq for LineField {}

impl PartialEq<str> for LineField {
    fn eq(&self, other: &str) -> bool {
        self.value() == other
    }
}

impl PartialEq<&str> for LineField {
    fn eq(&self, other: &&str) -> bool {
        self.value() == *other
    }
}

impl LineField {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            input: Input::new(text.into()),
        }
    }

    pub fn value(&self) -> &str {
        self.input.value()
    }

    /// The cursor, in characters.
    pub fn cursor(&self) -> usize {
        self.input.cursor()
    }

    pub fn is_empty(&self) -> bool {
        self.value().is_empty()
    }

    pub fn clear(&mut self) {
        self.input.reset();
    }

    pub fn set(&mut self, text: impl Into<String>) {
        self.input = Input::new(text.into());
    }

    /// Applies an edit; returns whether the text changed. Up/Down do nothing on one line.
    pub fn apply(&mut self, e: Edit) -> bool {
        let req = match e {
            Edit::Insert(c) => InputRequest::InsertChar(c),
            Edit::Left => InputRequest::GoToPrevChar,
            Edit::Right => InputRequest::GoToNextChar,
            Edit::WordLeft => InputRequest::GoToPrevWord,
            Edit::WordRight => InputRequest::GoToNextWord,
            Edit::Home => InputRequest::GoToStart,
            Edit::End => InputRequest::GoToEnd,
            Edit::Backspace => InputRequest::DeletePrevChar,
            Edit::Delete => InputRequest::DeleteNextChar,
            Edit::DeleteWordBack => InputRequest::DeletePrevWord,
            Edit::DeleteToStart => InputRequest::DeleteFromStart,
            Edit::DeleteToEnd => InputRequest::DeleteTillEnd,
            Edit::Newline | Edit::Up | Edit::Down => return false,
        };
        self.input.handle(req).is_some_and(|c| c.value)
    }

    /// Inserts text at the cursor (line breaks become spaces: one line).
    pub fn insert_str(&mut self, text: &str) {
        for c in text.chars() {
            let c = if c == '\n' || c == '\r' { ' ' } else { c };
            if !c.is_control() {
                self.input.handle(InputRequest::InsertChar(c));
            }
        }
    }
}

/// The tags field: `key=value`, one per line.
#[derive(Clone, Debug, Default)]
pub struct LinesField {
    area: TextArea<'static>,
}

impl LinesField {
    pub fn new(text: &str) -> Self {
        let lines: Vec<String> = if text.is_empty() {
            vec![String::new()]
        } else {
            text.lines().map(str::to_string).collect()
        };
        let mut area = TextArea::new(lines);
        area.move_cursor(CursorMove::Bottom);
        area.move_cursor(CursorMove::End);
        Self { area }
    }

    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    pub fn lines(&self) -> &[String] {
        self.area.lines()
    }

    /// (line, column in characters).
    pub fn cursor(&self) -> (usize, usize) {
        let c = self.area.cursor();
        (c.0, c.1)
    }

    /// Applies an edit; `false` for Up on the first line and Down on the last (the form moves to
    /// another field then).
    pub fn apply(&mut self, e: Edit) -> bool {
        let (row, _) = self.cursor();
        let last = self.area.lines().len().saturating_sub(1);
        match e {
            Edit::Insert(c) => self.area.insert_char(c),
            Edit::Newline => self.area.insert_newline(),
            Edit::Left => self.area.move_cursor(CursorMove::Back),
            Edit::Right => self.area.move_cursor(CursorMove::Forward),
            Edit::WordLeft => self.area.move_cursor(CursorMove::WordBack),
            Edit::WordRight => self.area.move_cursor(CursorMove::WordForward),
            Edit::Home => self.area.move_cursor(CursorMove::Head),
            Edit::End => self.area.move_cursor(CursorMove::End),
            Edit::Up if row == 0 => return false,
            Edit::Down if row >= last => return false,
            Edit::Up => self.area.move_cursor(CursorMove::Up),
            Edit::Down => self.area.move_cursor(CursorMove::Down),
            Edit::Backspace => {
                self.area.delete_char();
            }
            Edit::Delete => {
                self.area.delete_next_char();
            }
            Edit::DeleteWordBack => {
                self.area.delete_word();
            }
            Edit::DeleteToStart => {
                self.area.delete_line_by_head();
            }
            Edit::DeleteToEnd => {
                self.area.delete_line_by_end();
            }
        }
        true
    }

    pub fn insert_str(&mut self, text: &str) {
        self.area
            .insert_str(text.replace("\r\n", "\n").replace('\r', "\n"));
    }
}

/// The secret value: a zeroized buffer with a cursor, no undo and no yank buffer. Its capacity is
/// reserved ahead, and when it must grow the old buffer is zeroized, so growing leaves no copy.
pub struct SecretField {
    text: Zeroizing<String>,
    /// The cursor, in characters.
    cursor: usize,
}

impl Default for SecretField {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SecretField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretField(<redacted>)")
    }
}

/// What a masked value shows: the same whatever its length.
pub const MASK: &str = "••••••••••••••••";

impl SecretField {
    pub fn new() -> Self {
        Self {
            text: Zeroizing::new(String::with_capacity(4096)),
            cursor: 0,
        }
    }

    /// A field holding `text`, the cursor at its end.
    pub fn with(text: &str) -> Self {
        let mut f = Self::new();
        f.insert_str(text);
        f
    }

    pub fn expose(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// The cursor as (line, column in characters).
    pub fn cursor(&self) -> (usize, usize) {
        let before: String = self.text.chars().take(self.cursor).collect();
        let mut before = Zeroizing::new(before);
        let line = before.matches('\n').count();
        let col = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0);
        before.zeroize();
        (line, col)
    }

    fn byte_at(&self, char_index: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_index)
            .map(|(i, _)| i)
            .unwrap_or(self.text.len())
    }

    fn chars(&self) -> usize {
        self.text.chars().count()
    }

    /// Makes room for `extra` more bytes without a reallocation that would leave the old bytes behind.
    fn reserve(&mut self, extra: usize) {
        if self.text.capacity() - self.text.len() >= extra {
            return;
        }
        let mut bigger = Zeroizing::new(String::with_capacity(
            (self.text.len() + extra).next_power_of_two(),
        ));
        bigger.push_str(&self.text);
        // The old buffer is zeroized as it drops.
        self.text = bigger;
    }

    fn insert(&mut self, s: &str) {
        self.reserve(s.len());
        let at = self.byte_at(self.cursor);
        self.text.insert_str(at, s);
        self.cursor += s.chars().count();
    }

    /// Removes the characters `from..to` (character indices).
    fn remove(&mut self, from: usize, to: usize) {
        let (a, b) = (self.byte_at(from), self.byte_at(to));
        if a < b {
            // The tail shifts left inside the same buffer: zero the bytes it leaves past the end.
            let old_len = self.text.len();
            self.text.replace_range(a..b, "");
            let new_len = self.text.len();
            let spare = old_len - new_len;
            self.text.push_str(&"\0".repeat(spare));
            self.text.truncate(new_len);
            self.cursor = from;
        }
    }

    fn line_start(&self, cursor: usize) -> usize {
        let mut i = cursor;
        let chars: Vec<char> = self.text.chars().collect();
        while i > 0 && chars[i - 1] != '\n' {
            i -= 1;
        }
        i
    }

    fn line_end(&self, cursor: usize) -> usize {
        let chars: Vec<char> = self.text.chars().collect();
        let mut i = cursor;
        while i < chars.len() && chars[i] != '\n' {
            i += 1;
        }
        i
    }

    fn word_left(&self) -> usize {
        let chars: Vec<char> = self.text.chars().collect();
        let mut i = self.cursor;
        while i > 0 && !chars[i - 1].is_alphanumeric() {
            i -= 1;
        }
        while i > 0 && chars[i - 1].is_alphanumeric() {
            i -= 1;
        }
        i
    }

    fn word_right(&self) -> usize {
        let chars: Vec<char> = self.text.chars().collect();
        let mut i = self.cursor;
        while i < chars.len() && !chars[i].is_alphanumeric() {
            i += 1;
        }
        while i < chars.len() && chars[i].is_alphanumeric() {
            i += 1;
        }
        i
    }

    /// Applies an edit; `false` for Up on the first line and Down on the last.
    pub fn apply(&mut self, e: Edit) -> bool {
        let n = self.chars();
        match e {
            Edit::Insert(c) => {
                let mut b = [0u8; 4];
                let s = c.encode_utf8(&mut b);
                self.insert(s);
                b.zeroize();
            }
            Edit::Newline => self.insert("\n"),
            Edit::Left => self.cursor = self.cursor.saturating_sub(1),
            Edit::Right => self.cursor = (self.cursor + 1).min(n),
            Edit::WordLeft => self.cursor = self.word_left(),
            Edit::WordRight => self.cursor = self.word_right(),
            Edit::Home => self.cursor = self.line_start(self.cursor),
            Edit::End => self.cursor = self.line_end(self.cursor),
            Edit::Up | Edit::Down => {
                let start = self.line_start(self.cursor);
                let col = self.cursor - start;
                if e == Edit::Up {
                    if start == 0 {
                        return false;
                    }
                    let prev = self.line_start(start - 1);
                    self.cursor = (prev + col).min(start - 1);
                } else {
                    let end = self.line_end(self.cursor);
                    if end >= n {
                        return false;
                    }
                    let next_end = self.line_end(end + 1);
                    self.cursor = (end + 1 + col).min(next_end);
                }
            }
            Edit::Backspace => {
                if self.cursor > 0 {
                    self.remove(self.cursor - 1, self.cursor);
                }
            }
            Edit::Delete => {
                if self.cursor < n {
                    let c = self.cursor;
                    self.remove(c, c + 1);
                }
            }
            Edit::DeleteWordBack => {
                let to = self.cursor;
                self.remove(self.word_left(), to);
            }
            Edit::DeleteToStart => {
                let to = self.cursor;
                self.remove(self.line_start(to), to);
            }
            Edit::DeleteToEnd => {
                let from = self.cursor;
                self.remove(from, self.line_end(from));
            }
        }
        true
    }

    /// Pastes at the cursor; line breaks are kept (a PEM stays a PEM).
    pub fn insert_str(&mut self, text: &str) {
        let mut t = Zeroizing::new(text.replace("\r\n", "\n").replace('\r', "\n"));
        self.insert(&t);
        t.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    #[test]
    fn a_line_field_edits_at_the_cursor() {
        let mut f = LineField::new("hello world");
        assert_eq!(f.cursor(), 11);
        assert!(f.apply(edit_of(ctrl('w')).unwrap_or(Edit::End)));
        assert_eq!(f.value(), "hello ");
        f.apply(Edit::Home);
        f.apply(Edit::Insert('>'));
        f.apply(Edit::Right);
        f.apply(Edit::DeleteToEnd);
        assert_eq!(f.value(), ">h");
        f.insert_str("i\nthere");
        assert_eq!(f.value(), ">hi there", "one line: breaks become spaces");
        f.apply(Edit::Home);
        f.apply(Edit::Delete);
        assert_eq!(f.value(), "hi there");
    }

    #[test]
    fn keys_map_to_edits() {
        assert_eq!(edit_of(ctrl('u')), Some(Edit::DeleteToStart));
        assert_eq!(edit_of(ctrl('k')), Some(Edit::DeleteToEnd));
        assert_eq!(
            edit_of(KeyEvent::new(KeyCode::Left, KeyModifiers::CONTROL)),
            Some(Edit::WordLeft)
        );
        assert_eq!(edit_of(ctrl('x')), None);
    }

    #[test]
    fn the_secret_field_moves_between_lines_and_deletes_by_word() {
        let mut f = SecretField::new();
        f.insert_str("line one\r\nline two");
        assert_eq!(f.expose(), "line one\nline two");
        assert_eq!(f.cursor(), (1, 8));
        assert!(f.apply(Edit::Up));
        assert_eq!(f.cursor(), (0, 8));
        assert!(!f.apply(Edit::Up), "the first line: the form moves on");
        f.apply(Edit::DeleteWordBack);
        assert_eq!(f.expose(), "line \nline two");
        f.apply(Edit::Home);
        f.apply(Edit::DeleteToEnd);
        assert_eq!(f.expose(), "\nline two");
        f.apply(Edit::Down);
        f.apply(Edit::End);
        f.apply(Edit::Backspace);
        assert_eq!(f.expose(), "\nline tw");
        assert!(!f.apply(Edit::Down));
    }

    #[test]
    fn the_secret_field_grows_without_losing_text() {
        let mut f = SecretField::new();
        let big = "x".repeat(10_000);
        f.insert_str(&big);
        f.apply(Edit::Home);
        f.apply(Edit::Insert('é'));
        assert_eq!(f.len(), 10_002);
        assert!(f.expose().starts_with('é'));
        assert_eq!(format!("{f:?}"), "SecretField(<redacted>)");
    }

    #[test]
    fn tags_move_up_and_down_and_leave_at_the_edges() {
        let mut t = LinesField::new("env=dev\nteam=core");
        assert_eq!(t.cursor(), (1, 9));
        assert!(t.apply(Edit::Up));
        assert!(!t.apply(Edit::Up));
        t.apply(Edit::End);
        t.apply(Edit::Newline);
        t.insert_str("owner=me");
        assert_eq!(t.text(), "env=dev\nowner=me\nteam=core");
    }
}
