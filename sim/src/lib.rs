//! # seedbed-sim
//!
//! The deterministic simulator (under construction).
