//! An exclusive file lock that serialises installs and model staging between amesh processes.

use std::fs::{File, OpenOptions};
use std::path::Path;

use anyhow::{Context, Result};
use nix::fcntl::{Flock, FlockArg};

/// Holds an exclusive `flock` on a file until dropped.
pub struct CacheLock {
    _lock: Flock<File>,
}

impl CacheLock {
    /// Blocks until the lock on `path` is ours, telling the user when another process holds it.
    pub fn acquire(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("failed to create {}", parent.display()))?;
        }
        let open = || {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(path)
                .with_context(|| format!("failed to open lock file {}", path.display()))
        };

        match Flock::lock(open()?, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(Self { _lock: lock }),
            Err((_, _)) => {
                tracing::info!(lock = %path.display(), "waiting for another amesh process that holds the cache lock");
                let lock = Flock::lock(open()?, FlockArg::LockExclusive)
                    .map_err(|(_, errno)| errno)
                    .with_context(|| format!("failed to lock {}", path.display()))?;
                Ok(Self { _lock: lock })
            }
        }
    }
}
