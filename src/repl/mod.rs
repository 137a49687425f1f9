//! `amesh repl`: an interactive Lua prompt on a running mesh, with the modules scenarios get.
//! The REPL takes a started [`Mesh`](crate::mesh::Mesh); starting and tearing it down belong
//! to the command that calls [`run`].
//!
//! One module per concern: `session` (the read-eval-print loop), `input` (line editor or
//! piped stdin), `completion`, `printing`, `commands` (`:help`, `:nodes`, `:load`, `:reset`,
//! `:quit`), `help` (the LuaLS stubs parsed for `:help`) and `interrupt` (signal routing).

mod commands;
mod completion;
mod help;
mod input;
mod interrupt;
mod printing;
mod session;

pub use interrupt::Interrupts;
pub use session::{ReplOptions, SessionEnd, run};
