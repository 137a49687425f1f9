//! `a2a-summary.json` and `campaign.meta.json`, with every field upstream hard-coded derived
//! from the configuration, the binary and the machine.

use serde_json::{Value, json};

use crate::mesh::{BackendKind, Config, NodeSpec, Role};

/// Facts about the campaign that the summary and meta record.
pub struct CampaignFacts<'a> {
    pub campaign_id: &'a str,
    pub config: &'a Config,
    pub ai_memory_version: &'a str,
    pub requested: &'a [String],
    pub started_at: &'a str,
    pub ended_at: &'a str,
    pub interrupted: bool,
    /// Certificate fingerprints of a TLS mesh (never keys).
    pub tls_fingerprints: Option<Value>,
}

fn host_name() -> String {
    nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_else(|| "unknown".into())
}

/// The user running the campaign: `$USER`, else the account name of the process's uid.
fn operator() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| nix::unistd::User::from_uid(nix::unistd::getuid()).ok().flatten().map(|u| u.name))
        .unwrap_or_else(|| "unknown".into())
}

/// Returns the address peers reach a node at: its mesh network address on the Docker
/// backend, its loopback address on the process backend.
fn private_ip(config: &Config, node: &NodeSpec) -> String {
    match config.backend {
        BackendKind::Docker => config.docker.subnet.node_address(node.index).map_or_else(|| node.address.to_string(), |a| a.to_string()),
        BackendKind::Process => node.address.to_string(),
    }
}

/// The meta object, also written alone as `campaign.meta.json`.
pub fn meta(facts: &CampaignFacts) -> Value {
    let config = facts.config;
    let backend = config.backend.to_string();
    let agents = config.nodes.iter().filter(|n| n.role == Role::Agent).count();
    let memory_only = config.nodes.len() - agents;
    let nodes: Vec<Value> = config
        .nodes
        .iter()
        .map(|n| {
            let mut node = json!({
                "index": n.index,
                "role": n.role.as_str(),
                "name": n.name,
                "private_ip": private_ip(config, n),
                "public_ip": format!("n/a ({backend} backend)"),
            });
            if let Some(agent) = &n.agent_id {
                node["agent_id"] = json!(agent);
            }
            node
        })
        .collect();
    let shape = format!("{}-node mesh ({agents} {} agents + {memory_only} memory-only)", config.nodes.len(), config.agent_group);

    json!({
        "campaign_id": facts.campaign_id,
        "agent_group": config.agent_group,
        "ai_memory_git_ref": format!("v{}", facts.ai_memory_version),
        "topology": backend,
        "infra": {
            "provider": format!("amesh-{backend}"),
            "host": host_name(),
            "mesh_topology": shape,
            "nodes": nodes,
            "region": "local",
            "droplet_size": format!("n/a ({backend} backend on one machine)"),
            "topology": match config.backend {
                BackendKind::Process => format!("{shape} on loopback addresses, provisioned by amesh"),
                BackendKind::Docker => format!(
                    "{shape} on a Docker bridge network ({}) with ports published on loopback addresses, provisioned by amesh",
                    config.docker.subnet
                ),
            },
        },
        "scenarios_requested": facts.requested,
        "timing": {
            "start": facts.started_at,
            "end": facts.ended_at,
            "started_at": facts.started_at,
            "ended_at": facts.ended_at,
        },
        "ci": {
            "runner": "amesh",
            "operator": operator(),
        },
        "notes": format!("Run by amesh {} on the {backend} backend with tls_mode {}.", env!("CARGO_PKG_VERSION"), config.tls),
        "amesh": {
            "version": env!("CARGO_PKG_VERSION"),
            "backend": backend,
            "tls_mode": config.tls.to_string(),
            "config_sha256": config.sha256,
            "tls_fingerprints": facts.tls_fingerprints.clone(),
        },
    })
}

/// Builds the summary from the scenario reports, each given with its file name.
///
/// `overall_pass` follows upstream's local rule (a report that is not skipped and whether
/// `pass` is not true fails the campaign), with two deliberate differences: zero reports fail,
/// and so does an interrupted campaign.
pub fn summary(facts: &CampaignFacts, reports: &[(String, Value)]) -> Value {
    let mut ordered: Vec<&(String, Value)> = reports.iter().collect();
    ordered.sort_by(|a, b| a.0.cmp(&b.0));

    let mut overall_pass = !ordered.is_empty() && !facts.interrupted;
    let mut reasons: Vec<String> = Vec::new();
    if ordered.is_empty() {
        reasons.push("no scenario reports: the campaign ran no scenario".into());
    }
    if facts.interrupted {
        reasons.push("campaign interrupted before every scenario ran".into());
    }
    for (_, report) in &ordered {
        if report["skipped"] == json!(true) || report["pass"] == json!(true) {
            continue;
        }
        overall_pass = false;
        let id = report["scenario"].as_str().unwrap_or("?");
        let listed: Vec<String> = report["reasons"]
            .as_array()
            .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        if listed.is_empty() {
            reasons.push(format!("s{id}: {}", report["reason"].as_str().unwrap_or("failed")));
        } else {
            reasons.extend(listed.iter().map(|r| format!("s{id}: {r}")));
        }
    }

    let meta = meta(facts);
    let mut summary = json!({
        "campaign_id": facts.campaign_id,
        "agent_group": meta["agent_group"],
        "ai_memory_git_ref": meta["ai_memory_git_ref"],
        "completed_at": facts.ended_at,
        "overall_pass": overall_pass,
        "scenarios": ordered.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(),
        "reasons": reasons,
        "skipped_reports": Vec::<String>::new(),
        "meta": meta,
    });
    if facts.interrupted {
        summary["interrupted"] = json!(true);
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::config::{Overrides, load};

    fn facts<'a>(config: &'a Config, requested: &'a [String], interrupted: bool) -> CampaignFacts<'a> {
        CampaignFacts {
            campaign_id: "c1",
            config,
            ai_memory_version: "0.6.3",
            requested,
            started_at: "2026-01-01T00:00:00Z",
            ended_at: "2026-01-01T00:01:00Z",
            interrupted,
            tls_fingerprints: None,
        }
    }

    fn report(id: &str, pass: Value, skipped: bool, reasons: &[&str]) -> (String, Value) {
        (format!("scenario-{id}.json"), json!({ "scenario": id, "pass": pass, "skipped": skipped, "reasons": reasons }))
    }

    #[test]
    fn derived_fields_follow_config_and_binary() {
        let config = load(None, &Overrides::default()).unwrap();
        let value = summary(&facts(&config, &[], false), &[report("1", json!(true), false, &[])]);
        assert_eq!(value["agent_group"], "mcp");
        assert_eq!(value["ai_memory_git_ref"], "v0.6.3");
        assert_eq!(value["meta"]["infra"]["nodes"].as_array().unwrap().len(), 4);
        assert_eq!(value["meta"]["infra"]["nodes"][3]["role"], "memory-only");
        assert!(value["meta"]["infra"]["nodes"][3].get("agent_id").is_none());
        assert_eq!(value["meta"]["amesh"]["backend"], "process");
        assert_ne!(value["meta"]["infra"]["host"], "");
        assert_eq!(value["overall_pass"], true);
    }

    #[test]
    fn zero_reports_fail() {
        let config = load(None, &Overrides::default()).unwrap();
        let value = summary(&facts(&config, &[], false), &[]);
        assert_eq!(value["overall_pass"], false);
    }

    #[test]
    fn failures_listed_with_prefix_and_order() {
        let config = load(None, &Overrides::default()).unwrap();
        let reports = [
            report("2", json!(false), false, &["x broke"]),
            report("10", json!(null), true, &[]),
            report("1b", json!(true), false, &[]),
        ];
        let value = summary(&facts(&config, &[], false), &reports);
        assert_eq!(value["overall_pass"], false);
        assert_eq!(value["reasons"], json!(["s2: x broke"]));
        let order: Vec<_> = value["scenarios"].as_array().unwrap().iter().map(|r| r["scenario"].clone()).collect();
        assert_eq!(order, [json!("10"), json!("1b"), json!("2")]);
    }

    #[test]
    fn interruption_fails_and_is_marked() {
        let config = load(None, &Overrides::default()).unwrap();
        let value = summary(&facts(&config, &[], true), &[report("1", json!(true), false, &[])]);
        assert_eq!(value["overall_pass"], false);
        assert_eq!(value["interrupted"], true);
    }
}
