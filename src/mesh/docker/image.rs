//! The node image, built locally from a tar because no registry is reachable. It contains the
//! ai-memory binary, the shared libraries `ldd` lists for it and for libfaketime (the dynamic
//! loader included, each at the path `ldd` printed), libfaketime, `/tmp`, and a home folder
//! with the staged embedder in the Hugging Face cache layout. The Dockerfile starts `FROM
//! scratch`, so nothing is pulled. The tag carries the ai-memory version and a hash of every
//! input, so the image is rebuilt only when an input changes.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bollard::Docker;
use bollard::query_parameters::BuildImageOptions;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::sut::{Binary, ModelStatus};

/// Repository part of every node image tag.
pub const REPOSITORY: &str = "amesh-node";
/// The ai-memory binary inside the image.
pub const BINARY: &str = "/usr/local/bin/ai-memory";
/// `HOME` of every node; the embedder lives under `.cache/huggingface`.
pub const HOME: &str = "/home/amesh";
/// Mount point of the node's data folder.
pub const DATA: &str = "/data";

const DOCKERFILE: &str = "FROM scratch\nCOPY rootfs/ /\nENV HOME=/home/amesh\nWORKDIR /data\nENTRYPOINT [\"/usr/local/bin/ai-memory\"]\n";

/// Source of an entry's bytes.
#[derive(Debug, Clone)]
enum Content {
    Directory,
    File(PathBuf),
    Text(Vec<u8>),
}

#[derive(Debug, Clone)]
struct Entry {
    content: Content,
    mode: u32,
}

/// Everything the image holds, keyed by absolute path inside the image, and its tag.
#[derive(Debug, Clone)]
pub struct ImagePlan {
    entries: BTreeMap<String, Entry>,
    pub tag: String,
    pub content_hash: String,
    pub ai_memory_version: String,
    /// libfaketime's path inside the image, when the host has it.
    pub libfaketime: Option<String>,
    /// Whether the embedder model is in the image (else nodes run keyword-only).
    pub has_model: bool,
}

/// Runs `ldd` on `path` and returns the absolute paths it lists (libraries and loader).
fn ldd(path: &Path) -> Result<Vec<PathBuf>> {
    let output = Command::new("ldd")
        .arg(path)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .with_context(|| format!("failed to run `ldd {}`; install libc-bin", path.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if stdout.contains("not a dynamic executable") || String::from_utf8_lossy(&output.stderr).contains("not a dynamic executable") {
        return Ok(Vec::new());
    }
    if !output.status.success() {
        bail!("`ldd {}` failed ({}): {}", path.display(), output.status, String::from_utf8_lossy(&output.stderr).trim());
    }
    parse_ldd(&stdout).with_context(|| format!("cannot use `ldd {}`", path.display()))
}

/// Parses `ldd` output: `name => /path (0x…)` and `/path (0x…)` lines give paths;
/// `linux-vdso.so.1 (0x…)` has none; `name => not found` is an error.
fn parse_ldd(output: &str) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for line in output.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.contains("not found") {
            bail!("a shared library is missing: {line}");
        }
        let candidate = match line.split_once("=>") {
            Some((_, right)) => right.trim(),
            None => line,
        };
        let path = candidate.split_whitespace().next().unwrap_or_default();
        if path.starts_with('/') {
            paths.push(PathBuf::from(path));
        }
    }
    Ok(paths)
}

impl ImagePlan {
    /// Lists the image's contents and computes its tag. Inputs whose digest `digests` lacks
    /// are read once to hash them.
    pub fn new(binary: &Binary, libfaketime: Option<&Path>, model: &ModelStatus, digests: &mut DigestCache) -> Result<Self> {
        let mut entries = BTreeMap::new();
        let mut add = |path: String, content: Content, mode: u32| {
            entries.insert(path, Entry { content, mode });
        };

        add(BINARY.to_string(), Content::File(binary.path.clone()), 0o755);
        let mut libraries = ldd(&binary.path)?;
        if let Some(library) = libfaketime {
            add(library.display().to_string(), Content::File(library.to_path_buf()), 0o644);
            libraries.extend(ldd(library)?);
        }
        for library in libraries {
            add(library.display().to_string(), Content::File(library.clone()), 0o755);
        }

        add("/tmp".into(), Content::Directory, 0o1777);
        add(DATA.into(), Content::Directory, 0o777);
        // Writable by any uid: containers run as the caller's uid, which the image cannot know.
        add(HOME.into(), Content::Directory, 0o1777);
        let has_model = match model {
            ModelStatus::Staged(root) => {
                for file in files_under(root)? {
                    let relative = file.strip_prefix(root).expect("files_under returns paths below root");
                    add(format!("{HOME}/.cache/huggingface/{}", relative.display()), Content::File(file.clone()), 0o644);
                }
                true
            }
            ModelStatus::Unavailable(_) => {
                add(format!("{HOME}/.config/ai-memory/config.toml"), Content::Text(b"tier = \"keyword\"\n".to_vec()), 0o644);
                false
            }
        };

        let content_hash = hash_entries(&entries, digests)?;
        let tag = format!("{REPOSITORY}:{}-{}", binary.version, &content_hash[..12]);
        Ok(Self {
            entries,
            tag,
            content_hash,
            ai_memory_version: binary.version.clone(),
            libfaketime: libfaketime.map(|p| p.display().to_string()),
            has_model,
        })
    }

    /// Writes the build context: the Dockerfile and `rootfs/` with every entry and its parent
    /// folders. Headers carry fixed owners and times, so equal inputs give equal archives.
    fn write_context(&self, out: impl Write) -> Result<()> {
        let mut archive = tar::Builder::new(out);
        append_bytes(&mut archive, "Dockerfile", DOCKERFILE.as_bytes(), 0o644)?;

        let mut directories: BTreeMap<String, u32> = BTreeMap::new();
        for path in self.entries.keys() {
            let mut parent = Path::new(path).parent();
            while let Some(dir) = parent.filter(|d| *d != Path::new("/")) {
                directories.entry(dir.display().to_string()).or_insert(0o755);
                parent = dir.parent();
            }
        }
        for (path, entry) in &self.entries {
            if matches!(entry.content, Content::Directory) {
                directories.insert(path.clone(), entry.mode);
            }
        }
        for (path, mode) in &directories {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(*mode);
            header.set_size(0);
            set_fixed_owner(&mut header);
            archive.append_data(&mut header, format!("rootfs{path}/"), std::io::empty())?;
        }
        for (path, entry) in &self.entries {
            let name = format!("rootfs{path}");
            match &entry.content {
                Content::Directory => {}
                Content::Text(bytes) => append_bytes(&mut archive, &name, bytes, entry.mode)?,
                Content::File(source) => {
                    let file = std::fs::File::open(source).with_context(|| format!("failed to open {}", source.display()))?;
                    let size = file.metadata()?.len();
                    let mut header = tar::Header::new_gnu();
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_mode(entry.mode);
                    header.set_size(size);
                    set_fixed_owner(&mut header);
                    archive
                        .append_data(&mut header, &name, file)
                        .with_context(|| format!("failed to add {} to the image context", source.display()))?;
                }
            }
        }
        archive.into_inner()?.flush()?;
        Ok(())
    }
}

fn set_fixed_owner(header: &mut tar::Header) {
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
}

fn append_bytes<W: Write>(archive: &mut tar::Builder<W>, name: &str, bytes: &[u8], mode: u32) -> Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(mode);
    header.set_size(bytes.len() as u64);
    set_fixed_owner(&mut header);
    archive.append_data(&mut header, name, bytes)?;
    Ok(())
}

/// Lists every regular file below `root`, following symbolic links, sorted.
fn files_under(root: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("failed to list {}", dir.display()))? {
            let path = entry?.path();
            let metadata = std::fs::metadata(&path).with_context(|| format!("failed to read {}", path.display()))?;
            if metadata.is_dir() {
                pending.push(path);
            } else if metadata.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// A file's SHA-256 as recorded for its size, modification time and inode.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct FileDigest {
    len: u64,
    modified_ns: i128,
    inode: u64,
    sha256: String,
}

/// SHA-256 digests of input files, kept in the cache folder so a warm start does not read the
/// 90 MB model again. An entry counts only while size, modification time and inode match.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct DigestCache {
    files: BTreeMap<String, FileDigest>,
}

impl DigestCache {
    pub fn load(path: &Path) -> Self {
        std::fs::read_to_string(path).ok().and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default()
    }

    /// Writes the cache; a failure only costs a re-read next time, so it is logged.
    pub fn save(&self, path: &Path) {
        let write = || -> Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
            std::fs::write(&temporary, serde_json::to_string(self)?)?;
            std::fs::rename(&temporary, path)?;
            Ok(())
        };
        if let Err(err) = write() {
            tracing::warn!(path = %path.display(), "failed to save the input digest cache: {err:#}");
        }
    }

    fn digest(&mut self, source: &Path) -> Result<String> {
        use std::os::unix::fs::MetadataExt;
        let metadata = std::fs::metadata(source).with_context(|| format!("failed to read {}", source.display()))?;
        let key = source.display().to_string();
        let modified_ns = i128::from(metadata.mtime()) * 1_000_000_000 + i128::from(metadata.mtime_nsec());
        if let Some(known) = self.files.get(&key) {
            if known.len == metadata.len() && known.modified_ns == modified_ns && known.inode == metadata.ino() {
                return Ok(known.sha256.clone());
            }
        }
        let mut file = std::fs::File::open(source).with_context(|| format!("failed to open {}", source.display()))?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
        }
        let sha256 = hex::encode(hasher.finalize());
        let digest = FileDigest { len: metadata.len(), modified_ns, inode: metadata.ino(), sha256: sha256.clone() };
        self.files.insert(key, digest);
        Ok(sha256)
    }
}

/// SHA-256 over the Dockerfile and, per entry in path order, the path, mode and the SHA-256
/// of its content.
fn hash_entries(entries: &BTreeMap<String, Entry>, digests: &mut DigestCache) -> Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(DOCKERFILE.as_bytes());
    for (path, entry) in entries {
        hasher.update(format!("\0{path}\0{:o}\0", entry.mode).as_bytes());
        match &entry.content {
            Content::Directory => hasher.update(b"dir"),
            Content::Text(bytes) => hasher.update(Sha256::digest(bytes)),
            Content::File(source) => hasher.update(digests.digest(source)?.as_bytes()),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Whether the image exists, and if it was built now, how long that took.
#[derive(Debug, Clone)]
pub struct ImageStatus {
    pub tag: String,
    pub built_in: Option<Duration>,
}

/// Returns the image for `plan`, building it from a local tar when the engine lacks it.
pub async fn ensure(docker: &Docker, plan: &ImagePlan, work_dir: &Path) -> Result<ImageStatus> {
    if docker.inspect_image(&plan.tag).await.is_ok() {
        tracing::debug!(image = %plan.tag, "node image present");
        return Ok(ImageStatus { tag: plan.tag.clone(), built_in: None });
    }
    let started = Instant::now();
    tracing::info!(image = %plan.tag, "building the node image from a local tar (no registry needed)");

    std::fs::create_dir_all(work_dir).with_context(|| format!("failed to create {}", work_dir.display()))?;
    let context = tempfile::Builder::new().prefix(".image-context-").suffix(".tar").tempfile_in(work_dir)?;
    let writer_plan = plan.clone();
    let context_path = context.path().to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<()> {
        let file = std::fs::File::create(&context_path)?;
        writer_plan.write_context(std::io::BufWriter::new(file))
    })
    .await
    .context("the image context writer panicked")??;

    let file = tokio::fs::File::open(context.path()).await?;
    let body = bollard::body_try_stream(tokio_util::io::ReaderStream::new(file));
    let mut labels = HashMap::from([
        ("amesh.image".to_string(), "node".to_string()),
        ("amesh.ai-memory-version".to_string(), plan.ai_memory_version.clone()),
        ("amesh.content-hash".to_string(), plan.content_hash.clone()),
    ]);
    if let Some(library) = &plan.libfaketime {
        labels.insert("amesh.libfaketime".to_string(), library.clone());
    }
    let options = BuildImageOptions {
        t: Some(plan.tag.clone()),
        labels: Some(labels),
        rm: true,
        forcerm: true,
        ..Default::default()
    };
    let mut output = Vec::new();
    let mut stream = docker.build_image(options, None, Some(body));
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(line) = info.stream.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
                    tracing::debug!(target: "amesh::docker::build", "{line}");
                    output.push(line.to_string());
                }
            }
            Err(err) => bail!("building the node image {} failed: {err}; build output:\n{}", plan.tag, output.join("\n")),
        }
    }
    if docker.inspect_image(&plan.tag).await.is_err() {
        bail!("the engine reported no error but has no image {}; build output:\n{}", plan.tag, output.join("\n"));
    }
    let elapsed = started.elapsed();
    tracing::info!(image = %plan.tag, elapsed_ms = elapsed.as_millis() as u64, "node image built");
    Ok(ImageStatus { tag: plan.tag.clone(), built_in: Some(elapsed) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output_parsed() {
        let output = "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x00007f16)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f16)\n";
        let paths = parse_ldd(output).unwrap();
        assert_eq!(paths, [PathBuf::from("/lib/x86_64-linux-gnu/libssl.so.3"), PathBuf::from("/lib64/ld-linux-x86-64.so.2")]);
    }

    #[test]
    fn ldd_missing_library_rejected() {
        let err = parse_ldd("\tlibfoo.so.1 => not found\n").unwrap_err().to_string();
        assert!(err.contains("libfoo.so.1"), "{err}");
    }

    fn fake_binary(dir: &Path, body: &[u8]) -> Binary {
        let path = dir.join("ai-memory");
        std::fs::write(&path, body).unwrap();
        Binary { path, version: "0.6.2".into(), origin: crate::sut::Origin::Explicit }
    }

    #[test]
    fn tag_follows_content() {
        let dir = tempfile::tempdir().unwrap();
        let model = ModelStatus::Unavailable("test".into());
        let mut digests = DigestCache::default();
        let first = ImagePlan::new(&fake_binary(dir.path(), b"one"), None, &model, &mut digests).unwrap();
        let again = ImagePlan::new(&fake_binary(dir.path(), b"one"), None, &model, &mut digests).unwrap();
        let changed = ImagePlan::new(&fake_binary(dir.path(), b"two!"), None, &model, &mut digests).unwrap();
        assert!(first.tag.starts_with("amesh-node:0.6.2-"), "{}", first.tag);
        assert_eq!(first.tag, again.tag);
        assert_ne!(first.tag, changed.tag);
    }

    #[test]
    fn context_holds_dockerfile_and_rootfs() {
        let dir = tempfile::tempdir().unwrap();
        let plan = ImagePlan::new(&fake_binary(dir.path(), b"bin"), None, &ModelStatus::Unavailable("t".into()), &mut DigestCache::default()).unwrap();
        let mut bytes = Vec::new();
        plan.write_context(&mut bytes).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut modes = HashMap::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            modes.insert(entry.path().unwrap().display().to_string(), entry.header().mode().unwrap());
        }
        assert!(modes.contains_key("Dockerfile"));
        assert_eq!(modes.get("rootfs/usr/local/bin/ai-memory"), Some(&0o755));
        assert_eq!(modes.get("rootfs/tmp/"), Some(&0o1777));
        assert!(modes.contains_key("rootfs/home/amesh/.config/ai-memory/config.toml"));
        assert!(!DOCKERFILE.contains("# syntax"));
        assert!(DOCKERFILE.starts_with("FROM scratch\n"));
    }
}
