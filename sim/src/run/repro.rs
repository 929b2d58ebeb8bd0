//! Repro lines: the one command that reruns a failure.

use crate::config::{FaultSource, RunConfig};

/// Where parts of a config came from on the command line, so a repro line can point at the
/// same files.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// The `--config FILE` the run started from.
    pub config_file: Option<String>,
    /// The `--faults FILE` the plan came from.
    pub faults_file: Option<String>,
}

/// The command that reruns `config`, or `None` if the config holds parts (an explicit schedule,
/// a custom network, a plan) that no flag or named file carries — write it to a file first and
/// pass it as `Sources::config_file`.
pub fn command(config: &RunConfig, sources: &Sources) -> Option<String> {
    let mut line = String::from("seedbed sim run");
    if let Some(f) = &sources.config_file {
        line.push_str(&format!(" --config {f}"));
    } else {
        let plan_from_file =
            matches!(config.faults, FaultSource::Plan(_)) && sources.faults_file.is_some();
        let mut rest = config.clone();
        if plan_from_file {
            rest.faults = FaultSource::Swarm;
        }
        if !rest.fits_flags() {
            return None;
        }
    }
    line.push(' ');
    line.push_str(&config.flags());
    if let (Some(f), None) = (&sources.faults_file, &sources.config_file) {
        line.push_str(&format!(" --faults {f}"));
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_files_and_unreproducible_configs() {
        let mut c = RunConfig::new("register", 4);
        c.params.insert("bug".into(), "stale-quorum".into());
        assert_eq!(
            command(&c, &Sources::default()).unwrap(),
            "seedbed sim run --workload register --seed 4 --set bug=stale-quorum"
        );
        c.faults = FaultSource::Plan(Box::default());
        assert_eq!(command(&c, &Sources::default()), None);
        let with_file = Sources {
            faults_file: Some("p.toml".into()),
            ..Sources::default()
        };
        assert!(command(&c, &with_file)
            .unwrap()
            .ends_with("--faults p.toml"));
        c.schedule = Some(vec![]);
        assert_eq!(command(&c, &with_file), None);
        let cfg = Sources {
            config_file: Some("s.toml".into()),
            ..Sources::default()
        };
        assert!(command(&c, &cfg)
            .unwrap()
            .starts_with("seedbed sim run --config s.toml --workload"));
    }
}
