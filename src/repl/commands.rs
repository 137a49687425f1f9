//! The REPL's own commands. A line is a command when it starts with `:` at the start of a
//! statement. Inside a statement that spans lines, `:` continues a method call instead.

use std::fmt::Write;

use futures_util::future::join_all;

use super::help::Docs;
use crate::mesh::Mesh;

/// One command as `:help` lists it.
pub struct CommandInfo {
    pub name: &'static str,
    pub usage: &'static str,
    pub summary: &'static str,
}

pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        name: ":help",
        usage: ":help [name]",
        summary: "show this overview, or the documentation of a function, module or type (:help eventually, :help fault, :help Response)",
    },
    CommandInfo {
        name: ":nodes",
        usage: ":nodes",
        summary: "show each node: address, agent, process state, faults applied, and a health check",
    },
    CommandInfo {
        name: ":load",
        usage: ":load FILE",
        summary: "run a scenario file (or an id such as 40) as `amesh run` does, heal phase included, and show its verdict",
    },
    CommandInfo {
        name: ":reset",
        usage: ":reset",
        summary: "heal every fault, wipe every node's data and restart the nodes; Lua globals stay",
    },
    CommandInfo {
        name: ":quit",
        usage: ":quit",
        summary: "heal every fault, stop the nodes and exit (Ctrl-D does the same)",
    },
];

const LUA_NOTES: &str = "\
Lua:
  An expression prints its value: tables as JSON, responses as status line and body. A
  statement prints nothing. Globals persist between statements; a `local` lasts one statement.
  A statement continues on the next line while it is incomplete; Ctrl-C discards it.
  Ctrl-C cancels the running statement. Faults stay applied until fault.resume, fault.restart,
  fault.restore_clock, fault.heal, :reset, :load (whose heal phase undoes them) or the end of
  the session.
  s = scenario { id = ... } starts a draft scenario: s:emit(), s:fail() or s:skip() prints
  its verdict, and the next scenario { ... } starts a new draft. There is no time limit.
";

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Help(Option<String>),
    Nodes,
    Load(String),
    Reset,
    Quit,
}

/// Parses a command line such as `:load scenarios/40.lua`.
pub fn parse(line: &str) -> Result<Command, String> {
    let line = line.trim();
    let (name, argument) = match line.split_once(char::is_whitespace) {
        Some((name, argument)) => (name, argument.trim()),
        None => (line, ""),
    };
    let no_argument = |command: Command| {
        if argument.is_empty() { Ok(command) } else { Err(format!("{name} takes no argument, got {argument:?}")) }
    };
    match name {
        ":help" | ":h" => Ok(Command::Help((!argument.is_empty()).then(|| argument.to_string()))),
        ":nodes" => no_argument(Command::Nodes),
        ":load" if argument.is_empty() => Err(":load needs a scenario file or id, e.g. :load ./draft.lua or :load 40".into()),
        ":load" => Ok(Command::Load(argument.to_string())),
        ":reset" => no_argument(Command::Reset),
        ":quit" | ":q" | ":exit" => no_argument(Command::Quit),
        other => Err(format!("unknown command {other}; :help lists the commands")),
    }
}

/// Returns the text of `:help` and `:help <topic>`.
pub fn help(docs: &Docs, topic: Option<&str>) -> Result<String, String> {
    let Some(topic) = topic else {
        let mut text = String::from("Commands:\n");
        let width = COMMANDS.iter().map(|c| c.usage.len()).max().unwrap_or(0);
        for command in COMMANDS {
            let _ = writeln!(text, "  {:width$}  {}", command.usage, command.summary);
        }
        text.push('\n');
        text.push_str(LUA_NOTES);
        text.push_str("\nAPI (:help NAME shows one entry):\n");
        text.push_str(&docs.overview());
        return Ok(text);
    };
    if topic.starts_with(':') {
        return COMMANDS
            .iter()
            .find(|c| c.name == topic)
            .map(|c| format!("{}\n  {}\n", c.usage, c.summary))
            .ok_or_else(|| format!("unknown command {topic}; :help lists the commands"));
    }
    docs.render_topic(topic).ok_or_else(|| format!("no help for {topic:?}; :help lists every documented name"))
}

/// Builds the `:nodes` table: one row per node with its process state, faults and health.
pub async fn nodes(mesh: &Mesh) -> String {
    let conditions = mesh.conditions();
    let checks = mesh.nodes().iter().zip(&conditions).map(|(node, condition)| async move {
        if condition.killed {
            return "-".to_string();
        }
        match mesh.check_health(node).await {
            Ok(()) => "ok".to_string(),
            Err(err) => short_health_error(&err),
        }
    });
    let health = join_all(checks).await;

    let mut rows = vec![["node", "address", "agent", "state", "isolated", "clock", "health"].map(str::to_string)];
    for ((node, condition), health) in mesh.nodes().iter().zip(&conditions).zip(health) {
        let state = if condition.killed {
            "killed"
        } else if condition.paused {
            "paused"
        } else {
            "running"
        };
        let clock = match condition.clock_offset_secs {
            Some(offset) => format!("{offset:+} s"),
            None => "real".to_string(),
        };
        rows.push([
            node.name.clone(),
            node.socket_addr().to_string(),
            node.agent_id.clone().unwrap_or_else(|| node.role.as_str().to_string()),
            state.to_string(),
            if condition.isolated { "yes" } else { "no" }.to_string(),
            clock,
            health,
        ]);
    }
    format_table(&rows)
}

/// Shortens a health check error for the table: the status line of an HTTP error, else the
/// innermost cause ("operation timed out", "Connection refused (os error 111)") without the
/// URL the outer errors repeat.
fn short_health_error(error: &str) -> String {
    let part = if error.starts_with("HTTP ") { error.split(": ").next() } else { error.rsplit(": ").next() };
    part.unwrap_or(error).to_string()
}

fn format_table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in rows {
        let cells: Vec<String> = row.iter().zip(widths).map(|(cell, width)| format!("{cell:width$}")).collect();
        let _ = writeln!(text, "{}", cells.join("  ").trim_end());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_with_arguments() {
        assert_eq!(parse(":help"), Ok(Command::Help(None)));
        assert_eq!(parse(":help  fault.pause "), Ok(Command::Help(Some("fault.pause".into()))));
        assert_eq!(parse(":load ./draft.lua"), Ok(Command::Load("./draft.lua".into())));
        assert_eq!(parse(":q"), Ok(Command::Quit));
    }

    #[test]
    fn invalid_commands_explain_themselves() {
        assert!(parse(":load").unwrap_err().contains(":load needs a scenario"));
        assert!(parse(":nodes 3").unwrap_err().contains("takes no argument"));
        assert!(parse(":frobnicate").unwrap_err().contains("unknown command :frobnicate"));
    }

    #[test]
    fn help_covers_commands_and_api() {
        let docs = Docs::embedded();
        let overview = help(&docs, None).unwrap();
        assert!(overview.contains(":load FILE"), "{overview}");
        assert!(overview.contains("eventually"), "{overview}");
        assert!(help(&docs, Some(":reset")).unwrap().contains("wipe every node's data"));
        assert!(help(&docs, Some("eventually")).unwrap().starts_with("eventually(fn, opts?)"));
        assert!(help(&docs, Some("nothing_here")).is_err());
    }

    #[test]
    fn health_errors_are_shortened() {
        let refused = "error sending request for url (http://127.0.1.13:9077/api/v1/health): client error (Connect): tcp connect error: Connection refused (os error 111)";
        assert_eq!(short_health_error(refused), "Connection refused (os error 111)");
        assert_eq!(short_health_error("HTTP 503: {\"status\":\"down\"}"), "HTTP 503");
    }

    #[test]
    fn table_columns_align() {
        let rows = [["a", "bb"].map(str::to_string), ["ccc", "d"].map(str::to_string)];
        assert_eq!(format_table(&rows), "a    bb\nccc  d\n");
    }
}
