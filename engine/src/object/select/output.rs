//! Writing the result: records as CSV or JSON, cut into chunks at record boundaries (one
//! `Records` event each) and handed to the [`SelectSink`] as each fills.

use super::value::Value;
use super::{CsvOutput, OutputFormat, QuoteFields, SelectError, SelectSink, CHUNK_BYTES};

/// Output records, written and cut into chunks.
pub(super) struct Output<'a> {
    format: &'a OutputFormat,
    sink: &'a mut dyn SelectSink,
    current: Vec<u8>,
    returned: u64,
}

impl<'a> Output<'a> {
    pub(super) fn new(format: &'a OutputFormat, sink: &'a mut dyn SelectSink) -> Self {
        Output {
            format,
            sink,
            current: Vec::new(),
            returned: 0,
        }
    }

    pub(super) fn push(&mut self, record: &Value) -> Result<(), SelectError> {
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
            self.sink.records(std::mem::take(&mut self.current))?;
        }
        self.returned += text.len() as u64;
        self.current.extend_from_slice(text.as_bytes());
        Ok(())
    }

    /// Bytes of output so far.
    pub(super) fn returned(&self) -> u64 {
        self.returned
    }

    /// The sink, for progress between records.
    pub(super) fn sink(&mut self) -> &mut dyn SelectSink {
        &mut *self.sink
    }

    /// Hand on the last chunk; returns the bytes of output.
    pub(super) fn finish(mut self) -> Result<u64, SelectError> {
        if !self.current.is_empty() {
            self.sink.records(std::mem::take(&mut self.current))?;
        }
        Ok(self.returned)
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
