//! ImportTable: a new table, filled from the files under a prefix of a bucket.
//!
//! The request is checked at once, as DynamoDB checks it: the table's parameters (the same
//! rules as CreateTable), the formats, and that no table of that name exists. The job then
//! lists the source (`s3:ListBucket`; a missing bucket fails the import *before* any table is
//! made), creates the table, and reads each file in key order (`s3:GetObject`) as a stream,
//! writing its items 25 at a time as one batch each (one WAL sync per batch, not per item):
//! the job holds one record and one batch, whatever the files' sizes. A batch
//! the table refuses is written again item by item, so one bad item costs only itself: it is
//! counted in `ErrorCount`, the others are imported. An import with errors ends `FAILED`
//! (with the first error in `FailureMessage`), one without `COMPLETED`.
//!
//! As on DynamoDB, the table is `CREATING` while the import fills it (`engine/src/table/
//! creating.rs`): described and listed, but closed to clients' reads and writes.

use std::collections::BTreeMap;
use std::sync::Arc;

use seedbed_engine::iam::authorizer::Principal;
use seedbed_engine::table::auth::Check;
use seedbed_engine::table::schema::{self, CreateTableInput};
use seedbed_engine::table::{
    ErrorKind, Item, PutItem, Request, Response, ReturnCapacity, WriteRequest,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::formats::{self, Compression, Parsed};
use super::{
    dynamo, lock, one_of, opt_str, req_str, s3_failure, seconds, validation, As, Job, Transfers,
};
use crate::errors::WireError;

/// Items per write batch (BatchWriteItem's limit).
const BATCH: usize = 25;

/// An import, as DescribeImport shows it (`ImportTableDescription`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportRecord {
    /// `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/import/ID`.
    pub import_arn: String,
    /// `IN_PROGRESS`, `COMPLETED` or `FAILED`.
    pub import_status: String,
    /// The table it creates.
    pub table_arn: String,
    /// The table's id, once it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_id: Option<String>,
    /// ClientToken, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    /// `S3Bucket`, `S3KeyPrefix`, `S3BucketOwner`, as given.
    #[serde(rename = "S3BucketSource")]
    pub s3_bucket_source: Value,
    /// `DYNAMODB_JSON` or `CSV`.
    pub input_format: String,
    /// The CSV options, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_format_options: Option<Value>,
    /// `NONE`, `GZIP` or `ZSTD`.
    pub input_compression_type: String,
    /// The table's parameters, as given.
    pub table_creation_parameters: Value,
    /// Seconds since the epoch.
    pub start_time: f64,
    /// Seconds since the epoch, once it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    /// Bytes of the source files read (as stored).
    pub processed_size_bytes: u64,
    /// Records read.
    pub processed_item_count: u64,
    /// Items written.
    pub imported_item_count: u64,
    /// Records that could not be imported.
    pub error_count: u64,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<String>,
    /// Why it failed, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
}

impl Job for ImportRecord {
    const KIND: u8 = b'I';
    const NOUN: &'static str = "Import";
    const DESCRIPTION: &'static str = "ImportTableDescription";
    const LIST: (&'static str, &'static str) = ("ImportSummaryList", "PageSize");
    const NOT_FOUND: ErrorKind = ErrorKind::ImportNotFound;
    const CONFLICT: ErrorKind = ErrorKind::ImportConflict;

    fn arn(&self) -> &str {
        &self.import_arn
    }

    fn running(&self) -> bool {
        self.import_status == "IN_PROGRESS"
    }

    fn fail(&mut self, code: &str, message: &str, now_ms: u64) {
        self.import_status = "FAILED".into();
        self.failure_code = (!code.is_empty()).then(|| code.to_string());
        self.failure_message = Some(message.to_string());
        self.end_time = Some(seconds(now_ms));
    }

    fn table_arn(&self) -> &str {
        &self.table_arn
    }

    fn client_token(&self) -> Option<&str> {
        self.client_token.as_deref()
    }

    fn same_request(&self, other: &ImportRecord) -> bool {
        self.s3_bucket_source == other.s3_bucket_source
            && self.input_format == other.input_format
            && self.input_format_options == other.input_format_options
            && self.input_compression_type == other.input_compression_type
            && self.table_creation_parameters == other.table_creation_parameters
    }

    fn summary(&self) -> Value {
        let mut v = json!({
            "ImportArn": self.import_arn,
            "ImportStatus": self.import_status,
            "TableArn": self.table_arn,
            "S3BucketSource": self.s3_bucket_source,
            "InputFormat": self.input_format,
            "StartTime": self.start_time,
        });
        if let Some(e) = self.end_time {
            v["EndTime"] = json!(e);
        }
        v
    }
}

/// What the job needs to know of the request.
struct Source {
    bucket: String,
    prefix: String,
    format: String,
    compression: Compression,
    delimiter: u8,
    header: Option<Vec<String>>,
}

fn csv_options(body: &Value) -> Result<(u8, Option<Vec<String>>), WireError> {
    let Some(csv) = body.get("InputFormatOptions").and_then(|o| o.get("Csv")) else {
        return Ok((b',', None));
    };
    let delimiter = match opt_str(csv, "Delimiter")? {
        None => b',',
        Some(d)
            if d.len() == 1
                && matches!(d.as_bytes()[0], b',' | b'\t' | b':' | b';' | b'|' | b' ') =>
        {
            d.as_bytes()[0]
        }
        Some(d) => {
            return Err(validation(format!(
                "The CSV delimiter '{d}' is not supported: use one of , \\t : ; | or a space"
            )))
        }
    };
    let header = match csv.get("HeaderList") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|h| {
                    h.as_str()
                        .map(String::from)
                        .ok_or_else(|| validation("HeaderList holds column names (strings)"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => return Err(validation("HeaderList is a list of column names")),
    };
    Ok((delimiter, header))
}

impl Transfers {
    /// ImportTable: check the request, record the job, start it.
    pub(crate) fn import_table(
        self: &Arc<Self>,
        body: &Value,
        authorize: &dyn Fn(&[Check]) -> Result<(), WireError>,
        principal: Option<Principal>,
    ) -> Result<Value, WireError> {
        let source = body
            .get("S3BucketSource")
            .filter(|v| v.is_object())
            .ok_or_else(|| {
                validation("1 validation error detected: Value null at 's3BucketSource' failed to satisfy constraint: Member must not be null")
            })?;
        let bucket = req_str(source, "S3Bucket")?;
        let prefix = opt_str(source, "S3KeyPrefix")?.unwrap_or_default();
        let format = req_str(body, "InputFormat")?;
        one_of(&format, "InputFormat", &["DYNAMODB_JSON", "ION", "CSV"])?;
        if format == "ION" {
            return Err(validation(
                "InputFormat ION is not supported by Seedbed (it has no Amazon Ion reader): use DYNAMODB_JSON or CSV",
            ));
        }
        let compression_name = opt_str(body, "InputCompressionType")?.unwrap_or("NONE".into());
        one_of(
            &compression_name,
            "InputCompressionType",
            &["GZIP", "ZSTD", "NONE"],
        )?;
        let compression = Compression::parse(&compression_name).unwrap_or(Compression::None);
        let (delimiter, header) = csv_options(body)?;
        let params = body
            .get("TableCreationParameters")
            .filter(|v| v.is_object())
            .ok_or_else(|| {
                validation("1 validation error detected: Value null at 'tableCreationParameters' failed to satisfy constraint: Member must not be null")
            })?;
        let Request::CreateTable(input) = crate::parse::request("CreateTable", params)? else {
            return Err(validation(
                "TableCreationParameters is not a table's definition",
            ));
        };
        // CreateTable's rules, now: a bad definition is the request's error, not the job's.
        schema::table_def(&input, 0, String::new(), 0).map_err(WireError::Dynamo)?;
        let table_arn = self.tables.table_arn(&input.name);
        authorize(&[Check::new("dynamodb:ImportTable", &table_arn)])?;

        let now = self.tables.now_unix_ms();
        let record = ImportRecord {
            import_arn: format!("{table_arn}/import/{}", super::job_id(now)),
            import_status: "IN_PROGRESS".into(),
            table_arn,
            table_id: None,
            client_token: opt_str(body, "ClientToken")?,
            s3_bucket_source: source.clone(),
            input_format: format.clone(),
            input_format_options: body.get("InputFormatOptions").cloned(),
            input_compression_type: compression_name,
            table_creation_parameters: params.clone(),
            start_time: seconds(now),
            end_time: None,
            processed_size_bytes: 0,
            processed_item_count: 0,
            imported_item_count: 0,
            error_count: 0,
            failure_code: None,
            failure_message: None,
        };
        {
            let mut imports = lock(&self.imports);
            if let Some(earlier) = super::retried(&imports, &record)? {
                return Ok(json!({ "ImportTableDescription": earlier }));
            }
            let busy = imports
                .values()
                .any(|r| r.import_status == "IN_PROGRESS" && r.table_arn == record.table_arn);
            if busy || self.tables.table(&input.name).is_ok() {
                return Err(dynamo(
                    ErrorKind::ResourceInUse,
                    format!("Table already exists: {}", input.name),
                ));
            }
            self.save(&record).map_err(WireError::Dynamo)?;
            imports.insert(record.import_arn.clone(), record.clone());
        }
        let src = Source {
            bucket,
            prefix,
            format,
            compression,
            delimiter,
            header,
        };
        let (me, arn) = (self.clone(), record.import_arn.clone());
        let caller = principal.unwrap_or(Principal::Anonymous);
        self.spawn("dynamodb-import", move || {
            me.run_import(&arn, &input, &src, &caller)
        })
        .map_err(WireError::Dynamo)?;
        Ok(json!({ "ImportTableDescription": record }))
    }

    /// Change the job's record in memory (DescribeImport sees progress at once).
    fn update_import(&self, arn: &str, f: impl FnOnce(&mut ImportRecord)) -> Option<ImportRecord> {
        let mut imports = lock(&self.imports);
        let r = imports.get_mut(arn)?;
        f(r);
        Some(r.clone())
    }

    fn end_import(&self, arn: &str, f: impl FnOnce(&mut ImportRecord, u64)) {
        let now = self.tables.now_unix_ms();
        if let Some(r) = self.update_import(arn, |r| f(r, now)) {
            if let Err(e) = self.save(&r) {
                log_warning(&format!("cannot record the end of import {arn}: {e}"));
            }
        }
    }

    fn run_import(&self, arn: &str, input: &CreateTableInput, src: &Source, caller: &Principal) {
        let s3 = As {
            objects: &self.objects,
            principal: caller,
        };
        let files = match s3.list(&src.bucket, &src.prefix) {
            Ok(f) => f,
            Err(e) => {
                let (code, message) = s3_failure(&e);
                return self.end_import(arn, |r, now| r.fail(&code, &message, now));
            }
        };
        // The table is CREATING from before it exists until just before the job's end is
        // recorded, so a client that sees the import COMPLETED finds the table ACTIVE.
        self.tables.begin_creating(&input.name);
        let outcome = self.fill_table(arn, input, src, &s3, files);
        self.tables.end_creating(&input.name);
        self.end_import(arn, |r, now| match outcome {
            Outcome::Failed { code, message } => r.fail(&code, &message, now),
            Outcome::Done { first_error: None } => {
                r.import_status = "COMPLETED".into();
                r.end_time = Some(seconds(now));
            }
            Outcome::Done {
                first_error: Some(e),
            } => r.fail(
                "",
                &format!(
                    "{} of {} records could not be imported; the first: {e}",
                    r.error_count, r.processed_item_count
                ),
                now,
            ),
        });
    }

    /// Create the table and write the items of every file into it.
    fn fill_table(
        &self,
        arn: &str,
        input: &CreateTableInput,
        src: &Source,
        s3: &As<'_>,
        files: Vec<(String, u64)>,
    ) -> Outcome {
        let table = match self.tables.create_table(input) {
            Ok(info) => info.def,
            Err(e) => {
                return Outcome::Failed {
                    code: e.kind.name().to_string(),
                    message: e.message,
                }
            }
        };
        self.update_import(arn, |r| r.table_id = Some(table.uuid.clone()));
        let keys: Vec<_> = table.attributes.clone();
        let mut first_error: Option<String> = None;
        for (key, size) in files {
            let mut fill = Fill {
                transfers: self,
                arn,
                table: &input.name,
                pending: Vec::with_capacity(BATCH),
                counted: (0, 0),
                ok: 0,
                bad: 0,
                first_error: None,
            };
            let read = s3.read(&src.bucket, &key, |object| {
                match src.compression.reader(Box::new(object)) {
                    Err(e) => fill.push(Err(e)),
                    Ok(mut plain) if src.format == "CSV" => formats::csv(
                        &mut plain,
                        src.delimiter,
                        src.header.as_deref(),
                        &keys,
                        &mut |p| fill.push(p),
                    ),
                    Ok(mut plain) => formats::dynamodb_json(&mut plain, &mut |p| fill.push(p)),
                }
            });
            if let Err(e) = read {
                let (code, message) = s3_failure(&e);
                return Outcome::Failed {
                    code,
                    message: format!("s3://{}/{key}: {message}", src.bucket),
                };
            }
            fill.flush();
            fill.count();
            if let Some(e) = fill.first_error {
                first_error.get_or_insert_with(|| format!("s3://{}/{key}: {e}", src.bucket));
            }
            self.update_import(arn, |r| r.processed_size_bytes += size);
        }
        Outcome::Done { first_error }
    }
}

/// How an import's filling ended.
enum Outcome {
    /// It could not go on (the table could not be made, a file could not be opened).
    Failed { code: String, message: String },
    /// Every file was read; the first record that could not be imported, if any.
    Done { first_error: Option<String> },
}

/// One source file's items on their way into the table, [`BATCH`] at a time; the counts
/// reach the job's record every [`COUNT_EVERY`] items, so DescribeImport shows a long import
/// moving.
struct Fill<'a> {
    transfers: &'a Transfers,
    arn: &'a str,
    table: &'a str,
    pending: Vec<Item>,
    /// `(ok, bad)` already added to the record.
    counted: (u64, u64),
    ok: u64,
    bad: u64,
    first_error: Option<String>,
}

/// Items between two updates of an import's counts.
const COUNT_EVERY: u64 = 10_000;

impl Fill<'_> {
    fn push(&mut self, p: Parsed) {
        match p {
            Ok(item) => {
                self.pending.push(item);
                if self.pending.len() == BATCH {
                    self.flush();
                }
            }
            Err(e) => self.refuse(e),
        }
        if self.ok + self.bad - self.counted.0 - self.counted.1 >= COUNT_EVERY {
            self.count();
        }
    }

    fn refuse(&mut self, e: String) {
        self.bad += 1;
        self.first_error.get_or_insert(e);
    }

    /// Add what was written and refused since the last time to the job's record.
    fn count(&mut self) {
        let (ok, bad) = (self.ok - self.counted.0, self.bad - self.counted.1);
        self.counted = (self.ok, self.bad);
        self.transfers.update_import(self.arn, |r| {
            r.processed_item_count += ok + bad;
            r.imported_item_count += ok;
            r.error_count += bad;
        });
    }

    /// Write the pending items as one batch. A batch the table refuses (one bad item, or two
    /// with one key) is written again item by item, so only the bad ones are lost; writing
    /// an item twice is harmless, the second write is the same.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let n = self.pending.len() as u64;
        // The items move into the batch (no copy); the pending list keeps its capacity.
        let puts = self.pending.drain(..).map(WriteRequest::Put).collect();
        let batch = Request::BatchWriteItem(
            BTreeMap::from([(self.table.to_string(), puts)]),
            ReturnCapacity::default(),
        );
        let tables = &self.transfers.tables;
        if let Ok(Response::BatchWrite(out)) = tables.execute(&batch) {
            if out.unprocessed.is_empty() {
                self.ok += n;
                return;
            }
        }
        // Refused: its items back out of the batch built above, each written on its own.
        let Request::BatchWriteItem(writes, _) = batch else {
            return;
        };
        for w in writes.into_values().flatten() {
            let WriteRequest::Put(item) = w else { continue };
            let put = Request::PutItem(PutItem {
                table: self.table.to_string(),
                item,
                ..PutItem::default()
            });
            match tables.execute(&put) {
                Ok(_) => self.ok += 1,
                Err(e) => self.refuse(e.message),
            }
        }
    }
}

/// A job's bookkeeping write failed: nothing to answer, so say it on standard error (the
/// server's log), once.
pub(crate) fn log_warning(message: &str) {
    eprintln!("seedbed dynamodb: {message}");
}
