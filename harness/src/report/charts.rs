//! Chart shapes the report draws, on plotters' SVG backend: grouped bars, lines (optionally on
//! log axes, with reference lines), and heatmaps. Each writes one SVG file with a title and
//! labelled axes; what a chart *teaches* goes in the page's caption, not in the picture.

use std::path::Path;

use anyhow::anyhow;
use plotters::prelude::*;

/// Width and height of every chart, pixels.
pub const SIZE: (u32, u32) = (760, 420);

/// A calm palette that stays readable in print and for common colour blindness (Okabe-Ito).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing a chart: {e:?}")
}

/// An axis number without noise: `1200`, `35.5`, `0.25`, `2.5M`.
pub fn tidy(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6).replace(".0M", "M")
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Bars: one group per category, one bar per series in each group.
pub struct Bars<'a> {
    /// Title above the chart.
    pub title: &'a str,
    /// Y axis label, with its unit.
    pub y_label: &'a str,
    /// Category names along the x axis.
    pub categories: Vec<String>,
    /// `(series name, one value per category; NaN = no bar)`.
    pub series: Vec<(String, Vec<f64>)>,
    /// Log-scaled y axis (for values spanning orders of magnitude).
    pub log_y: bool,
}

impl Bars<'_> {
    /// Draw to `path`.
    pub fn draw(&self, path: &Path) -> anyhow::Result<()> {
        let root = SVGBackend::new(path, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let values = self.series.iter().flat_map(|(_, v)| v.iter().copied());
        let max = values
            .clone()
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        let min_pos = values
            .filter(|v| v.is_finite() && *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        let n = self.categories.len().max(1) as f64;
        let cats = self.categories.clone();
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(self.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(72);
        let groups = self.series.len().max(1) as f64;
        let bar_w = 0.8 / groups;
        macro_rules! draw_bars {
            ($chart:expr, $floor:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .disable_x_mesh()
                    .y_desc(self.y_label)
                    .x_labels(cats.len())
                    .x_label_formatter(&|x: &f64| {
                        let i = x.round();
                        if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < cats.len() {
                            cats[i as usize].clone()
                        } else {
                            String::new()
                        }
                    })
                    .y_label_formatter(&|y: &f64| tidy(*y))
                    .draw()
                    .map_err(err)?;
                for (s, (name, vals)) in self.series.iter().enumerate() {
                    let color = PALETTE[s % PALETTE.len()];
                    chart
                        .draw_series(vals.iter().enumerate().filter(|(_, v)| v.is_finite()).map(
                            |(c, v)| {
                                let x0 = c as f64 - 0.4 + s as f64 * bar_w;
                                Rectangle::new(
                                    [(x0, $floor), (x0 + bar_w * 0.92, *v)],
                                    color.filled(),
                                )
                            },
                        ))
                        .map_err(err)?
                        .label(name.clone())
                        .legend(move |(x, y)| {
                            Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                        });
                }
                chart
                    .configure_series_labels()
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK.mix(0.3))
                    .position(SeriesLabelPosition::UpperRight)
                    .draw()
                    .map_err(err)?;
            }};
        }
        if self.log_y && min_pos.is_finite() {
            // A decade boundary below the smallest bar, so that every bar has height.
            let lo = 10f64.powf((min_pos / 2.0).log10().floor());
            let hi = 10f64.powf((max * 1.5).log10().ceil());
            let chart = builder
                .build_cartesian_2d(-0.5f64..n - 0.5, (lo..hi).log_scale())
                .map_err(err)?;
            draw_bars!(chart, lo);
        } else {
            let chart = builder
                .build_cartesian_2d(-0.5f64..n - 0.5, 0f64..(max * 1.15).max(1e-9))
                .map_err(err)?;
            draw_bars!(chart, 0.0);
        }
        root.present().map_err(err)?;
        Ok(())
    }
}

/// Lines through points, one per series, with optional dashed reference lines.
pub struct Lines<'a> {
    /// Title.
    pub title: &'a str,
    /// X axis label.
    pub x_label: &'a str,
    /// Y axis label.
    pub y_label: &'a str,
    /// `(series name, points)`.
    pub series: Vec<(String, Vec<(f64, f64)>)>,
    /// `(name, y)`: horizontal reference lines (device limits, analytical expectations).
    pub references: Vec<(String, f64)>,
    /// Log-scaled x axis.
    pub log_x: bool,
    /// Log-scaled y axis.
    pub log_y: bool,
    /// Format an x value as an axis label.
    pub x_format: fn(f64) -> String,
}

impl Lines<'_> {
    /// Draw to `path`.
    pub fn draw(&self, path: &Path) -> anyhow::Result<()> {
        let root = SVGBackend::new(path, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let pts = || self.series.iter().flat_map(|(_, p)| p.iter().copied());
        let (mut x0, mut x1) = pts().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (x, _)| {
            (a.min(x), b.max(x))
        });
        let refs = self.references.iter().map(|(_, y)| *y);
        let ys = pts().map(|(_, y)| y).chain(refs);
        let (mut y0, mut y1) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
            (a.min(y), b.max(y))
        });
        if !x0.is_finite() {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
        }
        if x1 <= x0 {
            x1 = x0 + 1.0;
        }
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(self.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(72);
        macro_rules! draw_lines {
            ($chart:expr, $xa:expr, $xb:expr) => {{
                let mut chart = $chart;
                let fmt = self.x_format;
                chart
                    .configure_mesh()
                    .x_desc(self.x_label)
                    .y_desc(self.y_label)
                    .x_label_formatter(&|x: &f64| fmt(*x))
                    .y_label_formatter(&|y: &f64| tidy(*y))
                    .draw()
                    .map_err(err)?;
                for (s, (name, points)) in self.series.iter().enumerate() {
                    let color = PALETTE[s % PALETTE.len()];
                    chart
                        .draw_series(LineSeries::new(
                            points.iter().copied(),
                            color.stroke_width(2),
                        ))
                        .map_err(err)?
                        .label(name.clone())
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                        });
                    chart
                        .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                        .map_err(err)?;
                }
                for (i, (name, y)) in self.references.iter().enumerate() {
                    let color = PALETTE[(self.series.len() + i) % PALETTE.len()];
                    let y = *y;
                    chart
                        .draw_series(DashedLineSeries::new(
                            vec![($xa, y), ($xb, y)],
                            6,
                            4,
                            color.stroke_width(1),
                        ))
                        .map_err(err)?
                        .label(name.clone())
                        .legend(move |(x, yy)| {
                            PathElement::new(vec![(x, yy), (x + 16, yy)], color)
                        });
                }
                chart
                    .configure_series_labels()
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK.mix(0.3))
                    .position(SeriesLabelPosition::UpperLeft)
                    .draw()
                    .map_err(err)?;
            }};
        }
        let pad_y = |a: f64, b: f64| {
            if b > a {
                // Start at zero for positive data: bars and throughputs read wrongly otherwise.
                (
                    if a >= 0.0 { 0.0 } else { a - (b - a) * 0.05 },
                    b + (b - a) * 0.1,
                )
            } else {
                (0.0, b.max(1.0) * 1.1)
            }
        };
        match (self.log_x, self.log_y) {
            (true, true) => {
                let c = builder
                    .build_cartesian_2d(
                        (x0 * 0.8..x1 * 1.25).log_scale(),
                        (y0.max(1e-9) * 0.5..y1 * 2.0).log_scale(),
                    )
                    .map_err(err)?;
                draw_lines!(c, x0 * 0.8, x1 * 1.25);
            }
            (true, false) => {
                let (ya, yb) = pad_y(y0, y1);
                let c = builder
                    .build_cartesian_2d((x0 * 0.8..x1 * 1.25).log_scale(), ya..yb)
                    .map_err(err)?;
                draw_lines!(c, x0 * 0.8, x1 * 1.25);
            }
            (false, true) => {
                let c = builder
                    .build_cartesian_2d(x0..x1, (y0.max(1e-9) * 0.5..y1 * 2.0).log_scale())
                    .map_err(err)?;
                draw_lines!(c, x0, x1);
            }
            (false, false) => {
                let (ya, yb) = pad_y(y0, y1);
                let c = builder.build_cartesian_2d(x0..x1, ya..yb).map_err(err)?;
                draw_lines!(c, x0, x1);
            }
        }
        root.present().map_err(err)?;
        Ok(())
    }
}

/// A heatmap: one cell per (column, row), coloured by value, the value printed in the cell.
pub struct Heatmap<'a> {
    /// Title.
    pub title: &'a str,
    /// X axis label.
    pub x_label: &'a str,
    /// Y axis label.
    pub y_label: &'a str,
    /// Column names.
    pub columns: Vec<String>,
    /// Row names.
    pub rows: Vec<String>,
    /// `values[row][column]` (NaN = empty cell); colours span their range.
    pub values: Vec<Vec<f64>>,
}

impl Heatmap<'_> {
    /// Draw to `path`.
    pub fn draw(&self, path: &Path) -> anyhow::Result<()> {
        let root = SVGBackend::new(path, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (nc, nr) = (self.columns.len().max(1), self.rows.len().max(1));
        let cols = self.columns.clone();
        let rows = self.rows.clone();
        let mut chart = ChartBuilder::on(&root)
            .caption(self.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..nc as f64, 0f64..nr as f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .x_labels(nc * 2 + 1)
            .y_labels(nr * 2 + 1)
            .x_label_formatter(&|x: &f64| {
                let i = x.floor() as usize;
                if (x - x.floor() - 0.5).abs() < 1e-6 && i < cols.len() {
                    cols[i].clone()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y: &f64| {
                let i = y.floor() as usize;
                if (y - y.floor() - 0.5).abs() < 1e-6 && i < rows.len() {
                    rows[i].clone()
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(err)?;
        // Colour spans the data's own range, so that 0.96 and 1.00 do not look alike.
        let finite = || {
            self.values
                .iter()
                .flatten()
                .copied()
                .filter(|v| v.is_finite())
        };
        let lo = finite().fold(f64::INFINITY, f64::min);
        let hi = finite().fold(f64::NEG_INFINITY, f64::max);
        for (r, row) in self.values.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if !v.is_finite() {
                    continue;
                }
                let t = if hi > lo {
                    0.15 + 0.85 * (v - lo) / (hi - lo)
                } else {
                    1.0
                };
                // White (0) to blue (1).
                let color = RGBColor(
                    (255.0 - 255.0 * t) as u8,
                    (255.0 - 141.0 * t) as u8,
                    (255.0 - 77.0 * t) as u8,
                );
                let (x, y) = (c as f64, r as f64);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x, y), (x + 1.0, y + 1.0)],
                        color.filled(),
                    )))
                    .map_err(err)?;
                let ink = if t > 0.55 { WHITE } else { BLACK };
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{v:.2}"),
                        (x + 0.38, y + 0.6),
                        ("sans-serif", 13).into_font().color(&ink),
                    )))
                    .map_err(err)?;
            }
        }
        root.present().map_err(err)?;
        Ok(())
    }
}
