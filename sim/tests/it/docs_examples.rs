//! The fault plan shown in docs/simulation.md must stay a valid plan.

use seedbed_sim::faults::FaultPlan;

#[test]
fn the_documented_fault_plan_parses_and_switches_everything_on() {
    let doc = include_str!("../../../docs/simulation.md");
    let start = doc.find("```toml\n").expect("a toml block in the docs") + "```toml\n".len();
    let len = doc[start..].find("```").expect("the block ends");
    let plan = FaultPlan::from_toml(&doc[start..start + len]).unwrap();
    let kinds = plan.kinds();
    for k in [
        "drop",
        "duplicate",
        "reorder",
        "slow-links",
        "partitions",
        "crashes",
        "pauses",
    ] {
        assert!(kinds.contains(&k), "the docs' plan lacks {k}: {kinds:?}");
    }
    assert!(kinds.contains(&"clock-jumps") && kinds.contains(&"disk") && plan.buggify);
}
