//! Removing amesh's Docker objects: a mesh at teardown or `mesh down`, every amesh object on
//! `mesh down --all`, and the sweep of objects whose owner died. Only objects that carry the
//! `amesh.mesh` label are ever considered.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use anyhow::{Context, Result};
use bollard::Docker;
use bollard::query_parameters::{ListContainersOptions, ListNetworksOptions, ListVolumesOptions, RemoveContainerOptions, RemoveVolumeOptions};

use super::descriptor::{MeshDescriptor, mesh_dir};
use super::labels;

/// Objects that a removal deleted, by kind, and the meshes they belonged to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
    /// Meshes whose objects were removed.
    pub meshes: BTreeSet<String>,
}

impl Removed {
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.networks.is_empty() && self.volumes.is_empty()
    }
}

impl std::fmt::Display for Removed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} containers, {} networks, {} volumes", self.containers.len(), self.networks.len(), self.volumes.len())
    }
}

fn amesh_filter() -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), vec![labels::MESH.to_string()])])
}

/// One amesh-labelled container, network or volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmeshObject {
    /// `container`, `network` or `volume`.
    pub kind: &'static str,
    pub name: String,
    pub labels: HashMap<String, String>,
}

/// Lists every container (running or not), network and volume that carries `amesh.mesh`.
pub async fn list_objects(docker: &Docker) -> Result<Vec<AmeshObject>> {
    let mut objects = Vec::new();
    let containers = docker
        .list_containers(Some(ListContainersOptions { all: true, filters: Some(amesh_filter()), ..Default::default() }))
        .await
        .context("failed to list Docker containers")?;
    for container in containers {
        let name = container.names.and_then(|n| n.first().cloned()).or(container.id).unwrap_or_default();
        objects.push(AmeshObject { kind: "container", name: name.trim_start_matches('/').to_string(), labels: container.labels.unwrap_or_default() });
    }
    let networks = docker
        .list_networks(Some(ListNetworksOptions { filters: Some(amesh_filter()) }))
        .await
        .context("failed to list Docker networks")?;
    for network in networks {
        objects.push(AmeshObject { kind: "network", name: network.name.unwrap_or_default(), labels: network.labels.unwrap_or_default() });
    }
    let volumes = docker
        .list_volumes(Some(ListVolumesOptions { filters: Some(amesh_filter()) }))
        .await
        .context("failed to list Docker volumes")?;
    for volume in volumes.volumes.unwrap_or_default() {
        objects.push(AmeshObject { kind: "volume", name: volume.name, labels: volume.labels });
    }
    Ok(objects)
}

/// Removes every amesh object whose labels `select` accepts: containers first (forcibly, so a
/// paused or running one goes too), then networks and volumes.
pub async fn remove_objects(docker: &Docker, select: impl Fn(&HashMap<String, String>) -> bool) -> Result<Removed> {
    let mut removed = Removed::default();

    let containers = docker
        .list_containers(Some(ListContainersOptions { all: true, filters: Some(amesh_filter()), ..Default::default() }))
        .await
        .context("failed to list Docker containers")?;
    for container in containers {
        let object_labels = container.labels.unwrap_or_default();
        if !select(&object_labels) {
            continue;
        }
        let Some(id) = container.id else { continue };
        let name = container.names.and_then(|n| n.first().cloned()).unwrap_or_else(|| id.clone());
        let options = RemoveContainerOptions { force: true, v: true, ..Default::default() };
        match docker.remove_container(&id, Some(options)).await {
            Ok(()) => {}
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
            Err(err) => return Err(err).with_context(|| format!("failed to remove the container {name}")),
        }
        tracing::debug!(container = %name, "removed");
        removed.meshes.extend(object_labels.get(labels::MESH).cloned());
        removed.containers.push(name.trim_start_matches('/').to_string());
    }

    let networks = docker
        .list_networks(Some(ListNetworksOptions { filters: Some(amesh_filter()) }))
        .await
        .context("failed to list Docker networks")?;
    for network in networks {
        let object_labels = network.labels.unwrap_or_default();
        if !select(&object_labels) {
            continue;
        }
        let Some(name) = network.name else { continue };
        match docker.remove_network(&name).await {
            Ok(()) => {}
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
            Err(err) => return Err(err).with_context(|| format!("failed to remove the network {name}")),
        }
        tracing::debug!(network = %name, "removed");
        removed.meshes.extend(object_labels.get(labels::MESH).cloned());
        removed.networks.push(name);
    }

    let volumes = docker
        .list_volumes(Some(ListVolumesOptions { filters: Some(amesh_filter()) }))
        .await
        .context("failed to list Docker volumes")?;
    for volume in volumes.volumes.unwrap_or_default() {
        if !select(&volume.labels) {
            continue;
        }
        match docker.remove_volume(&volume.name, Some(RemoveVolumeOptions { force: true })).await {
            Ok(()) => {}
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
            Err(err) => return Err(err).with_context(|| format!("failed to remove the volume {}", volume.name)),
        }
        removed.meshes.extend(volume.labels.get(labels::MESH).cloned());
        removed.volumes.push(volume.name);
    }
    Ok(removed)
}

/// Removes a mesh's folder under the state folder (node data, TLS files, descriptor).
pub fn remove_state(state_dir: &Path, mesh_name: &str) {
    let dir = mesh_dir(state_dir, mesh_name);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => tracing::debug!(dir = %dir.display(), "removed mesh state"),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => tracing::warn!(dir = %dir.display(), "failed to remove mesh state: {err}"),
    }
}

/// Removes the objects and state of meshes whose owner died, except meshes of `amesh mesh up`.
pub async fn sweep(docker: &Docker, state_dir: &Path) -> Result<Removed> {
    let removed = remove_objects(docker, labels::is_stale).await?;
    if !removed.is_empty() {
        tracing::info!(meshes = ?removed.meshes, "removed Docker objects of amesh processes that died: {removed}");
    }
    for descriptor in MeshDescriptor::list(state_dir) {
        let owner_labels = HashMap::from([
            (labels::MESH.to_string(), descriptor.name.clone()),
            (labels::OWNER.to_string(), descriptor.owner.clone()),
            (labels::LIFETIME.to_string(), descriptor.lifetime.clone()),
        ]);
        if labels::is_stale(&owner_labels) {
            remove_state(state_dir, &descriptor.name);
        }
    }
    Ok(removed)
}
