//! `amesh setup` and `amesh doctor`.

use super::{CommonArgs, Exit, load_config, prepare_sut};
use crate::sut::{self, ModelStatus};

/// Installs the pinned ai-memory (if needed) and stages and verifies the model.
pub async fn setup(common: &CommonArgs) -> Exit {
    let config = match load_config(common) {
        Ok(config) => config,
        Err(exit) => return exit,
    };
    let (binary, model) = match prepare_sut(&config, true).await {
        Ok(prepared) => prepared,
        Err(exit) => return exit,
    };
    println!("ai-memory {} ready at {} ({})", binary.version, binary.path.display(), binary.origin);
    match model {
        ModelStatus::Staged(root) => println!("embedder model staged at {}", root.display()),
        ModelStatus::Unavailable(reason) => {
            println!("embedder model NOT staged: {reason}");
            return Exit::Error;
        }
    }
    match sut::find_libfaketime() {
        Some(path) => println!("libfaketime found at {}", path.display()),
        None => println!("libfaketime not found: clock-skew faults will be skipped (apt-get install libfaketime)"),
    }
    Exit::Success
}

/// Prints what amesh finds, without installing anything. Exits 2 when ai-memory is missing.
pub async fn doctor(common: &CommonArgs) -> Exit {
    let config = match load_config(common) {
        Ok(config) => config,
        Err(exit) => return exit,
    };
    let mut exit = Exit::Success;
    println!("config: {}", config.source.as_ref().map_or("built-in default".to_string(), |p| p.display().to_string()));
    println!("cache: {}", sut::cache_dir().display());
    println!("state: {}", sut::state_dir().display());

    let request = sut::Request { explicit: config.sut_binary.clone(), version: config.sut_version.clone() };
    match sut::locate(&request) {
        Ok(Some(binary)) => println!("ai-memory: {} (version {}, from {})", binary.path.display(), binary.version, binary.origin),
        Ok(None) => {
            println!("ai-memory: {} not found (run `amesh setup` to install it)", config.sut_version);
            exit = Exit::Error;
        }
        Err(err) => {
            println!("ai-memory: {err:#}");
            exit = Exit::Error;
        }
    }

    match sut::staged_model(&sut::cache_dir(), true) {
        Ok(Some(root)) => println!("embedder model: staged at {} (checksum verified)", root.display()),
        Ok(None) => println!("embedder model: not staged (run `amesh setup`)"),
        Err(err) => println!("embedder model: {err:#}"),
    }

    match sut::find_libfaketime() {
        Some(path) => println!("libfaketime: {}", path.display()),
        None => println!("libfaketime: not found (apt-get install libfaketime)"),
    }
    println!("docker engine: {}", docker_status().await);
    exit
}

/// Checks the Docker engine through its Unix socket with a plain `GET /_ping`.
async fn docker_status() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|h| h.strip_prefix("unix://").map(str::to_string))
        .unwrap_or_else(|| "/var/run/docker.sock".to_string());
    let attempt = async {
        let mut stream = tokio::net::UnixStream::connect(&socket).await?;
        stream.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n").await?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await?;
        std::io::Result::Ok(answer)
    };
    match tokio::time::timeout(std::time::Duration::from_secs(3), attempt).await {
        Ok(Ok(answer)) if answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200") => {
            format!("reachable at {socket}")
        }
        Ok(Ok(answer)) => format!("unexpected answer from {socket}: {}", answer.lines().next().unwrap_or_default()),
        Ok(Err(err)) => format!("not reachable at {socket}: {err}"),
        Err(_) => format!("not reachable at {socket}: timed out"),
    }
}
