//! The Docker backend (bollard): a locally built node image, a bridge network with fixed node
//! addresses, one container per node, faults through the engine, and the lifecycle of meshes
//! that outlive a command (`amesh mesh up`).
//!
//! | module | concern |
//! |---|---|
//! | `image` | the node image from a local tar, tagged by version and content hash |
//! | `network` | the mesh and control networks, the subnet and its overlap check |
//! | `container` | a node's container plan, creation and log stream |
//! | `backend` | the [`crate::mesh::Backend`] implementation and provisioning |
//! | `exec` | MCP sessions through `docker exec` |
//! | `labels`, `cleanup` | object ownership, teardown, `mesh down` and the sweep |
//! | `descriptor` | `<state>/meshes/<name>/mesh.json` |

pub mod backend;
pub mod cleanup;
pub mod container;
pub mod descriptor;
pub mod exec;
pub mod image;
pub mod labels;
pub mod network;

pub use backend::{DockerBackend, Provisioned, connect, validate_mesh_name};
pub use descriptor::MeshDescriptor;
