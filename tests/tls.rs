//! TLS and mTLS on real nodes: what a client without the right scheme or certificate gets,
//! and that no private key reaches the run folder.

mod common;

use std::net::Ipv4Addr;
use std::sync::Arc;

use amesh::client::{History, HttpClient, HttpRequest};
use amesh::mesh::config::{Overrides, TlsMode, load};
use amesh::mesh::{Identity, Mesh, MeshSetup};
use amesh::sut;
use common::{Harness, Running, files_under};

fn start_mesh(harness: &Harness, tls: TlsMode) -> (tokio::runtime::Runtime, Mesh) {
    let overrides = Overrides { tls: Some(tls), base_address: Some(harness.base), ..Overrides::default() };
    let config = Arc::new(load(None, &overrides).expect("the default config loads"));
    let binary = sut::ensure(&sut::Request { explicit: None, version: config.sut_version.clone() }).expect("ai-memory is installed");
    let model = match sut::staged_model(&sut::cache_dir(), false) {
        Ok(Some(root)) => sut::ModelStatus::Staged(root),
        _ => sut::ModelStatus::Unavailable("not staged".into()),
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setup = MeshSetup { config, binary, model, run_dir: harness.runs_dir(), history: Arc::new(History::disabled()) };
    let mesh = runtime.block_on(Mesh::start(setup)).expect("the TLS mesh starts");
    (runtime, mesh)
}

#[test]
fn plain_http_to_tls_node_fails() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 216, 11));
    let (runtime, mesh) = start_mesh(&harness, TlsMode::Tls);
    let node = &mesh.nodes()[0];

    let plain = HttpClient::plain().unwrap();
    let response = runtime.block_on(plain.send(HttpRequest::get(format!("http://{}/api/v1/health", node.socket_addr()))));
    let secure = runtime.block_on(mesh.client(Identity::Harness).send(HttpRequest::get(format!("{}/api/v1/health", mesh.url(node)))));
    runtime.block_on(mesh.teardown()).unwrap();

    assert_eq!(response.status, 0, "a plain request got an HTTP answer: {}", response.body);
    let error = response.error.expect("a transport error is reported");
    assert!(error.contains(&node.socket_addr().to_string()), "the error names the node: {error}");
    assert!(mesh.url(node).starts_with("https://"), "{}", mesh.url(node));
    assert_eq!(secure.status, 200, "the harness failed over https: {:?}", secure.error);
}

#[test]
fn mtls_rejects_anonymous_client() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 217, 11));
    let (runtime, mesh) = start_mesh(&harness, TlsMode::Mtls);
    let node = &mesh.nodes()[0];
    let health = format!("{}/api/v1/health", mesh.url(node));

    let anonymous = runtime.block_on(mesh.client(Identity::Anonymous).send(HttpRequest::get(health.clone())));
    let harness_call = runtime.block_on(mesh.client(Identity::Harness).send(HttpRequest::get(health.clone())));
    let peer_call = runtime.block_on(mesh.client(Identity::Node(2)).send(HttpRequest::get(health)));
    runtime.block_on(mesh.teardown()).unwrap();

    assert_eq!(anonymous.status, 0, "an anonymous client got HTTP {}", anonymous.status);
    let error = anonymous.error.unwrap_or_default();
    assert!(error.contains("CertificateRequired"), "expected the certificate-required alert: {error}");
    assert_eq!(harness_call.status, 200, "the harness certificate was rejected: {:?}", harness_call.error);
    assert_eq!(peer_call.status, 200, "node-2's quorum certificate was rejected: {:?}", peer_call.error);
}

#[test]
fn mtls_campaign_writes_no_keys() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 218, 11));

    let command = harness.command(&["testbook", "--tls", "mtls", "--campaign", "c-mtls", "--scenarios", "15", "20", "21"]);
    let finished = Running::spawn(command).wait(common::SHORT_RUN_LIMIT);

    assert_eq!(finished.code(), 0, "stderr:\n{}", finished.stderr);
    assert_eq!(finished.verdict("20")["pass"], true);
    assert_eq!(finished.verdict("21")["pass"], true);
    assert_eq!(finished.verdict("21")["anonymous_probe"]["http_code"], "000");
    let files = files_under(&harness.runs_dir());
    assert!(!files.is_empty(), "the campaign wrote no files");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("PRIVATE KEY"), "{} contains private key material", file.display());
    }
}
