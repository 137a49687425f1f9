//! Tab completion: globals and Lua keywords, the keys of global tables (`json.`, `fault.`),
//! node fields and methods after `node(1).` or `node(1):`, REPL commands, `:help` topics and
//! `:load` file names.
//!
//! The line editor runs on its own thread and the Lua state cannot leave the REPL's thread,
//! so the REPL takes a [`CompletionIndex`] snapshot of the names before each prompt.

use std::collections::HashMap;

use mlua::{Lua, Table, Value};
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use super::commands::COMMANDS;

const KEYWORDS: &[&str] = &[
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in", "local", "nil", "not",
    "or", "repeat", "return", "then", "true", "until", "while",
];

/// A name that completion offers; functions complete with an opening parenthesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub name: String,
    pub is_function: bool,
}

/// The names completion offers, taken from the Lua state before each prompt.
#[derive(Debug, Clone, Default)]
pub struct CompletionIndex {
    globals: Vec<Name>,
    /// Keys of every global table (and of its metatable's `__index` table), by global name.
    members: HashMap<String, Vec<Name>>,
    /// Fields and methods of a node handle.
    node_members: Vec<Name>,
    help_topics: Vec<String>,
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Lists the identifier keys of `table` and of the `__index` table of its metatable.
fn keys_of(table: &Table) -> Vec<Name> {
    let mut names = Vec::new();
    let mut collect = |table: &Table| {
        for (key, value) in table.pairs::<Value, Value>().filter_map(Result::ok) {
            if let Value::String(key) = key {
                let key = key.to_string_lossy();
                if is_identifier(&key) {
                    names.push(Name { name: key, is_function: value.is_function() });
                }
            }
        }
    };
    collect(table);
    if let Some(index) = table.metatable().and_then(|meta| meta.raw_get::<Table>("__index").ok()) {
        collect(&index);
    }
    names.sort_by(|a, b| a.name.cmp(&b.name));
    names.dedup_by(|a, b| a.name == b.name);
    names
}

impl CompletionIndex {
    /// Takes the names from the Lua state. `sample_node` is any node handle.
    pub fn build(lua: &Lua, sample_node: Option<&Table>, help_topics: Vec<String>) -> Self {
        let globals = keys_of(&lua.globals());
        let mut members = HashMap::new();
        for (key, value) in lua.globals().pairs::<String, Value>().filter_map(Result::ok) {
            if let Value::Table(table) = value {
                members.insert(key, keys_of(&table));
            }
        }
        let node_members = sample_node.map(keys_of).unwrap_or_default();
        Self { globals, members, node_members, help_topics }
    }

    /// Returns where the completed word starts and the candidates for the text before the
    /// cursor. `continuation` is true while a statement spans several lines, where a line
    /// that starts with `:` is Lua and not a command.
    pub fn complete(&self, before: &str, continuation: bool) -> (usize, Vec<Pair>) {
        if !continuation && before.trim_start().starts_with(':') {
            return self.complete_command(before);
        }
        if inside_string(before) {
            return (before.len(), Vec::new());
        }
        let start = before.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_').len();
        let partial = &before[start..];
        let receiver = &before[..start];
        let (names, functions_only): (Vec<&Name>, bool) = if let Some(receiver) = receiver.strip_suffix(':') {
            (self.receiver_members(receiver), true)
        } else if let Some(receiver) = receiver.strip_suffix('.') {
            (self.receiver_members(receiver), false)
        } else {
            (self.globals.iter().collect(), false)
        };

        let mut candidates: Vec<Pair> = names
            .into_iter()
            .filter(|n| n.name.starts_with(partial) && (!functions_only || n.is_function))
            .map(|n| Pair { display: n.name.clone(), replacement: if n.is_function { format!("{}(", n.name) } else { n.name.clone() } })
            .collect();
        if receiver.is_empty() || !receiver.ends_with(['.', ':']) {
            candidates.extend(
                KEYWORDS
                    .iter()
                    .filter(|k| k.starts_with(partial) && !partial.is_empty())
                    .map(|k| Pair { display: k.to_string(), replacement: k.to_string() }),
            );
        }
        (start, candidates)
    }

    /// Members of the expression before a `.` or `:`: a global table, or a node handle from
    /// `node(...)`, `nodes()[i]` or `agents()[i]`.
    fn receiver_members(&self, receiver: &str) -> Vec<&Name> {
        let receiver = receiver.trim_end();
        if let Some(callee) = call_target(receiver) {
            if matches!(callee, "node" | "nodes" | "agents") {
                return self.node_members.iter().collect();
            }
            return Vec::new();
        }
        let name_start = receiver.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_').len();
        let name = &receiver[name_start..];
        let preceded_by_path = receiver[..name_start].ends_with(['.', ':']);
        if preceded_by_path || name.is_empty() {
            return Vec::new();
        }
        self.members.get(name).map(|names| names.iter().collect()).unwrap_or_default()
    }

    fn complete_command(&self, before: &str) -> (usize, Vec<Pair>) {
        let offset = before.len() - before.trim_start().len();
        let command_line = before.trim_start();
        let Some((command, argument)) = command_line.split_once(' ') else {
            let candidates = COMMANDS
                .iter()
                .filter(|c| c.name.starts_with(command_line))
                .map(|c| Pair { display: c.name.to_string(), replacement: c.name.to_string() })
                .collect();
            return (offset, candidates);
        };
        let argument_start = before.len() - argument.trim_start().len();
        let argument = argument.trim_start();
        match command {
            ":help" => {
                let commands = COMMANDS.iter().map(|c| c.name);
                let candidates = self
                    .help_topics
                    .iter()
                    .map(String::as_str)
                    .chain(commands)
                    .filter(|topic| topic.starts_with(argument))
                    .map(|topic| Pair { display: topic.to_string(), replacement: topic.to_string() })
                    .collect();
                (argument_start, candidates)
            }
            ":load" => {
                let (start, candidates) = FilenameCompleter::new().complete_path(argument, argument.len()).unwrap_or((0, Vec::new()));
                (argument_start + start, candidates)
            }
            _ => (before.len(), Vec::new()),
        }
    }
}

/// Returns `name` when `text` ends with a call `name(...)` or an index of a call
/// `name(...)[...]`.
fn call_target(text: &str) -> Option<&str> {
    let mut text = text;
    if text.ends_with(']') {
        text = &text[..matching_open(text, '[', ']')?];
    }
    if !text.ends_with(')') {
        return None;
    }
    let open = matching_open(text, '(', ')')?;
    let callee = &text[..open];
    let start = callee.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_').len();
    Some(&callee[start..]).filter(|name| !name.is_empty())
}

/// Index of the bracket that opens the one `text` ends with.
fn matching_open(text: &str, open: char, close: char) -> Option<usize> {
    let mut depth = 0usize;
    for (index, c) in text.char_indices().rev() {
        if c == close {
            depth += 1;
        } else if c == open {
            depth -= 1;
            if depth == 0 {
                return Some(index);
            }
        }
    }
    None
}

/// Whether the cursor sits inside a quoted string, by counting unescaped quotes.
fn inside_string(text: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None => {}
        }
    }
    quote.is_some()
}

/// The line editor's helper: completion from the latest snapshot, nothing else.
#[derive(Default)]
pub struct ReplHelper {
    pub index: CompletionIndex,
    pub continuation: bool,
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        Ok(self.index.complete(&line[..pos], self.continuation))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {}

impl Validator for ReplHelper {}

impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> CompletionIndex {
        let lua = Lua::new();
        lua.load(
            r#"
            local methods = { write = function() end, count = function() end, count_wrong = function() end }
            sample = setmetatable({ name = "node-1", index = 1 }, { __index = methods })
            fault = { pause = function() end, resume = function() end }
            json = { encode = function() end, null = 0 }
            function eventually() end
            "#,
        )
        .exec()
        .expect("fixture runs");
        let sample: Table = lua.globals().get("sample").unwrap();
        CompletionIndex::build(&lua, Some(&sample), vec!["eventually".into(), "fault.pause".into()])
    }

    fn replacements(result: (usize, Vec<Pair>)) -> (usize, Vec<String>) {
        let (start, candidates) = result;
        (start, candidates.into_iter().map(|c| c.replacement).collect())
    }

    #[test]
    fn node_methods_after_colon() {
        let index = index();
        assert_eq!(replacements(index.complete("node(1):wr", false)), (8, vec!["write(".to_string()]));
        assert_eq!(replacements(index.complete("x = node(2):cou", false)).1, vec!["count(", "count_wrong("]);
        assert_eq!(replacements(index.complete("nodes()[3]:wri", false)).1, vec!["write("]);
    }

    #[test]
    fn node_fields_after_dot() {
        let (_, names) = replacements(index().complete("node(1).", false));
        assert!(names.contains(&"name".to_string()), "{names:?}");
        assert!(names.contains(&"write(".to_string()), "{names:?}");
    }

    #[test]
    fn module_functions_and_globals() {
        let index = index();
        assert_eq!(replacements(index.complete("fault.pa", false)), (6, vec!["pause(".to_string()]));
        assert_eq!(replacements(index.complete("json.", false)).1, vec!["encode(", "null"]);
        assert_eq!(replacements(index.complete("local w = even", false)), (10, vec!["eventually(".to_string()]));
        assert!(replacements(index.complete("fun", false)).1.contains(&"function".to_string()));
    }

    #[test]
    fn commands_and_help_topics() {
        let index = index();
        assert_eq!(replacements(index.complete(":he", false)), (0, vec![":help".to_string()]));
        assert_eq!(replacements(index.complete(":help fault.p", false)), (6, vec!["fault.pause".to_string()]));
        assert!(replacements(index.complete(":he", true)).1.is_empty(), "a continuation line is Lua");
    }

    #[test]
    fn nothing_inside_strings() {
        assert!(index().complete("log(\"fault.pa", false).1.is_empty());
    }
}
