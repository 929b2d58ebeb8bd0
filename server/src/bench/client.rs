//! A small S3 client for the load generator and the tests: one keep-alive HTTP/1.1 connection
//! (hyper's client connection, no pool), requests signed with [`seedbed_sigv4`].
//!
//! Bodies are sent with `x-amz-content-sha256: UNSIGNED-PAYLOAD`, so the client spends no time
//! hashing what it uploads (the server still checks MD5/ETag and CRCs as it writes); responses
//! are streamed and counted, not kept, unless asked for.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use seedbed_sigv4::{self as sigv4, CanonicalInput, Signer};

/// Where and as whom to connect.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The server's address.
    pub addr: SocketAddr,
    /// The Host header (`127.0.0.1:9000`).
    pub host: String,
    /// Access key ID.
    pub access_key: String,
    /// Secret.
    pub secret: String,
    /// Signing region.
    pub region: String,
}

impl Endpoint {
    /// Parse `http://HOST:PORT` (loopback only: the load generator sends nowhere else).
    pub fn parse(
        url: &str,
        access_key: &str,
        secret: &str,
        region: &str,
    ) -> anyhow::Result<Endpoint> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            anyhow!("--endpoint '{url}': give http://HOST:PORT (https is not supported)")
        })?;
        let host = rest.trim_end_matches('/');
        let addr: SocketAddr = host
            .parse()
            .or_else(|_| {
                use std::net::ToSocketAddrs;
                host.to_socket_addrs()
                    .ok()
                    .and_then(|mut a| a.next())
                    .ok_or(())
            })
            .map_err(|_| anyhow!("--endpoint '{url}': cannot resolve {host}"))?;
        if !addr.ip().is_loopback() {
            bail!("--endpoint '{url}': the load generator only sends to loopback addresses (127.0.0.0/8, ::1)");
        }
        Ok(Endpoint {
            addr,
            host: host.to_string(),
            access_key: access_key.into(),
            secret: secret.into(),
            region: region.into(),
        })
    }
}

/// What a request returned.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// Body bytes received.
    pub bytes: u64,
    /// The body, when it was kept.
    pub body: Option<Bytes>,
    /// Until the response headers arrived.
    pub ttfb: Duration,
    /// Until the body ended.
    pub total: Duration,
}

/// One connection to an S3 endpoint.
pub struct Client {
    ep: Endpoint,
    signer: Signer,
    sender: Option<http1::SendRequest<Full<Bytes>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.ep.host)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client (connects on first use).
    pub fn new(ep: Endpoint) -> Client {
        let signer = Signer::new(&ep.access_key, &ep.secret, &ep.region, "s3");
        Client {
            ep,
            signer,
            sender: None,
        }
    }

    async fn connection(&mut self) -> anyhow::Result<&mut http1::SendRequest<Full<Bytes>>> {
        let usable = self.sender.as_ref().is_some_and(|s| !s.is_closed());
        if !usable {
            let stream = TcpStream::connect(self.ep.addr)
                .await
                .with_context(|| format!("connecting to {}", self.ep.addr))?;
            stream.set_nodelay(true)?;
            let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            self.sender = Some(sender);
        }
        let s = self.sender.as_mut().expect("just connected");
        s.ready().await?;
        Ok(s)
    }

    /// Send a signed request. `path` is `/bucket/key` as given (it is URI-encoded here);
    /// `keep_body` keeps the response body, else it is counted and dropped.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        extra_headers: &[(String, String)],
        body: Bytes,
        keep_body: bool,
    ) -> anyhow::Result<Reply> {
        let encoded_path = sigv4::uri_encode(path, true);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let date = sigv4::format_amz_date(now);
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), self.ep.host.clone()),
            ("x-amz-date".into(), date.clone()),
            (
                "x-amz-content-sha256".into(),
                sigv4::UNSIGNED_PAYLOAD.into(),
            ),
        ];
        headers.extend(extra_headers.iter().cloned());
        let auth = self.signer.authorization(
            &date,
            &CanonicalInput {
                method: method.as_str(),
                path: &encoded_path,
                query,
                headers: &headers,
                payload_hash: sigv4::UNSIGNED_PAYLOAD,
            },
        );
        let qs: Vec<String> = query
            .iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    sigv4::uri_encode(k, false)
                } else {
                    format!(
                        "{}={}",
                        sigv4::uri_encode(k, false),
                        sigv4::uri_encode(v, false)
                    )
                }
            })
            .collect();
        let uri = if qs.is_empty() {
            encoded_path
        } else {
            format!("{encoded_path}?{}", qs.join("&"))
        };
        let mut b = Request::builder().method(method).uri(uri);
        for (k, v) in &headers {
            b = b.header(k, v);
        }
        b = b
            .header("authorization", auth)
            .header("content-length", body.len());
        let req = b.body(Full::new(body))?;
        let start = Instant::now();
        let sender = self.connection().await?;
        let resp = match sender.send_request(req).await {
            Ok(r) => r,
            Err(e) => {
                self.sender = None;
                return Err(e.into());
            }
        };
        let ttfb = start.elapsed();
        let status = resp.status();
        let (parts, mut incoming) = resp.into_parts();
        let mut bytes = 0u64;
        let mut kept = keep_body.then(Vec::new);
        while let Some(frame) = incoming.frame().await {
            let frame = frame?;
            if let Some(d) = frame.data_ref() {
                bytes += d.len() as u64;
                if let Some(k) = kept.as_mut() {
                    k.extend_from_slice(d);
                }
            }
        }
        Ok(Reply {
            status,
            headers: parts.headers,
            bytes,
            body: kept.map(Bytes::from),
            ttfb,
            total: start.elapsed(),
        })
    }

    /// PUT an object.
    pub async fn put(&mut self, bucket: &str, key: &str, body: Bytes) -> anyhow::Result<Reply> {
        self.send(
            Method::PUT,
            &format!("/{bucket}/{key}"),
            &[],
            &[],
            body,
            false,
        )
        .await
    }

    /// GET an object (counted, not kept).
    pub async fn get(&mut self, bucket: &str, key: &str) -> anyhow::Result<Reply> {
        self.send(
            Method::GET,
            &format!("/{bucket}/{key}"),
            &[],
            &[],
            Bytes::new(),
            false,
        )
        .await
    }

    /// HEAD an object.
    pub async fn head(&mut self, bucket: &str, key: &str) -> anyhow::Result<Reply> {
        self.send(
            Method::HEAD,
            &format!("/{bucket}/{key}"),
            &[],
            &[],
            Bytes::new(),
            false,
        )
        .await
    }

    /// DELETE an object.
    pub async fn delete(&mut self, bucket: &str, key: &str) -> anyhow::Result<Reply> {
        self.send(
            Method::DELETE,
            &format!("/{bucket}/{key}"),
            &[],
            &[],
            Bytes::new(),
            false,
        )
        .await
    }

    /// ListObjectsV2, one page.
    pub async fn list(
        &mut self,
        bucket: &str,
        prefix: &str,
        token: Option<&str>,
    ) -> anyhow::Result<Reply> {
        let mut q = vec![
            ("list-type".to_string(), "2".to_string()),
            ("max-keys".to_string(), "1000".to_string()),
            ("prefix".to_string(), prefix.to_string()),
        ];
        if let Some(t) = token {
            q.push(("continuation-token".into(), t.into()));
        }
        self.send(
            Method::GET,
            &format!("/{bucket}"),
            &q,
            &[],
            Bytes::new(),
            true,
        )
        .await
    }

    /// CreateBucket (an existing bucket of ours is fine).
    pub async fn create_bucket(&mut self, bucket: &str) -> anyhow::Result<()> {
        let r = self
            .send(
                Method::PUT,
                &format!("/{bucket}"),
                &[],
                &[],
                Bytes::new(),
                true,
            )
            .await?;
        let body = r
            .body
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        if r.status.is_success() || body.contains("BucketAlreadyOwnedByYou") {
            return Ok(());
        }
        bail!("CreateBucket {bucket}: HTTP {}: {body}", r.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_loopback_only() {
        assert!(Endpoint::parse("http://127.0.0.1:9000", "a", "b", "us-east-1").is_ok());
        assert!(Endpoint::parse("http://localhost:9000/", "a", "b", "us-east-1").is_ok());
        let e = Endpoint::parse("http://10.0.0.1:9000", "a", "b", "us-east-1").unwrap_err();
        assert!(e.to_string().contains("loopback"), "{e}");
        assert!(Endpoint::parse("https://127.0.0.1:9000", "a", "b", "us-east-1").is_err());
    }
}
