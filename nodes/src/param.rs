//! Errors in a node's parameters (`--set key=value` in the simulator, a flag of a real node).

/// A parameter is malformed or out of range; the runtime adds which workload or command it
/// belongs to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("parameter '{key}': {detail}")]
pub struct ParamError {
    /// The parameter.
    pub key: String,
    /// What is wrong.
    pub detail: String,
}

impl ParamError {
    /// An error about parameter `key`.
    pub fn new(key: &str, detail: String) -> Self {
        ParamError {
            key: key.to_string(),
            detail,
        }
    }
}
