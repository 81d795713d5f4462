//! The event loop: tokio `select!` over terminal events, worker responses and a tick that runs only
//! while something animates. All pending input is drained, then the screen is drawn once. The
//! terminal is restored on quit, on error and from a panic hook installed before raw mode.

use std::io::{self, Stdout};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste, EventStream};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use futures::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::app::{App, Effect};
use crate::vault::{Envelope, Worker};

/// Puts the terminal back as it was. Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
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

fn enter() -> Result<Terminal<CrosstermBackend<Stdout>>> {
    enable_raw_mode().context("switching the terminal to raw mode")?;
    execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste)
        .context("entering the alternate screen")?;
    Terminal::new(CrosstermBackend::new(io::stdout())).context("opening the terminal")
}

/// Where the loop records recently opened vaults (none in the demo).
pub struct LoopOptions {
    pub recent_file: Option<PathBuf>,
}

fn perform(effects: Vec<Effect>, worker: &Worker, options: &LoopOptions) {
    for e in effects {
        match e {
            Effect::Send(id, request) => worker.send_as(id, request),
            Effect::Cancel(id) => worker.cancel(id),
            Effect::RecordRecent(url) => {
                if let Some(path) = &options.recent_file {
                    if let Err(err) = crate::vault::sources::record_recent(path, &url) {
                        tracing::warn!(error = %err, "could not record the recent vault");
                    }
                }
            }
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

fn clock(app: &mut App) {
    app.set_clock(time::OffsetDateTime::now_utc(), Instant::now());
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
    let _guard = Guard;
    let size = terminal.size().context("reading the terminal size")?;
    app.size = (size.width, size.height);
    perform(initial, &worker, &options);
    clock(&mut app);
    app.prepare();
    terminal.draw(|f| crate::ui::draw(f, &app))?;

    let mut events = EventStream::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let mut effects = Vec::new();
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => {
                    effects.extend(app.on_event(&ev));
                    // Drain whatever else is already waiting, then draw once. Poll with this task's
                    // own waker: a no-op waker (`now_or_never`) would be kept by crossterm's wake
                    // thread, and later key presses would never wake the loop.
                    while let Some(Some(Ok(ev))) = ready_now(&mut events).await {
                        effects.extend(app.on_event(&ev));
                    }
                }
                Some(Err(e)) => return Err(e).context("reading the terminal"),
                None => break,
            },
            Some(env) = responses.recv() => {
                effects.extend(app.on_response(env));
                while let Ok(env) = responses.try_recv() {
                    effects.extend(app.on_response(env));
                }
            }
            _ = ticker.tick(), if app.needs_tick() => app.on_tick(),
        }
        perform(effects, &worker, &options);
        if app.quit {
            break;
        }
        app.identity = worker
            .identity()
            .map(str::to_string)
            .or(app.identity.take());
        clock(&mut app);
        app.prepare();
        terminal.draw(|f| crate::ui::draw(f, &app))?;
    }
    Ok(())
}
