//! The read-eval-print loop: read lines until a statement compiles, run it against the mesh
//! (cancellable), print what it returned, and on Ctrl-D or `:quit` heal the mesh.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use mlua::Function;

use super::commands::{self, Command};
use super::completion::CompletionIndex;
use super::help::Docs;
use super::input::{Input, Line};
use super::interrupt::Interrupts;
use super::printing;
use crate::mesh::Mesh;
use crate::report::{self, ScenarioResult, Verdict};
use crate::script::session::{Compiled, Outcome, Session};
use crate::script::{self, LuaRoots, ScriptEnv};

const PROMPT: &str = "amesh> ";
const CONTINUATION_PROMPT: &str = "  ...> ";

/// Settings of the REPL besides the mesh.
pub struct ReplOptions {
    /// Run folder: `history.jsonl`, node logs, `:load` reports and files scripts open.
    pub run_dir: PathBuf,
    pub roots: LuaRoots,
    /// File that keeps the line history between sessions; `None` keeps none.
    pub history_path: Option<PathBuf>,
}

/// The outcome of a session.
#[derive(Debug, Default)]
pub struct SessionEnd {
    /// Statements that raised or did not compile, unknown or failed commands, and drafted or
    /// loaded scenarios that failed.
    pub errors: usize,
    pub interactive: bool,
    /// SIGTERM, or SIGINT on piped input, ended the session.
    pub interrupted: bool,
    /// The session could not start or the mesh could not be healed at the end.
    pub fatal: Option<String>,
}

/// The loop's next step after a command.
enum Next {
    Continue,
    Quit,
}

struct Repl {
    session: Session,
    env: ScriptEnv,
    input: Input,
    interrupts: Interrupts,
    docs: Docs,
    end: SessionEnd,
}

/// Runs the REPL on a started mesh until Ctrl-D, `:quit`, end of input or SIGTERM, then
/// runs the deferred functions, closes MCP sessions and heals the mesh. Tearing the mesh down
/// is the caller's part.
pub async fn run(mesh: Arc<Mesh>, options: ReplOptions, interrupts: &Interrupts) -> SessionEnd {
    let interactive = std::io::stdin().is_terminal();
    let env = ScriptEnv { mesh: mesh.clone(), run_dir: options.run_dir, roots: options.roots, cancel: interrupts.statement.clone() };
    let fatal = |message: String| SessionEnd { interactive, fatal: Some(message), ..SessionEnd::default() };

    let session = match Session::new(&env) {
        Ok(session) => session,
        Err(err) => return fatal(format!("failed to build the Lua runtime: {err}")),
    };
    if let Err(err) = printing::install_print(session.lua()) {
        return fatal(format!("failed to install print: {err}"));
    }
    let input = if interactive {
        match Input::terminal(options.history_path) {
            Ok(input) => input,
            Err(err) => return fatal(format!("failed to open the line editor: {err}")),
        }
    } else {
        Input::piped()
    };
    interrupts.enter_prompt(interactive);
    if interactive {
        print_banner(&mesh, &env.run_dir);
    }

    let mut repl = Repl {
        session,
        env,
        input,
        interrupts: interrupts.clone(),
        docs: Docs::embedded(),
        end: SessionEnd { interactive, ..SessionEnd::default() },
    };
    repl.read_eval_print().await;
    repl.input.restore_terminal();
    repl.close().await;
    repl.end
}

fn print_banner(mesh: &Mesh, run_dir: &std::path::Path) {
    let nodes: Vec<String> = mesh.nodes().iter().map(|n| format!("{} {}", n.name, n.socket_addr())).collect();
    eprintln!("amesh repl: {} nodes ({}), run folder {}", nodes.len(), nodes.join(", "), run_dir.display());
    eprintln!(":help lists the commands and the Lua API; Ctrl-C cancels a statement; Ctrl-D heals the mesh and quits.");
}

impl Repl {
    async fn read_eval_print(&mut self) {
        let mut buffer = String::new();
        loop {
            let continuation = !buffer.is_empty();
            let prompt = if continuation { CONTINUATION_PROMPT } else { PROMPT };
            let session = &self.session;
            let help_topics = self.docs.names();
            let index = move || CompletionIndex::build(session.lua(), session.sample_node(), help_topics);
            let line = tokio::select! {
                biased;
                () = self.interrupts.session.cancelled() => None,
                line = self.input.read(prompt, index, continuation) => Some(line),
            };
            let Some(line) = line else {
                self.end.interrupted = true;
                return;
            };

            let text = match line {
                Line::Text(text) => text,
                Line::Cleared => {
                    buffer.clear();
                    continue;
                }
                Line::End => {
                    if !buffer.is_empty() {
                        self.incomplete_at_end(&buffer);
                    }
                    return;
                }
            };

            if !continuation && text.trim().is_empty() {
                continue;
            }
            if !continuation && text.trim_start().starts_with(':') {
                self.input.remember(text.trim());
                match self.command(text.trim()).await {
                    Next::Continue => continue,
                    Next::Quit => return,
                }
            }

            if continuation {
                buffer.push('\n');
            }
            buffer.push_str(&text);
            match self.session.compile(&buffer) {
                Compiled::Incomplete(_) => continue,
                Compiled::Invalid(message) => {
                    self.input.remember(&buffer);
                    self.error(&format!("syntax error: {message}"));
                }
                Compiled::Chunk(chunk) => {
                    self.input.remember(&buffer);
                    self.evaluate(chunk).await;
                }
            }
            buffer.clear();
            if self.interrupts.session.is_cancelled() {
                self.end.interrupted = true;
                return;
            }
        }
    }

    /// Reports Lua's message when the input ends inside a statement.
    fn incomplete_at_end(&mut self, buffer: &str) {
        let message = match self.session.compile(buffer) {
            Compiled::Incomplete(message) | Compiled::Invalid(message) => message,
            Compiled::Chunk(_) => "the statement is incomplete".to_string(),
        };
        self.error(&format!("the input ended inside a statement: {message}"));
    }

    async fn evaluate(&mut self, chunk: Function) {
        let outcome = tokio::select! {
            biased;
            () = self.interrupts.session.cancelled() => Outcome::Interrupted,
            outcome = self.session.call(chunk) => outcome,
        };
        match outcome {
            Outcome::Values(values) if values.is_empty() => {}
            Outcome::Values(values) => print_out(&printing::render_values(self.session.lua(), &values)),
            Outcome::Raised { message, traceback } => {
                let mut text = format!("error: {message}");
                if let Some(traceback) = traceback {
                    text.push('\n');
                    text.push_str(&traceback);
                }
                self.error(&text);
            }
            Outcome::ScenarioEnded(result) => self.show_verdict("draft scenario", &result),
            Outcome::Interrupted => self.error("interrupted"),
        }
    }

    async fn command(&mut self, line: &str) -> Next {
        let command = match commands::parse(line) {
            Ok(command) => command,
            Err(message) => {
                self.error(&message);
                return Next::Continue;
            }
        };
        match command {
            Command::Help(topic) => match commands::help(&self.docs, topic.as_deref()) {
                Ok(text) => print_out(text.trim_end()),
                Err(message) => self.error(&message),
            },
            Command::Nodes => print_out(commands::nodes(&self.env.mesh).await.trim_end()),
            Command::Load(argument) => self.load(&argument).await,
            Command::Reset => self.reset().await,
            Command::Quit => return Next::Quit,
        }
        Next::Continue
    }

    /// `:load`: runs a scenario file as `amesh run` does and writes its report into the run
    /// folder.
    async fn load(&mut self, argument: &str) {
        let file = match script::loader::resolve(argument, &self.env.roots) {
            Ok(file) => file,
            Err(err) => return self.error(&format!("{err:#}")),
        };
        if let Err(message) = script::compile_check(&file) {
            return self.error(&format!("{} does not compile: {message}", file.display));
        }
        self.env.cancel.reset();
        let run = script::run_scenario(&self.env, &file).await;
        self.show_verdict(&file.display, &run.result);
        if run.interrupted {
            self.error("interrupted");
        }
        if let Some(fatal) = run.fatal {
            self.error(&format!("{fatal}; :reset restarts every node, :quit ends the session"));
        }
    }

    /// Prints a scenario's verdict and report, writes the report into the run folder, and
    /// counts a failed verdict as an error.
    fn show_verdict(&mut self, label: &str, result: &ScenarioResult) {
        let config = &self.env.mesh.config;
        let report = report::envelope(result, &config.agent_group, &config.tls.to_string());
        if let Err(err) = report::write_scenario_files(&self.env.run_dir, &result.id, &report, &result.log) {
            tracing::warn!("{err:#}");
        }
        let verdict = match result.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "skip",
        };
        let pretty = serde_json::to_string_pretty(&report).unwrap_or_else(|_| report.to_string());
        print_out(&format!("{label}: scenario {} {verdict} in {} ms\n{pretty}", result.id, result.duration_ms));
        if result.verdict == Verdict::Fail {
            self.end.errors += 1;
        }
    }

    async fn reset(&mut self) {
        eprintln!("resetting the mesh: heal, stop every node, wipe its data, start again");
        self.session.close_mcp_sessions().await;
        match self.env.mesh.reset().await {
            Ok(()) => print_out("the mesh is pristine: every node runs on an empty database with no fault applied"),
            Err(err) => self.error(&format!("reset failed: {err:#}; :nodes shows the state of each node")),
        }
    }

    fn error(&mut self, text: &str) {
        self.end.errors += 1;
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{text}");
        let _ = stderr.flush();
    }

    /// Runs what the scripts left to do and heals the mesh.
    async fn close(&mut self) {
        for error in self.session.close().await {
            self.error(&format!("deferred function failed: {error}"));
        }
        match self.env.mesh.heal().await {
            Ok(actions) => {
                for action in actions {
                    eprintln!("heal: {} {}", action.action, action.node);
                }
            }
            Err(err) => {
                let reason = format!("heal failed: {err:#}");
                tracing::error!("{reason}");
                self.end.fatal = Some(reason);
            }
        }
    }
}

fn print_out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
}
