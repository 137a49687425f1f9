//! Clients of a running node: HTTP per TLS profile, MCP stdio sessions, and the history of
//! requests and faults. This part reports what happened; it never decides pass or fail.

pub mod history;
pub mod http;
pub mod mcp;

pub use history::History;
pub use http::{HttpClient, HttpRequest, HttpResponse};
pub use mcp::{McpServer, McpSession, McpTransport};
