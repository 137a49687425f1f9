//! amesh provisions a mesh of federated `ai-memory serve` nodes and runs Lua test scenarios
//! against it. The modules follow the product's parts: `sut` (the binary under test), `mesh`
//! (nodes, backends, faults), `client` (HTTP, MCP, history), `script` (the Lua runtime),
//! `campaign` (the testbook), `repl` (the interactive prompt), `report` (artifacts) and `cli`.

pub mod campaign;
pub mod cancel;
pub mod cli;
pub mod client;
pub mod mesh;
pub mod repl;
pub mod report;
pub mod script;
pub mod sut;
