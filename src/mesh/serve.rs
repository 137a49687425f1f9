//! The `ai-memory serve` command line, shared by every backend so that a node is configured
//! the same way whatever runs it.

use super::config::{Config, NodeSpec};

/// What differs between backends: where things are as the serve process sees them.
pub struct ServeSpec<'a> {
    /// Database path inside the node's file system view.
    pub database: &'a str,
    /// Address to listen on (the node's own address, or `0.0.0.0` in a container).
    pub listen_host: &'a str,
    /// Base URLs of every other node as this node reaches them.
    pub peer_urls: &'a [String],
    /// TLS files as the serve process sees them; `None` for plain HTTP.
    pub tls: Option<ServeTls>,
}

/// Paths of a node's TLS files.
pub struct ServeTls {
    pub cert: String,
    pub key: String,
    pub ca: String,
    pub client_cert: String,
    pub client_key: String,
    /// Set in mtls only.
    pub allowlist: Option<String>,
}

/// Returns the arguments after the binary: `--db <db> serve --host ... --quorum-peers ...`,
/// then the configured extra arguments.
pub fn serve_args(config: &Config, node: &NodeSpec, spec: &ServeSpec) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--db".into(),
        spec.database.into(),
        "serve".into(),
        "--host".into(),
        spec.listen_host.into(),
        "--port".into(),
        node.port.to_string(),
        "--quorum-writes".into(),
        config.quorum_writes.to_string(),
        "--quorum-peers".into(),
        spec.peer_urls.join(","),
        "--quorum-timeout-ms".into(),
        config.quorum_timeout_ms.to_string(),
        "--catchup-interval-secs".into(),
        config.catchup_interval_secs.to_string(),
    ];
    if let Some(tls) = &spec.tls {
        // Without --quorum-ca-cert every TLS quorum write fails as quorum_not_met, because
        // serve's outbound client trusts only the public web roots.
        for (flag, value) in [
            ("--tls-cert", &tls.cert),
            ("--tls-key", &tls.key),
            ("--quorum-ca-cert", &tls.ca),
            ("--quorum-client-cert", &tls.client_cert),
            ("--quorum-client-key", &tls.client_key),
        ] {
            args.push(flag.into());
            args.push(value.clone());
        }
        if let Some(allowlist) = &tls.allowlist {
            args.push("--mtls-allowlist".into());
            args.push(allowlist.clone());
        }
    }
    args.extend(config.extra_serve_args.iter().cloned());
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::config::{Overrides, load};

    #[test]
    fn args_carry_quorum_and_peers() {
        let config = load(None, &Overrides::default()).unwrap();
        let peers = vec!["http://127.0.1.12:9077".to_string(), "http://127.0.1.13:9077".to_string()];
        let spec = ServeSpec { database: "/d/a2a.db", listen_host: "127.0.1.11", peer_urls: &peers, tls: None };
        let args = serve_args(&config, &config.nodes[0], &spec);
        let joined = args.join(" ");
        assert!(joined.starts_with("--db /d/a2a.db serve --host 127.0.1.11 --port 9077"), "{joined}");
        assert!(joined.contains("--quorum-writes 2"), "{joined}");
        assert!(joined.contains("--quorum-peers http://127.0.1.12:9077,http://127.0.1.13:9077"), "{joined}");
        assert!(joined.contains("--quorum-timeout-ms 2000"), "{joined}");
        assert!(joined.contains("--catchup-interval-secs 30"), "{joined}");
        assert!(!joined.contains("--tls-cert"), "{joined}");
    }

    #[test]
    fn mtls_args_include_ca_and_allowlist() {
        let config = load(None, &Overrides::default()).unwrap();
        let tls = ServeTls {
            cert: "s.pem".into(),
            key: "s.key".into(),
            ca: "ca.pem".into(),
            client_cert: "c.pem".into(),
            client_key: "c.key".into(),
            allowlist: Some("allow.txt".into()),
        };
        let spec = ServeSpec { database: "db", listen_host: "h", peer_urls: &[], tls: Some(tls) };
        let joined = serve_args(&config, &config.nodes[0], &spec).join(" ");
        for expected in ["--tls-cert s.pem", "--tls-key s.key", "--quorum-ca-cert ca.pem", "--quorum-client-cert c.pem", "--quorum-client-key c.key", "--mtls-allowlist allow.txt"] {
            assert!(joined.contains(expected), "missing {expected}: {joined}");
        }
    }
}
