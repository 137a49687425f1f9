//! Faults: applied through the backend, verified before they are reported as applied, and
//! undone by [`Mesh::heal`] after every scenario.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::backend::{FaultUnavailable, ProcessState, StartOptions};
use super::config::NodeSpec;
use super::{HEALTH_TIMEOUT, Mesh, NodeCondition};

/// How far a node's `Date` header may be from the expected time after a clock change.
const CLOCK_TOLERANCE_SECS: i64 = 5;

/// Time limit for each node's health check in the heal phase. A node that is busy embedding
/// rows its catch-up loop pulled can take several seconds to respond on two cores.
const HEAL_HEALTH_TIMEOUT: Duration = Duration::from_secs(30);

/// Time limit for an isolated or reconnected node's health check over its published port.
const CONTROL_PATH_TIMEOUT: Duration = Duration::from_secs(10);

/// One action the heal phase took.
#[derive(Debug, Clone)]
pub struct HealAction {
    pub node: String,
    pub action: &'static str,
}

impl Mesh {
    fn update_condition(&self, node: &NodeSpec, change: impl FnOnce(&mut NodeCondition)) {
        let mut conditions = self.conditions.lock().expect("conditions lock");
        change(&mut conditions[node.index - 1]);
    }

    fn condition(&self, node: &NodeSpec) -> NodeCondition {
        self.conditions.lock().expect("conditions lock")[node.index - 1].clone()
    }

    fn record_fault(&self, kind: &str, node: &NodeSpec, action: &str, started: Instant) {
        self.history.record(
            kind,
            Some(&node.name),
            json!({ "action": action, "ms": started.elapsed().as_millis() as u64 }),
        );
    }

    /// Waits until the backend reports `wanted` for the node.
    async fn wait_state(&self, node: &NodeSpec, wanted: &ProcessState, limit: Duration) -> Result<()> {
        let started = Instant::now();
        loop {
            let state = self.backend.state(node).await;
            if &state == wanted {
                return Ok(());
            }
            if started.elapsed() >= limit {
                bail!("{} is {state:?}, expected {wanted:?}", node.name);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Freezes the node and verifies that the operating system reports it stopped.
    pub async fn pause(&self, node: &NodeSpec) -> Result<()> {
        let started = Instant::now();
        self.backend.pause(node).await?;
        self.update_condition(node, |c| c.paused = true);
        self.wait_state(node, &ProcessState::Paused, Duration::from_secs(5))
            .await
            .with_context(|| format!("pausing {} could not be verified", node.name))?;
        tracing::info!(node = %node.name, "fault applied: paused");
        self.record_fault("fault", node, "pause", started);
        Ok(())
    }

    /// Resumes a paused node and verifies that it runs and answers again.
    pub async fn resume(&self, node: &NodeSpec) -> Result<()> {
        let started = Instant::now();
        self.backend.resume(node).await?;
        self.wait_state(node, &ProcessState::Running, Duration::from_secs(5))
            .await
            .with_context(|| format!("resuming {} could not be verified", node.name))?;
        self.update_condition(node, |c| c.paused = false);
        self.wait_healthy(node, Duration::from_secs(30)).await?;
        tracing::info!(node = %node.name, "fault removed: resumed");
        self.record_fault("fault", node, "resume", started);
        Ok(())
    }

    /// Kills the node with SIGKILL and verifies that it is gone.
    pub async fn kill(&self, node: &NodeSpec) -> Result<()> {
        let started = Instant::now();
        self.backend.kill(node).await?;
        self.update_condition(node, |c| {
            c.killed = true;
            c.paused = false;
        });
        if !matches!(self.backend.state(node).await, ProcessState::Exited(_)) {
            bail!("killing {} could not be verified: it still runs", node.name);
        }
        tracing::info!(node = %node.name, "fault applied: killed");
        self.record_fault("fault", node, "kill", started);
        Ok(())
    }

    /// Restarts the node on the same data (with its current clock offset) and waits for health.
    pub async fn restart(&self, node: &NodeSpec) -> Result<()> {
        let started = Instant::now();
        let offset = self.condition(node).clock_offset_secs;
        self.restart_with(node, offset).await?;
        self.update_condition(node, |c| {
            c.killed = false;
            c.paused = false;
        });
        tracing::info!(node = %node.name, "node restarted");
        self.record_fault("fault", node, "restart", started);
        Ok(())
    }

    async fn restart_with(&self, node: &NodeSpec, clock_offset_secs: Option<i64>) -> Result<()> {
        self.backend.stop(node).await?;
        self.backend.start(node, StartOptions { clock_offset_secs }).await?;
        self.wait_healthy(node, HEALTH_TIMEOUT).await
    }

    /// Restarts the node with its clock shifted by `seconds` and verifies the shift from the
    /// node's own `Date` header. Raises [`FaultUnavailable`] when the backend cannot shift clocks.
    pub async fn set_clock_offset(&self, node: &NodeSpec, seconds: i64) -> Result<()> {
        let started = Instant::now();
        if let Err(reason) = self.backend.clock_offset_support() {
            return Err(FaultUnavailable(format!("cannot shift the clock of {}: {reason}", node.name)).into());
        }
        self.update_condition(node, |c| c.clock_offset_secs = Some(seconds));
        self.restart_with(node, Some(seconds)).await?;
        self.verify_clock(node, seconds).await?;
        tracing::info!(node = %node.name, seconds, "fault applied: clock offset");
        self.record_fault("fault", node, &format!("clock {seconds:+}s"), started);
        Ok(())
    }

    /// Restarts the node on the real clock and verifies it.
    pub async fn restore_clock(&self, node: &NodeSpec) -> Result<()> {
        let started = Instant::now();
        self.restart_with(node, None).await?;
        self.verify_clock(node, 0).await?;
        self.update_condition(node, |c| c.clock_offset_secs = None);
        tracing::info!(node = %node.name, "fault removed: clock restored");
        self.record_fault("fault", node, "restore clock", started);
        Ok(())
    }

    /// Compares the node's `Date` header with the local clock plus `expected_offset`.
    async fn verify_clock(&self, node: &NodeSpec, expected_offset: i64) -> Result<()> {
        let response = self
            .http
            .send(crate::client::HttpRequest::get(format!("{}/api/v1/health", self.url(node))))
            .await;
        let now = chrono::Utc::now().timestamp();
        let header = response.headers.get("date").with_context(|| {
            format!("cannot verify the clock of {}: its answer has no Date header ({:?})", node.name, response.error)
        })?;
        let node_time = chrono::DateTime::parse_from_rfc2822(header)
            .with_context(|| format!("cannot parse the Date header {header:?} of {}", node.name))?
            .timestamp();
        let measured = node_time - now;
        if (measured - expected_offset).abs() > CLOCK_TOLERANCE_SECS {
            bail!(
                "the clock of {} is off by {measured:+} s, expected {expected_offset:+} s (Date: {header})",
                node.name
            );
        }
        tracing::debug!(node = %node.name, measured, expected_offset, "clock verified");
        Ok(())
    }

    /// Cuts the node off the mesh network (Docker backend only) and verifies that the harness
    /// still reaches it over its published port.
    pub async fn isolate(&self, node: &NodeSpec) -> Result<()> {
        let started = Instant::now();
        self.backend.isolate(node).await?;
        self.update_condition(node, |c| c.isolated = true);
        self.wait_healthy(node, CONTROL_PATH_TIMEOUT)
            .await
            .with_context(|| format!("{} is isolated but its published port {} no longer answers", node.name, node.socket_addr()))?;
        self.record_fault("fault", node, "isolate", started);
        Ok(())
    }

    /// Reconnects an isolated node and verifies that it answers.
    pub async fn reconnect(&self, node: &NodeSpec) -> Result<()> {
        let started = Instant::now();
        self.backend.reconnect(node).await?;
        self.update_condition(node, |c| c.isolated = false);
        self.wait_healthy(node, CONTROL_PATH_TIMEOUT).await?;
        self.record_fault("fault", node, "reconnect", started);
        Ok(())
    }

    /// Undoes every applied fault: resume paused nodes, reconnect isolated ones, restore
    /// clocks, restart killed ones, then check every node's health. Returns what it did.
    pub async fn heal(&self) -> Result<Vec<HealAction>> {
        let mut actions = Vec::new();
        for node in self.config.nodes.clone() {
            let condition = self.condition(&node);
            if condition.is_normal() {
                continue;
            }
            let started = Instant::now();
            if condition.paused && !condition.killed {
                self.resume(&node).await?;
                actions.push(HealAction { node: node.name.clone(), action: "resume" });
            }
            if condition.isolated {
                self.reconnect(&node).await?;
                actions.push(HealAction { node: node.name.clone(), action: "reconnect" });
            }
            if condition.clock_offset_secs.is_some() {
                self.restore_clock(&node).await?;
                self.update_condition(&node, |c| c.killed = false);
                actions.push(HealAction { node: node.name.clone(), action: "restore clock" });
            } else if condition.killed {
                self.restart(&node).await?;
                actions.push(HealAction { node: node.name.clone(), action: "restart" });
            }
            self.record_fault("heal", &node, "healed", started);
        }

        for node in &self.config.nodes {
            self.wait_healthy(node, HEAL_HEALTH_TIMEOUT)
                .await
                .map_err(|err| anyhow::anyhow!("{} is unhealthy after the heal phase: {err:#}", node.name))?;
        }
        Ok(actions)
    }

    /// Last resort after a failed heal: restart every unhealthy node on its data, with real
    /// clocks. Fails when a node is still unhealthy.
    pub async fn recover(&self) -> Result<()> {
        for node in self.config.nodes.clone() {
            if self.check_health(&node).await.is_ok() && self.condition(&node).is_normal() {
                continue;
            }
            tracing::warn!(node = %node.name, "restarting an unhealthy node on its data");
            self.restart_with(&node, None).await?;
            self.update_condition(&node, |c| *c = NodeCondition::default());
        }
        Ok(())
    }
}
