//! The seed sweep the randomized crash tests share: which seeds to run (from the environment),
//! every failure printed with its one-line repro, and one assertion naming each failed seed.

/// Run `run_seed` for seeds `0..default` — `0..N` with `{var}_SEEDS=N`, or the one seed `S`
/// with `{var}_SEED=S` — printing each failure with the command that repeats it (`module` is
/// the test's module in the `it` binary), then fail naming every seed that failed. Returns
/// what the passing seeds returned, for the test's own totals.
pub fn sweep<T>(
    var: &str,
    default: u64,
    module: &str,
    mut run_seed: impl FnMut(u64) -> Result<T, String>,
) -> Vec<T> {
    let seeds: Vec<u64> = match std::env::var(format!("{var}_SEED")) {
        Ok(s) => vec![s
            .parse()
            .unwrap_or_else(|_| panic!("{var}_SEED={s} is not a number"))],
        Err(_) => {
            let n = std::env::var(format!("{var}_SEEDS"))
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(default);
            (0..n).collect()
        }
    };
    let mut failures = Vec::new();
    let mut passed = Vec::new();
    for &seed in &seeds {
        match run_seed(seed) {
            Ok(t) => passed.push(t),
            Err(e) => {
                eprintln!(
                    "seed {seed} FAILED: {e}\n  repro: {var}_SEED={seed} cargo test -p seedbed-engine --test it {module}::"
                );
                failures.push(seed);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} seeds failed: {:?}",
        failures.len(),
        seeds.len(),
        failures
    );
    passed
}
