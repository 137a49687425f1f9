//! Signal routing for the REPL. While the mesh starts, and in piped mode, SIGINT ends the
//! session as it ends `amesh run`. At an interactive prompt, SIGINT (Ctrl-C while a statement
//! runs) cancels only that statement. SIGTERM always ends the session. A second SIGINT or SIGTERM
//! while the session is already ending exits at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::cancel::Cancel;

const STARTING: u8 = 0;
const INTERACTIVE: u8 = 1;
const PIPED: u8 = 2;

/// Exit code after a signal, as `amesh run` uses it.
const INTERRUPTED_EXIT: i32 = 130;

/// The cancel signals the REPL observes; clones share them.
#[derive(Clone)]
pub struct Interrupts {
    /// Ends the session: heal, tear down, exit 130.
    pub session: Cancel,
    /// Cancels the running statement; the script session clears it before each statement.
    pub statement: Cancel,
    mode: Arc<AtomicU8>,
}

impl Interrupts {
    /// Installs the SIGINT and SIGTERM handlers. `session` is set when the session must end.
    /// Until [`Interrupts::enter_prompt`] is called, SIGINT ends the session.
    pub fn install(session: Cancel) -> Self {
        let interrupts = Self { session, statement: Cancel::new(), mode: Arc::new(AtomicU8::new(STARTING)) };
        interrupts.watch();
        interrupts
    }

    /// Switches SIGINT to its meaning at the prompt: cancel the statement on a terminal, end
    /// the session on piped input.
    pub fn enter_prompt(&self, interactive: bool) {
        self.mode.store(if interactive { INTERACTIVE } else { PIPED }, Ordering::SeqCst);
    }

    fn watch(&self) {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut interrupt), Ok(mut terminate)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
            tracing::error!("failed to install signal handlers");
            return;
        };
        let interrupts = self.clone();
        tokio::spawn(async move {
            loop {
                let name = tokio::select! {
                    _ = interrupt.recv() => "SIGINT",
                    _ = terminate.recv() => "SIGTERM",
                };
                if name == "SIGINT" && interrupts.mode.load(Ordering::SeqCst) == INTERACTIVE {
                    interrupts.statement.cancel();
                    continue;
                }
                if interrupts.session.is_cancelled() {
                    tracing::error!("{name} received again: exiting now");
                    std::process::exit(INTERRUPTED_EXIT);
                }
                tracing::warn!("{name} received: healing the mesh and tearing it down (send it again to exit at once)");
                interrupts.session.cancel();
                interrupts.statement.cancel();
            }
        });
    }
}
