//! The three ways the benchmark reaches a table, behind one trait so the workloads are the same:
//!
//! * [`Engine`] — the in-process table API (typed requests, no JSON);
//! * [`Json`] — the same through DynamoDB's JSON protocol in process (`seedbed-dynamo`'s
//!   handler: parse, run, render), which isolates the protocol's cost from HTTP's;
//! * [`Http`] — an endpoint over HTTP/1.1 with keep-alive (one connection per client thread),
//!   SigV4-signed when keys are given — `seedbed serve`, DynamoDB Local, moto or DynamoDB.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

use seedbed_dynamo::handler;
use seedbed_engine::table::{
    AttributeValue, GetItem, Item, Number, PutItem, Search, Tables, UpdateItem,
};
use seedbed_sigv4::Signer;

use super::ycsb::key_of;

/// Operations the workloads need.
pub trait Store: Send {
    /// GetItem; whether the record was there.
    fn get(&mut self, n: u64) -> Result<bool>;
    /// PutItem of a whole record.
    fn put(&mut self, n: u64, fields: &[String]) -> Result<()>;
    /// UpdateItem of one field.
    fn update(&mut self, n: u64, field: usize, value: &str) -> Result<()>;
    /// Query from record `n`, at most `len` records; how many came back.
    fn scan(&mut self, n: u64, len: u32) -> Result<usize>;
}

/// The table's name in every benchmark.
pub const TABLE: &str = "usertable";

/// CreateTable's body for the benchmark table.
pub fn create_table_body() -> Value {
    json!({
        "TableName": TABLE,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
        "BillingMode": "PAY_PER_REQUEST"
    })
}

fn key_json(n: u64) -> Value {
    let (pk, sk) = key_of(n);
    json!({"pk": {"S": pk}, "sk": {"N": sk.to_string()}})
}

fn item_json(n: u64, fields: &[String]) -> Value {
    let mut item = key_json(n);
    for (i, f) in fields.iter().enumerate() {
        item[format!("field{i}")] = json!({"S": f});
    }
    item
}

/// JSON request bodies of the four operations.
pub fn body(op: &str, n: u64, fields: &[String], field: usize, value: &str, len: u32) -> Value {
    match op {
        "GetItem" => json!({"TableName": TABLE, "Key": key_json(n)}),
        "PutItem" => json!({"TableName": TABLE, "Item": item_json(n, fields)}),
        "UpdateItem" => json!({
            "TableName": TABLE, "Key": key_json(n),
            "UpdateExpression": "SET #f = :v",
            "ExpressionAttributeNames": {"#f": format!("field{field}")},
            "ExpressionAttributeValues": {":v": {"S": value}}
        }),
        _ => {
            let (pk, sk) = key_of(n);
            json!({
                "TableName": TABLE,
                "KeyConditionExpression": "pk = :p AND sk >= :s",
                "ExpressionAttributeValues": {":p": {"S": pk}, ":s": {"N": sk.to_string()}},
                "Limit": len
            })
        }
    }
}

/// The in-process table API.
pub struct Engine(pub Arc<Tables>);

fn key_item(n: u64) -> Item {
    let (pk, sk) = key_of(n);
    let mut k = Item::new();
    k.insert("pk".into(), AttributeValue::S(pk));
    k.insert("sk".into(), AttributeValue::N(Number::from_i64(sk as i64)));
    k
}

impl Store for Engine {
    fn get(&mut self, n: u64) -> Result<bool> {
        let out = self.0.get_item(&GetItem {
            table: TABLE.into(),
            key: key_item(n),
            ..GetItem::default()
        })?;
        Ok(out.item.is_some())
    }

    fn put(&mut self, n: u64, fields: &[String]) -> Result<()> {
        let mut item = key_item(n);
        for (i, f) in fields.iter().enumerate() {
            item.insert(format!("field{i}"), AttributeValue::S(f.clone()));
        }
        self.0.put_item(&PutItem {
            table: TABLE.into(),
            item,
            ..PutItem::default()
        })?;
        Ok(())
    }

    fn update(&mut self, n: u64, field: usize, value: &str) -> Result<()> {
        self.0.update_item(&UpdateItem {
            table: TABLE.into(),
            key: key_item(n),
            update: Some("SET #f = :v".into()),
            names: Some([("#f".to_string(), format!("field{field}"))].into()),
            values: Some([(":v".to_string(), AttributeValue::S(value.to_string()))].into()),
            ..UpdateItem::default()
        })?;
        Ok(())
    }

    fn scan(&mut self, n: u64, len: u32) -> Result<usize> {
        let (pk, sk) = key_of(n);
        let out = self.0.query(&Search {
            table: TABLE.into(),
            key_condition: Some("pk = :p AND sk >= :s".into()),
            values: Some(
                [
                    (":p".to_string(), AttributeValue::S(pk)),
                    (
                        ":s".to_string(),
                        AttributeValue::N(Number::from_i64(sk as i64)),
                    ),
                ]
                .into(),
            ),
            limit: Some(len),
            ..Search::default()
        })?;
        Ok(out.items.len())
    }
}

/// The JSON protocol in process.
pub struct Json(pub Arc<Tables>);

impl Json {
    fn call(&self, op: &str, body: &Value) -> Result<Value> {
        let r = handler::handle(
            &self.0,
            Some(&format!("DynamoDB_20120810.{op}")),
            body.to_string().as_bytes(),
            None,
        );
        let v: Value = serde_json::from_slice(&r.body)?;
        if r.status != 200 {
            bail!("{op}: HTTP {}: {v}", r.status);
        }
        Ok(v)
    }
}

impl Store for Json {
    fn get(&mut self, n: u64) -> Result<bool> {
        Ok(self
            .call("GetItem", &body("GetItem", n, &[], 0, "", 0))?
            .get("Item")
            .is_some())
    }
    fn put(&mut self, n: u64, fields: &[String]) -> Result<()> {
        self.call("PutItem", &body("PutItem", n, fields, 0, "", 0))
            .map(|_| ())
    }
    fn update(&mut self, n: u64, field: usize, value: &str) -> Result<()> {
        self.call("UpdateItem", &body("UpdateItem", n, &[], field, value, 0))
            .map(|_| ())
    }
    fn scan(&mut self, n: u64, len: u32) -> Result<usize> {
        let v = self.call("Query", &body("Query", n, &[], 0, "", len))?;
        Ok(v["Items"].as_array().map_or(0, Vec::len))
    }
}

/// Credentials for signing.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret: String,
    /// Region.
    pub region: String,
}

/// A DynamoDB endpoint over HTTP/1.1, one keep-alive connection.
pub struct Http {
    host: String,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// Signs for service `dynamodb` (its signing key cached per day).
    signer: Option<Signer>,
}

impl Http {
    /// Connect to `endpoint` (`http://HOST:PORT`).
    pub fn connect(endpoint: &str, creds: Option<Credentials>) -> Result<Http> {
        let host = endpoint
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("endpoint '{endpoint}' must be http://HOST:PORT"))?
            .trim_end_matches('/')
            .to_string();
        let stream = TcpStream::connect(&host).with_context(|| format!("connecting to {host}"))?;
        stream.set_nodelay(true)?;
        Ok(Http {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            host,
            signer: creds.map(|c| Signer::new(&c.access_key, &c.secret, &c.region, "dynamodb")),
        })
    }

    /// POST one operation; the response JSON (an error status is an error).
    pub fn call(&mut self, op: &str, body: &Value) -> Result<Value> {
        let body = body.to_string();
        let target = format!("DynamoDB_20120810.{op}");
        let mut headers = vec![
            ("host".to_string(), self.host.clone()),
            (
                "content-type".to_string(),
                "application/x-amz-json-1.0".to_string(),
            ),
            ("x-amz-target".to_string(), target.clone()),
        ];
        if let Some(signer) = &self.signer {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            let (date, auth) = signer.sign("POST", "/", &headers, body.as_bytes(), now);
            headers.push(("x-amz-date".into(), date));
            headers.push(("authorization".into(), auth));
        }
        let mut req = String::with_capacity(body.len() + 512);
        req.push_str("POST / HTTP/1.1\r\n");
        for (k, v) in &headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
        req.push_str(&body);
        self.writer.write_all(req.as_bytes())?;
        // Status line and headers.
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow!("bad status line from {}: {line:?}", self.host))?;
        let mut length: Option<usize> = None;
        let mut chunked = false;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                bail!("connection closed in the headers");
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().ok();
                } else if k.eq_ignore_ascii_case("transfer-encoding")
                    && v.trim().eq_ignore_ascii_case("chunked")
                {
                    chunked = true;
                }
            }
        }
        let mut buf = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim(), 16)
                    .map_err(|_| anyhow!("bad chunk size {line:?}"))?;
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk)?;
                if size == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..size]);
            }
        } else {
            let n = length.ok_or_else(|| anyhow!("response without content-length"))?;
            buf.resize(n, 0);
            self.reader.read_exact(&mut buf)?;
        }
        let v: Value =
            serde_json::from_slice(&buf).with_context(|| format!("{op}: response is not JSON"))?;
        if status != 200 {
            bail!("{op}: HTTP {status}: {v}");
        }
        Ok(v)
    }
}

impl Store for Http {
    fn get(&mut self, n: u64) -> Result<bool> {
        Ok(self
            .call("GetItem", &body("GetItem", n, &[], 0, "", 0))?
            .get("Item")
            .is_some())
    }
    fn put(&mut self, n: u64, fields: &[String]) -> Result<()> {
        self.call("PutItem", &body("PutItem", n, fields, 0, "", 0))
            .map(|_| ())
    }
    fn update(&mut self, n: u64, field: usize, value: &str) -> Result<()> {
        self.call("UpdateItem", &body("UpdateItem", n, &[], field, value, 0))
            .map(|_| ())
    }
    fn scan(&mut self, n: u64, len: u32) -> Result<usize> {
        let v = self.call("Query", &body("Query", n, &[], 0, "", len))?;
        Ok(v["Items"].as_array().map_or(0, Vec::len))
    }
}
