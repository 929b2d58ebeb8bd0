//! The S3 endpoint's state, and how an operation runs: the caller from the request, the engine
//! call on a blocking thread (the engine is synchronous), engine errors as S3 errors with the
//! request id.

use std::sync::Arc;

use s3s::{S3Error, S3Request, S3Result};
use seedbed_engine::iam::authorizer::Principal;
use seedbed_engine::object::{AuthorizedStore, Guard, ObjectError, ObjectStore, Requester};
use tokio::runtime::Handle;

use super::caller::{Caller, RequestId, SharedRecord};
use super::errors::{from_object, internal};
use crate::config::Limits;
use crate::identity::IdentityStore;

/// What every S3 operation shares.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The object store.
    pub store: Arc<ObjectStore>,
    /// Identities and IAM.
    pub identity: Arc<IdentityStore>,
    /// Client limits.
    pub limits: Limits,
    /// The region reported.
    pub region: String,
    /// The runtime the blocking threads stream through.
    pub handle: Handle,
    /// Server access logging: which buckets log, and the records waiting for delivery.
    pub logs: Arc<super::access_log::AccessLogs>,
    /// How long a lifecycle "day" is (`--lifecycle-day-secs`; a real day by default).
    pub lifecycle_day: seedbed_engine::object::lifecycle::DayLength,
    /// How RestoreObject is timed (the lifecycle day, or `--restore-secs`).
    pub restore_timing: seedbed_engine::object::restore::RestoreTiming,
}

/// One operation's view: the caller and the request id.
#[derive(Debug, Clone)]
pub struct Cx {
    /// The store.
    pub store: Arc<ObjectStore>,
    /// The guard (IAM, accounts).
    pub guard: Arc<Guard>,
    /// Who calls.
    pub caller: Caller,
    /// This request's id.
    pub request_id: String,
    /// The access log record.
    pub record: Option<SharedRecord>,
}

/// Extra condition keys of one operation (`s3:VersionId`, ...).
pub type Keys = Vec<(String, Vec<String>)>;

impl Endpoint {
    /// The operation's view of a request.
    pub fn cx<T>(&self, req: &S3Request<T>) -> Cx {
        let caller = req.extensions.get::<Caller>().cloned().unwrap_or(Caller {
            principal: Principal::Anonymous,
            access_key: None,
            peer: None,
            user_agent: None,
            referer: None,
        });
        Cx {
            store: self.store.clone(),
            guard: self.identity.guard().clone(),
            caller,
            request_id: req
                .extensions
                .get::<RequestId>()
                .map(|r| r.0.clone())
                .unwrap_or_default(),
            record: req.extensions.get::<SharedRecord>().cloned(),
        }
    }
}

impl Cx {
    /// An S3 error with this request's id.
    pub fn err(&self, mut e: S3Error) -> S3Error {
        e.set_request_id(self.request_id.clone());
        e
    }

    /// An engine error as S3's, with this request's id.
    pub fn object_err(&self, e: &ObjectError) -> S3Error {
        self.err(from_object(e))
    }

    /// The IAM context of this caller plus `extra` keys, owned.
    pub fn context(&self, extra: Keys) -> Keys {
        let mut keys = self.caller.context();
        keys.extend(extra);
        keys
    }

    /// Run `f` on the store as this caller, on a blocking thread.
    pub async fn run<T, F>(&self, extra: Keys, f: F) -> S3Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&AuthorizedStore<'_>) -> Result<T, ObjectError> + Send + 'static,
    {
        let store = self.store.clone();
        let guard = self.guard.clone();
        let principal = self.caller.principal.clone();
        let keys = self.context(extra);
        let result = tokio::task::spawn_blocking(move || {
            with_requester(&principal, &keys, |r| f(&guard.on(&store, r)))
        })
        .await;
        match result {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.object_err(&e)),
            Err(e) => Err(self.err(internal(format!("the operation failed: {e}")))),
        }
    }

    /// Add body bytes to the access log record.
    pub fn count_in(&self, n: u64) {
        if let Some(r) = &self.record {
            r.lock().unwrap_or_else(|p| p.into_inner()).bytes_in += n;
        }
    }
}

/// Call `f` with a [`Requester`] borrowing `principal` and `keys`.
pub fn with_requester<R>(
    principal: &Principal,
    keys: &Keys,
    f: impl FnOnce(Requester<'_>) -> R,
) -> R {
    let values: Vec<Vec<&str>> = keys
        .iter()
        .map(|(_, v)| v.iter().map(String::as_str).collect())
        .collect();
    let refs: Vec<(&str, &[&str])> = keys
        .iter()
        .zip(&values)
        .map(|((k, _), v)| (k.as_str(), v.as_slice()))
        .collect();
    f(Requester {
        principal,
        context: &refs,
    })
}
