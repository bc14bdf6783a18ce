//! One line chart as an SVG string, drawn with plotters' SVG backend (no font feature: the
//! backend writes `<text>` elements and plotters only estimates their size for layout).
//!
//! Every line is drawn with its points marked, so a line of one point still shows. Ranges
//! are padded so that a single x or y value still makes a chart. The legend sits in a strip
//! right of the plot (never over the data; the picture grows with the number of lines), a
//! footer line names the run, and an SVG `<desc>` element carries the full provenance and
//! spec.

use std::ops::Range;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

/// Size of the plot itself (without the legend strip), pixels.
const SIZE: (u32, u32) = (860, 540);
/// Height of the footer strip.
const FOOTER: u32 = 22;
/// Height of one legend entry.
const LEGEND_ROW: u32 = 18;

/// One named line of `(x, y)` points, drawn in the order given.
#[derive(Debug, Clone)]
pub struct Line {
    /// Legend text.
    pub name: String,
    /// The points.
    pub points: Vec<(f64, f64)>,
}

/// How an axis maps values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// Linear, from 0 (throughput).
    FromZero,
    /// Linear, over the data's range.
    Linear,
    /// Logarithmic (base 10); values below 1 are drawn at 1.
    Log,
}

/// An axis: its description, scale and tick label format.
#[derive(Debug, Clone, Copy)]
pub struct Axis {
    /// The axis description (`MB/s`).
    pub desc: &'static str,
    /// The mapping.
    pub scale: Scale,
    /// Tick label of a value.
    pub fmt: fn(f64) -> String,
}

/// A chart to draw.
#[derive(Debug, Clone)]
pub struct Chart<'a> {
    /// The caption.
    pub title: &'a str,
    /// A one-line footer (the run's provenance, in short).
    pub footer: &'a str,
    /// The text of the SVG `<desc>` element.
    pub desc: &'a str,
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis.
    pub y: Axis,
    /// The lines.
    pub lines: &'a [Line],
}

/// `&`, `<`, `>`, `"` and `'` escaped for XML text and attributes.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The padded range of `values` for `scale` (never empty, never starting at or below 0 for
/// [`Scale::Log`]).
fn range(values: impl Iterator<Item = f64>, scale: Scale) -> Range<f64> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        let v = if scale == Scale::Log { v.max(1.0) } else { v };
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        (lo, hi) = (0.0, 1.0);
    }
    match scale {
        Scale::FromZero => 0.0..if hi > 0.0 { hi * 1.1 } else { 1.0 },
        Scale::Linear => {
            let pad = if hi > lo {
                (hi - lo) * 0.05
            } else {
                lo.abs().max(1.0) * 0.5
            };
            lo - pad..hi + pad
        }
        Scale::Log => {
            let lo = lo.max(1.0);
            lo / 1.5..hi.max(lo) * 1.5
        }
    }
}

/// Draws `chart` into an SVG string.
pub fn draw(chart: &Chart) -> Result<String, String> {
    let points = || chart.lines.iter().flat_map(|l| l.points.iter());
    let xr = range(points().map(|p| p.0), chart.x.scale);
    let yr = range(points().map(|p| p.1), chart.y.scale);
    let mut svg = String::new();
    match chart.y.scale {
        Scale::Log => draw_on(&mut svg, chart, xr, yr.log_scale())?,
        _ => draw_on(&mut svg, chart, xr, yr)?,
    }
    // The full provenance, as the root element's first child.
    let desc = format!("\n<desc>{}</desc>", xml_escape(chart.desc));
    match svg
        .find("<svg")
        .and_then(|i| svg[i..].find('>').map(|j| i + j + 1))
    {
        Some(at) => svg.insert_str(at, &desc),
        None => return Err("plotters wrote no <svg> element".into()),
    }
    Ok(svg)
}

/// Draws `chart` with the given coordinate ranges.
fn draw_on<Y>(svg: &mut String, chart: &Chart, xr: Range<f64>, yr: Y) -> Result<(), String>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let err = |e: &dyn std::fmt::Display| e.to_string();
    // Legend strip: wide enough for the longest name at the estimated 6 px a character.
    let longest = chart
        .lines
        .iter()
        .map(|l| l.name.chars().count())
        .max()
        .unwrap_or(0);
    let legend_w = if chart.lines.is_empty() {
        0
    } else {
        48 + 6 * longest.min(80) as u32
    };
    let rows = chart.lines.len() as u32;
    let height = SIZE.1.max(60 + FOOTER + LEGEND_ROW * rows);
    let root = SVGBackend::with_string(svg, (SIZE.0 + legend_w, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let (main, foot) = root.split_vertically(height - FOOTER);
    let (plot, legend) = main.split_horizontally(SIZE.0);
    let grey = BLACK.mix(0.65);
    let small = TextStyle::from(("sans-serif", 12).into_font()).color(&grey);
    foot.draw_text(chart.footer, &small, (10, 4))
        .map_err(|e| err(&e))?;
    let mut cc = ChartBuilder::on(&plot)
        .caption(chart.title, ("sans-serif", 22))
        .margin(14)
        .x_label_area_size(46)
        .y_label_area_size(78)
        .build_cartesian_2d(xr, yr)
        .map_err(|e| err(&e))?;
    let (xf, yf) = (chart.x.fmt, chart.y.fmt);
    cc.configure_mesh()
        .x_desc(chart.x.desc)
        .y_desc(chart.y.desc)
        .x_label_formatter(&|v| xf(*v))
        .y_label_formatter(&|v| yf(*v))
        .light_line_style(BLACK.mix(0.06))
        .bold_line_style(BLACK.mix(0.15))
        .draw()
        .map_err(|e| err(&e))?;
    let clamp = |p: &(f64, f64)| match chart.y.scale {
        Scale::Log => (p.0, p.1.max(1.0)),
        _ => *p,
    };
    let label = TextStyle::from(("sans-serif", 12).into_font()).color(&BLACK);
    for (i, line) in chart.lines.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let pts: Vec<(f64, f64)> = line.points.iter().map(clamp).collect();
        cc.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|e| err(&e))?;
        cc.draw_series(PointSeries::of_element(
            pts,
            3,
            color.filled(),
            &|c, s, st| Circle::new(c, s, st),
        ))
        .map_err(|e| err(&e))?;
        let y = 48 + (LEGEND_ROW * i as u32) as i32;
        legend
            .draw(&PathElement::new(
                vec![(4, y), (26, y)],
                color.stroke_width(3),
            ))
            .map_err(|e| err(&e))?;
        legend
            .draw(&Circle::new((15, y), 3, color.filled()))
            .map_err(|e| err(&e))?;
        legend
            .draw_text(&line.name, &label, (32, y - 7))
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
