//! docker/compose.yaml describes the mesh amesh creates: the same services, mesh addresses,
//! published ports, serve flags, environment and labels as the containers of the Docker
//! backend (a mesh named `compose`, nodes as `amesh mesh up` plans them). Needs no engine.

use std::collections::BTreeMap;
use std::path::Path;

use amesh::mesh::config::{Overrides, load};
use amesh::mesh::docker::container::{ContainerPlan, PlanContext, plan};
use amesh::mesh::docker::labels;
use serde_yaml_ng::Value;

/// The mesh name the compose file's labels carry.
const COMPOSE_MESH: &str = "compose";

fn compose_file() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docker/compose.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("failed to read {}: {err}", path.display()));
    let mut value: Value = serde_yaml_ng::from_str(&text).unwrap_or_else(|err| panic!("{} is not valid YAML: {err}", path.display()));
    value.apply_merge().expect("failed to apply the YAML merge keys");
    value
}

/// Plans amesh's containers for the default topology, keyed by node name.
fn amesh_plans() -> BTreeMap<String, ContainerPlan> {
    let config = load(None, &Overrides::default()).expect("the default configuration loads");
    let ctx = PlanContext {
        config: &config,
        mesh_name: COMPOSE_MESH,
        image: "amesh-node:0.6.2",
        data_root: Path::new("./data"),
        user: "${AMESH_UID:-1000}:${AMESH_GID:-1000}".into(),
        libfaketime: None,
        tls: None,
        tls_dir: None,
    };
    config.nodes.iter().map(|node| (node.name.clone(), plan(&ctx, node, None).expect("planning a node succeeds"))).collect()
}

fn string_map(value: &Value) -> BTreeMap<String, String> {
    let mapping = value.as_mapping().unwrap_or_else(|| panic!("expected a mapping, found {value:?}"));
    mapping
        .iter()
        .map(|(k, v)| {
            let key = k.as_str().expect("mapping keys are strings").to_string();
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => panic!("{key} has a value that is not a scalar: {other:?}"),
            };
            (key, text)
        })
        .collect()
}

fn string_list(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .unwrap_or_else(|| panic!("expected a list, found {value:?}"))
        .iter()
        .map(|item| match item {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => panic!("list item is not a scalar: {other:?}"),
        })
        .collect()
}

#[test]
fn compose_services_match_nodes() {
    let compose = compose_file();
    let plans = amesh_plans();

    let services: Vec<String> = compose["services"].as_mapping().expect("services").keys().map(|k| k.as_str().unwrap().to_string()).collect();
    let nodes: Vec<String> = plans.keys().cloned().collect();
    assert_eq!(services, nodes);
}

#[test]
fn compose_service_fields_match_plans() {
    let compose = compose_file();
    for (name, plan) in amesh_plans() {
        let service = &compose["services"][name.as_str()];

        assert_eq!(service["container_name"].as_str(), Some(format!("amesh-{COMPOSE_MESH}-{name}").as_str()), "{name}: container_name");
        assert_eq!(plan.container_name, format!("amesh-{COMPOSE_MESH}-{name}"), "{name}: amesh's container name");
        assert_eq!(service["image"].as_str(), Some(plan.image.as_str()), "{name}: image");
        assert_eq!(service["user"].as_str(), Some(plan.user.as_str()), "{name}: user");
        assert_eq!(service["init"].as_bool(), Some(true), "{name}: init");
        assert_eq!(string_list(&service["command"]), plan.command, "{name}: command");
        let environment: BTreeMap<String, String> = string_map(&service["environment"]);
        assert_eq!(environment, plan.environment, "{name}: environment");

        let mut expected_labels = plan.labels.clone();
        expected_labels.insert(labels::LIFETIME.into(), labels::LIFETIME_KEPT.into());
        assert_eq!(string_map(&service["labels"]), expected_labels, "{name}: labels");

        let address = service["networks"]["mesh"]["ipv4_address"].as_str();
        assert_eq!(address, Some(plan.mesh_address.to_string().as_str()), "{name}: mesh address");
        assert!(service["networks"]["control"].is_mapping(), "{name}: not on the control network");
        let published = format!("{}:{}:{}", plan.published.ip(), plan.published.port(), plan.container_port);
        assert_eq!(string_list(&service["ports"]), vec![published], "{name}: ports");
        assert_eq!(string_list(&service["volumes"]), vec![format!("{}:/data", plan.data_dir.display())], "{name}: volumes");
    }
}

#[test]
fn compose_networks_match_backend() {
    let compose = compose_file();
    let config = load(None, &Overrides::default()).unwrap();
    let mesh = &compose["networks"]["mesh"];
    let control = &compose["networks"]["control"];

    assert_eq!(mesh["internal"].as_bool(), Some(true), "the mesh network must be internal");
    assert_eq!(mesh["ipam"]["config"][0]["subnet"].as_str(), Some(config.docker.subnet.to_string().as_str()));
    assert_eq!(mesh["ipam"]["config"][0]["gateway"].as_str(), Some(config.docker.subnet.gateway().to_string().as_str()));
    assert_eq!(control["driver_opts"]["com.docker.network.bridge.enable_icc"].as_str(), Some("false"));
    for network in [mesh, control] {
        assert_eq!(network["labels"][labels::MESH].as_str(), Some(COMPOSE_MESH));
        assert_eq!(network["labels"][labels::LIFETIME].as_str(), Some(labels::LIFETIME_KEPT));
    }
}
