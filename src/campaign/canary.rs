//! `f3-peer-a2a.json`: a canary written on the first node must appear on every peer.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::client::http::HttpRequest;
use crate::mesh::Mesh;

const NAMESPACE: &str = "_baseline_peer_canary";
const TIMEOUT: Duration = Duration::from_secs(30);

/// Writes the canary on the first node as its agent and polls every other node's list.
pub async fn run(mesh: &Mesh) -> Value {
    let nodes = mesh.nodes();
    let writer = &nodes[0];
    let agent = writer.agent_id.clone().unwrap_or_default();
    let canary = uuid::Uuid::new_v4().to_string();
    let title = format!("f3-canary-{canary}");

    let body = json!({
        "tier": "long", "namespace": NAMESPACE, "title": title, "content": format!("F3 peer canary {canary}"),
        "tags": [], "priority": 5, "confidence": 1.0, "source": "api",
    });
    let mut request = HttpRequest::get(format!("{}/api/v1/memories", mesh.url(writer)));
    request.method = reqwest::Method::POST;
    request.headers.push(("X-Agent-Id".into(), agent.clone()));
    request.body = Some(body.to_string().into_bytes());
    let write = mesh.http.send(request).await;
    let write_ok = (200..300).contains(&write.status);

    let started = Instant::now();
    let mut seen = Map::new();
    for peer in &nodes[1..] {
        seen.insert(peer.name.clone(), json!(false));
    }
    while write_ok && started.elapsed() < TIMEOUT {
        for peer in &nodes[1..] {
            if seen[&peer.name] == json!(true) {
                continue;
            }
            let url = format!("{}/api/v1/memories?namespace={NAMESPACE}&limit=50", mesh.url(peer));
            let response = mesh.http.send(HttpRequest::get(url)).await;
            let rows = response.json.as_ref().and_then(|j| j.get("memories").or_else(|| j.get("items"))).and_then(Value::as_array).cloned();
            if rows.unwrap_or_default().iter().any(|r| r["title"] == json!(title)) {
                seen.insert(peer.name.clone(), json!(true));
            }
        }
        if seen.values().all(|v| v == &json!(true)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let all_seen = seen.values().all(|v| v == &json!(true));
    json!({
        "probe": "F3",
        "name": "peer-a2a-via-shared-memory",
        "description": format!("Writer posts a canary via ai-memory HTTP on {}; verifies propagation to peers (W={}/N={} quorum).", writer.name, mesh.config.quorum_writes, nodes.len()),
        "canary_uuid": canary,
        "canary_namespace": NAMESPACE,
        "writer_agent": agent,
        "peers_seen": seen,
        "pass": write_ok && all_seen,
        "topology": mesh.backend_kind().to_string(),
        "amesh_write_http_code": write.status,
        "amesh_convergence_ms": started.elapsed().as_millis() as u64,
    })
}
