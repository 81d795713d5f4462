//! The event loop: tokio `select!` over terminal events, worker responses and a tick that runs only
//! while something animates. All pending input is drained, then the screen is drawn once. The
//! terminal is restored on quit, on error and from a panic hook installed before raw mode.

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    EventStream,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use futures::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use tokio::sync::mpsc::UnboundedReceiver;

use std::io::Write;

use crate::app::{App, Effect};
use crate::clipboard::{Clipboard, Session};
use crate::vault::{Envelope, Worker};

/// Puts the terminal back as it was. Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Restores the terminal before the default panic message is printed. The message never holds a
/// secret: kvtui does not format values into panics.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Takes the terminal back after a suspension (the editor) and forces a full redraw. Not with
/// `Terminal::clear`: it asks the terminal for the cursor position, and the answer arrives on stdin,
/// which the event stream is reading — it fails and the old frame is kept as "already drawn". A new
/// `Terminal` has no previous frame, so its first draw writes every cell.
fn resume(terminal: &mut Term) -> Result<()> {
    enable_raw_mode()?;
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        EnableBracketedPaste,
        EnableMouseCapture,
        crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
    )?;
    *terminal = new_terminal()?;
    Ok(())
}

/// A terminal of the screen's size now, resized by the loop on each resize event. (ratatui's
/// full-screen viewport asks for the size before every frame, and crossterm answers by opening
/// /dev/tty: three system calls a frame, 7 % of the loop's CPU while a big vault streamed in.)
fn new_terminal() -> io::Result<Term> {
    let (w, h) = crossterm::terminal::size()?;
    Terminal::with_options(
        CrosstermBackend::new(FrameWriter::default()),
        ratatui::TerminalOptions {
            viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, w, h)),
        },
    )
}

fn enter() -> Result<Term> {
    enable_raw_mode().context("switching the terminal to raw mode")?;
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        EnableBracketedPaste,
        EnableMouseCapture
    )
    .context("entering the alternate screen")?;
    new_terminal().context("opening the terminal")
}

/// Where the loop records recently opened vaults (none in the demo), and the clipboard.
pub struct LoopOptions {
    pub recent_file: Option<PathBuf>,
    pub clipboard: Clipboard,
}

/// Gathers a frame and gives it to the terminal in one write when ratatui flushes (after each
/// frame): through std's stdout, line-buffered with 1 KiB, a frame of a full list was some twenty
/// `write` calls. A revealed value is in a frame's bytes, so the frame buffer is wiped once written
/// and the frame goes to the terminal unbuffered (std's buffer kept the last kilobyte of a frame,
/// a value with it, until later output overwrote it: `tests/pty_memory.rs`).
struct FrameWriter {
    frame: Vec<u8>,
    out: Box<dyn Write + Send>,
}

impl Default for FrameWriter {
    fn default() -> Self {
        Self {
            frame: Vec::with_capacity(64 * 1024),
            out: unbuffered_stdout(),
        }
    }
}

/// The terminal without std's buffer in between: a duplicate of the stdout descriptor.
#[cfg(unix)]
fn unbuffered_stdout() -> Box<dyn Write + Send> {
    use std::os::fd::AsFd;
    match io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(std::fs::File::from(fd)),
        Err(_) => Box::new(io::stdout()),
    }
}

#[cfg(not(unix))]
fn unbuffered_stdout() -> Box<dyn Write + Send> {
    Box::new(io::stdout())
}

impl Write for FrameWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.frame.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let written = self
            .out
            .write_all(&self.frame)
            .and_then(|()| self.out.flush());
        zeroize::Zeroize::zeroize(&mut self.frame);
        written
    }
}

type Term = Terminal<CrosstermBackend<FrameWriter>>;

/// Writes bytes (OSC 52) to the terminal between frames, through the frames' own writer.
fn write_terminal(terminal: &mut Term, bytes: &[u8]) {
    let w = terminal.backend_mut();
    let _ = w.write_all(bytes);
    let _ = w.flush();
}

fn perform(
    effects: Vec<Effect>,
    worker: &Worker,
    recent_file: Option<&std::path::Path>,
    clip: &mut Session,
    app: &mut App,
    terminal: &mut Term,
) {
    for e in effects {
        match e {
            Effect::Send(id, request) => worker.send_as(id, request),
            Effect::Cancel(id) => worker.cancel(id),
            Effect::RecordRecent(url) => {
                if let Some(path) = recent_file {
                    if let Err(err) = crate::vault::sources::record_recent(path, &url) {
                        tracing::warn!(error = %err, "could not record the recent vault");
                    }
                }
            }
            Effect::Export {
                path,
                contents,
                count,
                replace,
            } => {
                let p = std::path::Path::new(&path);
                let result = if !replace && p.exists() {
                    Err(format!("{path} exists: :export! {path} replaces it"))
                } else {
                    crate::paths::write_private_atomic(p, contents.as_bytes())
                        .map_err(|e| e.to_string())
                };
                app.exported(&path, count, result);
            }
            // Off the UI loop: a big vault's list is megabytes of JSON.
            Effect::SaveNames { who, vault, items } => {
                if let Some(cache) = app.names_cache.clone() {
                    std::thread::spawn(move || {
                        if let Err(err) = cache.save(&who, &vault, &items) {
                            tracing::warn!(error = %err, "could not write the names cache");
                        }
                    });
                }
            }
            Effect::RememberTenant { vault, tenant } => {
                if let Some(path) = recent_file.map(crate::vault::sources::tenants_file) {
                    if let Err(err) = crate::vault::sources::record_tenant(&path, &vault, &tenant) {
                        tracing::warn!(error = %err, "could not remember the vault's tenant");
                    }
                }
            }
            Effect::Edit { value, base } => {
                // Suspend the TUI around the editor, then take the screen back and redraw it whole.
                restore();
                let edited = crate::editor::edit(&base.name, value.expose());
                drop(value);
                if let Err(e) = resume(terminal) {
                    tracing::warn!(error = %e, "could not take the terminal back");
                }
                let mut more = app.on_edited(base, edited);
                if let Some(why) = crate::editor::history_warning() {
                    more.extend(app.warn(&format!(
                        "{why}: the value may be kept there; prefer vi, or turn that history off"
                    )));
                }
                perform(more, worker, recent_file, clip, app, terminal);
            }
            Effect::Copy {
                text,
                label,
                sensitive,
            } => match clip.copy(text.expose(), sensitive) {
                Ok(copied) => {
                    if let Some(bytes) = &copied.terminal_bytes {
                        write_terminal(terminal, bytes);
                    }
                    app.on_copied(
                        label,
                        copied.backend,
                        copied.deadline,
                        copied.hint,
                        copied.confirming,
                    );
                }
                Err(why) => app.copy_failed(why),
            },
        }
    }
}

fn clear_if_due(clip: &mut Session, app: &mut App, terminal: &mut Term) {
    match clip.poll_confirm() {
        Some(Ok(())) => app.copy_confirmed(),
        Some(Err(why)) => app.copy_failed(why),
        None => {}
    }
    if let Some((bytes, cleared)) = clip.clear_if_due(Instant::now()) {
        if let Some(b) = bytes {
            write_terminal(terminal, &b);
        }
        // The system clipboard answers at a later turn; the countdown keeps the loop ticking.
        if let Some(cleared) = cleared {
            app.on_clip_cleared(cleared);
        }
    }
}

/// The stream's next item if it is ready now, polled with the current task's context.
async fn ready_now<S: futures::Stream + Unpin>(stream: &mut S) -> Option<Option<S::Item>> {
    std::future::poll_fn(|cx| match stream.poll_next_unpin(cx) {
        std::task::Poll::Ready(item) => std::task::Poll::Ready(Some(item)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

/// One terminal event into the app; pasted text (it may be a secret value) is wiped afterwards.
fn handle(app: &mut App, ev: crossterm::event::Event) -> Vec<Effect> {
    let effects = app.on_event(&ev);
    if let crossterm::event::Event::Paste(mut text) = ev {
        zeroize::Zeroize::zeroize(&mut text);
    }
    effects
}

/// Follows a resize of the screen (the next frame is drawn whole).
fn resize(terminal: &mut Term, ev: &crossterm::event::Event) -> Result<()> {
    if let crossterm::event::Event::Resize(w, h) = *ev {
        terminal
            .resize(ratatui::layout::Rect::new(0, 0, w, h))
            .context("resizing the terminal")?;
    }
    Ok(())
}

/// Draws a frame and keeps what the view reported of its layout, for the mouse.
fn draw(terminal: &mut Term, app: &mut App) -> Result<()> {
    let mut hits = Default::default();
    terminal.draw(|f| hits = crate::ui::draw(f, app))?;
    app.hits = hits;
    Ok(())
}

fn clock(app: &mut App) {
    app.set_clock(time::OffsetDateTime::now_utc(), Instant::now());
}

/// The shortest time between two frames that only show what the worker changed.
const FRAME_PACE: Duration = Duration::from_millis(30);

/// The shortest time between two frames that only show more pages of a listing (a count and a
/// spinner moving): ten a second look as live, and each frame costs what a page does.
const STREAM_PACE: Duration = Duration::from_millis(100);

/// Whether a response only brings more of a listing that is still coming.
fn streaming(response: &crate::vault::Response) -> bool {
    use crate::vault::Response;
    matches!(
        response,
        Response::SecretsPage { done: false, .. } | Response::DeletedPage { done: false, .. }
    )
}

/// Runs the TUI until the user quits.
pub async fn run(
    mut app: App,
    worker: Worker,
    mut responses: UnboundedReceiver<Envelope>,
    initial: Vec<Effect>,
    options: LoopOptions,
) -> Result<()> {
    install_panic_hook();
    let mut terminal = enter()?;
    let guard = Guard;
    let size = terminal.size().context("reading the terminal size")?;
    app.size = (size.width, size.height);
    let LoopOptions {
        recent_file,
        clipboard,
    } = options;
    let mut clip = Session::new(clipboard);
    perform(
        initial,
        &worker,
        recent_file.as_deref(),
        &mut clip,
        &mut app,
        &mut terminal,
    );
    clock(&mut app);
    app.prepare();
    draw(&mut terminal, &mut app)?;

    let mut events = EventStream::new();
    let wake = app.wake.clone();
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // What only the worker changed (pages streaming in, progress) is drawn at most once a pace:
    // 4,000 pages a minute need not be 4,000 frames. Keys, ticks, the filter's results and the end
    // of a request draw at once.
    let mut last_draw = Instant::now();
    // When a frame held back by the pace is drawn (`None`: none is held back).
    let mut draw_at: Option<Instant> = None;
    loop {
        let mut effects = Vec::new();
        // The pace for this turn's frame: `None` draws at once.
        let mut pace: Option<Duration> = None;
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => {
                    resize(&mut terminal, &ev)?;
                    effects.extend(handle(&mut app, ev));
                    // Drain whatever else is already waiting, then draw once. Poll with this task's
                    // own waker: a no-op waker (`now_or_never`) would be kept by crossterm's wake
                    // thread, and later key presses would never wake the loop.
                    while let Some(Some(Ok(ev))) = ready_now(&mut events).await {
                        resize(&mut terminal, &ev)?;
                        effects.extend(handle(&mut app, ev));
                    }
                }
                Some(Err(e)) => return Err(e).context("reading the terminal"),
                None => break,
            },
            Some(env) = responses.recv() => {
                let (mut only_pages, mut ended) = (true, false);
                let mut take = |env: crate::vault::Envelope| {
                    only_pages &= streaming(&env.response);
                    ended |= env.response.is_final();
                    app.on_response(env)
                };
                effects.extend(take(env));
                while let Ok(env) = responses.try_recv() {
                    effects.extend(take(env));
                }
                // What ended (a listing's last page, a save, a delete) shows at once.
                pace = match (ended, only_pages) {
                    (true, _) => None,
                    (false, true) => Some(STREAM_PACE),
                    (false, false) => Some(FRAME_PACE),
                };
            }
            _ = ticker.tick(), if app.needs_tick() => app.on_tick(),
            // The filter's matcher has a newer result (or more names to take): prepare draws it.
            _ = wake.notified() => {}
            _ = tokio::time::sleep_until(draw_at.unwrap_or(last_draw).into()), if draw_at.is_some() => {}
        }
        perform(
            effects,
            &worker,
            recent_file.as_deref(),
            &mut clip,
            &mut app,
            &mut terminal,
        );
        clear_if_due(&mut clip, &mut app, &mut terminal);
        // What the calls above left on the stack (a copied value, in an unoptimized build) goes.
        crate::hygiene::scrub_stack();
        if app.quit {
            break;
        }
        if let Some(pace) = pace {
            // A frame already held back keeps the earlier of the two times.
            let at = last_draw + pace;
            let at = draw_at.map_or(at, |d| d.min(at));
            if Instant::now() < at {
                draw_at = Some(at);
                continue;
            }
        }
        clock(&mut app);
        app.prepare();
        draw(&mut terminal, &mut app)?;
        last_draw = Instant::now();
        draw_at = None;
    }
    // The terminal is given back first: handing a copied value to the keeper may wait on the
    // clipboard's thread, and that wait is no longer a frozen screen.
    drop(guard);
    clip.hand_over_at_quit();
    Ok(())
}
