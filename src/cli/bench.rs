//! `amesh bench`: mesh start-up time and amesh's own peak memory, for docs/benchmarks.md.

use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use serde_json::json;

use super::{CommonArgs, Exit, load_config, prepare_sut};
use crate::cancel::Cancel;
use crate::client::History;
use crate::mesh::{Mesh, MeshSetup};

#[derive(Args)]
pub struct BenchArgs {
    /// How many times to start and stop the mesh (1 to 100).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub rounds: u32,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// Peak resident memory of this process, in KiB (`getrusage`).
fn peak_rss_kib() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    usage.ru_maxrss
}

pub async fn bench(args: BenchArgs, cancel: Cancel) -> Exit {
    let config = match load_config(&args.common) {
        Ok(config) => Arc::new(config),
        Err(exit) => return exit,
    };
    let (binary, model) = match prepare_sut(&config, false).await {
        Ok(prepared) => prepared,
        Err(exit) => return exit,
    };
    let run_dir = match crate::report::create_run_dir(&args.common.runs_dir) {
        Ok(dir) => dir,
        Err(err) => {
            tracing::error!("{err:#}");
            return Exit::Error;
        }
    };

    let mut samples_ms = Vec::new();
    for round in 1..=args.rounds {
        if cancel.is_cancelled() {
            return Exit::Interrupted;
        }
        let started = Instant::now();
        let setup = MeshSetup {
            config: config.clone(),
            binary: binary.clone(),
            model: model.clone(),
            run_dir: run_dir.clone(),
            history: Arc::new(History::disabled()),
        };
        let mesh = match Mesh::start(setup).await {
            Ok(mesh) => mesh,
            Err(err) => {
                tracing::error!("round {round}: the mesh did not come up: {err:#}");
                return Exit::Error;
            }
        };
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        samples_ms.push(elapsed);
        tracing::info!(round, elapsed_ms = elapsed as u64, "mesh healthy");
        if let Err(err) = mesh.teardown().await {
            tracing::error!("{err:#}");
            return Exit::Error;
        }
    }

    samples_ms.sort_by(f64::total_cmp);
    let middle = samples_ms.len() / 2;
    let median = if samples_ms.len() % 2 == 0 { (samples_ms[middle - 1] + samples_ms[middle]) / 2.0 } else { samples_ms[middle] };
    let summary = json!({
        "benchmark": "mesh-start",
        "nodes": config.nodes.len(),
        "rounds": args.rounds,
        "start_to_healthy_ms": { "min": samples_ms[0], "median": median, "max": samples_ms[samples_ms.len() - 1] },
        "amesh_peak_rss_mib": peak_rss_kib() as f64 / 1024.0,
        "ai_memory_version": binary.version,
    });
    println!("{summary}");
    Exit::Success
}
