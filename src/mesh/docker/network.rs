//! The two bridge networks of a Docker mesh. The mesh network (internal, fixed subnet) carries
//! peer traffic between nodes at fixed addresses. The control network carries the published
//! ports, so the harness keeps reaching a node while it is cut off the mesh network. Container
//! to container traffic is disabled on the control network, so nodes talk only over the mesh
//! network.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use bollard::Docker;
use bollard::models::{EndpointIpamConfig, EndpointSettings, Ipam, IpamConfig, NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest};
use bollard::query_parameters::ListNetworksOptions;
use serde::{Deserialize, Serialize};

use super::labels;

/// The mesh subnet when neither `--docker-subnet` nor `[mesh] docker_subnet` sets one.
pub const DEFAULT_SUBNET: &str = "10.88.1.0/24";

/// The flag and config key that set the subnet, for error messages.
pub const SUBNET_SETTING: &str = "--docker-subnet or [mesh] docker_subnet";

/// Node i gets host address `NODE_HOST_OFFSET + i` in the mesh subnet (.11 for node-1).
pub const NODE_HOST_OFFSET: u32 = 10;

/// An IPv4 network in CIDR form, e.g. `10.88.1.0/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Subnet {
    network: Ipv4Addr,
    prefix: u8,
}

impl Subnet {
    fn mask(&self) -> u32 {
        if self.prefix == 0 { 0 } else { u32::MAX << (32 - self.prefix) }
    }

    /// Returns the address `offset` hosts into the subnet, or `None` past the last host.
    pub fn host(&self, offset: u32) -> Option<Ipv4Addr> {
        let size = 1u64 << (32 - self.prefix);
        if u64::from(offset) + 1 >= size {
            return None;
        }
        Some(Ipv4Addr::from(u32::from(self.network) + offset))
    }

    /// Returns the gateway Docker gives the bridge: the first host address.
    pub fn gateway(&self) -> Ipv4Addr {
        self.host(1).expect("a validated subnet has room for a gateway")
    }

    /// Returns the mesh address of node `index` (1-based).
    pub fn node_address(&self, index: usize) -> Option<Ipv4Addr> {
        self.host(NODE_HOST_OFFSET + u32::try_from(index).ok()?)
    }

    pub fn overlaps(&self, other: &Subnet) -> bool {
        let mask = self.mask() & other.mask();
        u32::from(self.network) & mask == u32::from(other.network) & mask
    }
}

impl FromStr for Subnet {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || format!("invalid subnet {text:?}: expected IPv4 CIDR notation such as {DEFAULT_SUBNET}");
        let (address, prefix) = text.trim().split_once('/').ok_or_else(invalid)?;
        let address: Ipv4Addr = address.parse().map_err(|_| invalid())?;
        let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
        if prefix > 32 {
            return Err(invalid());
        }
        let subnet = Subnet { network: address, prefix };
        if u32::from(address) & !subnet.mask() != 0 {
            return Err(format!(
                "invalid subnet {text:?}: host bits are set; the network address is {}/{prefix}",
                Ipv4Addr::from(u32::from(address) & subnet.mask())
            ));
        }
        Ok(subnet)
    }
}

impl TryFrom<String> for Subnet {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Subnet> for String {
    fn from(subnet: Subnet) -> String {
        subnet.to_string()
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl Default for Subnet {
    fn default() -> Self {
        DEFAULT_SUBNET.parse().expect("the default subnet is valid")
    }
}

/// Checks that a subnet has a gateway and room for `nodes` node addresses.
pub fn validate_subnet(subnet: &Subnet, nodes: usize) -> Result<()> {
    if subnet.node_address(nodes).is_none() {
        bail!(
            "docker subnet {subnet} has no room for {nodes} nodes at host addresses .{}–.{}; choose a larger subnet with {SUBNET_SETTING}",
            NODE_HOST_OFFSET + 1,
            NODE_HOST_OFFSET + nodes as u32
        );
    }
    Ok(())
}

/// Names of a mesh's networks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeshNetworks {
    pub mesh: String,
    pub control: String,
}

impl MeshNetworks {
    pub fn for_mesh(mesh_name: &str) -> Self {
        Self { mesh: format!("amesh-{mesh_name}"), control: format!("amesh-{mesh_name}-control") }
    }
}

/// IPv4 routes of this host that are not Docker's default route, from `/proc/net/route`.
fn host_routes() -> Vec<(String, Subnet)> {
    let Ok(table) = std::fs::read_to_string("/proc/net/route") else { return Vec::new() };
    let mut routes = Vec::new();
    for line in table.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 8 {
            continue;
        }
        let parse = |hex: &str| u32::from_str_radix(hex, 16).ok().map(|v| Ipv4Addr::from(u32::from_be(v)));
        let (Some(destination), Some(mask)) = (parse(fields[1]), parse(fields[7])) else { continue };
        let prefix = u32::from(mask).leading_ones() as u8;
        if prefix == 0 {
            continue;
        }
        routes.push((fields[0].to_string(), Subnet { network: destination, prefix }));
    }
    routes
}

/// Fails when `subnet` overlaps a Docker network (other than `own`) or a route of this host,
/// naming the setting that moves it.
pub async fn check_overlap(docker: &Docker, subnet: &Subnet, own: &MeshNetworks) -> Result<()> {
    let networks = docker.list_networks(None::<ListNetworksOptions>).await.context("failed to list Docker networks")?;
    let own_ids: Vec<String> = networks
        .iter()
        .filter(|n| n.name.as_deref() == Some(own.mesh.as_str()))
        .filter_map(|n| n.id.clone())
        .collect();
    for network in &networks {
        if network.id.as_ref().is_some_and(|id| own_ids.contains(id)) {
            continue;
        }
        let configs = network.ipam.as_ref().and_then(|ipam| ipam.config.as_ref());
        for other in configs.into_iter().flatten().filter_map(|c| c.subnet.as_deref()).filter_map(|s| s.parse::<Subnet>().ok()) {
            if subnet.overlaps(&other) {
                bail!(
                    "docker subnet {subnet} overlaps the Docker network {:?} ({other}); choose a free subnet with {SUBNET_SETTING}",
                    network.name.as_deref().unwrap_or("?")
                );
            }
        }
    }
    let bridges: Vec<String> = networks.iter().filter_map(|n| n.id.as_ref().map(|id| format!("br-{}", &id[..id.len().min(12)]))).collect();
    for (interface, route) in host_routes() {
        if interface == "docker0" || bridges.contains(&interface) {
            continue;
        }
        if subnet.overlaps(&route) {
            bail!(
                "docker subnet {subnet} overlaps this host's route {route} on {interface}; choose a free subnet with {SUBNET_SETTING}"
            );
        }
    }
    Ok(())
}

/// Creates both networks of a mesh with `labels`; networks that already exist are kept.
pub async fn create(docker: &Docker, names: &MeshNetworks, subnet: &Subnet, object_labels: &HashMap<String, String>) -> Result<()> {
    check_overlap(docker, subnet, names).await?;
    let existing: Vec<String> = docker
        .list_networks(None::<ListNetworksOptions>)
        .await
        .context("failed to list Docker networks")?
        .into_iter()
        .filter_map(|n| n.name)
        .collect();

    if !existing.contains(&names.mesh) {
        let request = NetworkCreateRequest {
            name: names.mesh.clone(),
            driver: Some("bridge".into()),
            internal: Some(true),
            ipam: Some(Ipam {
                driver: Some("default".into()),
                config: Some(vec![IpamConfig {
                    subnet: Some(subnet.to_string()),
                    gateway: Some(subnet.gateway().to_string()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            labels: Some(object_labels.clone()),
            ..Default::default()
        };
        docker.create_network(request).await.map_err(|err| {
            let text = err.to_string();
            if text.contains("overlap") {
                anyhow::anyhow!("docker subnet {subnet} overlaps an existing network ({text}); choose a free subnet with {SUBNET_SETTING}")
            } else {
                anyhow::anyhow!("failed to create the Docker network {}: {text}", names.mesh)
            }
        })?;
        tracing::debug!(network = %names.mesh, %subnet, "mesh network created");
    }

    if !existing.contains(&names.control) {
        let options = HashMap::from([("com.docker.network.bridge.enable_icc".to_string(), "false".to_string())]);
        let request = NetworkCreateRequest {
            name: names.control.clone(),
            driver: Some("bridge".into()),
            options: Some(options),
            labels: Some(object_labels.clone()),
            ..Default::default()
        };
        docker
            .create_network(request)
            .await
            .with_context(|| format!("failed to create the Docker network {}", names.control))?;
        tracing::debug!(network = %names.control, "control network created");
    }
    Ok(())
}

/// Attaches a container to the mesh network at `address`.
pub async fn connect(docker: &Docker, network: &str, container: &str, address: Ipv4Addr) -> Result<()> {
    let request = NetworkConnectRequest {
        container: container.to_string(),
        endpoint_config: Some(EndpointSettings {
            ipam_config: Some(EndpointIpamConfig { ipv4_address: Some(address.to_string()), ..Default::default() }),
            ..Default::default()
        }),
    };
    docker
        .connect_network(network, request)
        .await
        .with_context(|| format!("failed to connect {container} to {network} at {address}"))
}

pub async fn disconnect(docker: &Docker, network: &str, container: &str) -> Result<()> {
    let request = NetworkDisconnectRequest { container: container.to_string(), force: Some(true) };
    docker
        .disconnect_network(network, request)
        .await
        .with_context(|| format!("failed to disconnect {container} from {network}"))
}

/// Labels every network amesh creates carries, for `mesh down` and the sweep.
pub fn is_amesh(labels_of: &HashMap<String, String>) -> bool {
    labels_of.contains_key(labels::MESH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_parses_and_prints() {
        let subnet: Subnet = "10.88.1.0/24".parse().unwrap();
        assert_eq!(subnet.to_string(), "10.88.1.0/24");
        assert_eq!(subnet.gateway(), Ipv4Addr::new(10, 88, 1, 1));
        assert_eq!(subnet.node_address(1), Some(Ipv4Addr::new(10, 88, 1, 11)));
        assert_eq!(subnet.node_address(4), Some(Ipv4Addr::new(10, 88, 1, 14)));
    }

    #[test]
    fn subnet_with_host_bits_rejected() {
        let err = "10.88.1.5/24".parse::<Subnet>().unwrap_err();
        assert!(err.contains("10.88.1.0/24"), "{err}");
    }

    #[test]
    fn subnet_garbage_rejected() {
        for text in ["10.88.1.0", "10.88.1.0/33", "ten/24", ""] {
            assert!(text.parse::<Subnet>().is_err(), "{text} parsed");
        }
    }

    #[test]
    fn overlap_detected() {
        let a: Subnet = "10.88.0.0/16".parse().unwrap();
        let b: Subnet = "10.88.1.0/24".parse().unwrap();
        let c: Subnet = "10.89.1.0/24".parse().unwrap();
        assert!(a.overlaps(&b));
        assert!(b.overlaps(&a));
        assert!(!b.overlaps(&c));
    }

    #[test]
    fn small_subnet_lacks_room() {
        let subnet: Subnet = "10.88.1.0/29".parse().unwrap();
        let err = validate_subnet(&subnet, 4).unwrap_err().to_string();
        assert!(err.contains("--docker-subnet"), "{err}");
        let big: Subnet = "10.88.1.0/27".parse().unwrap();
        assert!(validate_subnet(&big, 4).is_ok());
    }
}
