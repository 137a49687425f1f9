//! `amesh.toml`: the SUT version, mesh settings and topology, with upstream's four-node
//! topology as the built-in default. Command-line flags override the file.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::docker::network::{self as docker_network, Subnet};
use crate::sut;

/// Which backend runs the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Process,
    Docker,
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BackendKind::Process => "process",
            BackendKind::Docker => "docker",
        })
    }
}

/// Transport security between harness and nodes and among nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    Off,
    Tls,
    Mtls,
}

impl std::fmt::Display for TlsMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TlsMode::Off => "off",
            TlsMode::Tls => "tls",
            TlsMode::Mtls => "mtls",
        })
    }
}

/// A node's role in the topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Agent,
    MemoryOnly,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::MemoryOnly => "memory-only",
        }
    }
}

/// One node of the resolved topology.
#[derive(Debug, Clone, Serialize)]
pub struct NodeSpec {
    pub index: usize,
    pub name: String,
    pub role: Role,
    pub agent_id: Option<String>,
    pub address: Ipv4Addr,
    pub port: u16,
}

impl NodeSpec {
    /// `node-2` → `node_2`, the key form upstream reports use.
    pub fn field_name(&self) -> String {
        self.name.replace('-', "_")
    }

    pub fn socket_addr(&self) -> std::net::SocketAddr {
        (self.address, self.port).into()
    }
}

impl Config {
    /// `http` or `https`, by TLS mode.
    pub fn scheme(&self) -> &'static str {
        if self.tls == TlsMode::Off { "http" } else { "https" }
    }
}

/// The resolved configuration every command works from.
#[derive(Debug, Clone)]
pub struct Config {
    pub sut_version: String,
    pub sut_binary: Option<PathBuf>,
    pub backend: BackendKind,
    pub tls: TlsMode,
    pub quorum_writes: u32,
    pub quorum_timeout_ms: u64,
    pub catchup_interval_secs: u64,
    pub extra_serve_args: Vec<String>,
    pub agent_group: String,
    pub nodes: Vec<NodeSpec>,
    pub docker: DockerSettings,
    /// The file the configuration came from, if any.
    pub source: Option<PathBuf>,
    /// SHA-256 of the file's bytes, or of the empty string for the built-in default.
    pub sha256: String,
}

/// Settings of the Docker backend.
#[derive(Debug, Clone, Default)]
pub struct DockerSettings {
    /// The mesh network's subnet; node i gets host address 10 + i.
    pub subnet: Subnet,
    /// A live mesh (`amesh mesh up --name NAME`) to run on instead of a new one; for
    /// `amesh mesh up`, the name of the mesh to create.
    pub mesh_name: Option<String>,
    /// Whether the mesh outlives the command (set by `amesh mesh up`).
    pub keep: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    sut: SutSection,
    #[serde(default)]
    mesh: MeshSection,
    #[serde(default)]
    node: Vec<NodeSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SutSection {
    version: Option<String>,
    binary: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MeshSection {
    backend: Option<BackendKind>,
    tls: Option<TlsMode>,
    quorum_writes: Option<u32>,
    quorum_timeout_ms: Option<u64>,
    catchup_interval_secs: Option<u64>,
    base_address: Option<Ipv4Addr>,
    port: Option<u16>,
    extra_serve_args: Option<Vec<String>>,
    agent_group: Option<String>,
    docker_subnet: Option<Subnet>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeSection {
    name: String,
    #[serde(default = "default_role")]
    role: Role,
    agent_id: Option<String>,
    address: Option<Ipv4Addr>,
    port: Option<u16>,
}

fn default_role() -> Role {
    Role::Agent
}

/// Default first node address; node i listens on the base plus i - 1 in the last octet.
pub const DEFAULT_BASE_ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 11);
pub const DEFAULT_PORT: u16 = 9077;

/// Overrides from the command line, applied on top of the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub ai_memory: Option<PathBuf>,
    pub ai_memory_version: Option<String>,
    pub backend: Option<BackendKind>,
    pub tls: Option<TlsMode>,
    pub base_address: Option<Ipv4Addr>,
    pub docker_subnet: Option<Subnet>,
    pub mesh_name: Option<String>,
}

/// Finds the config file: `--config`, then `$AMESH_CONFIG`, then `./amesh.toml`; `None` means
/// the built-in default.
pub fn find(explicit: Option<&Path>) -> Result<Option<PathBuf>> {
    if let Some(path) = explicit {
        if !path.is_file() {
            bail!("config file {} does not exist; fix --config", path.display());
        }
        return Ok(Some(path.to_path_buf()));
    }
    if let Some(env) = std::env::var_os("AMESH_CONFIG").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(env);
        if !path.is_file() {
            bail!("config file {} (from AMESH_CONFIG) does not exist", path.display());
        }
        return Ok(Some(path));
    }
    let local = PathBuf::from("amesh.toml");
    Ok(local.is_file().then_some(local))
}

/// Loads the configuration from `path` (or the default) and applies `overrides`.
pub fn load(path: Option<&Path>, overrides: &Overrides) -> Result<Config> {
    let (file, text) = match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("failed to read config file {}", path.display()))?;
            let file: File = toml::from_str(&text)
                .map_err(|err| anyhow::anyhow!("invalid config file {}: {err}", path.display()))?;
            (file, text)
        }
        None => (File::default(), String::new()),
    };
    let mut config = resolve(file, overrides).with_context(|| match path {
        Some(p) => format!("invalid config file {}", p.display()),
        None => "invalid configuration".to_string(),
    })?;
    config.source = path.map(Path::to_path_buf);
    config.sha256 = hex::encode(Sha256::digest(text.as_bytes()));
    Ok(config)
}

fn resolve(file: File, overrides: &Overrides) -> Result<Config> {
    let mesh = file.mesh;
    let base = overrides.base_address.or(mesh.base_address).unwrap_or(DEFAULT_BASE_ADDRESS);
    let port = mesh.port.unwrap_or(DEFAULT_PORT);

    let sections = if file.node.is_empty() { default_nodes() } else { file.node };
    let nodes = sections
        .into_iter()
        .enumerate()
        .map(|(i, section)| node_spec(i, section, base, port, overrides.base_address.is_some()))
        .collect::<Result<Vec<_>>>()?;
    validate_nodes(&nodes)?;

    let quorum_writes = mesh.quorum_writes.unwrap_or(2);
    if quorum_writes == 0 || quorum_writes as usize > nodes.len() {
        bail!(
            "[mesh] quorum_writes = {quorum_writes} is invalid: expected 1 to {} (the number of nodes)",
            nodes.len()
        );
    }
    let subnet = overrides.docker_subnet.or(mesh.docker_subnet).unwrap_or_default();
    docker_network::validate_subnet(&subnet, nodes.len())?;
    let agent_group = mesh.agent_group.unwrap_or_else(|| "mcp".to_string());
    if agent_group.trim().is_empty() {
        bail!("[mesh] agent_group must not be empty");
    }

    Ok(Config {
        sut_version: overrides
            .ai_memory_version
            .clone()
            .or(file.sut.version)
            .unwrap_or_else(|| sut::DEFAULT_VERSION.to_string()),
        sut_binary: overrides
            .ai_memory
            .clone()
            .or_else(|| std::env::var_os("AMESH_AI_MEMORY").filter(|v| !v.is_empty()).map(PathBuf::from))
            .or(file.sut.binary),
        backend: overrides.backend.or(mesh.backend).unwrap_or(BackendKind::Process),
        tls: overrides.tls.or(mesh.tls).unwrap_or(TlsMode::Off),
        quorum_writes,
        quorum_timeout_ms: mesh.quorum_timeout_ms.unwrap_or(2000),
        catchup_interval_secs: mesh.catchup_interval_secs.unwrap_or(30),
        extra_serve_args: mesh.extra_serve_args.unwrap_or_default(),
        agent_group,
        nodes,
        docker: DockerSettings { subnet, mesh_name: overrides.mesh_name.clone(), keep: false },
        source: None,
        sha256: String::new(),
    })
}

/// Upstream's topology: three agents and a memory-only aggregator.
fn default_nodes() -> Vec<NodeSection> {
    let agent = |n: usize, id: &str| NodeSection {
        name: format!("node-{n}"),
        role: Role::Agent,
        agent_id: Some(id.to_string()),
        address: None,
        port: None,
    };
    vec![
        agent(1, "ai:alice"),
        agent(2, "ai:bob"),
        agent(3, "ai:charlie"),
        NodeSection { name: "node-4".into(), role: Role::MemoryOnly, agent_id: None, address: None, port: None },
    ]
}

fn node_spec(i: usize, section: NodeSection, base: Ipv4Addr, port: u16, base_forced: bool) -> Result<NodeSpec> {
    // A --base-address flag moves the whole mesh, explicit per-node addresses included.
    let address = match section.address {
        Some(address) if !base_forced => address,
        _ => offset_address(base, i).with_context(|| {
            format!("base address {base} leaves no room for node {} ({})", i + 1, section.name)
        })?,
    };
    if section.role == Role::Agent && section.agent_id.is_none() {
        bail!("[[node]] {}: an agent node needs agent_id (e.g. \"ai:alice\")", section.name);
    }
    if section.role == Role::MemoryOnly && section.agent_id.is_some() {
        bail!("[[node]] {}: a memory-only node has no agent_id; remove it or set role = \"agent\"", section.name);
    }
    Ok(NodeSpec {
        index: i + 1,
        name: section.name,
        role: section.role,
        agent_id: section.agent_id,
        address,
        port: section.port.unwrap_or(port),
    })
}

fn offset_address(base: Ipv4Addr, offset: usize) -> Option<Ipv4Addr> {
    let octets = base.octets();
    let last = (octets[3] as usize).checked_add(offset).filter(|v| *v < 255)?;
    Some(Ipv4Addr::new(octets[0], octets[1], octets[2], last as u8))
}

fn validate_nodes(nodes: &[NodeSpec]) -> Result<()> {
    if nodes.len() < 2 {
        bail!("a mesh needs at least two [[node]] entries, found {}", nodes.len());
    }
    for node in nodes {
        // Nodes run without authentication when TLS is off, so they never listen beyond this
        // machine: both backends publish them on loopback addresses only.
        if !node.address.is_loopback() {
            bail!(
                "[[node]] {}: address {} is not a loopback address; use 127.x.y.z ([mesh] base_address, [[node]] address or --base-address)",
                node.name,
                node.address
            );
        }
        if node.port == 0 {
            bail!("[[node]] {}: port 0 is invalid; use a fixed port such as 9077 ([mesh] port or [[node]] port)", node.name);
        }
    }
    for (i, a) in nodes.iter().enumerate() {
        if a.name.is_empty() || !a.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            bail!("[[node]] name {:?} is invalid: use letters, digits, '-' and '_'", a.name);
        }
        for b in &nodes[i + 1..] {
            if a.name == b.name {
                bail!("[[node]] name {:?} appears twice; node names must be unique", a.name);
            }
            if a.socket_addr() == b.socket_addr() {
                bail!("[[node]] {} and {} share the address {}; give each node its own", a.name, b.name, a.socket_addr());
            }
            if let (Some(x), Some(y)) = (&a.agent_id, &b.agent_id) {
                if x == y {
                    bail!("[[node]] {} and {} share agent_id {x:?}; agent ids must be unique", a.name, b.name);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        let file: File = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        resolve(file, &Overrides::default())
    }

    #[test]
    fn default_topology_matches_upstream() {
        let config = parse("").unwrap();
        let names: Vec<_> = config.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["node-1", "node-2", "node-3", "node-4"]);
        assert_eq!(config.nodes[2].agent_id.as_deref(), Some("ai:charlie"));
        assert_eq!(config.nodes[3].role, Role::MemoryOnly);
        assert_eq!(config.nodes[3].address, Ipv4Addr::new(127, 0, 1, 14));
        assert_eq!(config.quorum_writes, 2);
        assert_eq!(config.agent_group, "mcp");
    }

    #[test]
    fn base_address_moves_nodes() {
        let config = parse("[mesh]\nbase_address = \"127.0.9.21\"\n").unwrap();
        assert_eq!(config.nodes[0].address, Ipv4Addr::new(127, 0, 9, 21));
        assert_eq!(config.nodes[3].address, Ipv4Addr::new(127, 0, 9, 24));
    }

    #[test]
    fn unknown_key_named() {
        let err = parse("[mesh]\nquorum = 3\n").unwrap_err().to_string();
        assert!(err.contains("quorum"), "{err}");
    }

    #[test]
    fn wrong_type_named() {
        let err = parse("[mesh]\nquorum_writes = \"two\"\n").unwrap_err().to_string();
        assert!(err.contains("quorum_writes"), "{err}");
    }

    #[test]
    fn quorum_above_node_count_rejected() {
        let err = parse("[mesh]\nquorum_writes = 5\n").unwrap_err().to_string();
        assert!(err.contains("quorum_writes = 5"), "{err}");
    }

    #[test]
    fn docker_subnet_read_and_validated() {
        let config = parse("[mesh]\ndocker_subnet = \"10.88.7.0/24\"\n").unwrap();
        assert_eq!(config.docker.subnet.to_string(), "10.88.7.0/24");
        let err = format!("{:#}", parse("[mesh]\ndocker_subnet = \"10.88.7.1/24\"\n").unwrap_err());
        assert!(err.contains("docker_subnet"), "{err}");
        assert_eq!(parse("").unwrap().docker.subnet.to_string(), "10.88.1.0/24");
    }

    #[test]
    fn non_loopback_address_rejected() {
        let err = parse("[mesh]\nbase_address = \"10.0.0.1\"\n").unwrap_err().to_string();
        assert!(err.contains("10.0.0.1"), "{err}");
        assert!(err.contains("loopback"), "{err}");
    }

    #[test]
    fn port_zero_rejected() {
        let err = parse("[mesh]\nport = 0\n").unwrap_err().to_string();
        assert!(err.contains("port 0"), "{err}");
    }

    #[test]
    fn duplicate_names_rejected() {
        let text = "[[node]]\nname = \"a\"\nagent_id = \"ai:a\"\n[[node]]\nname = \"a\"\nagent_id = \"ai:b\"\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("appears twice"), "{err}");
    }

    #[test]
    fn agent_without_id_rejected() {
        let text = "[[node]]\nname = \"a\"\n[[node]]\nname = \"b\"\nrole = \"memory-only\"\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("needs agent_id"), "{err}");
    }
}
