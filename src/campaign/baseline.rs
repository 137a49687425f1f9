//! `a2a-baseline.json`: per-node attestation from measured values. Every upstream key is
//! kept; a value that does not apply to amesh is `null` with its reason in `not_applicable`.

use serde_json::{Map, Value, json};

use crate::client::McpSession;
use crate::client::http::HttpRequest;
use crate::mesh::{Identity, Mesh, NodeSpec, Role, TlsMode};

const SPEC_VERSION: &str = "1.4.0";

/// Builds the baseline document for every node of the mesh.
pub async fn measure(mesh: &Mesh, run_dir: &std::path::Path) -> Value {
    let mut per_node = Vec::new();
    for node in mesh.nodes() {
        per_node.push(measure_node(mesh, node, run_dir).await);
    }
    let baseline_pass = per_node.iter().all(|n| n["baseline_pass"] == json!(true));
    json!({ "baseline_pass": baseline_pass, "per_node": per_node })
}

struct Health {
    ok: bool,
    version: Option<String>,
    embedder_ready: Option<bool>,
    federation_enabled: Option<bool>,
}

async fn health(mesh: &Mesh, node: &NodeSpec) -> Health {
    let response = mesh.http.send(HttpRequest::get(format!("{}/api/v1/health", mesh.url(node)))).await;
    let body = response.json.unwrap_or(Value::Null);
    Health {
        ok: response.status == 200 && body["status"] == "ok",
        version: body["version"].as_str().map(str::to_string),
        embedder_ready: body["embedder_ready"].as_bool(),
        federation_enabled: body["federation_enabled"].as_bool(),
    }
}

/// Sends a health request without a client certificate; true when no HTTP answer came back
/// (the TLS handshake was refused), as mTLS requires.
async fn anonymous_probe_rejected(mesh: &Mesh, node: &NodeSpec) -> bool {
    let mut request = HttpRequest::get(format!("{}/api/v1/health", mesh.url(node)));
    request.timeout = std::time::Duration::from_secs(5);
    let response = mesh.client(Identity::Anonymous).send(request).await;
    response.status == 0
}

/// The peer count serve logged at start-up ("federation enabled: W=2 over 3 peer(s)").
fn logged_peer_count(log: &str) -> Option<u64> {
    let line = log.lines().rev().find(|l| l.contains("federation enabled:"))?;
    let after = line.split(" over ").nth(1)?;
    after.split_whitespace().next()?.parse().ok()
}

/// Opens an MCP session as the node's agent and counts the tools it lists.
async fn mcp_probe(mesh: &Mesh, node: &NodeSpec, run_dir: &std::path::Path) -> Result<(usize, String), String> {
    let agent = node.agent_id.clone().unwrap_or_default();
    let log = run_dir.join("nodes").join(format!("{}-mcp.log", node.name));
    let transport = mesh.open_mcp(node, &agent, log).await.map_err(|e| format!("{e:#}"))?;
    let mut session = McpSession::start(transport).await.map_err(|e| format!("{e:#}"))?;
    let tools = session.tools().await.map_err(|e| format!("{e:#}"));
    let server = session.server_info["name"].as_str().unwrap_or_default().to_string();
    session.close().await;
    Ok((tools?.len(), server))
}

async fn measure_node(mesh: &Mesh, node: &NodeSpec, run_dir: &std::path::Path) -> Value {
    let mut not_applicable = Map::new();
    let mut na = |key: &str, reason: &str| {
        not_applicable.insert(key.to_string(), json!(reason));
        Value::Null
    };
    let health = health(mesh, node).await;
    let peers: Vec<String> = mesh.nodes().iter().filter(|p| p.index != node.index).map(|p| mesh.url(p)).collect();
    let log = std::fs::read_to_string(run_dir.join("nodes").join(format!("{}.log", node.name))).unwrap_or_default();
    let peer_count = logged_peer_count(&log);
    let is_agent = node.role == Role::Agent;

    let mcp = if is_agent { Some(mcp_probe(mesh, node, run_dir).await) } else { None };
    let (tool_count, server_name) = match &mcp {
        Some(Ok((count, name))) => (Some(*count), Some(name.clone())),
        _ => (None, None),
    };
    let mcp_registered = mcp.as_ref().map(|m| matches!(m, Ok((count, _)) if *count > 0));
    let federation_live = health.ok && health.federation_enabled == Some(true) && !peers.is_empty()
        && peer_count == Some(peers.len() as u64);

    let framework_version = if is_agent {
        json!(format!("amesh {} MCP stdio client", env!("CARGO_PKG_VERSION")))
    } else {
        na("framework_version", "memory-only node: no agent framework runs here")
    };
    let no_llm = "amesh agents are deterministic MCP and HTTP clients; no LLM is involved";
    let (no_firewall, lifetime) = match mesh.backend_kind() {
        crate::mesh::BackendKind::Process => (
            "nodes are local processes on loopback addresses; no firewall stands between them",
            "the mesh lives only as long as the amesh command",
        ),
        crate::mesh::BackendKind::Docker => (
            "nodes are containers on a bridge network that amesh created; amesh changes no firewall rules and Docker's own rules only isolate that network",
            "amesh removes its Docker mesh when the command ends, or at `amesh mesh down` for a mesh started by `amesh mesh up`",
        ),
    };
    let by_construction = "amesh agents are scripted clients with no channel other than ai-memory; nothing to probe";

    let config_attestation = json!({
        "framework_is_authentic": if is_agent { json!(mcp_registered == Some(true)) } else { json!(true) },
        "mcp_server_ai_memory_registered": match mcp_registered { Some(v) => json!(v), None => json!(true) },
        "llm_backend_is_xai_grok": na("config_attestation.llm_backend_is_xai_grok", no_llm),
        "llm_is_default_provider": na("config_attestation.llm_is_default_provider", no_llm),
        "mcp_command_is_ai_memory": match &server_name {
            Some(name) => json!(name.contains("ai-memory")),
            None if is_agent => json!(false),
            None => na("config_attestation.mcp_command_is_ai_memory", "memory-only node: no MCP agent"),
        },
        "agent_id_stamped": if is_agent { json!(node.agent_id.is_some()) } else { json!(true) },
        "federation_live": federation_live,
        "ufw_disabled": na("config_attestation.ufw_disabled", no_firewall),
        "iptables_flushed": na("config_attestation.iptables_flushed", no_firewall),
        "dead_man_switch_scheduled": na("config_attestation.dead_man_switch_scheduled", lifetime),
        "topology": mesh.backend_kind().to_string(),
    });

    let negative_invariants = json!({
        "_description": "Alternative A2A channels must be OFF so a passing scenario is only passing via ai-memory shared memory.",
        "a2a_protocol_off": na("negative_invariants.a2a_protocol_off", by_construction),
        "sub_agent_or_sessions_spawn_off": na("negative_invariants.sub_agent_or_sessions_spawn_off", by_construction),
        "alternative_channels_off": na("negative_invariants.alternative_channels_off", by_construction),
        "tool_allowlist_is_memory_only": na("negative_invariants.tool_allowlist_is_memory_only", by_construction),
        "a2a_gate_profile_locked": na("negative_invariants.a2a_gate_profile_locked", by_construction),
    });

    let tls = mesh.config.tls;
    let anonymous_rejected = tls == TlsMode::Mtls && anonymous_probe_rejected(mesh, node).await;
    let functional_probes = json!({
        "substrate_http_canary_f2a": health.ok,
        "mesh_connectivity_f4": federation_live,
        "tls_handshake_f6": if tls == TlsMode::Off { na("functional_probes.tls_handshake_f6", "tls_mode is off") } else { json!(health.ok) },
        "mtls_enforcement_f7": if tls != TlsMode::Mtls { na("functional_probes.mtls_enforcement_f7", "tls_mode is not mtls") } else { json!(anonymous_rejected) },
        "embedder_loaded_f8": health.embedder_ready.unwrap_or(false),
        "amesh_peer_count": peer_count,
        "amesh_mcp_tool_count": tool_count,
    });

    let probes_pass = ["substrate_http_canary_f2a", "mesh_connectivity_f4", "tls_handshake_f6", "mtls_enforcement_f7", "embedder_loaded_f8"]
        .iter()
        .all(|k| functional_probes[*k].is_null() || functional_probes[*k] == json!(true));
    let baseline_pass = if is_agent {
        config_attestation["framework_is_authentic"] == json!(true)
            && config_attestation["mcp_server_ai_memory_registered"] == json!(true)
            && federation_live
            && probes_pass
    } else {
        health.ok
    };

    let mut object = json!({
        "spec_version": SPEC_VERSION,
        "agent_type": if is_agent { json!(mesh.config.agent_group) } else { json!("aggregator") },
        "agent_id": node.agent_id.clone().unwrap_or_default(),
        "node_index": node.index.to_string(),
        "framework_version": framework_version,
        "ai_memory_version": health.version,
        "peer_urls": peers.join(","),
        "config_attestation": config_attestation,
        "negative_invariants": negative_invariants,
        "functional_probes": functional_probes,
        "baseline_pass": baseline_pass,
    });
    if let Some(Err(err)) = &mcp {
        object["amesh_mcp_error"] = json!(err);
    }
    object["not_applicable"] = Value::Object(not_applicable);
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_count_from_log() {
        let log = "x\nINFO federation enabled: W=2 over 3 peer(s), timeout 2000ms\n";
        assert_eq!(logged_peer_count(log), Some(3));
        assert_eq!(logged_peer_count("nothing"), None);
    }
}
