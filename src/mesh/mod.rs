//! The mesh: configuration and topology, backends, node lifecycle, health, reset, and faults
//! (`mesh::fault`). It has no notion of scenarios or reports.

pub mod backend;
pub mod config;
pub mod docker;
pub mod fault;
pub mod process;
pub mod serve;
pub mod tls;
pub mod spawner;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub use backend::{Backend, FaultUnavailable, ProcessState, StartOptions};
pub use config::{BackendKind, Config, NodeSpec, Role, TlsMode};

use crate::client::{HttpClient, HttpRequest, History};
use crate::sut::{Binary, ModelStatus};

/// How long a node may take to pass its first health check. Start-up under libfaketime is
/// much slower than the usual half second.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(90);

/// Builds the harness, anonymous and per-node clients for the mesh's TLS mode. Client
/// certificates are presented in mtls only.
fn clients(config: &Config, tls: Option<&tls::TlsMaterial>) -> Result<(HttpClient, HttpClient, Vec<HttpClient>)> {
    use crate::client::http::TlsProfile;
    let Some(material) = tls else {
        let plain = HttpClient::plain()?;
        return Ok((plain.clone(), plain.clone(), vec![plain; config.nodes.len()]));
    };
    let with_identity = |pem: &[u8]| TlsProfile {
        ca_pem: Some(material.ca_pem.clone()),
        identity_pem: (config.tls == TlsMode::Mtls).then(|| pem.to_vec()),
    };
    let harness = HttpClient::new(&with_identity(&material.harness.bundle_pem))?;
    let anonymous = HttpClient::new(&TlsProfile { ca_pem: Some(material.ca_pem.clone()), identity_pem: None })?;
    let nodes = material
        .nodes
        .iter()
        .map(|n| HttpClient::new(&with_identity(&n.client.bundle_pem)))
        .collect::<Result<Vec<_>>>()?;
    Ok((harness, anonymous, nodes))
}

/// Creates the process backend and, for a TLS mesh, its certificates.
fn process_backend(
    config: &Arc<Config>,
    binary: &Binary,
    model: &ModelStatus,
    run_dir: &std::path::Path,
) -> Result<(Box<dyn Backend>, Option<Arc<tls::TlsMaterial>>)> {
    let meshes_dir = crate::sut::state_dir().join("meshes");
    process::sweep_stale_meshes(&meshes_dir);
    let mesh_dir = meshes_dir.join(format!("proc-{}-{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..6]));
    let tls = match config.tls {
        TlsMode::Off => None,
        mode => Some(Arc::new(
            tls::generate(&mesh_dir.join("tls"), mode, &config.nodes, &[]).context("failed to create the mesh's TLS certificates")?,
        )),
    };
    let backend = process::ProcessBackend::new(
        config.clone(),
        binary.clone(),
        model.clone(),
        mesh_dir,
        run_dir.join("nodes"),
        tls.clone(),
    );
    Ok((Box::new(backend), tls))
}

/// Faults currently applied to a node; the heal phase undoes each of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeCondition {
    pub paused: bool,
    pub killed: bool,
    pub isolated: bool,
    pub clock_offset_secs: Option<i64>,
}

impl NodeCondition {
    pub fn is_normal(&self) -> bool {
        *self == Self::default()
    }
}

/// Inputs of [`Mesh::start`].
pub struct MeshSetup {
    pub config: Arc<Config>,
    pub binary: Binary,
    pub model: ModelStatus,
    /// Run folder; node logs go to `<run_dir>/nodes/`.
    pub run_dir: PathBuf,
    pub history: Arc<History>,
}

/// Whose credentials a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// The harness's client certificate (the default for scenario calls and probes).
    Harness,
    /// No client certificate at all (S21's anonymous probe).
    Anonymous,
    /// A node's quorum client certificate, for peer-to-peer calls; the 1-based node index.
    Node(usize),
}

/// A running mesh.
pub struct Mesh {
    pub config: Arc<Config>,
    pub binary: Binary,
    pub model: ModelStatus,
    /// The client with the harness identity.
    pub http: HttpClient,
    anonymous_http: HttpClient,
    node_http: Vec<HttpClient>,
    /// Certificates of a TLS mesh.
    pub tls: Option<Arc<tls::TlsMaterial>>,
    pub history: Arc<History>,
    backend: Box<dyn Backend>,
    conditions: Mutex<Vec<NodeCondition>>,
}

impl Mesh {
    /// Creates the backend and starts every node, waiting until all pass health checks. On
    /// failure every node started so far is stopped again.
    pub async fn start(setup: MeshSetup) -> Result<Mesh> {
        let MeshSetup { config, binary, model, run_dir, history } = setup;
        let (backend, tls) = match config.backend {
            BackendKind::Docker => {
                let provisioned = docker::DockerBackend::provision(config.clone(), &binary, &model, &run_dir).await?;
                (Box::new(provisioned.backend) as Box<dyn Backend>, provisioned.tls)
            }
            BackendKind::Process => process_backend(&config, &binary, &model, &run_dir)?,
        };

        let (http, anonymous_http, node_http) = clients(&config, tls.as_deref())?;
        let mesh = Mesh {
            conditions: Mutex::new(vec![NodeCondition::default(); config.nodes.len()]),
            http,
            anonymous_http,
            node_http,
            tls,
            config,
            binary,
            model,
            history,
            backend,
        };
        // A live mesh already runs its nodes: reset them to a pristine state instead.
        let started = if mesh.backend.attached() { mesh.reset().await } else { mesh.start_all().await };
        if let Err(err) = started {
            let _ = mesh.teardown().await;
            return Err(err);
        }
        Ok(mesh)
    }

    async fn start_all(&self) -> Result<()> {
        let started = Instant::now();
        for node in &self.config.nodes {
            self.backend.start(node, StartOptions::default()).await?;
        }
        let waits = self.config.nodes.iter().map(|node| self.wait_healthy(node, HEALTH_TIMEOUT));
        for result in futures_util::future::join_all(waits).await {
            result?;
        }
        tracing::info!(
            nodes = self.config.nodes.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "mesh healthy"
        );
        Ok(())
    }

    pub fn nodes(&self) -> &[NodeSpec] {
        &self.config.nodes
    }

    pub fn backend_kind(&self) -> BackendKind {
        self.backend.kind()
    }

    /// Returns the base URL the harness uses for a node.
    pub fn url(&self, node: &NodeSpec) -> String {
        format!("{}://{}", self.config.scheme(), node.socket_addr())
    }

    /// Returns the HTTP client carrying `identity`'s credentials (all the same on a plain mesh).
    pub fn client(&self, identity: Identity) -> &HttpClient {
        match identity {
            Identity::Harness => &self.http,
            Identity::Anonymous => &self.anonymous_http,
            Identity::Node(index) => self.node_http.get(index.wrapping_sub(1)).unwrap_or(&self.http),
        }
    }

    pub fn database_path(&self, node: &NodeSpec) -> PathBuf {
        self.backend.database_path(node)
    }

    /// Starts `ai-memory mcp` for `agent` on the node's database, with its stderr appended to
    /// `stderr_log`, and returns its standard streams.
    pub async fn open_mcp(&self, node: &NodeSpec, agent: &str, stderr_log: PathBuf) -> Result<crate::client::McpTransport> {
        self.backend.open_mcp(node, agent, &stderr_log).await
    }

    /// Asks the node's health route once: `Ok(())` on HTTP 200 with `status: "ok"`.
    pub async fn check_health(&self, node: &NodeSpec) -> Result<(), String> {
        let mut request = HttpRequest::get(format!("{}/api/v1/health", self.url(node)));
        request.timeout = Duration::from_secs(2);
        let response = self.http.send(request).await;
        if let Some(error) = response.error {
            return Err(error);
        }
        let status_ok = response.json.as_ref().and_then(|j| j.get("status")).and_then(|s| s.as_str()) == Some("ok");
        if response.status == 200 && status_ok {
            Ok(())
        } else {
            Err(format!("HTTP {}: {}", response.status, response.body.chars().take(200).collect::<String>()))
        }
    }

    /// Polls the health route until it reports ok, the process exits, or `limit` passes.
    pub async fn wait_healthy(&self, node: &NodeSpec, limit: Duration) -> Result<()> {
        let started = Instant::now();
        let mut last_error: String;
        loop {
            if let ProcessState::Exited(how) = self.backend.state(node).await {
                bail!(
                    "{} exited during start-up ({how}); the last lines of its log:\n{}",
                    node.name,
                    self.backend.log_tail(node, 15)
                );
            }
            let answered = match self.check_health(node).await {
                Ok(()) if self.backend.owns_address(node).await == Some(false) => {
                    Err(format!("{} answered, but not from this node's process: another process listens there", node.socket_addr()))
                }
                other => other,
            };
            match answered {
                Ok(()) => {
                    tracing::debug!(node = %node.name, elapsed_ms = started.elapsed().as_millis() as u64, "node healthy");
                    return Ok(());
                }
                Err(err) => last_error = err,
            }
            if started.elapsed() >= limit {
                bail!(
                    "{} did not become healthy within {} s (last health check: {last_error}); the last lines of its log:\n{}",
                    node.name,
                    limit.as_secs(),
                    self.backend.log_tail(node, 15)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Returns every node to a pristine state: heal, stop, delete the database files, start,
    /// wait for health.
    pub async fn reset(&self) -> Result<()> {
        self.heal().await?;
        for node in &self.config.nodes {
            self.backend.stop(node).await?;
            self.backend.wipe_data(node).await?;
        }
        self.start_all().await
    }

    /// Faults currently applied to each node, in topology order.
    pub fn conditions(&self) -> Vec<NodeCondition> {
        self.conditions.lock().expect("conditions lock").clone()
    }

    /// Stops every node and removes the mesh's state.
    pub async fn teardown(&self) -> Result<()> {
        tracing::info!("tearing the mesh down");
        self.backend.teardown().await
    }
}
