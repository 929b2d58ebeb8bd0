//! Logs: one line per request (the access log, target `seedbed::access`) and the server's own
//! warnings, on standard error. `SEEDBED_LOG` sets the level: `info` (default: every request),
//! `warn` (no access log), `error`, `debug`, `off`.

use tracing::level_filters::LevelFilter;

/// Install the subscriber (once per process; later calls do nothing).
pub fn init() {
    let level = match std::env::var("SEEDBED_LOG").as_deref() {
        Ok("off") => LevelFilter::OFF,
        Ok("error") => LevelFilter::ERROR,
        Ok("warn") => LevelFilter::WARN,
        Ok("debug") => LevelFilter::DEBUG,
        Ok("trace") => LevelFilter::TRACE,
        _ => LevelFilter::INFO,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
