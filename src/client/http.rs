//! HTTP requests that return responses and transport failures alike as data.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use reqwest::Method;
use serde_json::Value;

/// Default per-request timeout: upstream killed every in-node curl after 60 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// One request to a node.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub timeout: Duration,
}

impl HttpRequest {
    pub fn get(url: impl Into<String>) -> Self {
        Self { method: Method::GET, url: url.into(), headers: Vec::new(), body: None, timeout: DEFAULT_TIMEOUT }
    }
}

/// What came back: `status` is 0 and `error` contains the transport error when no HTTP response
/// arrived.
#[derive(Debug, Clone, Default)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
    pub json: Option<Value>,
    pub elapsed_ms: u64,
    pub error: Option<String>,
}

/// Transport settings of a client: plain HTTP, or HTTPS trusting the mesh CA, optionally with a
/// client certificate.
#[derive(Debug, Clone, Default)]
pub struct TlsProfile {
    /// PEM of the CA that signed the nodes' certificates; `None` means plain HTTP.
    pub ca_pem: Option<String>,
    /// Certificate then private key, PEM, presented to nodes that require a client certificate.
    pub identity_pem: Option<Vec<u8>>,
}

/// A reqwest client bound to one TLS profile.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
}

impl HttpClient {
    /// Creates a client for plain-HTTP nodes.
    pub fn plain() -> Result<Self> {
        Self::new(&TlsProfile::default())
    }

    /// Creates a client for `profile`. With a CA it trusts that CA only, so a node certificate from
    /// anywhere else fails the handshake.
    pub fn new(profile: &TlsProfile) -> Result<Self> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .pool_idle_timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5));
        if let Some(ca) = &profile.ca_pem {
            builder = builder
                .use_rustls_tls()
                .tls_built_in_root_certs(false)
                .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes())?);
        }
        if let Some(identity) = &profile.identity_pem {
            builder = builder.identity(reqwest::Identity::from_pem(identity)?);
        }
        Ok(Self { client: builder.build()? })
    }

    /// Sends the request. Every request carries `Content-Type: application/json`, as upstream's
    /// harness did, unless the caller sets another.
    pub async fn send(&self, request: HttpRequest) -> HttpResponse {
        let started = Instant::now();
        let mut builder = self.client.request(request.method, &request.url).timeout(request.timeout);
        if !request.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            builder = builder.header("Content-Type", "application/json");
        }
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }

        let response = match builder.send().await {
            Ok(response) => response,
            Err(err) => return failure(err, started),
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        match response.bytes().await {
            Ok(bytes) => {
                let body = String::from_utf8_lossy(&bytes).into_owned();
                let json = serde_json::from_slice(&bytes).ok();
                HttpResponse { status, headers, body, json, elapsed_ms: elapsed_ms(started), error: None }
            }
            Err(err) => HttpResponse {
                status,
                headers,
                error: Some(format!("reading the response body failed: {}", error_chain(&err))),
                elapsed_ms: elapsed_ms(started),
                ..Default::default()
            },
        }
    }
}

fn failure(err: reqwest::Error, started: Instant) -> HttpResponse {
    let text = if err.is_timeout() {
        format!("timed out: {}", error_chain(&err))
    } else {
        error_chain(&err)
    };
    HttpResponse { error: Some(text), elapsed_ms: elapsed_ms(started), ..Default::default() }
}

fn elapsed_ms(started: Instant) -> u64 {
    started.elapsed().as_millis() as u64
}

/// Joins an error and its sources: reqwest's top-level text alone hides "connection refused".
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
