//! Criterion benches live in `benches/`.
// No `unwrap()` outside tests (issue #22 §5): a failure that can happen is an error (`?`), an
// invariant is an `expect` that says why it holds. Tests may unwrap (clippy.toml).
#![deny(clippy::unwrap_used)]
