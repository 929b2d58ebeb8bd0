//! Buggify, after FoundationDB: protocol code marks rare paths with `ctx.buggify("site")`, and
//! under a seed that enables it each site is switched on or off once (on with
//! [`SITE_ON_P`]); a switched-on site then fires with [`FIRE_P`] each time it is reached. Most
//! sites stay quiet in most runs, so every run explores a different handful of rare paths.
//! Buggify stops when faults stop, so the quiet period can check liveness.

use std::collections::BTreeMap;

use seedbed_engine::rng::DetRng;

/// Chance that a site is switched on in a run that enables buggify.
pub const SITE_ON_P: f64 = 0.25;
/// Chance that a switched-on site fires when reached.
pub const FIRE_P: f64 = 0.05;
/// Distinct sites per run, at most (a bound on the map).
pub const SITES_MAX: usize = 1_024;

/// The buggify state of one run.
#[derive(Debug)]
pub struct Buggify {
    enabled: bool,
    rng: DetRng,
    sites: BTreeMap<&'static str, bool>,
    fired: u64,
}

impl Buggify {
    /// Buggify drawing from `rng`, on or off for the run.
    pub fn new(enabled: bool, rng: DetRng) -> Self {
        Buggify {
            enabled,
            rng,
            sites: BTreeMap::new(),
            fired: 0,
        }
    }

    /// Switch off (when faults stop).
    pub fn disable(&mut self) {
        self.enabled = false;
    }

    /// Whether the rare path at `site` is taken now.
    pub fn hit(&mut self, site: &'static str) -> bool {
        if !self.enabled {
            return false;
        }
        let on = match self.sites.get(site) {
            Some(&on) => on,
            None => {
                assert!(
                    self.sites.len() < SITES_MAX,
                    "more than {SITES_MAX} buggify sites"
                );
                let on = self.rng.chance(SITE_ON_P);
                self.sites.insert(site, on);
                on
            }
        };
        let fire = on && self.rng.chance(FIRE_P);
        self.fired += u64::from(fire);
        fire
    }

    /// Times a site fired in this run.
    pub fn fired(&self) -> u64 {
        self.fired
    }
}

/// The world hands its buggify to nodes through the node contract's hook.
impl seedbed_nodes::Buggify for Buggify {
    fn hit(&mut self, site: &'static str) -> bool {
        Buggify::hit(self, site)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_never_fires_and_sites_are_sticky() {
        let mut off = Buggify::new(false, DetRng::new(1));
        assert!((0..1_000).all(|_| !off.hit("a")));
        // Across many seeds, some sites are on (fire sometimes) and some are off (never fire).
        let mut on_sites = 0;
        for seed in 0..40 {
            let mut b = Buggify::new(true, DetRng::new(seed));
            let fired = (0..400).filter(|_| b.hit("site")).count();
            on_sites += usize::from(fired > 0);
        }
        assert!(
            (3..25).contains(&on_sites),
            "{on_sites} of 40 seeds had the site on"
        );
    }
}
