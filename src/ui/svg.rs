//! A drawn frame as an SVG picture, with its colours: README's screenshots are the real views drawn
//! into ratatui's test backend and written with this, so they cannot drift from the product.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

const CELL_W: f32 = 8.4;
const CELL_H: f32 = 17.0;
const FG: &str = "#d4d4d4";
const BG: &str = "#1e1e1e";

/// A terminal's idea of the 16 named colours (the xterm defaults, softened).
fn hex(c: Color, default: &'static str) -> String {
    let named = match c {
        Color::Reset => return default.to_string(),
        Color::Black => "#000000",
        Color::Red => "#cd3131",
        Color::Green => "#0dbc79",
        Color::Yellow => "#e5e510",
        Color::Blue => "#2472c8",
        Color::Magenta => "#bc3fbc",
        Color::Cyan => "#11a8cd",
        Color::Gray => "#bcbcbc",
        Color::DarkGray => "#767676",
        Color::LightRed => "#f14c4c",
        Color::LightGreen => "#23d18b",
        Color::LightYellow => "#f5f543",
        Color::LightBlue => "#3b8eea",
        Color::LightMagenta => "#d670d6",
        Color::LightCyan => "#29b8db",
        Color::White => "#e5e5e5",
        Color::Rgb(r, g, b) => return format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(i) => return format!("#{0:02x}{0:02x}{0:02x}", i),
    };
    named.to_string()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The buffer as an SVG document: one rectangle per background run, one text run per colour run.
pub fn to_svg(buffer: &Buffer) -> String {
    let (w, h) = (buffer.area.width, buffer.area.height);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0}\" height=\"{:.0}\" viewBox=\"0 0 {:.1} {:.1}\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" font-size=\"14\">\n<rect width=\"100%\" height=\"100%\" fill=\"{BG}\"/>\n",
        f32::from(w) * CELL_W,
        f32::from(h) * CELL_H,
        f32::from(w) * CELL_W,
        f32::from(h) * CELL_H,
    );
    for y in 0..h {
        let cell = |x: u16| &buffer[(buffer.area.x + x, buffer.area.y + y)];
        // Backgrounds.
        let mut x = 0;
        while x < w {
            let c = cell(x);
            let reversed = c.modifier.contains(Modifier::REVERSED);
            let bg = if reversed { c.fg } else { c.bg };
            let start = x;
            while x < w {
                let d = cell(x);
                let r = d.modifier.contains(Modifier::REVERSED);
                if (if r { d.fg } else { d.bg }) != bg || r != reversed {
                    break;
                }
                x += 1;
            }
            if bg != Color::Reset || reversed {
                out.push_str(&format!(
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"/>\n",
                    f32::from(start) * CELL_W,
                    f32::from(y) * CELL_H,
                    f32::from(x - start) * CELL_W,
                    CELL_H,
                    hex(bg, if reversed { FG } else { BG })
                ));
            }
        }
        // Text, a run per colour and weight.
        let mut x = 0;
        while x < w {
            let c = cell(x);
            let reversed = c.modifier.contains(Modifier::REVERSED);
            let fg = if reversed { c.bg } else { c.fg };
            let bold = c.modifier.contains(Modifier::BOLD);
            let start = x;
            let mut text = String::new();
            while x < w {
                let d = cell(x);
                let r = d.modifier.contains(Modifier::REVERSED);
                if (if r { d.bg } else { d.fg }) != fg
                    || d.modifier.contains(Modifier::BOLD) != bold
                    || r != reversed
                {
                    break;
                }
                text.push_str(d.symbol());
                x += 1;
            }
            if !text.trim().is_empty() {
                out.push_str(&format!(
                    "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{}\"{} xml:space=\"preserve\" textLength=\"{:.1}\">{}</text>\n",
                    f32::from(start) * CELL_W,
                    f32::from(y) * CELL_H + CELL_H * 0.78,
                    hex(fg, if reversed { BG } else { FG }),
                    if bold { " font-weight=\"bold\"" } else { "" },
                    f32::from(x - start) * CELL_W,
                    escape(&text)
                ));
            }
        }
    }
    out.push_str("</svg>\n");
    out
}
