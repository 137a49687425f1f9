//! TLS material for one mesh: a fresh CA, a server certificate per node, and client
//! certificates for the harness and for each node's outbound quorum calls. Files live under
//! the mesh state folder with private keys at mode 0600; artifacts record fingerprints only.

use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::Datelike;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use sha2::{Digest, Sha256};

use super::config::{NodeSpec, TlsMode};

/// A certificate and its key on disk.
#[derive(Debug, Clone)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Certificate then key, PEM, as reqwest's `Identity::from_pem` takes them.
    pub bundle_pem: Vec<u8>,
    /// SHA-256 of the DER certificate, lowercase hex (the form `--mtls-allowlist` takes).
    pub fingerprint: String,
}

/// One node's certificates.
#[derive(Debug, Clone)]
pub struct NodeTls {
    pub server: CertFiles,
    /// The identity the node presents on outbound quorum calls.
    pub client: CertFiles,
}

/// Everything TLS for one mesh.
#[derive(Debug, Clone)]
pub struct TlsMaterial {
    pub mode: TlsMode,
    pub ca_path: PathBuf,
    pub ca_pem: String,
    pub ca_fingerprint: String,
    pub harness: CertFiles,
    /// Indexed like the topology (`nodes[node.index - 1]`).
    pub nodes: Vec<NodeTls>,
    /// The fingerprint allowlist, in mtls only.
    pub allowlist: Option<PathBuf>,
}

impl TlsMaterial {
    pub fn node(&self, node: &NodeSpec) -> &NodeTls {
        &self.nodes[node.index - 1]
    }

    /// Fingerprints for artifacts: the CA, the harness client and every node certificate.
    pub fn fingerprints(&self) -> serde_json::Value {
        let nodes: serde_json::Map<String, serde_json::Value> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (format!("node_{}", i + 1), serde_json::json!({ "server_sha256": n.server.fingerprint, "client_sha256": n.client.fingerprint }))
            })
            .collect();
        serde_json::json!({ "ca_sha256": self.ca_fingerprint, "harness_client_sha256": self.harness.fingerprint, "nodes": nodes })
    }
}

fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("failed to write {}", path.display()))?;
    file.write_all(contents)?;
    Ok(())
}

/// Validity from the start of last year to ten years ahead: certificates outlive any mesh that
/// uses them and stay valid on a node whose clock is shifted by minutes or days.
fn validity(params: &mut CertificateParams) {
    let year = chrono::Utc::now().year();
    params.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    params.not_after = rcgen::date_time_ymd(year + 10, 1, 1);
}

fn issue(dir: &Path, name: &str, params: CertificateParams, issuer: &Issuer<'_, KeyPair>) -> Result<CertFiles> {
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    let cert_pem = cert.pem();
    let key_pem = key.serialize_pem();
    let files = CertFiles {
        cert: dir.join(format!("{name}.pem")),
        key: dir.join(format!("{name}.key")),
        bundle_pem: format!("{cert_pem}{key_pem}").into_bytes(),
        fingerprint: fingerprint(cert.der()),
    };
    write_file(&files.cert, cert_pem.as_bytes(), 0o644)?;
    write_file(&files.key, key_pem.as_bytes(), 0o600)?;
    Ok(files)
}

fn leaf_params(common_name: &str, dns: Vec<String>, ips: &[IpAddr], purpose: ExtendedKeyUsagePurpose) -> Result<CertificateParams> {
    let mut params = CertificateParams::new(dns)?;
    for ip in ips {
        params.subject_alt_names.push(SanType::IpAddress(*ip));
    }
    params.distinguished_name.push(DnType::CommonName, common_name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![purpose];
    validity(&mut params);
    Ok(params)
}

/// Generates the CA and every certificate into `dir`. `mesh_addresses[i]` lists the extra
/// addresses node i + 1 is reached at inside the mesh (its container IP on Docker).
pub fn generate(dir: &Path, mode: TlsMode, nodes: &[NodeSpec], mesh_addresses: &[Vec<IpAddr>]) -> Result<TlsMaterial> {
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;

    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "amesh ephemeral mesh CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    validity(&mut ca_params);
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let ca_pem = ca_cert.pem();
    let ca_path = dir.join("ca.pem");
    write_file(&ca_path, ca_pem.as_bytes(), 0o644)?;
    let ca_fingerprint = fingerprint(ca_cert.der());
    // The CA key stays in memory only: nothing signs with it after this function.
    let issuer = Issuer::new(ca_params, ca_key);

    let harness = issue(dir, "harness-client", leaf_params("amesh harness", vec![], &[], ExtendedKeyUsagePurpose::ClientAuth)?, &issuer)?;
    let mut node_material = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let mut ips: Vec<IpAddr> = vec![IpAddr::V4(node.address), IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)];
        ips.extend(mesh_addresses.get(i).into_iter().flatten().copied());
        ips.dedup();
        let dns = vec!["localhost".to_string(), node.name.clone()];
        let server = issue(dir, &format!("{}-server", node.name), leaf_params(&node.name, dns, &ips, ExtendedKeyUsagePurpose::ServerAuth)?, &issuer)?;
        let client = issue(
            dir,
            &format!("{}-client", node.name),
            leaf_params(&format!("{} quorum client", node.name), vec![node.name.clone()], &[], ExtendedKeyUsagePurpose::ClientAuth)?,
            &issuer,
        )?;
        node_material.push(NodeTls { server, client });
    }

    let allowlist = if mode == TlsMode::Mtls {
        // ai-memory 0.6.2 exits at start-up on a comment after an entry, so every label sits on
        // its own line above its fingerprint.
        let mut text = String::from("# amesh mesh client allowlist: SHA-256 of each DER client certificate\n");
        text.push_str(&format!("# harness\n{}\n", harness.fingerprint));
        for (node, material) in nodes.iter().zip(&node_material) {
            text.push_str(&format!("# {} quorum client\n{}\n", node.name, material.client.fingerprint));
        }
        let path = dir.join("mtls-allowlist.txt");
        write_file(&path, text.as_bytes(), 0o644)?;
        Some(path)
    } else {
        None
    };

    Ok(TlsMaterial { mode, ca_path, ca_pem, ca_fingerprint, harness, nodes: node_material, allowlist })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::config::{Overrides, load};

    #[test]
    fn keys_private_and_allowlist_well_formed() {
        let config = load(None, &Overrides::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let material = generate(dir.path(), TlsMode::Mtls, &config.nodes, &[]).unwrap();

        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&material.harness.key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!dir.path().join("ca.key").exists(), "the CA key must not be written");

        let allowlist = std::fs::read_to_string(material.allowlist.as_ref().unwrap()).unwrap();
        let entries: Vec<&str> = allowlist.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(entries.len(), 5, "harness plus four node clients:\n{allowlist}");
        assert!(entries.iter().all(|e| e.len() == 64 && e.chars().all(|c| c.is_ascii_hexdigit())), "{allowlist}");
        assert!(allowlist.lines().all(|l| l.starts_with('#') || !l.contains('#')), "comments must sit on their own lines");
    }
}
