//! Where the REPL's lines come from: a rustyline editor with history and completion when
//! stdin is a terminal, else plain lines from stdin (`amesh repl < script.lua`).

use std::io::BufRead;
use std::path::PathBuf;

use nix::sys::termios::{SetArg, Termios, tcgetattr, tcsetattr};
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::Editor;
use tokio::sync::mpsc;

use super::completion::{CompletionIndex, ReplHelper};

/// Entries the history file keeps.
const HISTORY_SIZE: usize = 2000;

type LineEditor = Editor<ReplHelper, FileHistory>;

/// One read from the input.
pub enum Line {
    Text(String),
    /// Ctrl-C at the prompt: discard what was typed.
    Cleared,
    /// Ctrl-D, end of input, or an input error.
    End,
}

pub enum Input {
    Terminal {
        /// `None` only while a read runs on the blocking thread pool.
        editor: Option<Box<LineEditor>>,
        history_path: Option<PathBuf>,
        /// The terminal settings before the session, restored when it ends even if a read is
        /// still blocked in raw mode.
        saved: Option<Termios>,
    },
    Piped(mpsc::UnboundedReceiver<String>),
}

impl Input {
    /// A line editor on the terminal, with the history loaded from `history_path`.
    pub fn terminal(history_path: Option<PathBuf>) -> rustyline::Result<Self> {
        let config = Config::builder()
            .max_history_size(HISTORY_SIZE)?
            .history_ignore_dups(true)?
            .history_ignore_space(true)
            .auto_add_history(false)
            .completion_type(CompletionType::List)
            .build();
        let mut editor = LineEditor::with_config(config)?;
        editor.set_helper(Some(ReplHelper::default()));
        if let Some(path) = history_path.as_ref().filter(|p| p.exists())
            && let Err(err) = editor.load_history(path)
        {
            tracing::warn!("failed to read the REPL history {}: {err}", path.display());
        }
        let saved = tcgetattr(std::io::stdin()).ok();
        Ok(Self::Terminal { editor: Some(Box::new(editor)), history_path, saved })
    }

    /// Lines from stdin, read on a thread of their own.
    pub fn piped() -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("amesh-repl-stdin".into())
            .spawn(move || {
                let mut stdin = std::io::stdin().lock();
                let mut buffer = Vec::new();
                loop {
                    buffer.clear();
                    match stdin.read_until(b'\n', &mut buffer) {
                        Ok(0) => return,
                        Ok(_) => {
                            let line = String::from_utf8_lossy(&buffer);
                            if sender.send(line.trim_end_matches(['\n', '\r']).to_string()).is_err() {
                                return;
                            }
                        }
                        Err(err) => {
                            tracing::error!("failed to read stdin: {err}");
                            return;
                        }
                    }
                }
            })
            .expect("failed to start the stdin reader thread");
        Self::Piped(receiver)
    }

    /// Reads one line. On a terminal it shows `prompt` and completes from `index`;
    /// `continuation` is true while a statement spans several lines.
    pub async fn read(&mut self, prompt: &str, index: impl FnOnce() -> CompletionIndex, continuation: bool) -> Line {
        match self {
            Self::Piped(receiver) => receiver.recv().await.map(Line::Text).unwrap_or(Line::End),
            Self::Terminal { editor, .. } => {
                let Some(mut taken) = editor.take() else { return Line::End };
                if let Some(helper) = taken.helper_mut() {
                    helper.index = index();
                    helper.continuation = continuation;
                }
                let prompt = prompt.to_string();
                let read = tokio::task::spawn_blocking(move || {
                    let result = taken.readline(&prompt);
                    (taken, result)
                });
                let Ok((taken, result)) = read.await else { return Line::End };
                *editor = Some(taken);
                match result {
                    Ok(line) => Line::Text(line),
                    Err(ReadlineError::Interrupted) => Line::Cleared,
                    Err(ReadlineError::Eof) => Line::End,
                    Err(err) => {
                        tracing::error!("failed to read from the terminal: {err}");
                        Line::End
                    }
                }
            }
        }
    }

    /// Adds a whole statement (or command) to the history and appends it to the history file.
    pub fn remember(&mut self, entry: &str) {
        let Self::Terminal { editor: Some(editor), history_path, .. } = self else { return };
        if !matches!(editor.add_history_entry(entry), Ok(true)) {
            return;
        }
        if let Some(path) = history_path
            && let Err(err) = editor.append_history(path)
        {
            tracing::warn!("failed to write the REPL history {}: {err}", path.display());
        }
    }

    /// Restores the terminal settings the session started with.
    pub fn restore_terminal(&self) {
        if let Self::Terminal { saved: Some(saved), .. } = self
            && let Err(err) = tcsetattr(std::io::stdin(), SetArg::TCSANOW, saved)
        {
            tracing::warn!("failed to restore the terminal settings: {err}");
        }
    }
}
