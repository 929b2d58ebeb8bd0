//! A run's recorded random choices as a config carries them (`[choices]` in TOML).
//!
//! The shrinker edits a run's draws ([`seedbed_engine::rng::tape`]) and writes the result
//! into the repro config, so that `seedbed sim run --config FILE` replays exactly the run it
//! shrank to. On disk the record is a table per stream, one line of text per span:
//!
//! ```toml
//! [choices."node/2/disk/sim/faults#.log"]
//! "op/17" = "c0.0007:0 c0.0007:1 e148:4 b8:5"
//! ```
//!
//! (`b<n>:<v>` a `below(n)`, `c<p>:<0|1>` a `chance(p)`, `u<v>` a `unit`, `r<hex>` a raw word,
//! `e<n>:<d>` a position in a buffer of `n` recorded as its distance `d` from the end; a stream
//! name `...#label` is a sub-stream, here the disk's fault draws for `.log` files.)

use std::collections::BTreeMap;

use seedbed_engine::rng::Choices;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::span::Span;

/// Recorded choices, by stream and span; see the module docs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChoiceRecord(pub Choices);

impl Serialize for ChoiceRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
        for (stream, spans) in &self.0.streams {
            let lists = out.entry(stream.as_str()).or_default();
            for (&code, list) in spans {
                let name = Span::from_code(code).map_or_else(|| format!("#{code}"), Span::name);
                lists.insert(name, Choices::encode_list(list));
            }
        }
        out.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ChoiceRecord {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let raw: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::deserialize(d)?;
        let mut c = Choices::default();
        for (stream, spans) in raw {
            let lists = c.streams.entry(stream.clone()).or_default();
            for (name, text) in spans {
                let span = Span::parse(&name).ok_or_else(|| {
                    D::Error::custom(format!(
                        "choices.\"{stream}\": '{name}' is not a span (setup, op/N, probe/N, boot/N, fault/N, quiet)"
                    ))
                })?;
                let list = Choices::decode_list(&text).map_err(|e| {
                    D::Error::custom(format!("choices.\"{stream}\".\"{name}\": {e}"))
                })?;
                lists.insert(span.code(), list);
            }
        }
        Ok(ChoiceRecord(c))
    }
}
