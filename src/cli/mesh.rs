//! `amesh mesh up|down|status|logs`: Docker meshes that outlive one command. `up` starts a
//! mesh and leaves it running, and `run` and `testbook` use it with `--mesh NAME` after
//! resetting its state. `down` removes it. `down --all` removes every amesh-labelled
//! container, network and volume, leaked ones included.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::query_parameters::{ListContainersOptions, LogsOptions};
use clap::{Args, Subcommand};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::{CommonArgs, Exit, load_config, prepare_sut};
use crate::cancel::Cancel;
use crate::client::{History, HttpClient, HttpRequest};
use crate::mesh::docker::{self, MeshDescriptor, cleanup, labels};
use crate::mesh::{BackendKind, Mesh, MeshSetup, TlsMode};
use crate::sut;

/// The mesh name when `--name` is not given.
pub const DEFAULT_MESH_NAME: &str = "default";

#[derive(Subcommand)]
pub enum MeshCommand {
    /// Start a Docker mesh that stays up until `amesh mesh down`.
    Up(UpArgs),
    /// Remove a Docker mesh; with --all, every amesh container, network and volume.
    Down(DownArgs),
    /// Show the Docker meshes, their nodes and whether each passes a health check.
    Status(StatusArgs),
    /// Print the container logs of a mesh's nodes.
    Logs(LogsArgs),
}

impl MeshCommand {
    pub fn common(&self) -> &CommonArgs {
        match self {
            MeshCommand::Up(args) => &args.common,
            MeshCommand::Down(args) => &args.common,
            MeshCommand::Status(args) => &args.common,
            MeshCommand::Logs(args) => &args.common,
        }
    }
}

#[derive(Args)]
pub struct UpArgs {
    /// Name of the mesh; containers are named amesh-NAME-<node>.
    #[arg(long, default_value = DEFAULT_MESH_NAME)]
    pub name: String,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args)]
pub struct DownArgs {
    /// Name of the mesh to remove.
    #[arg(long, default_value = DEFAULT_MESH_NAME, conflicts_with = "all")]
    pub name: String,

    /// Remove every amesh-labelled container, network and volume and every mesh's state.
    #[arg(long)]
    pub all: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args)]
pub struct StatusArgs {
    /// Show only this mesh.
    #[arg(long)]
    pub name: Option<String>,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args)]
pub struct LogsArgs {
    /// Name of the mesh.
    #[arg(long, default_value = DEFAULT_MESH_NAME)]
    pub name: String,

    /// Node to show (default: every node, each line prefixed with the node name).
    #[arg(value_name = "NODE")]
    pub node: Option<String>,

    /// Keep printing new lines until interrupted.
    #[arg(long, short)]
    pub follow: bool,

    /// Lines to show from the end of each log (default: all).
    #[arg(long, value_name = "LINES")]
    pub tail: Option<u32>,

    #[command(flatten)]
    pub common: CommonArgs,
}

pub async fn mesh(command: MeshCommand, cancel: Cancel) -> Exit {
    match command {
        MeshCommand::Up(args) => up(args, cancel).await,
        MeshCommand::Down(args) => down(args).await,
        MeshCommand::Status(args) => status(args).await,
        MeshCommand::Logs(args) => logs(args, cancel).await,
    }
}

fn fail<E: std::fmt::Display>(err: E) -> Exit {
    tracing::error!("{err:#}");
    Exit::Error
}

async fn connect_and_sweep() -> Result<bollard::Docker, Exit> {
    let docker = docker::connect().await.map_err(fail)?;
    cleanup::sweep(&docker, &sut::state_dir()).await.map_err(fail)?;
    Ok(docker)
}

async fn up(args: UpArgs, cancel: Cancel) -> Exit {
    if args.common.backend == Some(BackendKind::Process) {
        return fail("`amesh mesh up` starts Docker meshes only; a process mesh lives as long as the command that starts it (amesh run, amesh testbook)");
    }
    if let Err(err) = docker::validate_mesh_name(&args.name) {
        return fail(err);
    }
    let mut config = match load_config(&args.common) {
        Ok(config) => config,
        Err(exit) => return exit,
    };
    config.backend = BackendKind::Docker;
    config.docker.mesh_name = Some(args.name.clone());
    config.docker.keep = true;
    let config = Arc::new(config);

    let (binary, model) = match prepare_sut(&config, false).await {
        Ok(prepared) => prepared,
        Err(exit) => return exit,
    };
    let run_dir = match crate::report::create_run_dir(&args.common.runs_dir) {
        Ok(dir) => dir,
        Err(err) => return fail(err),
    };
    let history = match History::open(&run_dir.join("history.jsonl")) {
        Ok(history) => Arc::new(history),
        Err(err) => return fail(format!("failed to create {}: {err}", run_dir.join("history.jsonl").display())),
    };

    let started = Instant::now();
    let setup = MeshSetup { config: config.clone(), binary, model, run_dir: run_dir.clone(), history };
    let result = Mesh::start(setup).await;
    let mesh = match result {
        Ok(mesh) if !cancel.is_cancelled() => mesh,
        other => {
            if let Err(err) = &other {
                tracing::error!("the mesh did not come up: {err:#}");
            }
            remove_mesh(&args.name).await;
            return if cancel.is_cancelled() { Exit::Interrupted } else { Exit::Error };
        }
    };
    let _ = mesh.teardown().await;
    println!("mesh {} is up ({} nodes, {:.1} s); node logs of the start in {}", args.name, config.nodes.len(), started.elapsed().as_secs_f64(), run_dir.display());
    for node in mesh.nodes() {
        println!("  {:<8} {}", node.name, mesh.url(node));
    }
    println!("use it with `amesh testbook --backend docker --mesh {0}`; remove it with `amesh mesh down --name {0}`", args.name);
    Exit::Success
}

/// Removes a mesh's objects and state, logging what went wrong.
async fn remove_mesh(name: &str) -> Option<cleanup::Removed> {
    let docker = match docker::connect().await {
        Ok(docker) => docker,
        Err(err) => {
            tracing::error!("cannot remove mesh {name}: {err:#}");
            return None;
        }
    };
    let removed = cleanup::remove_objects(&docker, |l| l.get(labels::MESH).map(String::as_str) == Some(name)).await;
    cleanup::remove_state(&sut::state_dir(), name);
    match removed {
        Ok(removed) => Some(removed),
        Err(err) => {
            tracing::error!("removing mesh {name} failed: {err:#}");
            None
        }
    }
}

async fn down(args: DownArgs) -> Exit {
    let docker = match docker::connect().await {
        Ok(docker) => docker,
        Err(err) => return fail(err),
    };
    let state_dir = sut::state_dir();
    if args.all {
        let removed = match cleanup::remove_objects(&docker, |_| true).await {
            Ok(removed) => removed,
            Err(err) => return fail(err),
        };
        let mut meshes = removed.meshes.clone();
        meshes.extend(MeshDescriptor::list(&state_dir).into_iter().map(|d| d.name));
        for name in &meshes {
            cleanup::remove_state(&state_dir, name);
        }
        println!("removed {removed} of {} meshes {:?}", meshes.len(), meshes);
        return Exit::Success;
    }

    if let Err(err) = docker::validate_mesh_name(&args.name) {
        return fail(err);
    }
    let known = matches!(MeshDescriptor::load(&state_dir, &args.name), Ok(Some(_)));
    let name = args.name.clone();
    let removed = match cleanup::remove_objects(&docker, |l| l.get(labels::MESH) == Some(&name)).await {
        Ok(removed) => removed,
        Err(err) => return fail(err),
    };
    cleanup::remove_state(&state_dir, &args.name);
    if removed.is_empty() && !known {
        println!("no mesh named {} was found; nothing removed", args.name);
    } else {
        println!("mesh {} removed ({removed})", args.name);
    }
    Exit::Success
}

/// Builds the JSON of one mesh for `mesh status` from its descriptor, its containers, or both.
/// A mesh without a descriptor takes its lifetime from its containers' `amesh.lifetime` label.
fn mesh_status_json(name: &str, descriptor: Option<&MeshDescriptor>, label_lifetime: Option<&String>, containers: &[Value]) -> Value {
    json!({
        "name": name,
        "lifetime": descriptor.map(|d| &d.lifetime).or(label_lifetime),
        "owner": descriptor.map(|d| d.owner.clone()),
        "created_at": descriptor.map(|d| d.created_at.clone()),
        "image": descriptor.map(|d| d.image.clone()),
        "ai_memory_version": descriptor.map(|d| d.ai_memory_version.clone()),
        "tls": descriptor.map(|d| d.tls.to_string()),
        "subnet": descriptor.map(|d| d.subnet.to_string()),
        "described": descriptor.is_some(),
        "nodes": containers,
    })
}

async fn status(args: StatusArgs) -> Exit {
    let docker = match connect_and_sweep().await {
        Ok(docker) => docker,
        Err(exit) => return exit,
    };
    let state_dir = sut::state_dir();
    let descriptors: HashMap<String, MeshDescriptor> = MeshDescriptor::list(&state_dir).into_iter().map(|d| (d.name.clone(), d)).collect();
    let filters = HashMap::from([("label".to_string(), vec![labels::MESH.to_string()])]);
    let containers = match docker.list_containers(Some(ListContainersOptions { all: true, filters: Some(filters), ..Default::default() })).await {
        Ok(containers) => containers,
        Err(err) => return fail(format!("failed to list containers: {err}")),
    };

    let http = HttpClient::plain().ok();
    let mut by_mesh: BTreeMap<String, Vec<Value>> = descriptors.keys().map(|name| (name.clone(), Vec::new())).collect();
    let mut label_lifetimes: HashMap<String, String> = HashMap::new();
    for container in containers {
        let container_labels = container.labels.unwrap_or_default();
        let Some(mesh_name) = container_labels.get(labels::MESH).cloned() else { continue };
        if let Some(lifetime) = container_labels.get(labels::LIFETIME) {
            label_lifetimes.insert(mesh_name.clone(), lifetime.clone());
        }
        let node_name = container_labels.get(labels::NODE).cloned().unwrap_or_default();
        let described = descriptors.get(&mesh_name).and_then(|d| d.nodes.iter().find(|n| n.name == node_name));
        let url = described.map(|n| format!("{}://{}:{}", if descriptors[&mesh_name].tls == TlsMode::Off { "http" } else { "https" }, n.address, n.port));
        let state = container.state.map(|s| s.to_string()).unwrap_or_default();
        let health = match (&http, &url) {
            (Some(http), Some(url)) if state == "running" && url.starts_with("http:") => {
                let mut request = HttpRequest::get(format!("{url}/api/v1/health"));
                request.timeout = Duration::from_secs(2);
                let response = http.send(request).await;
                json!(if response.status == 200 { "ok".to_string() } else { response.error.unwrap_or_else(|| format!("HTTP {}", response.status)) })
            }
            _ => Value::Null,
        };
        by_mesh.entry(mesh_name).or_default().push(json!({
            "node": node_name,
            "container": container.names.and_then(|n| n.first().cloned()).unwrap_or_default().trim_start_matches('/'),
            "state": state,
            "url": url,
            "mesh_address": described.map(|n| n.mesh_address.to_string()),
            "health": health,
        }));
    }

    let meshes: Vec<Value> = by_mesh
        .iter_mut()
        .filter(|(name, _)| args.name.as_ref().is_none_or(|wanted| wanted == *name))
        .map(|(name, nodes)| {
            nodes.sort_by(|a, b| a["node"].as_str().cmp(&b["node"].as_str()));
            mesh_status_json(name, descriptors.get(name), label_lifetimes.get(name), nodes)
        })
        .collect();

    if args.json {
        println!("{}", serde_json::to_string_pretty(&json!({ "meshes": meshes })).unwrap_or_default());
        return Exit::Success;
    }
    if meshes.is_empty() {
        println!("no Docker meshes");
    }
    for mesh in &meshes {
        let name = mesh["name"].as_str().unwrap_or_default();
        if mesh["described"] == json!(true) {
            println!(
                "mesh {name} ({}, image {}, tls {}, subnet {})",
                mesh["lifetime"].as_str().unwrap_or("?"),
                mesh["image"].as_str().unwrap_or("?"),
                mesh["tls"].as_str().unwrap_or("?"),
                mesh["subnet"].as_str().unwrap_or("?"),
            );
        } else {
            println!(
                "mesh {name} (lifetime {}; no descriptor in {}: created elsewhere, e.g. by docker/compose.yaml, or leaked; `amesh mesh down --name {name}` removes it)",
                mesh["lifetime"].as_str().unwrap_or("unknown"),
                state_dir.display(),
            );
        }
        let nodes = mesh["nodes"].as_array().cloned().unwrap_or_default();
        if nodes.is_empty() {
            println!("  no containers are left; `amesh mesh down --name {name}` removes the descriptor");
        }
        for node in &nodes {
            println!(
                "  {:<8} {:<10} {:<28} mesh {:<15} health {}",
                node["node"].as_str().unwrap_or_default(),
                node["state"].as_str().unwrap_or_default(),
                node["url"].as_str().unwrap_or("-"),
                node["mesh_address"].as_str().unwrap_or("-"),
                node["health"].as_str().unwrap_or("-"),
            );
        }
    }
    Exit::Success
}

async fn logs(args: LogsArgs, cancel: Cancel) -> Exit {
    let docker = match docker::connect().await {
        Ok(docker) => docker,
        Err(err) => return fail(err),
    };
    let descriptor = match MeshDescriptor::load(&sut::state_dir(), &args.name) {
        Ok(Some(descriptor)) => descriptor,
        Ok(None) => return fail(format!("no Docker mesh named {:?}; `amesh mesh status` lists them", args.name)),
        Err(err) => return fail(err),
    };
    let nodes: Vec<_> = descriptor.nodes.iter().filter(|n| args.node.as_ref().is_none_or(|wanted| *wanted == n.name)).collect();
    if nodes.is_empty() {
        let names: Vec<&str> = descriptor.nodes.iter().map(|n| n.name.as_str()).collect();
        return fail(format!("mesh {} has no node {:?}; its nodes are {names:?}", args.name, args.node.unwrap_or_default()));
    }
    let prefix = nodes.len() > 1;
    let streams = nodes.iter().map(|node| {
        let options = LogsOptions {
            follow: args.follow,
            stdout: true,
            stderr: true,
            tail: args.tail.map_or("all".to_string(), |n| n.to_string()),
            ..Default::default()
        };
        let name = node.name.clone();
        docker.logs(&node.container, Some(options)).map(move |item| (name.clone(), item))
    });
    let mut merged = futures_util::stream::select_all(streams.map(Box::pin));
    loop {
        let next = tokio::select! {
            next = merged.next() => next,
            _ = cancel.cancelled() => return Exit::Success,
        };
        let Some((node, item)) = next else { break };
        match item {
            Ok(output) => {
                let text = output.to_string();
                for line in text.lines() {
                    if prefix { println!("{node} | {line}") } else { println!("{line}") }
                }
            }
            Err(err) => return fail(format!("reading the log of {node} failed: {err}")),
        }
    }
    Exit::Success
}
