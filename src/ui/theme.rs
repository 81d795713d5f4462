//! Semantic styles. With `NO_COLOR` (or `color = false`) only modifiers are used.

use ratatui::style::{Color, Modifier, Style};

/// The colours of a theme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Palette {
    pub accent: Color,
    pub selected_bg: Color,
    pub selected_fg: Color,
    pub muted: Color,
    pub error: Color,
    pub warn: Color,
    pub ok: Color,
}

impl Palette {
    pub const DARK: Palette = Palette {
        accent: Color::Cyan,
        selected_bg: Color::Blue,
        selected_fg: Color::White,
        muted: Color::DarkGray,
        error: Color::Red,
        warn: Color::Yellow,
        ok: Color::Green,
    };
    pub const LIGHT: Palette = Palette {
        accent: Color::Blue,
        selected_bg: Color::LightBlue,
        selected_fg: Color::Black,
        muted: Color::Gray,
        error: Color::Red,
        warn: Color::Rgb(0xaf, 0x5f, 0x00),
        ok: Color::Rgb(0x00, 0x87, 0x00),
    };

    /// The configured theme: a built-in one with the given colours overridden (already checked).
    pub fn from_config(t: &crate::config::ThemeConfig) -> Palette {
        let mut p = if t.name.as_deref() == Some("light") {
            Palette::LIGHT
        } else {
            Palette::DARK
        };
        let set = |slot: &mut Color, v: &Option<String>| {
            if let Some(c) = v.as_deref().and_then(parse_color) {
                *slot = c;
            }
        };
        set(&mut p.accent, &t.accent);
        set(&mut p.selected_bg, &t.selected_bg);
        set(&mut p.selected_fg, &t.selected_fg);
        set(&mut p.muted, &t.muted);
        set(&mut p.error, &t.error);
        set(&mut p.warn, &t.warn);
        set(&mut p.ok, &t.ok);
        p
    }
}

/// A colour name (`cyan`, `darkgray`, `lightblue`…) or `#rrggbb`.
pub fn parse_color(s: &str) -> Option<Color> {
    if let Some(hex) = s.strip_prefix('#') {
        if hex.len() != 6 {
            return None;
        }
        let v = u32::from_str_radix(hex, 16).ok()?;
        return Some(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
    }
    Some(
        match s.to_ascii_lowercase().replace(['-', '_', ' '], "").as_str() {
            "black" => Color::Black,
            "red" => Color::Red,
            "green" => Color::Green,
            "yellow" => Color::Yellow,
            "blue" => Color::Blue,
            "magenta" => Color::Magenta,
            "cyan" => Color::Cyan,
            "gray" | "grey" => Color::Gray,
            "darkgray" | "darkgrey" => Color::DarkGray,
            "lightred" => Color::LightRed,
            "lightgreen" => Color::LightGreen,
            "lightyellow" => Color::LightYellow,
            "lightblue" => Color::LightBlue,
            "lightmagenta" => Color::LightMagenta,
            "lightcyan" => Color::LightCyan,
            "white" => Color::White,
            _ => return None,
        },
    )
}

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub color: bool,
    pub palette: Palette,
}

impl Theme {
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    pub fn title(&self) -> Style {
        self.fg(self.palette.accent).add_modifier(Modifier::BOLD)
    }
    pub fn header(&self) -> Style {
        self.fg(self.palette.muted).add_modifier(Modifier::BOLD)
    }
    pub fn selected(&self) -> Style {
        if self.color {
            Style::default()
                .bg(self.palette.selected_bg)
                .fg(self.palette.selected_fg)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }
    pub fn muted(&self) -> Style {
        if self.color {
            Style::default().fg(self.palette.muted)
        } else {
            Style::default().add_modifier(Modifier::DIM)
        }
    }
    pub fn matched(&self) -> Style {
        self.fg(self.palette.warn)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }
    pub fn error(&self) -> Style {
        self.fg(self.palette.error).add_modifier(Modifier::BOLD)
    }
    pub fn warn(&self) -> Style {
        self.fg(self.palette.warn)
    }
    pub fn ok(&self) -> Style {
        self.fg(self.palette.ok)
    }
    pub fn danger(&self) -> Style {
        self.fg(self.palette.error).add_modifier(Modifier::BOLD)
    }
    pub fn key(&self) -> Style {
        self.fg(self.palette.accent).add_modifier(Modifier::BOLD)
    }
    pub fn tab(&self, active: bool) -> Style {
        if active {
            self.fg(self.palette.accent)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        } else {
            self.muted()
        }
    }
}
