//! Argument parsing, logging set-up, signal handling and exit codes. Business logic lives in
//! the other parts; each subcommand here wires them together.

mod bench;
mod doctor;
mod mesh;
mod repl;
mod report;
mod run;
mod testbook;

use std::net::Ipv4Addr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::cancel::Cancel;
use crate::mesh::config::{BackendKind, Overrides, TlsMode};
use crate::mesh::docker::network::Subnet;

/// Process exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every scenario passed or was skipped for a stated reason.
    Success = 0,
    /// At least one scenario failed.
    Failed = 1,
    /// Usage, configuration or infrastructure error.
    Error = 2,
    /// Interrupted by SIGINT or SIGTERM, after healing and tearing down.
    Interrupted = 130,
}

#[derive(Parser)]
#[command(name = "amesh", version, about = "Provision a mesh of federated ai-memory nodes and run Lua scenarios against it")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one or more scenarios on one fresh mesh, in order; prints one JSON verdict per line.
    Run(run::RunArgs),
    /// Run the testbook campaign: baseline, F3 canary, every scenario, campaign files.
    Testbook(testbook::TestbookArgs),
    /// Install the pinned ai-memory and stage the embedder model into the cache.
    Setup(CommonArgs),
    /// Show what amesh found: ai-memory binary and version, model, libfaketime, Docker engine.
    Doctor(CommonArgs),
    /// Measure mesh start-up time and amesh's own peak memory.
    Bench(bench::BenchArgs),
    /// Render index.html and junit.xml again from a campaign folder, or compare two folders.
    Report(report::ReportArgs),
    /// Keep a Docker mesh running across commands: up, down, status, logs.
    #[command(subcommand)]
    Mesh(mesh::MeshCommand),
    /// Start a mesh and open an interactive Lua prompt on it (reads stdin when it is not a terminal).
    Repl(repl::ReplArgs),
}

/// Options shared by every command that touches the SUT or a mesh.
#[derive(Args, Clone, Debug, Default)]
pub struct CommonArgs {
    /// Config file (default: $AMESH_CONFIG, then ./amesh.toml, then the built-in topology).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// ai-memory binary to test (any version); skips lookup and install.
    #[arg(long = "ai-memory", value_name = "PATH")]
    pub ai_memory: Option<PathBuf>,

    /// ai-memory version to find or install (default 0.6.2).
    #[arg(long = "ai-memory-version", value_name = "VERSION")]
    pub ai_memory_version: Option<String>,

    /// Backend that runs the nodes.
    #[arg(long, value_enum)]
    pub backend: Option<BackendKind>,

    /// Transport security mode.
    #[arg(long, value_enum)]
    pub tls: Option<TlsMode>,

    /// Address of the first node; node i gets this address plus i - 1 (default 127.0.1.11).
    #[arg(long, value_name = "IPV4")]
    pub base_address: Option<Ipv4Addr>,

    /// Docker backend: subnet of the mesh network; node i gets host address 10 + i
    /// (default 10.88.1.0/24).
    #[arg(long, value_name = "CIDR")]
    pub docker_subnet: Option<Subnet>,

    /// Docker backend: run on the live mesh NAME started by `amesh mesh up --name NAME`
    /// (its state is reset first) instead of a new mesh.
    #[arg(long = "mesh", value_name = "NAME")]
    pub mesh_name: Option<String>,

    /// Folder with scenarios/ and lib/ (default: $AMESH_LUA_DIR, then ./lua).
    #[arg(long, value_name = "DIR")]
    pub lua_dir: Option<PathBuf>,

    /// Folder that receives run folders.
    #[arg(long, value_name = "DIR", default_value = "runs")]
    pub runs_dir: PathBuf,

    /// More log output (-v debug, -vv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only warnings and errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

impl CommonArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            ai_memory: self.ai_memory.clone(),
            ai_memory_version: self.ai_memory_version.clone(),
            backend: self.backend,
            tls: self.tls,
            base_address: self.base_address,
            docker_subnet: self.docker_subnet,
            mesh_name: self.mesh_name.clone(),
        }
    }
}

fn init_logging(common: &CommonArgs) {
    let default = match (common.quiet, common.verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "amesh=debug,info",
        (false, _) => "amesh=trace,debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("AMESH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::report::terminal::stderr_writer)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .compact()
        .init();
}

/// Cancels on the first SIGINT or SIGTERM; a second one exits at once (the spawner's
/// death signal still takes every node down). The handlers are registered before this returns,
/// so a signal can never meet the default action once a command runs.
fn watch_signals(cancel: Cancel) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        tracing::error!("failed to install signal handlers");
        return;
    };
    tokio::spawn(async move {
        for round in 0.. {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            if round == 0 {
                tracing::warn!("{name} received: healing the mesh and tearing it down (send it again to exit at once)");
                cancel.cancel();
            } else {
                tracing::error!("{name} received again: exiting now");
                std::process::exit(Exit::Interrupted as i32);
            }
        }
    });
}

/// Parses arguments, runs the command and returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let common = match &cli.command {
        Command::Run(args) => args.common.clone(),
        Command::Setup(common) | Command::Doctor(common) => common.clone(),
        Command::Bench(args) => args.common.clone(),
        Command::Testbook(args) => args.common.clone(),
        Command::Report(args) => args.common(),
        Command::Mesh(command) => command.common().clone(),
        Command::Repl(args) => args.common.clone(),
    };
    init_logging(&common);

    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!("failed to start the async runtime: {err}");
            return Exit::Error as i32;
        }
    };
    let exit = runtime.block_on(async move {
        let cancel = Cancel::new();
        // The REPL routes SIGINT to the running statement, so it installs its own handlers.
        if !matches!(cli.command, Command::Repl(_)) {
            watch_signals(cancel.clone());
        }
        match cli.command {
            Command::Run(args) => run::run(args, cancel).await,
            Command::Setup(common) => doctor::setup(&common).await,
            Command::Doctor(common) => doctor::doctor(&common).await,
            Command::Bench(args) => bench::bench(args, cancel).await,
            Command::Testbook(args) => testbook::testbook(args, cancel).await,
            Command::Report(args) => report::report(args),
            Command::Mesh(command) => mesh::mesh(command, cancel).await,
            Command::Repl(args) => repl::repl(args, cancel).await,
        }
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    exit as i32
}

/// Loads the configuration, logging the error and returning `Exit::Error` on failure.
pub(crate) fn load_config(common: &CommonArgs) -> Result<crate::mesh::Config, Exit> {
    let path = crate::mesh::config::find(common.config.as_deref()).map_err(|err| {
        tracing::error!("{err:#}");
        Exit::Error
    })?;
    crate::mesh::config::load(path.as_deref(), &common.overrides()).map_err(|err| {
        tracing::error!("{err:#}");
        Exit::Error
    })
}

/// Finds or installs ai-memory and stages the model; both may block for minutes.
pub(crate) async fn prepare_sut(config: &crate::mesh::Config, verify_model: bool) -> Result<(crate::sut::Binary, crate::sut::ModelStatus), Exit> {
    let request = crate::sut::Request { explicit: config.sut_binary.clone(), version: config.sut_version.clone() };
    let prepared = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let binary = crate::sut::ensure(&request)?;
        let cache = crate::sut::cache_dir();
        let model = match crate::sut::staged_model(&cache, verify_model) {
            Ok(Some(root)) => crate::sut::ModelStatus::Staged(root),
            Ok(None) => crate::sut::stage_model(&cache),
            Err(err) => crate::sut::ModelStatus::Unavailable(format!("{err:#}")),
        };
        Ok((binary, model))
    })
    .await;
    match prepared {
        Ok(Ok(prepared)) => Ok(prepared),
        Ok(Err(err)) => {
            tracing::error!("{err:#}");
            Err(Exit::Error)
        }
        Err(err) => {
            tracing::error!("preparing ai-memory failed: {err}");
            Err(Exit::Error)
        }
    }
}
