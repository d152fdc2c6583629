//! `mote bench`: prompt and generation tokens/s, optionally side by side with llama-bench.

use super::loaded::KvArg;
use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use mote_runtime::kernels::Kernels;
use mote_runtime::parallel::Parallel;
use mote_runtime::thread_pool::ThreadPool;
use mote_runtime::{OwnedArena, SessionConfig};
use mote_toolchain::bench::{llama_bench, MoteBench, Samples, Test};
use mote_toolchain::model_file::ModelFile;
use mote_toolchain::stream::{self, Bandwidth};
use std::path::PathBuf;

#[derive(ClapArgs)]
pub struct Args {
    /// GGUF model to measure (optional with `--stream`).
    model: Option<PathBuf>,
    /// Thread counts to test, comma-separated.
    #[arg(short = 't', long, value_delimiter = ',', default_value = "1")]
    threads: Vec<usize>,
    /// Prompt tokens per prompt-processing test (0 skips it).
    #[arg(short = 'p', long = "n-prompt", default_value_t = 512)]
    n_prompt: usize,
    /// Generated tokens per generation test (0 skips it).
    #[arg(short = 'n', long = "n-gen", default_value_t = 128)]
    n_gen: usize,
    /// Repetitions of each test.
    #[arg(short = 'r', long, default_value_t = 5)]
    reps: usize,
    /// Positions per pass over the weights when processing a prompt.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// KV cache type (llama-bench's default is f16).
    #[arg(long, value_enum, default_value_t = KvArg::F16)]
    kv_type: KvArg,
    /// Read every weight in place instead of packing Q4_0/Q8_0 matrices at load
    /// (`--vs-llama-bench` then runs llama-bench with `--repack 0`).
    #[arg(long)]
    no_repack: bool,
    /// One JSON object per test, with llama-bench's jsonl fields.
    #[arg(long)]
    json: bool,
    /// Path to llama.cpp's llama-bench: run it on the same file and settings, interleaved
    /// repetition by repetition, and print the ratio.
    #[arg(long)]
    vs_llama_bench: Option<PathBuf>,
    /// Measure this machine's memory bandwidth first (STREAM copy, scale, add, triad and a
    /// read-only sum, per thread count); with a model, also print each generation test's
    /// weight bytes per token × tokens/s as a fraction of the read bandwidth (roofline).
    #[arg(long)]
    stream: bool,
    /// Bytes per STREAM array, in MiB (three arrays; make them ≫ the last-level cache).
    #[arg(long, default_value_t = 64)]
    stream_mib: usize,
}

/// STREAM at every thread count of `a`, printed as a table.
fn run_stream(a: &Args) -> Vec<Bandwidth> {
    let reps = a.reps.max(5);
    if !a.json {
        eprintln!(
            "STREAM: 3 arrays of {} MiB, median of {reps} repetitions",
            a.stream_mib
        );
        println!(
            "| STREAM | threads | copy GB/s | scale GB/s | add GB/s | triad GB/s | read GB/s |"
        );
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    }
    let mut out = Vec::new();
    for &threads in &a.threads {
        let b = stream::measure(threads, a.stream_mib << 20, reps);
        if a.json {
            let v = serde_json::json!({
                "stream_threads": threads,
                "stream_array_bytes": a.stream_mib << 20,
                "copy_gbs": b.copy,
                "scale_gbs": b.scale,
                "add_gbs": b.add,
                "triad_gbs": b.triad,
                "read_gbs": b.read,
            });
            println!("{v}");
        } else {
            println!(
                "| STREAM | {threads} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
                b.copy, b.scale, b.add, b.triad, b.read
            );
        }
        out.push(b);
    }
    out
}

pub fn run(a: Args) -> Result<()> {
    let bandwidth = if a.stream { run_stream(&a) } else { Vec::new() };
    let Some(path) = a.model.clone() else {
        anyhow::ensure!(a.stream, "give a model to measure, or --stream");
        return Ok(());
    };
    let file = ModelFile::open(&path)?;
    let kernels = Kernels::from_env()
        .map_err(|_| anyhow::anyhow!("MOTE_KERNELS names no kernel table this CPU runs"))?;
    let plain = file.model()?;
    let packed_bytes = match a.no_repack {
        true => 0,
        false => plain.packed_bytes(kernels.for_weights(plain.bytes_per_token())),
    };
    let mut packed = mote_toolchain::model_file::PackedStore::default();
    let model = match a.no_repack {
        true => plain,
        false => file.model_for(kernels, &mut packed)?,
    };
    let kv = a.kv_type.kv_type();
    // llama-bench's name for the comparable cache type.
    let kv_name = match a.kv_type {
        KvArg::F32 => "f32",
        KvArg::F16 => "f16",
        KvArg::Q8 => "q8_0",
    };
    let base = SessionConfig::new(1)
        .with_kv_type(kv)
        .with_kernels(kernels)
        .with_batch(a.batch);
    let mut tests = Vec::new();
    for &threads in &a.threads {
        if a.n_prompt > 0 {
            tests.push(Test {
                n_prompt: a.n_prompt,
                n_gen: 0,
                threads,
            });
        }
        if a.n_gen > 0 {
            tests.push(Test {
                n_prompt: 0,
                n_gen: a.n_gen,
                threads,
            });
        }
    }
    let c = &model.config;
    let params = (model.weight_bytes() as f64, n_params(&model));
    let label = format!("llama {}L {}d {}", c.n_layers, c.dim, type_name(&model));
    if !a.json {
        eprintln!(
            "{}: {:.2} MiB weights ({:.2} MiB of them packed for the kernels), {:.2} M params, kernels {}, arena {:.2} MiB for ctx {} (kv {kv_name}, batch {})",
            path.display(),
            params.0 / 1048576.0,
            packed_bytes as f64 / 1048576.0,
            params.1 as f64 / 1e6,
            kernels.backend.name(),
            model.arena_bytes_for(&MoteBench::config(base, &tests[0]))? as f64 / 1048576.0,
            tests[0].tokens(),
            a.batch
        );
        if a.vs_llama_bench.is_some() {
            println!("| model | threads | test | mote t/s (median, min–max) | llama.cpp t/s (median, min–max) | ratio |");
            println!("| --- | ---: | ---: | ---: | ---: | ---: |");
        } else {
            println!(
                "| model | size | params | kernels | threads | test | t/s (median) | min – max |"
            );
            println!("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |");
        }
    }

    // Generation tests: (threads, mote t/s, llama.cpp t/s) for the roofline table.
    let mut gen = Vec::new();
    for test in &tests {
        let pool = ThreadPool::new(test.threads).context("starting worker threads")?;
        let sc = MoteBench::config(base, test);
        let mut arena = OwnedArena::new(model.arena_bytes_for(&sc)?);
        let par: &dyn Parallel = &pool;
        let mut bench = MoteBench::new(&model, sc, par, &mut arena)?;
        bench.run(test)?; // warm-up, as llama-bench does
        let (mut ours, mut theirs) = (Samples::default(), Samples::default());
        for rep in 0..a.reps {
            // Each llama-bench call warms up before its timed run; between them the
            // kernel may reclaim our idle pages, so warm up again to time the same thing.
            if rep > 0 && a.vs_llama_bench.is_some() {
                bench.run(test)?;
            }
            ours.0.push(bench.run(test)?);
            if let Some(bin) = &a.vs_llama_bench {
                theirs
                    .0
                    .push(llama_bench(bin, &path, test, kv_name, !a.no_repack)?);
            }
        }
        if test.n_gen > 0 {
            gen.push((test.threads, ours.median(), theirs.median()));
        }
        if a.json {
            let v = serde_json::json!({
                "model_filename": path.display().to_string(),
                "model_type": label,
                "model_size": model.weight_bytes(),
                "model_n_params": params.1,
                "backends": "CPU",
                "kernels": kernels.backend.name(),
                "n_batch": a.batch,
                "n_threads": test.threads,
                "type_k": kv_name,
                "type_v": kv_name,
                "n_prompt": test.n_prompt,
                "n_gen": test.n_gen,
                "avg_ns": (test.tokens() as f64 / ours.mean() * 1e9) as u64,
                "avg_ts": ours.mean(),
                "stddev_ts": ours.stddev(),
                "median_ts": ours.median(),
                "min_ts": ours.min(),
                "max_ts": ours.max(),
                "samples_ns": ours.0.iter().map(|ts| (test.tokens() as f64 / ts * 1e9) as u64).collect::<Vec<_>>(),
                "samples_ts": ours.0,
                "llama_bench_samples_ts": theirs.0,
            });
            println!("{v}");
        } else if a.vs_llama_bench.is_some() {
            println!(
                "| {label} | {} | {} | {:.1} ({:.1}–{:.1}) | {:.1} ({:.1}–{:.1}) | {:.2}× |",
                test.threads,
                test.name(),
                ours.median(),
                ours.min(),
                ours.max(),
                theirs.median(),
                theirs.min(),
                theirs.max(),
                ours.median() / theirs.median()
            );
        } else {
            println!(
                "| {label} | {:.2} MiB | {:.2} M | {} | {} | {} | {:.2} | {:.2} – {:.2} |",
                params.0 / 1048576.0,
                params.1 as f64 / 1e6,
                kernels.backend.name(),
                test.threads,
                test.name(),
                ours.median(),
                ours.min(),
                ours.max()
            );
        }
    }
    if !bandwidth.is_empty() && !gen.is_empty() {
        roofline(&a, &label, model.bytes_per_token(), &bandwidth, &gen);
    }
    Ok(())
}

/// Generation speed as a fraction of the bandwidth bound: a token reads every weight once.
fn roofline(
    a: &Args,
    label: &str,
    bytes_per_token: usize,
    bandwidth: &[Bandwidth],
    gen: &[(usize, f64, f64)],
) {
    let mib = bytes_per_token as f64 / 1048576.0;
    if !a.json {
        println!();
        println!("| model | threads | weights MiB/token | STREAM read GB/s | mote GB/s | mote roofline | llama.cpp GB/s | llama.cpp roofline |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    }
    for &(threads, ours, theirs) in gen {
        let Some(bw) = bandwidth.iter().find(|b| b.threads == threads) else {
            continue;
        };
        let (g_ours, g_theirs) = (
            bytes_per_token as f64 * ours / 1e9,
            bytes_per_token as f64 * theirs / 1e9,
        );
        if a.json {
            let v = serde_json::json!({
                "model_type": label,
                "n_threads": threads,
                "weight_bytes_per_token": bytes_per_token,
                "stream_read_gbs": bw.read,
                "gbs": g_ours,
                "roofline": g_ours / bw.read,
                "llama_bench_gbs": if theirs.is_nan() { None } else { Some(g_theirs) },
                "llama_bench_roofline": if theirs.is_nan() { None } else { Some(g_theirs / bw.read) },
            });
            println!("{v}");
        } else {
            let (lg, lr) = if theirs.is_nan() {
                ("–".to_string(), "–".to_string())
            } else {
                (
                    format!("{g_theirs:.2}"),
                    format!("{:.0}%", 100.0 * g_theirs / bw.read),
                )
            };
            println!(
                "| {label} | {threads} | {mib:.2} | {:.1} | {g_ours:.2} | {:.0}% | {lg} | {lr} |",
                bw.read,
                100.0 * g_ours / bw.read
            );
        }
    }
}

fn n_params(model: &mote_runtime::Model<'_>) -> u64 {
    let c = &model.config;
    let per_layer = 2 * c.dim + 2 * c.dim * c.dim + 2 * c.dim * c.kv_dim() + 3 * c.dim * c.hidden;
    let head = if model.tied { 0 } else { c.vocab * c.dim };
    (c.n_layers * per_layer + c.vocab * c.dim + head + c.dim) as u64
}

fn type_name(model: &mote_runtime::Model<'_>) -> &'static str {
    model.layer(0).wq.ty.traits().name
}
