//! PNG plots of a pipeline: the reward-model score and KL per PPO iteration, and the
//! over-optimisation curve (gold reward against √KL).

use anyhow::{anyhow, bail, Context, Result};
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::config::PipelineConfig;
use super::curve::{points, Point};
use super::plan::Layout;

const FONT_PATHS: [&str; 4] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

/// Registers a system TrueType font as "sans-serif" once (`MOTE_PLOT_FONT` picks another).
fn font() -> Result<()> {
    static DONE: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let paths: Vec<PathBuf> = std::env::var_os("MOTE_PLOT_FONT")
            .map(|p| vec![PathBuf::from(p)])
            .unwrap_or_else(|| FONT_PATHS.iter().map(PathBuf::from).collect());
        let bytes = paths.iter().find_map(|p| std::fs::read(p).ok()).ok_or_else(|| {
            format!(
                "no font for the plots: install fonts-dejavu-core or set MOTE_PLOT_FONT (looked in {})",
                FONT_PATHS.join(", ")
            )
        })?;
        // The font lives as long as the process, as plotters requires.
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        register_font("sans-serif", FontStyle::Normal, bytes)
            .map_err(|_| "the font file could not be parsed".to_string())
    })
    .clone()
    .map_err(|e| anyhow!(e))
}

const COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// `(iteration, value)` of `key` in a PPO metrics.jsonl.
fn series(path: &Path, key: &str) -> Result<Vec<(f64, f64)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| Some((v.get("step")?.as_f64()?, v.get(key)?.as_f64()?)))
        .filter(|(_, y)| y.is_finite())
        .collect())
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(1e-3);
    (lo - pad, hi + pad)
}

/// One chart: a line per round (with a dot at each point when `dots`).
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    lines: &[(String, Vec<(f64, f64)>)],
    dots: bool,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (x0, x1) = range(lines.iter().flat_map(|(_, v)| v.iter().map(|p| p.0)));
    let (y0, y1) = range(lines.iter().flat_map(|(_, v)| v.iter().map(|p| p.1)));
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(14)
        .x_label_area_size(42)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(("sans-serif", 14))
        .light_line_style(RGBColor(238, 238, 238))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (i, (name, pts)) in lines.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
            .map_err(|e| anyhow!("{e}"))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        if dots {
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))
                .map_err(|e| anyhow!("{e}"))?;
        }
    }
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// Reward-model score and KL per PPO iteration, one line per round.
pub fn ppo_curves(cfg: &PipelineConfig, l: &Layout, path: &Path) -> Result<()> {
    font()?;
    let mut score = Vec::new();
    let mut kl = Vec::new();
    for r in 1..=cfg.rounds.count {
        let m = l.ppo(r).join("metrics.jsonl");
        score.push((format!("round {r}"), series(&m, "score")?));
        kl.push((format!("round {r}"), series(&m, "kl")?));
    }
    let root = BitMapBackend::new(path, (1280, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let (left, right) = root.split_horizontally(640);
    let x = "PPO iteration";
    let (score_desc, kl_desc) = ((x, "normalised reward"), (x, "nats per response"));
    panel(
        &left,
        "Reward-model score of the rollouts",
        score_desc,
        &score,
        false,
    )?;
    panel(&right, "KL to the SFT model", kl_desc, &kl, false)?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// Gold reward against √KL for the SFT model and every PPO checkpoint, one line per round.
pub fn overoptimization(cfg: &PipelineConfig, l: &Layout, path: &Path) -> Result<()> {
    font()?;
    let pts: Vec<Point> = points(cfg, l)?;
    if pts.is_empty() {
        bail!("no evaluated checkpoints to plot");
    }
    let lines: Vec<(String, Vec<(f64, f64)>)> = (1..=cfg.rounds.count)
        .map(|r| {
            let line = pts
                .iter()
                .filter(|p| p.round == r)
                .map(|p| (p.kl.sqrt(), p.gold))
                .collect();
            (format!("round {r}"), line)
        })
        .collect();
    let root = BitMapBackend::new(path, (760, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    panel(
        &root,
        "Gold reward against √KL (PPO checkpoints)",
        ("√KL to SFT (√nats)", "gold reward"),
        &lines,
        true,
    )?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// Every plot into `OUT/plots/`.
pub fn all(cfg: &PipelineConfig, l: &Layout) -> Result<Vec<PathBuf>> {
    let dir = l.out.join("plots");
    std::fs::create_dir_all(&dir)?;
    let ppo = dir.join("ppo.png");
    ppo_curves(cfg, l, &ppo)?;
    let mut v = vec![ppo];
    if cfg.eval.curve_samples > 0 {
        let p = dir.join("overoptimization.png");
        overoptimization(cfg, l, &p)?;
        v.push(p);
    }
    Ok(v)
}
