//! Labels on every Docker object amesh creates, and the owner check behind the sweep.
//!
//! `amesh.owner` is `<pid>@<boot-id>` of the amesh process that created the object.
//! `amesh.owner-start` adds that process's start time in clock ticks since boot, so that a
//! reused pid does not pass for the owner. Objects of `amesh mesh up` carry
//! `amesh.lifetime=kept` and live until `amesh mesh down`, even after their owner exits.

use std::collections::HashMap;

/// Name of the mesh the object belongs to.
pub const MESH: &str = "amesh.mesh";
/// `<pid>@<boot-id>` of the creating amesh process.
pub const OWNER: &str = "amesh.owner";
/// Start time of the creating process, in clock ticks after boot (`/proc/<pid>/stat`).
pub const OWNER_START: &str = "amesh.owner-start";
/// RFC 3339 time the object was created.
pub const CREATED: &str = "amesh.created";
/// `command` (removed when the creating command ends) or `kept` (`amesh mesh up`).
pub const LIFETIME: &str = "amesh.lifetime";
/// Node name, on containers.
pub const NODE: &str = "amesh.node";

pub const LIFETIME_COMMAND: &str = "command";
pub const LIFETIME_KEPT: &str = "kept";

/// Returns the boot id of this machine, or an empty string when it cannot be read.
pub fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").map(|s| s.trim().to_string()).unwrap_or_default()
}

/// Start time of process `pid` in clock ticks after boot (field 22 of `/proc/<pid>/stat`).
pub fn process_start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    // Fields after the name start at field 3 (state), so field 22 is index 19 here.
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// `<pid>@<boot-id>` of this process.
pub fn current_owner() -> String {
    format!("{}@{}", std::process::id(), boot_id())
}

/// Returns the labels of an object of mesh `mesh_name` that this process creates now.
pub fn object_labels(mesh_name: &str, kept: bool) -> HashMap<String, String> {
    let mut labels = HashMap::from([
        (MESH.to_string(), mesh_name.to_string()),
        (OWNER.to_string(), current_owner()),
        (CREATED.to_string(), chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        (LIFETIME.to_string(), if kept { LIFETIME_KEPT } else { LIFETIME_COMMAND }.to_string()),
    ]);
    if let Some(ticks) = process_start_ticks(std::process::id()) {
        labels.insert(OWNER_START.to_string(), ticks.to_string());
    }
    labels
}

/// Returns whether the process named by an object's owner labels still runs on this boot.
pub fn owner_alive(labels: &HashMap<String, String>) -> bool {
    let Some(owner) = labels.get(OWNER) else { return false };
    let Some((pid, boot)) = owner.split_once('@') else { return false };
    let Ok(pid) = pid.parse::<u32>() else { return false };
    if boot != boot_id() {
        return false;
    }
    match (labels.get(OWNER_START).and_then(|s| s.parse::<u64>().ok()), process_start_ticks(pid)) {
        (_, None) => false,
        (Some(expected), Some(actual)) => expected == actual,
        (None, Some(_)) => true,
    }
}

/// Returns whether the sweep may remove an object: amesh created it (it has an owner label) for a
/// mesh that is not kept, and its owner is gone. Objects without an owner, such as those of
/// docker/compose.yaml, are left to `amesh mesh down`.
pub fn is_stale(labels: &HashMap<String, String>) -> bool {
    labels.contains_key(MESH)
        && labels.contains_key(OWNER)
        && labels.get(LIFETIME).map(String::as_str) != Some(LIFETIME_KEPT)
        && !owner_alive(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_labels_are_alive() {
        let labels = object_labels("t", false);
        assert!(owner_alive(&labels));
        assert!(!is_stale(&labels));
    }

    #[test]
    fn other_boot_is_dead() {
        let mut labels = object_labels("t", false);
        labels.insert(OWNER.into(), format!("{}@not-this-boot", std::process::id()));
        assert!(!owner_alive(&labels));
        assert!(is_stale(&labels));
    }

    #[test]
    fn reused_pid_is_dead() {
        let mut labels = object_labels("t", false);
        labels.insert(OWNER_START.into(), "1".into());
        assert!(!owner_alive(&labels));
    }

    #[test]
    fn ownerless_object_never_stale() {
        let labels = HashMap::from([(MESH.to_string(), "compose".to_string())]);
        assert!(!is_stale(&labels));
    }

    #[test]
    fn kept_mesh_never_stale() {
        let mut labels = object_labels("t", true);
        labels.insert(OWNER.into(), "1@not-this-boot".into());
        assert!(!is_stale(&labels));
    }
}
