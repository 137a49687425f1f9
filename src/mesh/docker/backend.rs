//! The Docker backend runs one container per node on a mesh network with fixed addresses.
//! Each node's port is published on the same loopback address as on the process backend,
//! node data is bind-mounted from the mesh state folder, and logs stream into the run folder.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use async_trait::async_trait;
use bollard::Docker;
use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum};
use bollard::query_parameters::{KillContainerOptions, RemoveContainerOptions, StopContainerOptions};

use super::container::{self, ContainerPlan, LogFollower, PlanContext};
use super::descriptor::{DescribedNode, MeshDescriptor, mesh_dir};
use super::image::{self, ImagePlan};
use super::network::{self, MeshNetworks};
use super::{cleanup, exec, labels};
use crate::client::McpTransport;
use crate::mesh::backend::{Backend, FaultUnavailable, ProcessState, StartOptions, delete_database_files};
use crate::mesh::config::{BackendKind, Config, NodeSpec};
use crate::mesh::tls::{self, TlsMaterial};
use crate::sut::{self, Binary, ModelStatus};

/// Seconds Docker waits after SIGTERM before SIGKILL when stopping a node; serve would
/// otherwise drain in-flight requests for up to 30 s.
const STOP_GRACE_SECS: i32 = 3;

/// Time limit for the engine's response to the first call.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to the engine (`DOCKER_HOST` or `/var/run/docker.sock`) and agrees on an API
/// version it speaks.
pub async fn connect() -> Result<Docker> {
    let docker = Docker::connect_with_local_defaults().context("failed to set up a Docker client")?;
    let negotiated = tokio::time::timeout(CONNECT_TIMEOUT, docker.negotiate_version())
        .await
        .map_err(|_| anyhow::anyhow!("the Docker engine did not respond within {} s", CONNECT_TIMEOUT.as_secs()))?;
    negotiated.context("the Docker engine is not reachable (is dockerd running and is its socket readable?); use --backend process without Docker")
}

/// Checks that a mesh name is valid in Docker container and network names.
pub fn validate_mesh_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 40
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !valid || name.starts_with("proc-") {
        bail!("invalid mesh name {name:?}: use up to 40 letters, digits, '-', '_' and '.', starting with a letter or digit (and not with \"proc-\")");
    }
    Ok(())
}

pub struct DockerBackend {
    docker: Docker,
    config: Arc<Config>,
    name: String,
    /// Whether the mesh outlives this command (`amesh mesh up`, or a mesh attached to).
    kept: bool,
    attached: bool,
    mesh_dir: PathBuf,
    networks: MeshNetworks,
    image: String,
    libfaketime: Option<String>,
    binary_version: String,
    mcp_full_profile: bool,
    user: String,
    log_dir: PathBuf,
    tls: Option<Arc<TlsMaterial>>,
    object_labels: HashMap<String, String>,
    followers: Mutex<HashMap<usize, LogFollower>>,
    /// Per node, the Docker timestamp of the last log line written, in nanoseconds.
    log_marks: Vec<Arc<AtomicI64>>,
    isolated: Mutex<HashSet<usize>>,
}

/// The result of [`DockerBackend::provision`]: the backend, its TLS material and the image build time.
pub struct Provisioned {
    pub backend: DockerBackend,
    pub tls: Option<Arc<TlsMaterial>>,
    pub image_built_in: Option<Duration>,
}

impl DockerBackend {
    /// Prepares a Docker mesh: sweeps objects of dead amesh processes, then either attaches to
    /// the live mesh named by `config.docker.mesh_name` or builds the image (when missing) and
    /// creates the networks of a new mesh. Containers are created by [`Backend::start`].
    pub async fn provision(config: Arc<Config>, binary: &Binary, model: &ModelStatus, run_dir: &Path) -> Result<Provisioned> {
        let docker = connect().await?;
        let state_dir = sut::state_dir();
        cleanup::sweep(&docker, &state_dir).await?;

        let keep = config.docker.keep;
        let attach_to = config.docker.mesh_name.clone().filter(|_| !keep);
        if let Some(name) = attach_to {
            return Self::attach(docker, config, binary, &state_dir, &name, run_dir).await;
        }

        let name = match &config.docker.mesh_name {
            Some(name) => name.clone(),
            None => format!("run-{}-{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..4]),
        };
        validate_mesh_name(&name)?;
        if let Some(existing) = MeshDescriptor::load(&state_dir, &name)? {
            bail!(
                "a Docker mesh named {:?} already exists (created {} by {}); run `amesh mesh down --name {}` first or choose another --name",
                name, existing.created_at, existing.owner, name
            );
        }
        let networks = MeshNetworks::for_mesh(&name);
        network::check_overlap(&docker, &config.docker.subnet, &networks).await?;
        for node in &config.nodes {
            check_address_free(node)?;
        }

        let libfaketime = sut::find_libfaketime();
        let work_dir = sut::cache_dir().join("docker");
        let digest_path = work_dir.join("input-digests.json");
        let plan_inputs = (binary.clone(), libfaketime.clone(), model.clone());
        let plan = tokio::task::spawn_blocking(move || {
            let mut digests = image::DigestCache::load(&digest_path);
            let plan = ImagePlan::new(&plan_inputs.0, plan_inputs.1.as_deref(), &plan_inputs.2, &mut digests);
            digests.save(&digest_path);
            plan
        })
        .await
        .context("the image planner panicked")??;
        let image_status = image::ensure(&docker, &plan, &work_dir).await?;

        let object_labels = labels::object_labels(&name, keep);
        let mesh_dir = mesh_dir(&state_dir, &name);
        std::fs::create_dir_all(&mesh_dir).with_context(|| format!("failed to create {}", mesh_dir.display()))?;

        let backend = Self::assemble(
            docker,
            config.clone(),
            name.clone(),
            keep,
            false,
            mesh_dir,
            networks,
            plan.tag.clone(),
            plan.libfaketime.clone(),
            binary,
            run_dir,
            object_labels,
        );
        let descriptor = backend.describe(binary)?;
        descriptor.save(&state_dir)?;

        let setup = async {
            network::create(&backend.docker, &backend.networks, &config.docker.subnet, &backend.object_labels).await?;
            backend.generate_tls()
        };
        match setup.await {
            Ok(tls) => {
                let mut backend = backend;
                backend.tls = tls.clone();
                Ok(Provisioned { backend, tls, image_built_in: image_status.built_in })
            }
            Err(err) => {
                let _ = backend.remove_everything().await;
                Err(err)
            }
        }
    }

    async fn attach(docker: Docker, config: Arc<Config>, binary: &Binary, state_dir: &Path, name: &str, run_dir: &Path) -> Result<Provisioned> {
        validate_mesh_name(name)?;
        let descriptor = MeshDescriptor::load(state_dir, name)?
            .with_context(|| format!("no live Docker mesh named {name:?}; start one with `amesh mesh up --name {name}`"))?;

        let networks = descriptor.networks.clone();
        let mut backend = Self::assemble(
            docker,
            config.clone(),
            name.to_string(),
            true,
            true,
            mesh_dir(state_dir, name),
            networks,
            descriptor.image.clone(),
            None,
            binary,
            run_dir,
            HashMap::new(),
        );
        descriptor.check_matches(&config, &backend.described_nodes()?, &binary.version)?;

        let inspect = backend.docker.inspect_image(&descriptor.image).await.with_context(|| format!("the live mesh's image {} is gone", descriptor.image))?;
        backend.libfaketime = inspect
            .config
            .and_then(|c| c.labels)
            .and_then(|l| l.get("amesh.libfaketime").cloned())
            .or_else(|| sut::find_libfaketime().map(|p| p.display().to_string()));
        backend.object_labels = backend.live_labels().await?;

        for node in &config.nodes {
            if backend.inspect(node).await.is_none() {
                bail!("the live mesh {name:?} has no container for {}; run `amesh mesh down --name {name}` and `amesh mesh up` again", node.name);
            }
        }
        let tls = backend.generate_tls()?;
        backend.tls = tls.clone();
        tracing::info!(mesh = %name, image = %descriptor.image, "attached to the live Docker mesh");
        Ok(Provisioned { backend, tls, image_built_in: None })
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        docker: Docker,
        config: Arc<Config>,
        name: String,
        kept: bool,
        attached: bool,
        mesh_dir: PathBuf,
        networks: MeshNetworks,
        image: String,
        libfaketime: Option<String>,
        binary: &Binary,
        run_dir: &Path,
        object_labels: HashMap<String, String>,
    ) -> Self {
        let log_marks = config.nodes.iter().map(|_| Arc::new(AtomicI64::new(0))).collect();
        Self {
            docker,
            name,
            kept,
            attached,
            mesh_dir,
            networks,
            image,
            libfaketime,
            binary_version: binary.version.clone(),
            mcp_full_profile: binary.mcp_needs_full_profile(),
            user: container::caller_user(),
            log_dir: run_dir.join("nodes"),
            tls: None,
            object_labels,
            followers: Mutex::new(HashMap::new()),
            log_marks,
            isolated: Mutex::new(HashSet::new()),
            config,
        }
    }

    /// Reads the labels of the live mesh's objects from its mesh network, so that containers
    /// recreated while attached keep the mesh's owner and lifetime.
    async fn live_labels(&self) -> Result<HashMap<String, String>> {
        let network = self
            .docker
            .inspect_network(&self.networks.mesh, None::<bollard::query_parameters::InspectNetworkOptions>)
            .await
            .with_context(|| format!("the live mesh {:?} has no network {}; recreate it", self.name, self.networks.mesh))?;
        Ok(network.labels.unwrap_or_default())
    }

    fn tls_dir(&self) -> PathBuf {
        self.mesh_dir.join("tls")
    }

    /// Writes a new CA and certificates whose server names include each node's published and
    /// mesh address. Nodes read them at their next start.
    fn generate_tls(&self) -> Result<Option<Arc<TlsMaterial>>> {
        if self.config.tls == crate::mesh::TlsMode::Off {
            return Ok(None);
        }
        let mesh_addresses = self
            .config
            .nodes
            .iter()
            .map(|node| Ok(vec![std::net::IpAddr::V4(self.mesh_address(node)?)]))
            .collect::<Result<Vec<_>>>()?;
        let material = tls::generate(&self.tls_dir(), self.config.tls, &self.config.nodes, &mesh_addresses)
            .context("failed to create the mesh's TLS certificates")?;
        Ok(Some(Arc::new(material)))
    }

    fn mesh_address(&self, node: &NodeSpec) -> Result<std::net::Ipv4Addr> {
        self.config.docker.subnet.node_address(node.index).with_context(|| format!("docker subnet {} has no address for {}", self.config.docker.subnet, node.name))
    }

    fn described_nodes(&self) -> Result<Vec<DescribedNode>> {
        self.config
            .nodes
            .iter()
            .map(|node| {
                Ok(DescribedNode {
                    name: node.name.clone(),
                    role: node.role,
                    agent_id: node.agent_id.clone(),
                    address: node.address,
                    port: node.port,
                    mesh_address: self.mesh_address(node)?,
                    container: container::container_name(&self.name, node),
                })
            })
            .collect()
    }

    fn describe(&self, binary: &Binary) -> Result<MeshDescriptor> {
        Ok(MeshDescriptor {
            name: self.name.clone(),
            lifetime: if self.kept { labels::LIFETIME_KEPT } else { labels::LIFETIME_COMMAND }.to_string(),
            owner: labels::current_owner(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            amesh_version: env!("CARGO_PKG_VERSION").to_string(),
            ai_memory_version: binary.version.clone(),
            image: self.image.clone(),
            tls: self.config.tls,
            subnet: self.config.docker.subnet,
            networks: self.networks.clone(),
            quorum_writes: self.config.quorum_writes,
            quorum_timeout_ms: self.config.quorum_timeout_ms,
            catchup_interval_secs: self.config.catchup_interval_secs,
            extra_serve_args: self.config.extra_serve_args.clone(),
            nodes: self.described_nodes()?,
        })
    }

    /// Returns the name of this mesh.
    pub fn mesh_name(&self) -> &str {
        &self.name
    }

    fn container(&self, node: &NodeSpec) -> String {
        container::container_name(&self.name, node)
    }

    fn log_path(&self, node: &NodeSpec) -> PathBuf {
        self.log_dir.join(format!("{}.log", node.name))
    }

    /// Plans the container of `node` as this backend creates it.
    pub fn plan(&self, node: &NodeSpec, clock_offset_secs: Option<i64>) -> Result<ContainerPlan> {
        let tls_dir = self.tls_dir();
        let ctx = PlanContext {
            config: &self.config,
            mesh_name: &self.name,
            image: &self.image,
            data_root: &self.mesh_dir,
            user: self.user.clone(),
            libfaketime: self.libfaketime.as_deref(),
            tls: self.tls.as_deref(),
            tls_dir: self.tls.as_ref().map(|_| tls_dir.as_path()),
        };
        container::plan(&ctx, node, clock_offset_secs)
    }

    async fn inspect(&self, node: &NodeSpec) -> Option<ContainerInspectResponse> {
        self.docker.inspect_container(&self.container(node), None).await.ok()
    }

    /// Reads the clock offset a container was created with from its `FAKETIME` variable.
    fn clock_offset_of(inspect: &ContainerInspectResponse) -> Option<i64> {
        let env = inspect.config.as_ref()?.env.as_ref()?;
        let value = env.iter().find_map(|e| e.strip_prefix("FAKETIME="))?;
        value.trim_end_matches('s').parse().ok()
    }

    fn is_running(inspect: &ContainerInspectResponse) -> bool {
        inspect.state.as_ref().and_then(|s| s.running).unwrap_or(false)
    }

    /// Creates the node's container for `plan` and attaches it to the mesh network (unless
    /// the node is isolated).
    async fn create_container(&self, node: &NodeSpec, plan: &ContainerPlan) -> Result<()> {
        let tls_dir = self.tls.as_ref().map(|_| self.tls_dir());
        container::create(&self.docker, plan, &self.networks.control, tls_dir.as_deref(), &self.object_labels).await?;
        let isolated = self.isolated.lock().expect("isolation lock").contains(&node.index);
        if !isolated {
            network::connect(&self.docker, &self.networks.mesh, &plan.container_name, plan.mesh_address).await?;
        }
        Ok(())
    }

    async fn remove_container(&self, node: &NodeSpec) -> Result<()> {
        let options = RemoveContainerOptions { force: true, ..Default::default() };
        match self.docker.remove_container(&self.container(node), Some(options)).await {
            Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(()),
            Err(err) => Err(err).with_context(|| format!("failed to remove the container of {}", node.name)),
        }
    }

    fn follow_logs(&self, node: &NodeSpec) {
        let follower = LogFollower::start(
            self.docker.clone(),
            self.container(node),
            self.log_path(node),
            self.log_marks[node.index - 1].clone(),
        );
        if let Some(previous) = self.followers.lock().expect("followers lock").insert(node.index, follower) {
            previous.abort();
        }
    }

    async fn finish_logs(&self, node: &NodeSpec) {
        let follower = self.followers.lock().expect("followers lock").remove(&node.index);
        if let Some(follower) = follower {
            follower.finish(Duration::from_secs(1)).await;
        }
    }

    async fn wait_not_running(&self, node: &NodeSpec, limit: Duration) -> bool {
        let started = Instant::now();
        loop {
            match self.inspect(node).await {
                None => return true,
                Some(inspect) if !Self::is_running(&inspect) => return true,
                Some(_) => {}
            }
            if started.elapsed() >= limit {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Removes the mesh's containers, networks and state folder.
    async fn remove_everything(&self) -> Result<()> {
        let name = self.name.clone();
        let removed = cleanup::remove_objects(&self.docker, |l| l.get(labels::MESH) == Some(&name)).await;
        cleanup::remove_state(&sut::state_dir(), &self.name);
        let removed = removed?;
        tracing::debug!(mesh = %self.name, "removed {removed}");
        Ok(())
    }

    /// Returns the node's address on the mesh network, or `None` when it is not attached.
    async fn mesh_endpoint(&self, node: &NodeSpec) -> Option<String> {
        let inspect = self.inspect(node).await?;
        let networks = inspect.network_settings?.networks?;
        let endpoint = networks.get(&self.networks.mesh)?;
        Some(endpoint.ip_address.clone().unwrap_or_default())
    }
}

/// Fails when something already listens on the node's published address, naming both.
fn check_address_free(node: &NodeSpec) -> Result<()> {
    match std::net::TcpListener::bind(node.socket_addr()) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => bail!(
            "{} cannot be published on {}: the address is already in use (another mesh, or a process: `ss -ltnp 'sport = :{}'`); \
             stop it or move the mesh with --base-address or [mesh] base_address",
            node.name,
            node.socket_addr(),
            node.port
        ),
        Err(err) => bail!("{} cannot be published on {}: {err}; use a loopback address (127.x.y.z)", node.name, node.socket_addr()),
    }
}

#[async_trait]
impl Backend for DockerBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Docker
    }

    /// Starts the node's container, recreating it when it was created with another clock
    /// offset, and streams its output into the node log.
    async fn start(&self, node: &NodeSpec, options: StartOptions) -> Result<()> {
        let existing = self.inspect(node).await;
        if let Some(inspect) = &existing {
            if Self::is_running(inspect) {
                bail!("{} is already running", node.name);
            }
        }
        let reusable = existing.as_ref().is_some_and(|inspect| {
            Self::clock_offset_of(inspect) == options.clock_offset_secs
                && inspect.config.as_ref().and_then(|c| c.image.as_deref()) == Some(self.image.as_str())
        });
        if options.clock_offset_secs.is_some() && self.libfaketime.is_none() {
            return Err(FaultUnavailable("the node image has no libfaketime (apt-get install libfaketime, then recreate the mesh)".into()).into());
        }

        let plan = self.plan(node, options.clock_offset_secs)?;
        std::fs::create_dir_all(&self.log_dir)?;
        if reusable {
            // A command that died may have left the node cut off; the isolation state of this
            // command decides.
            let isolated = self.isolated.lock().expect("isolation lock").contains(&node.index);
            if !isolated && self.mesh_endpoint(node).await.is_none() {
                network::connect(&self.docker, &self.networks.mesh, &plan.container_name, plan.mesh_address).await?;
            }
        } else {
            if existing.is_some() {
                self.remove_container(node).await?;
            }
            self.create_container(node, &plan).await?;
        }
        // The node log of this run starts now, also when the container (of a live mesh) has
        // older output.
        let now_ns = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
        self.log_marks[node.index - 1].fetch_max(now_ns - 1_000_000_000, std::sync::atomic::Ordering::SeqCst);
        let banner = match options.clock_offset_secs {
            Some(offset) => format!("starting container {} on {} with clock {offset:+}s", plan.container_name, plan.published),
            None => format!("starting container {} on {}", plan.container_name, plan.published),
        };
        container::write_banner(&self.log_path(node), &banner)?;
        self.docker
            .start_container(&plan.container_name, None)
            .await
            .with_context(|| format!("failed to start the container {}", plan.container_name))?;
        self.follow_logs(node);
        tracing::info!(node = %node.name, container = %plan.container_name, address = %plan.published, mesh_address = %plan.mesh_address, "node started");
        Ok(())
    }

    async fn stop(&self, node: &NodeSpec) -> Result<()> {
        let Some(inspect) = self.inspect(node).await else { return Ok(()) };
        if Self::is_running(&inspect) {
            if inspect.state.as_ref().and_then(|s| s.paused) == Some(true) {
                let _ = self.docker.unpause_container(&self.container(node)).await;
            }
            let options = StopContainerOptions { t: Some(STOP_GRACE_SECS), ..Default::default() };
            self.docker
                .stop_container(&self.container(node), Some(options))
                .await
                .with_context(|| format!("failed to stop the container of {}", node.name))?;
            if !self.wait_not_running(node, Duration::from_secs(10)).await {
                bail!("the container of {} still runs after docker stop", node.name);
            }
        }
        self.finish_logs(node).await;
        Ok(())
    }

    async fn kill(&self, node: &NodeSpec) -> Result<()> {
        let Some(inspect) = self.inspect(node).await else { return Ok(()) };
        if Self::is_running(&inspect) {
            let options = KillContainerOptions { signal: "SIGKILL".into() };
            self.docker
                .kill_container(&self.container(node), Some(options))
                .await
                .with_context(|| format!("failed to kill the container of {}", node.name))?;
        }
        if !self.wait_not_running(node, Duration::from_secs(10)).await {
            bail!("the container of {} still runs after SIGKILL", node.name);
        }
        self.finish_logs(node).await;
        Ok(())
    }

    async fn pause(&self, node: &NodeSpec) -> Result<()> {
        self.docker.pause_container(&self.container(node)).await.with_context(|| format!("failed to pause the container of {}", node.name))
    }

    async fn resume(&self, node: &NodeSpec) -> Result<()> {
        self.docker.unpause_container(&self.container(node)).await.with_context(|| format!("failed to unpause the container of {}", node.name))
    }

    async fn state(&self, node: &NodeSpec) -> ProcessState {
        let Some(inspect) = self.inspect(node).await else {
            return ProcessState::Exited(format!("container {} does not exist", self.container(node)));
        };
        let Some(state) = inspect.state else { return ProcessState::Exited("the engine reports no state".into()) };
        match state.status {
            Some(ContainerStateStatusEnum::PAUSED) => ProcessState::Paused,
            Some(ContainerStateStatusEnum::RUNNING) if state.paused == Some(true) => ProcessState::Paused,
            Some(ContainerStateStatusEnum::RUNNING) | Some(ContainerStateStatusEnum::RESTARTING) => ProcessState::Running,
            status => {
                let oom = if state.oom_killed == Some(true) { ", killed for lack of memory" } else { "" };
                let error = state.error.filter(|e| !e.is_empty()).map(|e| format!(": {e}")).unwrap_or_default();
                ProcessState::Exited(format!(
                    "container {} is {} with exit code {}{oom}{error}",
                    self.container(node),
                    status.map_or("unknown".to_string(), |s| s.to_string()),
                    state.exit_code.unwrap_or_default()
                ))
            }
        }
    }

    async fn wipe_data(&self, node: &NodeSpec) -> Result<()> {
        delete_database_files(&self.database_path(node))
    }

    fn database_path(&self, node: &NodeSpec) -> PathBuf {
        self.mesh_dir.join(&node.name).join("a2a.db")
    }

    fn log_tail(&self, node: &NodeSpec, lines: usize) -> String {
        crate::mesh::process::tail_lines(&self.log_path(node), lines)
    }

    /// Runs `ai-memory mcp` through `docker exec` in the node's container. NOTE: the engine
    /// refuses an exec in a paused or stopped container, so a session needs a running node.
    async fn open_mcp(&self, node: &NodeSpec, agent: &str, stderr_log: &Path) -> Result<McpTransport> {
        let mut command = vec![image::BINARY.to_string(), "--db".into(), format!("{}/a2a.db", image::DATA), "mcp".into()];
        if self.mcp_full_profile {
            command.extend(["--profile".to_string(), "full".to_string()]);
        }
        let environment = vec![format!("HOME={}", image::HOME), format!("AI_MEMORY_AGENT_ID={agent}")];
        exec::open(&self.docker, &self.container(node), command, environment, &self.user, stderr_log)
            .await
            .with_context(|| format!("failed to start `ai-memory mcp` for {agent} on {}", node.name))
    }

    fn clock_offset_support(&self) -> Result<(), String> {
        match &self.libfaketime {
            Some(_) => Ok(()),
            None => Err("the node image has no libfaketime (apt-get install libfaketime, then recreate the mesh)".into()),
        }
    }

    /// Disconnects the node from the mesh network and verifies that the engine no longer
    /// lists it there; its published port stays on the control network.
    async fn isolate(&self, node: &NodeSpec) -> Result<()> {
        network::disconnect(&self.docker, &self.networks.mesh, &self.container(node)).await?;
        self.isolated.lock().expect("isolation lock").insert(node.index);
        if let Some(address) = self.mesh_endpoint(node).await {
            bail!("isolating {} could not be verified: it is still on {} at {address}", node.name, self.networks.mesh);
        }
        tracing::info!(node = %node.name, network = %self.networks.mesh, "fault applied: isolated");
        Ok(())
    }

    /// Reconnects the node to the mesh network at its address and verifies it.
    async fn reconnect(&self, node: &NodeSpec) -> Result<()> {
        let address = self.mesh_address(node)?;
        if self.mesh_endpoint(node).await.is_none() {
            network::connect(&self.docker, &self.networks.mesh, &self.container(node), address).await?;
        }
        self.isolated.lock().expect("isolation lock").remove(&node.index);
        match self.mesh_endpoint(node).await {
            Some(found) if found == address.to_string() => {
                tracing::info!(node = %node.name, %address, "fault removed: reconnected");
                Ok(())
            }
            Some(found) => bail!("reconnecting {} could not be verified: it is on {} at {found:?}, expected {address}", node.name, self.networks.mesh),
            None => bail!("reconnecting {} could not be verified: it is not on {}", node.name, self.networks.mesh),
        }
    }

    async fn teardown(&self) -> Result<()> {
        if self.kept {
            let followers: Vec<LogFollower> = self.followers.lock().expect("followers lock").drain().map(|(_, f)| f).collect();
            for follower in followers {
                follower.abort();
            }
            tracing::info!(mesh = %self.name, "the Docker mesh stays up; remove it with `amesh mesh down --name {}`", self.name);
            return Ok(());
        }
        let result = self.remove_everything().await;
        let followers: Vec<LogFollower> = self.followers.lock().expect("followers lock").drain().map(|(_, f)| f).collect();
        for follower in followers {
            follower.finish(Duration::from_millis(500)).await;
        }
        result
    }

    fn attached(&self) -> bool {
        self.attached
    }
}

impl DockerBackend {
    /// The ai-memory version the nodes run.
    pub fn ai_memory_version(&self) -> &str {
        &self.binary_version
    }
}
