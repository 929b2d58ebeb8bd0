//! `seedbed report --from DIR`: turn the JSON results of any `bench` or `sim sweep` into
//! `index.html` plus one SVG per chart, each with a caption that says what it teaches and the
//! exact command that produced its data.
//!
//! - [`load`](self::load): reading and classifying result files;
//! - [`charts`](self::charts): the chart shapes (bars, lines, heatmaps) on plotters;
//! - [`sections`](self::sections): which charts each kind of result gets, and their captions;
//! - [`cluster`](self::cluster): the charts of `bench cluster` and `cluster compare`;
//! - [`html`](self::html): the self-contained page.

pub mod charts;
pub mod cluster;
pub mod html;
pub mod load;
pub mod sections;

use std::path::{Path, PathBuf};

use anyhow::Context;

/// Options of `seedbed report`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// Directory of result files (*.json, *.jsonl) from `bench ... --json` or `sim sweep --json`.
    #[arg(long, default_value = "seedbed-report")]
    pub from: PathBuf,
    /// Where to write index.html and the SVG charts [default: the --from directory].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// One chart on the page.
#[derive(Clone, Debug)]
pub struct Figure {
    /// SVG file name, relative to the page.
    pub file: String,
    /// Heading.
    pub title: String,
    /// What the chart teaches, in a sentence or three.
    pub caption: String,
    /// The command that produced its data.
    pub command: String,
}

/// Build the report from `from` into `out`; returns the page's path.
pub fn build(from: &Path, out: &Path) -> anyhow::Result<PathBuf> {
    let results = load::load_dir(from)?;
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the report directory {}", out.display()))?;
    let figures = sections::draw_all(&results, out)?;
    let page = out.join("index.html");
    std::fs::write(&page, html::page(&figures, &results))
        .with_context(|| format!("cannot write {}", page.display()))?;
    Ok(page)
}

/// Run `seedbed report`.
pub fn run(args: &ReportArgs) -> anyhow::Result<()> {
    let out = args.out.clone().unwrap_or_else(|| args.from.clone());
    let page = build(&args.from, &out)?;
    println!("report: {}", page.display());
    Ok(())
}
