//! Logs: one line per request (the access log, target `seedbed::access`) and the server's own
//! warnings, on standard error. `SEEDBED_LOG` sets the level: `info` (default: every request),
//! `warn` (no access log), `error`, `debug`, `off`. s3s's own messages (it logs every client
//! error it answers) appear only at `debug`: the access log already has one line per request.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

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
    let s3s = if level >= LevelFilter::DEBUG {
        level
    } else {
        LevelFilter::OFF
    };
    let filter = Targets::new().with_default(level).with_target("s3s", s3s);
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false),
        )
        .with(filter)
        .try_init();
}
