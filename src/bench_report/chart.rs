//! `bench-throughput.svg`: direct-message throughput (MiB/s, log scale) by
//! payload size (log scale), one line per implementation and in-flight count.
//!
//! Written by hand rather than with plotters (`default-features = false,
//! features = ["svg_backend", "line_series"]`): it is one chart of a few
//! lines; plotters is not in the dependency tree (criterion is built without
//! its plotting features) and would be compiled into the user binary for a
//! maintainer tool; without a font feature it only estimates text extents;
//! and its output would differ from the committed `reports/bench-throughput.svg`,
//! which this reproduces byte for byte and `tests/bench-report/` pins as a
//! golden file. If the report grows more charts, axes or labels, plotters
//! becomes the better trade.

use std::{collections::BTreeMap, fmt::Write as _};

use super::criterion::{parse_size, BenchResult};

/// Space between the plot area and the image's edges, in pixels: the left
/// holds the rate labels, the right the legend, the bottom the size labels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Margins {
    /// Left of the plot.
    pub left: f64,
    /// Right of the plot, where the legend goes.
    pub right: f64,
    /// Above the plot, below the title.
    pub top: f64,
    /// Below the plot.
    pub bottom: f64,
}

/// An image's size and the plot area inside it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Chart {
    /// Image width in pixels.
    pub width: f64,
    /// Image height in pixels.
    pub height: f64,
    /// Where the plot area sits.
    pub margins: Margins,
}

/// Lines are coloured in this order, repeating.
const COLOURS: [&str; 6] = [
    "#1b6ac9", "#d2462c", "#2e8b57", "#9b59b6", "#e6a23c", "#555555",
];

/// The chart's lines: each legend with its (payload bytes, MiB/s) points.
type Series = BTreeMap<String, Vec<(u64, f64)>>;

impl Chart {
    /// The layout of `reports/bench-throughput.svg`.
    pub const THROUGHPUT: Chart = Chart {
        width: 720.0,
        height: 420.0,
        margins: Margins {
            left: 70.0,
            right: 190.0,
            top: 30.0,
            bottom: 50.0,
        },
    };

    /// The direct-message throughput chart of `results` in this layout.
    pub fn throughput_svg(&self, results: &[BenchResult]) -> String {
        let series = direct_series(results);
        let Chart { width, height, .. } = *self;
        let Margins {
            left,
            right,
            top,
            bottom,
        } = self.margins;
        let points = series.values().flatten();
        let (min_x, max_x) = points
            .clone()
            .fold((f64::MAX, f64::MIN), |(lo, hi), (x, _)| {
                let x = (*x as f64).log2();
                (lo.min(x), hi.max(x))
            });
        let (min_y, max_y) = points.fold((f64::MAX, f64::MIN), |(lo, hi), (_, y)| {
            let y = y.max(1e-3).log10();
            (lo.min(y), hi.max(y))
        });
        let (min_y, max_y) = (min_y.floor(), max_y.ceil().max(min_y.floor() + 1.0));
        let span_x = (max_x - min_x).max(1.0);
        let x_of =
            |bytes: u64| left + ((bytes as f64).log2() - min_x) / span_x * (width - left - right);
        let y_of = |rate: f64| {
            top + (1.0 - (rate.max(1e-3).log10() - min_y) / (max_y - min_y))
                * (height - top - bottom)
        };
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(
            svg,
            r#"<text x="{left}" y="18" font-size="14">Direct messages: throughput (MiB/s, log scale) by payload size</text>"#
        );
        let mut decade = min_y;
        while decade <= max_y {
            let y = y_of(10f64.powf(decade));
            let _ = writeln!(
                svg,
                r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                width - right,
                left - 6.0,
                y + 4.0,
                10f64.powf(decade)
            );
            decade += 1.0;
        }
        let mut sizes: Vec<u64> = series.values().flatten().map(|(b, _)| *b).collect();
        sizes.sort_unstable();
        sizes.dedup();
        for bytes in sizes {
            let x = x_of(bytes);
            let _ = writeln!(
                svg,
                r##"<line x1="{x:.1}" x2="{x:.1}" y1="{top}" y2="{}" stroke="#eee"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
                height - bottom,
                height - bottom + 18.0,
                size_label(bytes)
            );
        }
        for (i, (name, mut points)) in series.into_iter().enumerate() {
            points.sort_by_key(|(b, _)| *b);
            let colour = COLOURS[i % COLOURS.len()];
            let dash = if name.ends_with("×1") {
                ""
            } else {
                r#" stroke-dasharray="6 3""#
            };
            let path: Vec<String> = points
                .iter()
                .map(|(b, r)| format!("{:.1},{:.1}", x_of(*b), y_of(*r)))
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
                path.join(" ")
            );
            let ly = top + 16.0 * i as f64;
            let lx = width - right + 14.0;
            let _ = writeln!(
                svg,
                r#"<line x1="{lx}" x2="{}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2"{dash}/><text x="{}" y="{}">{name}</text>"#,
                lx + 24.0,
                lx + 30.0,
                ly + 4.0
            );
        }
        svg.push_str("</svg>\n");
        svg
    }
}

/// The `direct` group's rates by payload size, one series per function and
/// in-flight count (`simnet ×32`), from parameters like `64KiB-32`.
fn direct_series(results: &[BenchResult]) -> Series {
    let mut series = Series::new();
    for r in results.iter().filter(|r| r.group == "direct") {
        let Some(parameter) = &r.parameter else {
            continue;
        };
        let (size, in_flight) = parameter.split_once('-').unwrap_or((parameter, "1"));
        let (Some(bytes), Some(rate)) = (parse_size(size), r.rate()) else {
            continue;
        };
        series
            .entry(format!("{} ×{in_flight}", r.function))
            .or_default()
            .push((bytes, rate));
    }
    series
}

/// `64 B`, `64 KiB`, `1 MiB`.
fn size_label(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{} MiB", b / (1024 * 1024)),
        b if b >= 1024 => format!("{} KiB", b / 1024),
        b => format!("{b} B"),
    }
}
