//! The mesh descriptor, `<state>/meshes/<name>/mesh.json`: what a Docker mesh runs, so that a
//! later command can attach to it (`--mesh NAME`) or remove it.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::network::{MeshNetworks, Subnet};
use crate::mesh::config::{Config, Role, TlsMode};

pub const FILE_NAME: &str = "mesh.json";

/// One node as the descriptor records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescribedNode {
    pub name: String,
    pub role: Role,
    pub agent_id: Option<String>,
    /// Loopback address the node's port is published on.
    pub address: Ipv4Addr,
    pub port: u16,
    pub mesh_address: Ipv4Addr,
    pub container: String,
}

/// The settings, image and nodes of a Docker mesh.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeshDescriptor {
    pub name: String,
    /// `kept` for `amesh mesh up`, `command` for a mesh that lives as long as its command.
    pub lifetime: String,
    /// `<pid>@<boot-id>` of the command that created the mesh.
    pub owner: String,
    pub created_at: String,
    pub amesh_version: String,
    pub ai_memory_version: String,
    pub image: String,
    pub tls: TlsMode,
    pub subnet: Subnet,
    pub networks: MeshNetworks,
    pub quorum_writes: u32,
    pub quorum_timeout_ms: u64,
    pub catchup_interval_secs: u64,
    pub extra_serve_args: Vec<String>,
    pub nodes: Vec<DescribedNode>,
}

/// Returns the folder of mesh `name` under the state folder.
pub fn mesh_dir(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join("meshes").join(name)
}

impl MeshDescriptor {
    pub fn path(state_dir: &Path, name: &str) -> PathBuf {
        mesh_dir(state_dir, name).join(FILE_NAME)
    }

    /// Reads the descriptor of mesh `name`; `Ok(None)` when there is none.
    pub fn load(state_dir: &Path, name: &str) -> Result<Option<Self>> {
        let path = Self::path(state_dir, name);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map(Some).with_context(|| format!("invalid mesh descriptor {}", path.display())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err).with_context(|| format!("failed to read {}", path.display())),
        }
    }

    /// Reads every readable descriptor under the state folder.
    pub fn list(state_dir: &Path) -> Vec<Self> {
        let Ok(entries) = std::fs::read_dir(state_dir.join("meshes")) else { return Vec::new() };
        let mut found: Vec<Self> = entries
            .flatten()
            .filter_map(|entry| Self::load(state_dir, &entry.file_name().to_string_lossy()).ok().flatten())
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        found
    }

    /// Writes the descriptor atomically (temporary file, then rename).
    pub fn save(&self, state_dir: &Path) -> Result<()> {
        let path = Self::path(state_dir, &self.name);
        let dir = path.parent().expect("a descriptor path has a parent");
        std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
        let temporary = dir.join(format!(".{FILE_NAME}.tmp"));
        std::fs::write(&temporary, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("failed to write {}", temporary.display()))?;
        std::fs::rename(&temporary, &path).with_context(|| format!("failed to write {}", path.display()))
    }

    /// Describes the nodes on one line: name, agent or role, published address, mesh address.
    pub fn topology(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("{} {} {}:{} {}", n.name, n.agent_id.as_deref().unwrap_or(n.role.as_str()), n.address, n.port, n.mesh_address))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Fails when `config` requests another TLS mode, topology, serve setting or ai-memory
    /// version than the live mesh runs, naming both.
    pub fn check_matches(&self, config: &Config, nodes: &[DescribedNode], ai_memory_version: &str) -> Result<()> {
        if self.tls != config.tls {
            bail!(
                "the live mesh {:?} runs tls mode {}, but this command asks for tls mode {}; use --tls {} or start a mesh with `amesh mesh up --tls {}` under another --name",
                self.name, self.tls, config.tls, self.tls, config.tls
            );
        }
        let wanted = Self { nodes: nodes.to_vec(), subnet: config.docker.subnet, ..self.clone() };
        if self.nodes != nodes || self.subnet != config.docker.subnet {
            bail!(
                "the live mesh {:?} has the topology [{}] on subnet {}, but this command asks for [{}] on subnet {}; use the same config and flags as `amesh mesh up`, or another mesh",
                self.name,
                self.topology(),
                self.subnet,
                wanted.topology(),
                config.docker.subnet
            );
        }
        let settings = |w: u32, t: u64, c: u64, extra: &[String]| format!("quorum_writes {w}, quorum_timeout_ms {t}, catchup_interval_secs {c}, extra_serve_args {extra:?}");
        let live = settings(self.quorum_writes, self.quorum_timeout_ms, self.catchup_interval_secs, &self.extra_serve_args);
        let asked = settings(config.quorum_writes, config.quorum_timeout_ms, config.catchup_interval_secs, &config.extra_serve_args);
        if live != asked {
            bail!("the live mesh {:?} runs with {live}, but this command asks for {asked}; use the same config as `amesh mesh up`", self.name);
        }
        if self.ai_memory_version != ai_memory_version {
            bail!(
                "the live mesh {:?} runs ai-memory {}, but this command asks for ai-memory {ai_memory_version}; pass --ai-memory-version {} or recreate the mesh",
                self.name, self.ai_memory_version, self.ai_memory_version
            );
        }
        Ok(())
    }
}
