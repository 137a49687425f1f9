//! One node container: what it runs (the plan, shared with the shipped compose file's test),
//! how it is created, and its log stream into the run folder.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use anyhow::{Context, Result};
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use bollard::query_parameters::{CreateContainerOptions, LogsOptions};
use futures_util::StreamExt;

use super::image;
use super::labels;
use crate::mesh::config::{Config, NodeSpec};
use crate::mesh::serve::{ServeSpec, ServeTls, serve_args};
use crate::mesh::tls::TlsMaterial;

/// Mount point of the mesh's TLS folder inside every container.
pub const TLS_DIR: &str = "/tls";

/// Returns the name of a node's container.
pub fn container_name(mesh_name: &str, node: &NodeSpec) -> String {
    format!("amesh-{mesh_name}-{}", node.name)
}

/// The mesh around a node, as planning its container needs it.
pub struct PlanContext<'a> {
    pub config: &'a Config,
    pub mesh_name: &'a str,
    pub image: &'a str,
    /// Host folder that contains one data folder per node.
    pub data_root: &'a Path,
    /// `uid:gid` the node runs as.
    pub user: String,
    /// libfaketime's path inside the image, when the image has it.
    pub libfaketime: Option<&'a str>,
    pub tls: Option<&'a TlsMaterial>,
    /// Host folder of the mesh's TLS material, mounted at [`TLS_DIR`].
    pub tls_dir: Option<&'a Path>,
}

/// Everything that defines a node's container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerPlan {
    /// The node name, which is also the compose service name.
    pub service: String,
    pub container_name: String,
    pub image: String,
    /// The node's address on the mesh network.
    pub mesh_address: Ipv4Addr,
    /// Host address and port the node's port is published on.
    pub published: SocketAddr,
    pub container_port: u16,
    /// Arguments after the image's entrypoint (`/usr/local/bin/ai-memory`).
    pub command: Vec<String>,
    pub environment: BTreeMap<String, String>,
    /// Labels that do not depend on the creating process.
    pub labels: BTreeMap<String, String>,
    pub user: String,
    /// Host folder mounted at `/data`.
    pub data_dir: PathBuf,
    pub clock_offset_secs: Option<i64>,
}

/// Maps a path under the host's TLS folder to the same file under [`TLS_DIR`].
fn in_container(tls_dir: &Path, host_path: &Path) -> String {
    match host_path.strip_prefix(tls_dir) {
        Ok(relative) => format!("{TLS_DIR}/{}", relative.display()),
        Err(_) => host_path.display().to_string(),
    }
}

fn serve_tls(ctx: &PlanContext, node: &NodeSpec) -> Option<ServeTls> {
    let (material, dir) = (ctx.tls?, ctx.tls_dir?);
    let files = material.node(node);
    Some(ServeTls {
        cert: in_container(dir, &files.server.cert),
        key: in_container(dir, &files.server.key),
        ca: in_container(dir, &material.ca_path),
        client_cert: in_container(dir, &files.client.cert),
        client_key: in_container(dir, &files.client.key),
        allowlist: material.allowlist.as_deref().map(|p| in_container(dir, p)),
    })
}

/// Plans the container of `node`; `clock_offset_secs` adds libfaketime's variables.
pub fn plan(ctx: &PlanContext, node: &NodeSpec, clock_offset_secs: Option<i64>) -> Result<ContainerPlan> {
    let subnet = &ctx.config.docker.subnet;
    let address_of = |peer: &NodeSpec| {
        subnet.node_address(peer.index).with_context(|| format!("docker subnet {subnet} has no address for {}", peer.name))
    };
    let peers = ctx
        .config
        .nodes
        .iter()
        .filter(|peer| peer.index != node.index)
        .map(|peer| Ok(format!("{}://{}:{}", ctx.config.scheme(), address_of(peer)?, peer.port)))
        .collect::<Result<Vec<String>>>()?;
    let database = format!("{}/a2a.db", image::DATA);
    let spec = ServeSpec { database: &database, listen_host: "0.0.0.0", peer_urls: &peers, tls: serve_tls(ctx, node) };

    let mut environment = BTreeMap::from([("HOME".to_string(), image::HOME.to_string())]);
    if let Some(offset) = clock_offset_secs {
        let library = ctx.libfaketime.context("the node image has no libfaketime (apt-get install libfaketime, then start the mesh again)")?;
        environment.insert("LD_PRELOAD".into(), library.to_string());
        environment.insert("FAKETIME".into(), format!("{offset:+}s"));
    }

    let mut static_labels = BTreeMap::from([
        (labels::MESH.to_string(), ctx.mesh_name.to_string()),
        (labels::NODE.to_string(), node.name.clone()),
    ]);
    if let Some(agent) = &node.agent_id {
        static_labels.insert("amesh.agent".into(), agent.clone());
    }

    Ok(ContainerPlan {
        service: node.name.clone(),
        container_name: container_name(ctx.mesh_name, node),
        image: ctx.image.to_string(),
        mesh_address: address_of(node)?,
        published: node.socket_addr(),
        container_port: node.port,
        command: serve_args(ctx.config, node, &spec),
        environment,
        labels: static_labels,
        user: ctx.user.clone(),
        data_dir: ctx.data_root.join(&node.name),
        clock_offset_secs,
    })
}

/// `uid:gid` of this process, so files in the bind-mounted data folder belong to the caller.
pub fn caller_user() -> String {
    format!("{}:{}", nix::unistd::getuid(), nix::unistd::getgid())
}

/// Creates the container of `plan` on the control network, with `object_labels` added to the
/// plan's labels. The caller connects it to the mesh network before starting it.
pub async fn create(
    docker: &Docker,
    plan: &ContainerPlan,
    control_network: &str,
    tls_dir: Option<&Path>,
    object_labels: &HashMap<String, String>,
) -> Result<String> {
    std::fs::create_dir_all(&plan.data_dir).with_context(|| format!("failed to create {}", plan.data_dir.display()))?;
    let port_key = format!("{}/tcp", plan.container_port);
    let mut binds = vec![format!("{}:{}", plan.data_dir.display(), image::DATA)];
    if let Some(dir) = tls_dir {
        binds.push(format!("{}:{TLS_DIR}:ro", dir.display()));
    }
    let mut all_labels: HashMap<String, String> = object_labels.clone();
    all_labels.extend(plan.labels.clone());

    let body = ContainerCreateBody {
        image: Some(plan.image.clone()),
        cmd: Some(plan.command.clone()),
        env: Some(plan.environment.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        user: Some(plan.user.clone()),
        working_dir: Some(image::DATA.into()),
        labels: Some(all_labels),
        exposed_ports: Some(vec![port_key.clone()]),
        host_config: Some(HostConfig {
            // serve installs no SIGTERM handler, and the kernel drops such signals for a
            // namespace's pid 1, so Docker's init runs as pid 1 and forwards them.
            init: Some(true),
            binds: Some(binds),
            network_mode: Some(control_network.to_string()),
            port_bindings: Some(HashMap::from([(
                port_key,
                Some(vec![PortBinding {
                    host_ip: Some(plan.published.ip().to_string()),
                    host_port: Some(plan.published.port().to_string()),
                }]),
            )])),
            ..Default::default()
        }),
        ..Default::default()
    };
    let options = CreateContainerOptions { name: Some(plan.container_name.clone()), ..Default::default() };
    let created = docker
        .create_container(Some(options), body)
        .await
        .with_context(|| format!("failed to create the container {}", plan.container_name))?;
    Ok(created.id)
}

/// Streams a container's output into a node log file while the container runs. The last
/// Docker timestamp written is shared between followers of the same node, so a follower
/// started after a restart does not repeat lines.
pub struct LogFollower {
    task: tokio::task::JoinHandle<()>,
}

impl LogFollower {
    pub fn start(docker: Docker, container: String, log_path: PathBuf, last_written_ns: Arc<AtomicI64>) -> Self {
        let task = tokio::spawn(async move {
            if let Err(err) = follow(&docker, &container, &log_path, &last_written_ns).await {
                tracing::warn!(%container, log = %log_path.display(), "log stream ended with an error: {err:#}");
            }
        });
        Self { task }
    }

    /// Waits up to `limit` for the stream to end by itself (the container stopped), then
    /// stops it.
    pub async fn finish(self, limit: std::time::Duration) {
        let mut task = self.task;
        if tokio::time::timeout(limit, &mut task).await.is_err() {
            task.abort();
        }
    }

    pub fn abort(self) {
        self.task.abort();
    }
}

async fn follow(docker: &Docker, container: &str, log_path: &Path, last_written_ns: &AtomicI64) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .with_context(|| format!("failed to open node log {}", log_path.display()))?;
    let since = (last_written_ns.load(Ordering::SeqCst) / 1_000_000_000) as i32;
    let options = LogsOptions { follow: true, stdout: true, stderr: true, timestamps: true, since, ..Default::default() };
    let mut stream = docker.logs(container, Some(options));
    while let Some(item) = stream.next().await {
        let message = match item {
            Ok(LogOutput::StdOut { message } | LogOutput::StdErr { message } | LogOutput::Console { message }) => message,
            Ok(LogOutput::StdIn { .. }) => continue,
            Err(err) => return Err(err.into()),
        };
        let text = String::from_utf8_lossy(&message);
        let (stamp, line) = text.split_once(' ').unwrap_or(("", &text));
        let stamp_ns = chrono::DateTime::parse_from_rfc3339(stamp).ok().and_then(|t| t.timestamp_nanos_opt());
        if let Some(ns) = stamp_ns {
            if ns <= last_written_ns.load(Ordering::SeqCst) {
                continue;
            }
            last_written_ns.store(ns, Ordering::SeqCst);
        }
        file.write_all(line.as_bytes())?;
        if !line.ends_with('\n') {
            file.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// Appends an amesh banner line to a node log.
pub fn write_banner(log_path: &Path, banner: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .with_context(|| format!("failed to open node log {}", log_path.display()))?;
    writeln!(file, "==== amesh: {banner} at {} ====", chrono::Utc::now().to_rfc3339())?;
    Ok(())
}
