//! Writing the result: records as CSV or JSON, cut into chunks at record boundaries (one
//! `Records` event each).

use super::value::Value;
use super::{CsvOutput, OutputFormat, QuoteFields, SelectOutput, CHUNK_BYTES};

/// Output records, written and cut into chunks.
pub(super) struct Output<'a> {
    format: &'a OutputFormat,
    chunks: Vec<Vec<u8>>,
    current: Vec<u8>,
    returned: u64,
}

impl<'a> Output<'a> {
    pub(super) fn new(format: &'a OutputFormat) -> Self {
        Output {
            format,
            chunks: Vec::new(),
            current: Vec::new(),
            returned: 0,
        }
    }

    pub(super) fn push(&mut self, record: &Value) {
        let text = match self.format {
            OutputFormat::Json { record: delim } => record.to_json() + delim,
            OutputFormat::Csv(c) => {
                let fields: Vec<String> = match record {
                    Value::Object(m) => {
                        m.iter().map(|(_, v)| csv_field(&v.to_field(), c)).collect()
                    }
                    v => vec![csv_field(&v.to_field(), c)],
                };
                fields.join(&c.field) + &c.record
            }
        };
        if !self.current.is_empty() && self.current.len() + text.len() > CHUNK_BYTES {
            self.chunks.push(std::mem::take(&mut self.current));
        }
        self.returned += text.len() as u64;
        self.current.extend_from_slice(text.as_bytes());
    }

    pub(super) fn finish(mut self, scanned: u64, processed: u64) -> SelectOutput {
        if !self.current.is_empty() {
            self.chunks.push(self.current);
        }
        SelectOutput {
            chunks: self.chunks,
            scanned,
            processed,
            returned: self.returned,
        }
    }
}

/// A CSV field, quoted when asked or needed.
fn csv_field(s: &str, c: &CsvOutput) -> String {
    let needs = c.quote_fields == QuoteFields::Always
        || s.contains(c.field.as_str())
        || s.contains(c.record.as_str())
        || s.contains(c.quote)
        || s.contains('\n')
        || s.contains('\r');
    if !needs {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push(c.quote);
    for ch in s.chars() {
        if ch == c.quote {
            out.push(c.escape);
        }
        out.push(ch);
    }
    out.push(c.quote);
    out
}
