//! Seedbed over HTTP.
