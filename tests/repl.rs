//! `amesh repl` end to end against a real mesh: an interactive session driven through tmux
//! (a real pseudo-terminal, so rustyline, Ctrl-C and Ctrl-D behave as for a person), and
//! piped input with its exit codes.

mod common;

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Finished, Harness, NODE_PORT, PASSING_SCENARIO, Running, SHORT_RUN_LIMIT, poll_until};

/// Upper bound for the first prompt: SUT lookup and mesh start-up. It only guards against a
/// hang; the prompt usually appears within 10 s.
const PROMPT_LIMIT: Duration = Duration::from_secs(180);

/// Upper bound for one short statement, including requests to the nodes and the 30 s
/// `eventually` below at its worst.
const STATEMENT_LIMIT: Duration = Duration::from_secs(45);

/// How soon the prompt must return after Ctrl-C interrupts a 60 s wait.
const INTERRUPT_LIMIT: Duration = Duration::from_secs(10);

const PROMPT: &str = "amesh> ";
const CONTINUATION_PROMPT: &str = "  ...> ";

/// Quotes `text` for `sh`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Writes `command` (program, arguments, environment changes, working folder) as one `sh`
/// command line.
fn shell_line(command: &Command) -> String {
    let mut words = Vec::new();
    if let Some(dir) = command.get_current_dir() {
        words.push(format!("cd {} &&", shell_quote(&dir.display().to_string())));
    }
    words.push("env".to_string());
    for (name, value) in command.get_envs() {
        let name = name.to_string_lossy();
        match value {
            Some(value) => words.push(shell_quote(&format!("{name}={}", value.to_string_lossy()))),
            None => words.push(format!("-u {name}")),
        }
    }
    words.push(shell_quote(&command.get_program().to_string_lossy()));
    words.extend(command.get_args().map(|arg| shell_quote(&arg.to_string_lossy())));
    words.join(" ")
}

/// A tmux server of this test alone (its own socket), with one window that runs amesh.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs `command` in a 200-column window. When amesh exits, the window prints its exit
    /// code and stays open so the test can read it.
    fn start(command: &Command) -> Self {
        let socket = format!("amesh-repl-test-{}", std::process::id());
        let script = format!("{}; echo \"amesh exited with $?\"; sleep 600", shell_line(command));
        let tmux = Self { socket };
        tmux.run(&["new-session", "-d", "-s", "repl", "-x", "200", "-y", "50", &script]);
        tmux.run(&["set-option", "-t", "repl", "history-limit", "20000"]);
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap_or_else(|err| panic!("failed to run tmux {args:?}: {err}"));
        assert!(output.status.success(), "tmux {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Types `text` as it is (tmux would read words such as `end` as key names otherwise).
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "repl", "-l", text]);
    }

    /// Presses keys given by tmux name: `Enter`, `Tab`, `C-c`, `C-d`.
    fn press(&self, key: &str) {
        self.run(&["send-keys", "-t", "repl", key]);
    }

    /// Returns the whole window, scrollback included, with wrapped lines joined.
    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-J", "-S", "-", "-t", "repl"])
    }

    fn count(&self, text: &str) -> usize {
        self.screen().matches(text).count()
    }

    /// Waits until `text` appears `times` times on the screen and returns the screen.
    fn wait_for_count(&self, text: &str, times: usize, limit: Duration) -> String {
        let mut screen = String::new();
        let found = poll_until(limit, || {
            screen = self.screen();
            screen.matches(text).count() >= times
        });
        assert!(found, "{text:?} did not appear {times} times within {} s; screen:\n{screen}", limit.as_secs());
        screen
    }

    fn wait_for(&self, text: &str, limit: Duration) -> String {
        self.wait_for_count(text, 1, limit)
    }

    /// Types one line, presses Enter and waits for the next main prompt. Returns what the
    /// screen gained after the typed line.
    fn statement(&self, line: &str) -> String {
        let prompts = self.count(PROMPT);
        self.type_text(line);
        self.press("Enter");
        let screen = self.wait_for_count(PROMPT, prompts + 1, STATEMENT_LIMIT);
        output_after(&screen, line)
    }
}

impl Drop for Tmux {
    /// Stops this test's tmux server and with it whatever still runs in its window.
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-L").arg(&self.socket).arg("kill-server").status();
    }
}

/// Returns the text after the last occurrence of the typed `line` on the screen.
fn output_after(screen: &str, line: &str) -> String {
    let start = screen.rfind(line).map(|index| index + line.len()).unwrap_or(0);
    screen[start..].to_string()
}

#[test]
fn terminal_session() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 180, 11));
    let tmux = Tmux::start(&harness.command(&["repl"]));
    tmux.wait_for(PROMPT, PROMPT_LIMIT);
    assert_eq!(harness.node_pids().len(), 4, "the REPL runs four nodes");

    tmux.statement(r#"ns = "repl-" .. uuid():sub(1, 8)"#);
    let written = tmux.statement(r#"node(1):write { agent = "ai:alice", namespace = ns, title = "t1", content = "hello from the repl" }"#);
    assert!(written.contains("HTTP 201 Created"), "the write on node-1 printed:\n{written}");

    let continuations = tmux.count(CONTINUATION_PROMPT);
    tmux.type_text("function seen(n)");
    tmux.press("Enter");
    tmux.wait_for_count(CONTINUATION_PROMPT, continuations + 1, STATEMENT_LIMIT);
    tmux.type_text(r#"  return node(n):count(ns, { equals = "hello from the repl" })"#);
    tmux.press("Enter");
    tmux.wait_for_count(CONTINUATION_PROMPT, continuations + 2, STATEMENT_LIMIT);
    tmux.statement("end");

    let read = tmux.statement(r#""node-2 rows: " .. eventually(function() return seen(2) end, { equals = 1, timeout = 30 }).value"#);
    assert!(read.contains("node-2 rows: 1"), "the read on node-2 printed:\n{read}");

    let rejected = tmux.statement("x = = 1");
    assert!(rejected.contains("syntax error: repl:1: unexpected symbol near '='"), "a syntax error printed:\n{rejected}");
    let answer = tmux.statement(r#""answer " .. 6 * 7"#);
    assert!(answer.contains("answer 42"), "the line after a syntax error printed:\n{answer}");

    let prompts = tmux.count(PROMPT);
    tmux.type_text("node(1):wri");
    tmux.press("Tab");
    tmux.wait_for("amesh> node(1):write(", Duration::from_secs(5));
    tmux.press("C-c");
    tmux.wait_for_count(PROMPT, prompts + 1, Duration::from_secs(5));

    let prompts = tmux.count(PROMPT);
    tmux.type_text("eventually(function() return false end, { timeout = 60 })");
    tmux.press("Enter");
    std::thread::sleep(Duration::from_secs(1));
    let interrupted_at = Instant::now();
    tmux.press("C-c");
    let screen = tmux.wait_for_count(PROMPT, prompts + 1, INTERRUPT_LIMIT);
    assert!(interrupted_at.elapsed() < INTERRUPT_LIMIT, "the prompt took {:?} to return after Ctrl-C", interrupted_at.elapsed());
    assert!(output_after(&screen, "{ timeout = 60 })").contains("interrupted"), "Ctrl-C printed:\n{screen}");
    let after = tmux.statement(r#""after " .. 1 + 1"#);
    assert!(after.contains("after 2"), "the statement after Ctrl-C printed:\n{after}");

    tmux.press("C-d");
    tmux.wait_for("amesh exited with 0", SHORT_RUN_LIMIT);
    assert_eq!(harness.wait_for_nodes_gone(), Vec::<i32>::new(), "nodes outlived the REPL");

    let history = std::fs::read_to_string(harness.state_dir().join("amesh/repl-history")).expect("the REPL keeps a history file");
    assert!(history.contains(r"function seen(n)\n"), "the multi-line function is one history entry:\n{history}");
}

/// Runs `amesh repl` with `script` as its standard input.
fn run_piped(harness: &Harness, script: &str) -> Finished {
    let path = harness.write_file("input.lua", script);
    let input = File::open(&path).unwrap_or_else(|err| panic!("failed to open {}: {err}", path.display()));
    Running::spawn_with_stdin(harness.command(&["repl"]), Stdio::from(input)).wait(SHORT_RUN_LIMIT)
}

fn report(finished: &Finished) -> String {
    format!("stdout:\n{}\nstderr:\n{}", finished.stdout, finished.stderr)
}

#[test]
fn piped_script_succeeds() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 181, 11));
    let scenario = harness.write_file("pass.lua", PASSING_SCENARIO);
    let script = format!(
        r#"ns = "piped-" .. uuid():sub(1, 8)
node(1):write {{ agent = "ai:alice", namespace = ns, title = "t1", content = "piped hello" }}
function seen(n)
  return node(n):count(ns, {{ equals = "piped hello" }})
end
"node-2 rows: " .. eventually(function() return seen(2) end, {{ equals = 1, timeout = 30 }}).value
:help eventually
:load {}
:reset
"node-1 rows after reset: " .. seen(1)
fault.pause(node(3))
:nodes
"#,
        scenario.display()
    );

    let finished = run_piped(&harness, &script);

    assert_eq!(finished.code(), 0, "{}", report(&finished));
    assert!(finished.stdout.contains("HTTP 201 Created"), "{}", report(&finished));
    assert!(finished.stdout.contains("node-2 rows: 1"), "{}", report(&finished));
    assert!(finished.stdout.contains("eventually(fn, opts?) -> EventuallyResult"), "{}", report(&finished));
    assert!(finished.stdout.contains("scenario t-pass pass"), "{}", report(&finished));
    assert!(finished.stdout.contains("node-1 rows after reset: 0"), "{}", report(&finished));
    let node_3 = finished.stdout.lines().find(|line| line.starts_with("node-3 ")).unwrap_or_default();
    assert!(node_3.contains("paused"), ":nodes shows node-3 as {node_3:?}; {}", report(&finished));
    assert!(finished.stderr.contains("heal: resume node-3"), "{}", report(&finished));
    assert!(!finished.stderr.contains("amesh> "), "piped input shows no prompt; {}", report(&finished));
    assert_eq!(harness.wait_for_nodes_gone(), Vec::<i32>::new(), "nodes outlived the REPL");
}

#[test]
fn piped_error_exits_one() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 182, 11));

    let finished = run_piped(&harness, "error(\"boom\")\n\"still running \" .. 1\n");

    assert_eq!(finished.code(), 1, "{}", report(&finished));
    assert!(finished.stderr.contains("error: repl:1: boom"), "{}", report(&finished));
    assert!(finished.stdout.contains("still running 1"), "the chunk after the error ran; {}", report(&finished));
    assert_eq!(harness.wait_for_nodes_gone(), Vec::<i32>::new(), "nodes outlived the REPL");
}

#[test]
fn piped_incomplete_statement_exits_one() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 183, 11));

    let finished = run_piped(&harness, "function unfinished()\n  return 1\n");

    assert_eq!(finished.code(), 1, "{}", report(&finished));
    assert!(finished.stderr.contains("the input ended inside a statement"), "{}", report(&finished));
}

#[test]
fn busy_address_exits_two() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 184, 11));
    let busy = TcpListener::bind((Ipv4Addr::new(127, 0, 184, 12), NODE_PORT)).expect("failed to occupy node-2's address");

    let finished = run_piped(&harness, "\"never runs\"\n");

    assert_eq!(finished.code(), 2, "{}", report(&finished));
    assert!(finished.stderr.contains("the mesh did not come up"), "{}", report(&finished));
    assert!(!finished.stdout.contains("never runs"), "{}", report(&finished));
    assert_eq!(harness.wait_for_nodes_gone(), Vec::<i32>::new(), "nodes outlived the failed start");
    drop(busy);
}

#[test]
fn shell_line_quotes_words() {
    let mut command = Command::new("/bin/amesh");
    command.arg("it's").env("A", "b c").env_remove("GONE").current_dir(Path::new("/tmp"));
    assert_eq!(shell_line(&command), r"cd '/tmp' && env 'A=b c' -u GONE '/bin/amesh' 'it'\''s'");
}
