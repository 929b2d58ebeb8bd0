//! DynamoDB's import from S3 and export to S3, between the tables and the server's own object
//! store: `ImportTable`, `DescribeImport`, `ListImports`, `ExportTableToPointInTime`,
//! `DescribeExport`, `ListExports`.
//!
//! An import or export is a job: the request is checked and answered at once (`IN_PROGRESS`,
//! with the ARN to poll), and a thread does the work. Each job is a record — exactly the
//! description DynamoDB answers with (`ImportTableDescription`, `ExportDescription`) — kept in
//! the tables' LSM beside the catalog (`keys::transfer_key`) and written when the job starts and
//! when it ends, so the descriptions outlive a restart. A job that was running when the server
//! stopped is `FAILED` when it opens again (`FailureCode` `UNKNOWN`, a message that says so);
//! what it had written stays.
//!
//! The object store is read and written *as the caller*: each S3 request of the job goes
//! through the same IAM decision as the S3 endpoint's (identity policies, the bucket policy,
//! ACLs), with `aws:CalledVia` = `dynamodb.amazonaws.com` and `aws:ViaAWSService` = `true` as
//! AWS sets them for requests a service makes on a caller's behalf. An import needs
//! `s3:ListBucket` and `s3:GetObject`, an export `s3:PutObject`; a denial fails the job with
//! `S3AccessDenied`, a missing bucket with `S3NoSuchBucket`.
//!
//! Jobs run on threads of their own: this module serves the real server only (the simulator
//! never builds one).
//!
//! | module | what it is |
//! |---|---|
//! | [`formats`] | compression, DynamoDB JSON lines, CSV |
//! | [`import`] | ImportTable: the request, the job |
//! | [`export`] | ExportTableToPointInTime: the request, the job, the files it writes |

pub mod export;
pub mod formats;
pub mod import;

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use seedbed_engine::iam::authorizer::{Principal, Requester};
use seedbed_engine::lsm::ReadOptions;
use seedbed_engine::object::auth::Guard;
use seedbed_engine::object::sse::SseRequest;
use seedbed_engine::object::{GetOptions, ListOptions, ObjectError, ObjectStore, PutOptions};
use seedbed_engine::table::auth::Check;
use seedbed_engine::table::{keys, DynamoError, ErrorKind, Tables};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::errors::WireError;

pub use export::ExportRecord;
pub use import::ImportRecord;

/// The operations this module serves.
pub const OPERATIONS: [&str; 6] = [
    "ImportTable",
    "DescribeImport",
    "ListImports",
    "ExportTableToPointInTime",
    "DescribeExport",
    "ListExports",
];

/// Whether `operation` is an import or export operation.
pub fn handles(operation: &str) -> bool {
    OPERATIONS.contains(&operation)
}

/// The object store imports read and exports write, and the IAM side that decides each of
/// their requests (`None`: an endpoint without IAM, whose jobs are not checked either).
pub struct Objects {
    /// The store.
    pub store: Arc<ObjectStore>,
    /// Identities and policies.
    pub guard: Option<Arc<Guard>>,
}

/// The context of a request a service makes for its caller.
const VIA_DYNAMODB: [(&str, &[&str]); 2] = [
    ("aws:CalledVia", &["dynamodb.amazonaws.com"]),
    ("aws:ViaAWSService", &["true"]),
];

/// The object store as one caller sees it.
pub(crate) struct As<'a> {
    objects: &'a Objects,
    principal: &'a Principal,
}

impl As<'_> {
    /// Every key under `prefix` in `bucket`, in key order, with its size.
    pub(crate) fn list(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<(String, u64)>, ObjectError> {
        let mut out = Vec::new();
        let mut opts = ListOptions {
            prefix: prefix.to_string(),
            ..ListOptions::default()
        };
        loop {
            let page = match &self.objects.guard {
                Some(g) => g
                    .on(&self.objects.store, self.requester())
                    .list_objects(bucket, &opts)?,
                None => self.objects.store.list_objects(bucket, &opts)?,
            };
            out.extend(page.entries.into_iter().map(|e| (e.key, e.size)));
            match page.next_token {
                Some(t) if page.is_truncated => opts.continuation_token = Some(t),
                _ => return Ok(out),
            }
        }
    }

    /// Open `key` and hand its bytes to `f` as a stream (read a stripe at a time).
    pub(crate) fn read<R>(
        &self,
        bucket: &str,
        key: &str,
        f: impl FnOnce(&mut dyn Read) -> R,
    ) -> Result<R, ObjectError> {
        let opts = GetOptions::default();
        Ok(match &self.objects.guard {
            Some(g) => {
                let store = g.on(&self.objects.store, self.requester());
                let r = store.open_object(bucket, key, &opts)?;
                f(&mut r.chunks())
            }
            None => {
                let r = self.objects.store.open_object(bucket, key, &opts)?;
                f(&mut r.chunks())
            }
        })
    }

    /// Write `body` as `key`, encrypted as `sse` asks (else as the bucket's default says);
    /// returns its ETag.
    pub(crate) fn put(
        &self,
        bucket: &str,
        key: &str,
        body: &[u8],
        sse: Option<SseRequest>,
    ) -> Result<String, ObjectError> {
        let opts = PutOptions {
            sse,
            ..PutOptions::default()
        };
        let size = body.len() as u64;
        let mut src = body;
        let r = match &self.objects.guard {
            Some(g) => g
                .on(&self.objects.store, self.requester())
                .put_object(bucket, key, &mut src, size, &opts)?,
            None => self
                .objects
                .store
                .put_object(bucket, key, &mut src, size, &opts)?,
        };
        Ok(r.etag)
    }

    fn requester(&self) -> Requester<'_> {
        Requester {
            principal: self.principal,
            context: &VIA_DYNAMODB,
        }
    }
}

/// A failed S3 request as a job's `FailureCode` and `FailureMessage`, in DynamoDB's words.
pub(crate) fn s3_failure(e: &ObjectError) -> (String, String) {
    match e {
        ObjectError::NoSuchBucket(b) => (
            "S3NoSuchBucket".into(),
            format!("The specified bucket does not exist (bucket {b})"),
        ),
        ObjectError::AccessDenied(m) => ("S3AccessDenied".into(), format!("Access Denied: {m}")),
        other => ("UNKNOWN".into(), other.to_string()),
    }
}

/// Imports and exports of one endpoint.
pub struct Transfers {
    pub(crate) tables: Arc<Tables>,
    pub(crate) objects: Objects,
    pub(crate) imports: Mutex<BTreeMap<String, ImportRecord>>,
    pub(crate) exports: Mutex<BTreeMap<String, ExportRecord>>,
    running: Mutex<Vec<JoinHandle<()>>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a job interrupted by a stop says.
const INTERRUPTED: &str =
    "the server stopped while this job ran; what it had written before the stop remains";

/// The records of one kind in `tables`' database; a job a stop interrupted is marked
/// `FAILED` (and written so).
fn reopen<J: Job>(tables: &Tables, now_ms: u64) -> Result<BTreeMap<String, J>, DynamoError> {
    let (lo, hi) = keys::transfer_range(J::KIND);
    let mut it = tables
        .db()
        .iter(ReadOptions::default(), Some(&lo), Some(&hi));
    it.seek_to_first()?;
    let mut out = BTreeMap::new();
    while it.valid() {
        let mut r: J = serde_json::from_slice(it.value()).map_err(|e| {
            DynamoError::internal(
                format!(
                    "import/export record {:?} is corrupt: {e}",
                    String::from_utf8_lossy(it.key())
                ),
                e,
            )
        })?;
        if r.running() {
            r.fail("UNKNOWN", INTERRUPTED, now_ms);
            save_record(tables, &r)?;
        }
        out.insert(r.arn().to_string(), r);
        it.next()?;
    }
    Ok(out)
}

/// Write a job's record.
fn save_record<J: Job>(tables: &Tables, r: &J) -> Result<(), DynamoError> {
    let v = serde_json::to_vec(r).map_err(|e| DynamoError::internal("record", e))?;
    tables.db().put(&keys::transfer_key(J::KIND, r.arn()), &v)?;
    Ok(())
}

impl Transfers {
    /// The imports and exports recorded in `tables`' database; jobs a stop interrupted are
    /// marked `FAILED`.
    pub fn open(tables: Arc<Tables>, objects: Objects) -> Result<Arc<Transfers>, DynamoError> {
        let now = tables.now_unix_ms();
        Ok(Arc::new(Transfers {
            imports: Mutex::new(reopen(&tables, now)?),
            exports: Mutex::new(reopen(&tables, now)?),
            running: Mutex::new(Vec::new()),
            tables,
            objects,
        }))
    }

    /// Write a job's record.
    pub(crate) fn save<J: Job>(&self, r: &J) -> Result<(), DynamoError> {
        save_record(&self.tables, r)
    }

    /// Run `job` on a thread of its own.
    pub(crate) fn spawn(
        &self,
        name: &str,
        job: impl FnOnce() + Send + 'static,
    ) -> Result<(), DynamoError> {
        let h = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(job)
            .map_err(|e| DynamoError::internal("cannot start the job's thread", e))?;
        let mut running = lock(&self.running);
        running.retain(|h| !h.is_finished());
        running.push(h);
        Ok(())
    }

    /// Wait until every job started so far has ended.
    pub fn wait(&self) {
        let handles: Vec<JoinHandle<()>> = lock(&self.running).drain(..).collect();
        for h in handles {
            let _ = h.join();
        }
    }

    /// Handle one of [`OPERATIONS`]: `body` is the request JSON, `authorize` decides the
    /// checks the operation needs (the endpoint's IAM), `principal` is who the jobs act as
    /// (`None` on an endpoint without IAM). Returns the response JSON.
    pub fn handle(
        self: &Arc<Self>,
        operation: &str,
        body: &Value,
        authorize: &dyn Fn(&[Check]) -> Result<(), WireError>,
        principal: Option<Principal>,
    ) -> Result<Value, WireError> {
        if !body.is_object() {
            return Err(WireError::Serialization(
                "Start of structure or map expected".into(),
            ));
        }
        match operation {
            "ImportTable" => self.import_table(body, authorize, principal),
            "DescribeImport" => self.describe(&self.imports, body, authorize),
            "ListImports" => self.list(&self.imports, body, authorize),
            "ExportTableToPointInTime" => self.export_table(body, authorize, principal),
            "DescribeExport" => self.describe(&self.exports, body, authorize),
            "ListExports" => self.list(&self.exports, body, authorize),
            _ => Err(WireError::UnknownOperation),
        }
    }
}

/// What import and export records share, for the operations that treat them alike
/// (Describe…, List…, a ClientToken's retry).
pub(crate) trait Job: Clone + Serialize + DeserializeOwned {
    /// The kind byte of its records' keys (`keys::transfer_key`): `I` or `E`.
    const KIND: u8;
    /// `Import` or `Export`: in action names, members and messages.
    const NOUN: &'static str;
    /// The member Describe… answers with (`ImportTableDescription`, `ExportDescription`).
    const DESCRIPTION: &'static str;
    /// The list List… answers with, and its page-size parameter.
    const LIST: (&'static str, &'static str);
    /// Describe… of an unknown ARN.
    const NOT_FOUND: ErrorKind;
    /// A ClientToken reused with other parameters.
    const CONFLICT: ErrorKind;
    fn arn(&self) -> &str;
    fn table_arn(&self) -> &str;
    fn client_token(&self) -> Option<&str>;
    /// Whether `other` asks for the same job (a ClientToken's retry).
    fn same_request(&self, other: &Self) -> bool;
    /// List…'s entry.
    fn summary(&self) -> Value;
    /// Whether the job is `IN_PROGRESS`.
    fn running(&self) -> bool;
    /// End the job `FAILED` (an empty `code`: no `FailureCode`).
    fn fail(&mut self, code: &str, message: &str, now_ms: u64);
}

impl Transfers {
    /// DescribeImport / DescribeExport.
    fn describe<J: Job>(
        &self,
        jobs: &Mutex<BTreeMap<String, J>>,
        body: &Value,
        authorize: &dyn Fn(&[Check]) -> Result<(), WireError>,
    ) -> Result<Value, WireError> {
        let arn = req_str(body, &format!("{}Arn", J::NOUN))?;
        authorize(&[Check::new(&format!("dynamodb:Describe{}", J::NOUN), &arn)])?;
        let r = lock(jobs)
            .get(&arn)
            .cloned()
            .ok_or_else(|| dynamo(J::NOT_FOUND, format!("{} not found: {arn}", J::NOUN)))?;
        Ok(json!({ J::DESCRIPTION: r }))
    }

    /// ListImports / ListExports: by ARN, `TableArn` filtering.
    fn list<J: Job>(
        &self,
        jobs: &Mutex<BTreeMap<String, J>>,
        body: &Value,
        authorize: &dyn Fn(&[Check]) -> Result<(), WireError>,
    ) -> Result<Value, WireError> {
        authorize(&[Check::new(&format!("dynamodb:List{}s", J::NOUN), "*")])?;
        let (member, size_key) = J::LIST;
        let table = opt_str(body, "TableArn")?;
        let size = page_size(body, size_key)?;
        let next = opt_str(body, "NextToken")?;
        let jobs = lock(jobs);
        let (page, token) = paginate(
            jobs.values()
                .filter(|r| table.as_deref().is_none_or(|t| r.table_arn() == t)),
            |r| r.arn(),
            size,
            next.as_deref(),
        );
        let list: Vec<Value> = page.into_iter().map(J::summary).collect();
        let mut out = json!({ member: list });
        if let Some(t) = token {
            out["NextToken"] = json!(t);
        }
        Ok(out)
    }
}

/// A new job's ClientToken against the jobs so far: the earlier job if it is the same request
/// (answer it again), a conflict if the token was used for another, nothing if it is new.
pub(crate) fn retried<J: Job>(jobs: &BTreeMap<String, J>, new: &J) -> Result<Option<J>, WireError> {
    let Some(token) = new.client_token() else {
        return Ok(None);
    };
    match jobs.values().find(|r| r.client_token() == Some(token)) {
        None => Ok(None),
        Some(earlier) if earlier.same_request(new) => Ok(Some(earlier.clone())),
        Some(earlier) => Err(dynamo(
            J::CONFLICT,
            format!(
                "ClientToken {token} was used for another {} ({})",
                J::NOUN.to_lowercase(),
                earlier.arn()
            ),
        )),
    }
}

/// At most `size` records after the one named `after` (records are in ARN order), and the
/// token to continue from when more follow.
fn paginate<'a, T: 'a>(
    records: impl Iterator<Item = &'a T>,
    arn: impl Fn(&T) -> &str,
    size: usize,
    after: Option<&str>,
) -> (Vec<&'a T>, Option<String>) {
    let mut page: Vec<&T> = records
        .filter(|r| after.is_none_or(|a| arn(r) > a))
        .take(size + 1)
        .collect();
    let more = page.len() > size;
    page.truncate(size);
    let token = if more {
        page.last().map(|r| arn(r).to_string())
    } else {
        None
    };
    (page, token)
}

pub(crate) fn dynamo(kind: ErrorKind, message: impl Into<String>) -> WireError {
    WireError::Dynamo(DynamoError::new(kind, message))
}

pub(crate) fn validation(message: impl Into<String>) -> WireError {
    WireError::Validation(message.into())
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

pub(crate) fn opt_str(v: &Value, k: &str) -> Result<Option<String>, WireError> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(WireError::Serialization(format!("{k}: expected a string"))),
    }
}

pub(crate) fn req_str(v: &Value, k: &str) -> Result<String, WireError> {
    opt_str(v, k)?.ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(k)
        ))
    })
}

/// A value of a closed set (`InputFormat`, …), in DynamoDB's words when it is not one.
pub(crate) fn one_of(value: &str, member: &str, allowed: &[&str]) -> Result<(), WireError> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(validation(format!(
        "1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
        lower_first(member),
        allowed.join(", ")
    )))
}

/// A list's page size (`PageSize`, `MaxResults`): 1 to 25, 25 when not given.
fn page_size(v: &Value, k: &str) -> Result<usize, WireError> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(25),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(x @ 1..=25) => Ok(usize::try_from(x).unwrap_or(25)),
            _ => Err(validation(format!(
                "1 validation error detected: Value '{n}' at '{}' failed to satisfy constraint: Member must have value between 1 and 25",
                lower_first(k)
            ))),
        },
        Some(_) => Err(WireError::Serialization(format!("{k}: expected a number"))),
    }
}

/// Seconds since the epoch, as DynamoDB's JSON writes timestamps.
pub(crate) fn seconds(unix_ms: u64) -> f64 {
    unix_ms as f64 / 1000.0
}

/// A job id as DynamoDB writes them: the start time's milliseconds, 14 digits, and 8 hex
/// digits (`01700000000000-1a2b3c4d`).
pub(crate) fn job_id(now_ms: u64) -> String {
    // The last 32 bits of a v7 UUID are random.
    let random = u32::try_from(uuid::Uuid::now_v7().as_u128() & 0xffff_ffff).unwrap_or(0);
    format!("{now_ms:014}-{random:08x}")
}
