//! `:help`: the API documentation of the LuaLS stubs in `lua/types/amesh.lua`, parsed from
//! their `---` comment blocks, so that the REPL and an editor show the same text.

use std::fmt::Write;

const STUBS: &str = include_str!("../../lua/types/amesh.lua");

/// Width the overview wraps its lists of names at.
const WRAP_WIDTH: usize = 92;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Function,
    /// A `---@class` with its fields; a global such as `mesh` that the stubs declare with a
    /// class is one too.
    Class,
    /// A global table of functions: `memory`, `fault`, `json`, ...
    Module,
    /// A documented constant such as `json.null`.
    Value,
}

/// One `---@param` or `---@field` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub type_name: String,
    pub description: String,
}

/// One documented name.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `eventually`, `fault.pause`, `Node:get`, `RequestOptions`, `mesh`, `json.null`.
    pub name: String,
    pub kind: Kind,
    /// The stub file's section heading, such as "Nodes and HTTP".
    pub section: String,
    /// `Node:get(path, opts?) -> Response` for functions, the name otherwise.
    pub signature: String,
    pub doc: Vec<String>,
    /// Parameters of a function, fields of a class.
    pub tags: Vec<Tag>,
    pub returns: Vec<String>,
}

impl Entry {
    /// Returns the part after the last `.` or `:`, which short lookups match.
    fn short_name(&self) -> &str {
        self.name.rsplit(['.', ':']).next().unwrap_or(&self.name)
    }
}

/// Everything the stub file documents, in file order.
pub struct Docs {
    entries: Vec<Entry>,
}

#[derive(Default)]
struct Pending {
    doc: Vec<String>,
    params: Vec<Tag>,
    returns: Vec<String>,
    class: Option<String>,
    fields: Vec<Tag>,
}

/// Splits `name type description`. A LuaLS type may contain spaces (`fun(): any`,
/// `{limit?: integer}`), so it ends at the first space outside brackets that does not follow
/// a `:`, `,` or `|`.
fn parse_tag(text: &str) -> Tag {
    let text = text.trim();
    let (name, rest) = text.split_once(' ').unwrap_or((text, ""));
    let rest = rest.trim_start();
    let mut depth = 0i32;
    let mut end = rest.len();
    let mut previous = ' ';
    for (index, c) in rest.char_indices() {
        match c {
            '(' | '{' | '[' | '<' => depth += 1,
            ')' | '}' | ']' | '>' => depth -= 1,
            ' ' if depth <= 0 && !matches!(previous, ':' | ',' | '|') => {
                end = index;
                break;
            }
            _ => {}
        }
        previous = c;
    }
    Tag { name: name.to_string(), type_name: rest[..end].to_string(), description: rest[end..].trim().to_string() }
}

fn is_separator(line: &str) -> bool {
    line.len() > 10 && line.chars().all(|c| c == '-')
}

impl Docs {
    /// Parses the stub file built into amesh.
    pub fn embedded() -> Self {
        Self::parse(STUBS)
    }

    pub fn parse(text: &str) -> Self {
        let mut entries = Vec::new();
        let mut section = String::new();
        let mut pending = Pending::default();
        let mut after_separator = false;

        for line in text.lines().map(str::trim_end) {
            let was_after_separator = std::mem::replace(&mut after_separator, false);
            if is_separator(line) {
                after_separator = true;
            } else if let Some(rest) = line.strip_prefix("---@param ") {
                pending.params.push(parse_tag(rest));
            } else if let Some(rest) = line.strip_prefix("---@return ") {
                pending.returns.push(rest.trim().to_string());
            } else if let Some(rest) = line.strip_prefix("---@field ") {
                pending.fields.push(parse_tag(rest));
            } else if let Some(rest) = line.strip_prefix("---@class ") {
                flush_class(&mut entries, &mut pending, &section, None);
                pending.class = rest.split_whitespace().next().map(str::to_string);
            } else if line.starts_with("---@") {
                // Other annotations (`---@meta`) carry no text for the REPL.
            } else if let Some(rest) = line.strip_prefix("---") {
                pending.doc.push(rest.strip_prefix(' ').unwrap_or(rest).to_string());
            } else if let Some(rest) = line.strip_prefix("-- ") {
                if was_after_separator {
                    section = rest.trim().to_string();
                }
            } else if let Some(rest) = line.strip_prefix("function ") {
                flush_class(&mut entries, &mut pending, &section, None);
                entries.push(function_entry(rest, std::mem::take(&mut pending), &section));
            } else if let Some((target, value)) = line.split_once(" = ") {
                let target = target.trim_start_matches("local ").trim();
                if pending.class.is_some() {
                    let alias = (!line.starts_with("local ")).then_some(target);
                    flush_class(&mut entries, &mut pending, &section, alias);
                } else if value.trim() == "{}" {
                    entries.push(plain_entry(target, Kind::Module, std::mem::take(&mut pending), &section));
                } else {
                    entries.push(plain_entry(target, Kind::Value, std::mem::take(&mut pending), &section));
                }
            } else if line.is_empty() {
                flush_class(&mut entries, &mut pending, &section, None);
                pending = Pending::default();
            }
        }
        flush_class(&mut entries, &mut pending, &section, None);
        Self { entries }
    }

    /// Returns every name `:help` accepts, for completion.
    pub fn names(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.name.clone()).collect()
    }

    /// Finds the entries for a `:help` query: the exact name (ignoring case), else names whose
    /// last part matches (`pause` finds `fault.pause`), else names that start with it.
    pub fn lookup(&self, query: &str) -> Vec<&Entry> {
        let query = query.trim().trim_end_matches("()").to_lowercase();
        let exact: Vec<&Entry> = self.entries.iter().filter(|e| e.name.to_lowercase() == query).collect();
        if !exact.is_empty() {
            return exact;
        }
        let short: Vec<&Entry> = self.entries.iter().filter(|e| e.short_name().to_lowercase() == query).collect();
        if !short.is_empty() {
            return short;
        }
        self.entries.iter().filter(|e| e.name.to_lowercase().starts_with(&query)).collect()
    }

    /// Renders the text `:help <query>` prints, or `None` when nothing matches.
    pub fn render_topic(&self, query: &str) -> Option<String> {
        let found = self.lookup(query);
        match found.as_slice() {
            [] => None,
            [entry] => Some(self.render_entry(entry)),
            several if several.len() <= 3 => {
                Some(several.iter().map(|e| self.render_entry(e)).collect::<Vec<_>>().join("\n"))
            }
            several => {
                let names: Vec<&str> = several.iter().map(|e| e.name.as_str()).collect();
                Some(format!("{} names match {query:?}:\n{}", names.len(), wrap_names(&names, "  ")))
            }
        }
    }

    fn render_entry(&self, entry: &Entry) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "{}", entry.signature);
        for line in &entry.doc {
            let _ = writeln!(text, "  {line}");
        }
        let label = if entry.kind == Kind::Function { "Parameters" } else { "Fields" };
        if !entry.tags.is_empty() {
            let _ = writeln!(text, "{label}:");
            let width = entry.tags.iter().map(|t| t.name.len()).max().unwrap_or(0);
            for tag in &entry.tags {
                let _ = writeln!(text, "  {:width$}  {}  {}", tag.name, tag.type_name, tag.description);
            }
        }
        if !entry.returns.is_empty() {
            let _ = writeln!(text, "Returns: {}", entry.returns.join(", "));
        }
        let members = self.members_of(entry);
        if !members.is_empty() {
            let _ = writeln!(text, "{}:", if entry.kind == Kind::Class { "Methods" } else { "Functions" });
            for member in members {
                let summary = member.doc.first().map(String::as_str).unwrap_or_default();
                let _ = writeln!(text, "  {}  {summary}", member.signature);
            }
        }
        text
    }

    /// Methods of a class (`Node:get`) or functions of a module (`fault.pause`).
    fn members_of(&self, entry: &Entry) -> Vec<&Entry> {
        let prefix = match entry.kind {
            Kind::Class => format!("{}:", entry.name),
            Kind::Module => format!("{}.", entry.name),
            Kind::Function | Kind::Value => return Vec::new(),
        };
        self.entries.iter().filter(|e| e.name.starts_with(&prefix)).collect()
    }

    /// Lists every documented name by section, for `:help` without a name.
    pub fn overview(&self) -> String {
        let mut sections: Vec<(&str, Vec<&str>)> = Vec::new();
        for entry in &self.entries {
            match sections.last_mut() {
                Some((section, names)) if *section == entry.section => names.push(&entry.name),
                _ => sections.push((&entry.section, vec![&entry.name])),
            }
        }
        let mut text = String::new();
        for (section, names) in sections {
            let _ = writeln!(text, "{section}:");
            text.push_str(&wrap_names(&names, "  "));
        }
        text
    }
}

fn function_entry(declaration: &str, pending: Pending, section: &str) -> Entry {
    let declaration = declaration.trim_end_matches(" end").trim();
    let (name, arguments) = declaration.split_once('(').unwrap_or((declaration, ")"));
    let arguments: Vec<String> = arguments
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|argument| {
            // `---@param opts? RequestOptions` marks an optional argument.
            let optional = pending.params.iter().any(|p| p.name == format!("{argument}?"));
            if optional { format!("{argument}?") } else { argument.to_string() }
        })
        .collect();
    let mut signature = format!("{name}({})", arguments.join(", "));
    if !pending.returns.is_empty() {
        let _ = write!(signature, " -> {}", pending.returns.join(", "));
    }
    Entry {
        name: name.to_string(),
        kind: Kind::Function,
        section: section.to_string(),
        signature,
        doc: pending.doc,
        tags: pending.params,
        returns: pending.returns,
    }
}

fn plain_entry(name: &str, kind: Kind, pending: Pending, section: &str) -> Entry {
    Entry {
        name: name.to_string(),
        kind,
        section: section.to_string(),
        signature: name.to_string(),
        doc: pending.doc,
        tags: Vec::new(),
        returns: Vec::new(),
    }
}

/// Emits the pending `---@class` block, if any. `alias` is the global the stubs declare with
/// it (`mesh = {}` after `---@class MeshInfo`), which gets an entry of its own.
fn flush_class(entries: &mut Vec<Entry>, pending: &mut Pending, section: &str, alias: Option<&str>) {
    let Some(class) = pending.class.take() else { return };
    let entry = Entry {
        name: class.clone(),
        kind: Kind::Class,
        section: section.to_string(),
        signature: class.clone(),
        doc: std::mem::take(&mut pending.doc),
        tags: std::mem::take(&mut pending.fields),
        returns: Vec::new(),
    };
    if let Some(alias) = alias.filter(|a| *a != class) {
        let mut aliased = entry.clone();
        aliased.name = alias.to_string();
        aliased.signature = format!("{alias} ({class})");
        entries.push(entry);
        entries.push(aliased);
    } else {
        entries.push(entry);
    }
}

fn wrap_names(names: &[&str], indent: &str) -> String {
    let mut text = String::new();
    let mut line = String::from(indent);
    for name in names {
        if line.len() > indent.len() && line.len() + name.len() + 2 > WRAP_WIDTH {
            text.push_str(line.trim_end_matches(", "));
            text.push('\n');
            line = String::from(indent);
        }
        line.push_str(name);
        line.push_str(", ");
    }
    if line.len() > indent.len() {
        text.push_str(line.trim_end_matches(", "));
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(docs: &'a Docs, name: &str) -> &'a Entry {
        docs.entries.iter().find(|e| e.name == name).unwrap_or_else(|| panic!("no entry {name}"))
    }

    #[test]
    fn functions_have_signature_and_doc() {
        let docs = Docs::embedded();
        let eventually = entry(&docs, "eventually");
        assert_eq!(eventually.kind, Kind::Function);
        assert_eq!(eventually.signature, "eventually(fn, opts?) -> EventuallyResult");
        assert!(eventually.doc[0].starts_with("Polls `fn`"), "{:?}", eventually.doc);
        assert_eq!(eventually.section, "Time, concurrency and utilities");
    }

    #[test]
    fn methods_and_module_functions_are_found() {
        let docs = Docs::embedded();
        assert_eq!(entry(&docs, "Node:get").signature, "Node:get(path, opts?) -> Response");
        assert_eq!(entry(&docs, "fault.pause").tags[0].name, "n");
        assert_eq!(entry(&docs, "Scenario:check").section, "Scenario object");
        assert_eq!(entry(&docs, "json.null").kind, Kind::Value);
        assert_eq!(entry(&docs, "fault").kind, Kind::Module);
    }

    #[test]
    fn classes_keep_fields_and_aliases() {
        let docs = Docs::embedded();
        let response = entry(&docs, "Response");
        assert_eq!(response.kind, Kind::Class);
        assert_eq!(response.tags[0], Tag { name: "status".into(), type_name: "integer".into(), description: "HTTP status, or 0 when no HTTP response arrived.".into() });
        let mesh = entry(&docs, "mesh");
        assert!(mesh.tags.iter().any(|t| t.name == "ai_memory_version"), "{mesh:?}");
    }

    #[test]
    fn types_with_spaces_stay_whole() {
        assert_eq!(parse_tag("fn fun(): any"), Tag { name: "fn".into(), type_name: "fun(): any".into(), description: String::new() });
        let tag = parse_tag("opts? {limit?: integer} List options.");
        assert_eq!(tag.type_name, "{limit?: integer}");
        assert_eq!(tag.description, "List options.");
    }

    #[test]
    fn lookup_matches_short_and_case_insensitive_names() {
        let docs = Docs::embedded();
        assert_eq!(docs.lookup("pause")[0].name, "fault.pause");
        assert_eq!(docs.lookup("node:get")[0].name, "Node:get");
        assert_eq!(docs.lookup("eventually()")[0].name, "eventually");
        assert!(docs.lookup("no_such_name").is_empty());
    }

    #[test]
    fn module_topic_lists_its_functions() {
        let text = Docs::embedded().render_topic("fault").expect("fault is documented");
        assert!(text.contains("fault.pause(n)"), "{text}");
        assert!(text.contains("fault.restore_clock(n)"), "{text}");
    }

    #[test]
    fn overview_groups_names_by_section() {
        let overview = Docs::embedded().overview();
        assert!(overview.contains("Nodes and HTTP:"), "{overview}");
        assert!(overview.contains("eventually"), "{overview}");
        assert!(overview.lines().all(|l| l.len() <= WRAP_WIDTH), "{overview}");
    }
}
