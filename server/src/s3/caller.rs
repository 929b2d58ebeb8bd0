//! Who is calling, and the per-request record that the access log and the metrics read.
//!
//! The access check ([`super::auth`]) resolves the signed access key (or its absence) to the
//! engine's principal and puts a [`Caller`] into the request's extensions; every operation
//! reads it back to build the IAM request context.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use seedbed_engine::iam::authorizer::Principal;

/// The caller of one request.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The principal IAM evaluates (anonymous for unsigned requests).
    pub principal: Principal,
    /// The access key the request was signed with.
    pub access_key: Option<String>,
    /// The client's address (`aws:SourceIp`).
    pub peer: Option<SocketAddr>,
    /// `User-Agent` (`aws:UserAgent`).
    pub user_agent: Option<String>,
    /// `Referer` (`aws:Referer`).
    pub referer: Option<String>,
}

impl Caller {
    /// The global condition keys S3 sets for this caller. `aws:SecureTransport` is false: the
    /// endpoint speaks plain HTTP.
    pub fn context(&self) -> Vec<(String, Vec<String>)> {
        let mut v = vec![("aws:SecureTransport".to_string(), vec!["false".to_string()])];
        if let Some(p) = self.peer {
            v.push(("aws:SourceIp".into(), vec![p.ip().to_string()]));
        }
        if let Some(ua) = &self.user_agent {
            v.push(("aws:UserAgent".into(), vec![ua.clone()]));
        }
        if let Some(r) = &self.referer {
            v.push(("aws:Referer".into(), vec![r.clone()]));
        }
        v
    }

    /// The principal as the access log names it.
    pub fn name(&self) -> String {
        self.principal.log_name()
    }
}

/// What one request did, filled in as it goes; read by the access log and the metrics when the
/// response ends.
#[derive(Clone, Debug, Default)]
pub struct Record {
    /// S3's operation name (GetObject, ...).
    pub operation: String,
    /// Bucket, if any.
    pub bucket: String,
    /// Key, if any.
    pub key: String,
    /// The principal's name.
    pub principal: String,
    /// Request body bytes the store took in.
    pub bytes_in: u64,
}

/// A [`Record`] shared between the connection layer and the operation.
pub type SharedRecord = Arc<Mutex<Record>>;

/// The request id, in the request's extensions.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The client's address, in the request's extensions.
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr);
