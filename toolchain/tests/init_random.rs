//! `mote init-random`: the shipped model configs, and the random models made from them, read
//! back by mote-runtime (which runs them), by the `gguf` Python package, and (when
//! `LLAMA_CPP_BIN_DIR` points at llama.cpp's binaries) by llama.cpp's tokenizer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mote_runtime::gguf::{Gguf, Value};
use mote_runtime::quant::GgmlType;
use mote_runtime::tokenizer::Tokenizer;
use mote_runtime::{Model, OwnedArena, Session, SessionConfig};
use mote_toolchain::gguf::llama::CHATML_TEMPLATE;
use mote_toolchain::init_random::{
    init_random, InitReport, ModelConfig, BOS_ID, EOS_ID, IM_END_ID, IM_START_ID,
};
use mote_toolchain::quantize::{quantize_row, Quant};
use serde_json::Value as Json;

fn config_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models/configs")
        .join(format!("{name}.toml"))
}

fn config(name: &str) -> ModelConfig {
    ModelConfig::load(&config_path(name)).unwrap_or_else(|e| panic!("{e}"))
}

fn generate(c: &ModelConfig, quant: Quant, seed: u64, dir: &Path) -> (PathBuf, InitReport) {
    let path = dir.join(format!("{}-{quant}-{seed}.gguf", c.name));
    let report = init_random(c, quant, seed, &path).unwrap_or_else(|e| panic!("{e}"));
    (path, report)
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Everything mote-runtime can check about a generated file: keys, tensor types and shapes,
/// the model loads with the config's geometry, a session evaluates tokens to finite logits,
/// and the tokenizer works.
fn check_with_runtime(path: &Path, c: &ModelConfig, quant: Quant) {
    let bytes = std::fs::read(path).unwrap();
    let g = Gguf::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let get = |k: &str| g.get(k).unwrap_or_else(|| panic!("key {k} missing"));
    let u32_key = |k: &str| match get(k) {
        Value::U32(v) => v,
        v => panic!("{k} = {v:?} is not a u32"),
    };
    assert_eq!(get("general.architecture"), Value::Str("llama"));
    assert_eq!(get("general.name"), Value::Str(c.name.as_str()));
    assert_eq!(u32_key("general.file_type"), quant.file_type() as u32);
    if quant.file_type().is_quantized() {
        assert_eq!(u32_key("general.quantization_version"), 2);
    } else {
        assert!(g.get("general.quantization_version").is_none());
    }
    assert_eq!(u32_key("llama.context_length") as usize, c.ctx);
    assert_eq!(u32_key("llama.embedding_length") as usize, c.dim);
    assert_eq!(u32_key("llama.block_count") as usize, c.n_layers);
    assert_eq!(u32_key("llama.feed_forward_length") as usize, c.hidden);
    assert_eq!(u32_key("llama.rope.dimension_count") as usize, c.head_dim());
    assert_eq!(u32_key("llama.attention.head_count") as usize, c.n_heads);
    assert_eq!(
        u32_key("llama.attention.head_count_kv") as usize,
        c.kv_heads()
    );
    assert_eq!(
        get("llama.attention.layer_norm_rms_epsilon"),
        Value::F32(c.rms_eps)
    );
    assert_eq!(get("llama.rope.freq_base"), Value::F32(c.rope_base));
    assert_eq!(get("tokenizer.ggml.model"), Value::Str("llama"));
    assert_eq!(get("tokenizer.chat_template"), Value::Str(CHATML_TEMPLATE));

    // Tensors: norms F32 and all ones, matrices in the file's type or its F16 fallback.
    let expected_tensors = 2 + 9 * c.n_layers + usize::from(!c.tied);
    assert_eq!(g.n_tensors(), expected_tensors);
    assert_eq!(g.tensor("output.weight").is_some(), !c.tied);
    for t in g.tensors() {
        if t.n_dims == 1 {
            assert_eq!(t.ty, GgmlType::F32, "{}", t.name);
            assert!(f32s(t.data).iter().all(|&v| v == 1.0), "{}", t.name);
        } else {
            assert_eq!(t.n_dims, 2, "{}", t.name);
            assert_eq!(t.ty, quant.tensor_type(t.dims[0]), "{}", t.name);
        }
    }

    let model = Model::load(&g).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mc = &model.config;
    assert_eq!(
        (mc.dim, mc.n_layers, mc.n_heads, mc.n_kv_heads, mc.hidden),
        (c.dim, c.n_layers, c.n_heads, c.kv_heads(), c.hidden)
    );
    assert_eq!((mc.vocab, mc.ctx_len), (c.vocab, c.ctx));
    assert_eq!(model.tied, c.tied);

    let sc = SessionConfig::new(c.ctx.min(64));
    let mut arena = OwnedArena::new(model.arena_bytes_for(&sc).unwrap());
    let mut s = Session::new(&model, arena.as_mut_slice(), sc).unwrap();
    let tokens = [
        BOS_ID,
        IM_START_ID,
        300,
        301,
        (c.vocab - 1) as u32,
        IM_END_ID,
    ];
    let mut previous: Option<Vec<f32>> = None;
    for &t in &tokens {
        let logits = s.eval(t).unwrap().to_vec();
        assert_eq!(logits.len(), c.vocab);
        assert!(
            logits.iter().all(|v| v.is_finite()),
            "{}: non-finite logits",
            path.display()
        );
        let (lo, hi) = logits
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        assert!(hi - lo > 1e-3, "logits are flat: {lo}..{hi}");
        assert!(hi.abs() < 100.0 && lo.abs() < 100.0, "logits {lo}..{hi}");
        assert_ne!(
            previous.as_ref(),
            Some(&logits),
            "each position changes them"
        );
        previous = Some(logits);
    }

    let mut table = vec![0u32; Tokenizer::table_len(&g).unwrap()];
    let tok = Tokenizer::build(&g, &mut table).unwrap();
    assert_eq!((tok.bos(), tok.eos()), (Some(BOS_ID), Some(EOS_ID)));
    let ids = tok
        .encode_vec("<|im_start|>user\nhello world<|im_end|>", true, true)
        .unwrap();
    assert_eq!(&ids[..2], &[BOS_ID, IM_START_ID], "{ids:?}");
    assert_eq!(ids.last(), Some(&IM_END_ID), "{ids:?}");
    // Pieces put back together give the text (with SentencePiece's space prefix).
    let ids = tok.encode_vec("hello world, Hi!", false, false).unwrap();
    let mut text = Vec::new();
    for &id in &ids {
        let mut buf = [0u8; 64];
        text.extend_from_slice(tok.piece(id, false, &mut buf).unwrap());
    }
    assert_eq!(String::from_utf8(text).unwrap(), " hello world, Hi!");
}

#[test]
fn shipped_configs_parse() {
    let expect = [
        ("stories260k", (64, 5, 8, 4, 172, 512, 512), 260_032),
        ("stories15m", (288, 6, 6, 6, 768, 32000, 256), 15_191_712),
        (
            "stories110m",
            (768, 12, 12, 12, 2048, 32000, 1024),
            109_529_856,
        ),
        ("mcu300k", (96, 4, 6, 2, 160, 512, 256), 332_640),
        ("tiny1m", (128, 4, 4, 4, 384, 2048, 256), 1_115_264),
        ("small15m", (384, 7, 6, 6, 1024, 8192, 256), 15_537_792),
    ];
    for (name, geometry, params) in expect {
        let c = config(name);
        assert_eq!(c.name, name);
        assert_eq!(
            (
                c.dim,
                c.n_layers,
                c.n_heads,
                c.kv_heads(),
                c.hidden,
                c.vocab,
                c.ctx
            ),
            geometry,
            "{name}"
        );
        assert!(c.tied, "{name}");
        assert_eq!((c.rope_base, c.rms_eps), (10_000.0, 1e-5), "{name}");
        assert_eq!(c.n_params(), params, "{name}");
        let text = std::fs::read_to_string(config_path(name)).unwrap();
        assert!(
            text.starts_with("# "),
            "{name}: the first line says what it is"
        );
    }
}

#[test]
fn stories260k_at_every_quant_loads_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let c = config("stories260k");
    for quant in Quant::ALL {
        let (path, report) = generate(&c, quant, 1, dir.path());
        check_with_runtime(&path, &c, quant);
        assert_eq!(report.file_bytes, std::fs::metadata(&path).unwrap().len());
        // ffn_down has rows of hidden = 172 values: no whole 32-blocks, so F16 as llama.cpp.
        let fallbacks: Vec<(&str, GgmlType)> = report
            .fallbacks
            .iter()
            .map(|f| (f.tensor.as_str(), f.used))
            .collect();
        match quant {
            Quant::F32 | Quant::F16 => assert!(fallbacks.is_empty()),
            Quant::Q8_0 | Quant::Q4_0 => {
                let want: Vec<String> =
                    (0..5).map(|l| format!("blk.{l}.ffn_down.weight")).collect();
                let got: Vec<&str> = fallbacks.iter().map(|f| f.0).collect();
                assert_eq!(got, want);
                assert!(fallbacks.iter().all(|f| f.1 == GgmlType::F16));
                let text = report.to_string();
                assert!(
                    text.contains("blk.*.ffn_down.weight (5 tensors)") && text.contains("f16"),
                    "{text}"
                );
            }
        }
    }
}

#[test]
fn mcu300k_q4_0_loads_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let c = config("mcu300k");
    let (path, report) = generate(&c, Quant::Q4_0, 3, dir.path());
    assert!(report.fallbacks.is_empty(), "every width is whole blocks");
    check_with_runtime(&path, &c, Quant::Q4_0);
    // 332,640 weights, 4.5 bits each for the matrices, plus the vocabulary: well within a 2 MiB flash.
    assert!(
        report.file_bytes < 256 * 1024,
        "{} bytes",
        report.file_bytes
    );
}

#[test]
fn untied_config_writes_an_output_head() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(config_path("stories260k"))
        .unwrap()
        .replace("tied = true", "tied = false")
        .replace("\"stories260k\"", "\"stories260k-untied\"");
    let c = ModelConfig::parse(&text, Path::new("untied.toml")).unwrap();
    assert!(!c.tied);
    for quant in [Quant::F32, Quant::Q8_0] {
        let (path, _) = generate(&c, quant, 1, dir.path());
        check_with_runtime(&path, &c, quant);
    }
}

#[test]
fn weights_depend_only_on_seed_and_tensor_name() {
    let dir = tempfile::tempdir().unwrap();
    let c = config("stories260k");
    let read = |p: &Path| std::fs::read(p).unwrap();
    let (a, _) = generate(&c, Quant::Q4_0, 7, dir.path());
    let again = dir.path().join("again.gguf");
    init_random(&c, Quant::Q4_0, 7, &again).unwrap();
    assert_eq!(read(&a), read(&again), "same seed, same bytes");
    let (b, _) = generate(&c, Quant::Q4_0, 8, dir.path());
    let (a_bytes, b_bytes) = (read(&a), read(&b));
    assert_eq!(a_bytes.len(), b_bytes.len());
    assert_ne!(a_bytes, b_bytes, "another seed, other weights");
    let (ga, gb) = (
        Gguf::parse(&a_bytes).unwrap(),
        Gguf::parse(&b_bytes).unwrap(),
    );
    for (ta, tb) in ga.tensors().zip(gb.tensors()) {
        if ta.n_dims == 2 {
            assert_ne!(ta.data, tb.data, "{}", ta.name);
        }
    }

    // The same seed in another type is the same weights, quantized: each matrix of the
    // q8_0/q4_0/f16 file is the quantization of the f32 file's.
    let (f, _) = generate(&c, Quant::F32, 7, dir.path());
    let f_bytes = read(&f);
    let gf = Gguf::parse(&f_bytes).unwrap();
    for quant in [Quant::F16, Quant::Q8_0, Quant::Q4_0] {
        let (q, _) = generate(&c, quant, 7, dir.path());
        let q_bytes = read(&q);
        let gq = Gguf::parse(&q_bytes).unwrap();
        for tq in gq.tensors() {
            let tf = gf.tensor(tq.name).unwrap();
            let mut want = Vec::new();
            quantize_row(tq.ty, &f32s(tf.data), &mut want).unwrap();
            assert!(want == tq.data, "{quant}: {}", tq.name);
        }
    }

    // Distinct tensors get distinct streams, and weights look like the initialisation.
    let q = f32s(gf.tensor("blk.0.attn_q.weight").unwrap().data);
    let k = f32s(gf.tensor("blk.0.attn_k.weight").unwrap().data);
    assert_ne!(&q[..k.len()], &k[..]);
    let std = (q.iter().map(|v| v * v).sum::<f32>() / q.len() as f32).sqrt();
    assert!((std - 0.02).abs() < 0.002, "std {std}");
}

#[test]
fn config_errors_point_at_the_key() {
    let good = std::fs::read_to_string(config_path("stories260k")).unwrap();
    let err = |text: &str| {
        ModelConfig::parse(text, Path::new("bad.toml"))
            .unwrap_err()
            .to_string()
    };
    let text = good.replace("n_heads = 8", "n_heads = 7");
    let e = err(&text);
    let at = text.find("n_heads = 7").unwrap();
    assert!(
        e.starts_with(&format!("bad.toml: at byte {at}: model.n_heads:")),
        "{e}"
    );
    let e = err(&good.replace("n_kv_heads = 4", "n_kv_heads = 3"));
    assert!(e.contains("model.n_kv_heads"), "{e}");
    let e = err(&good.replace("vocab = 512", "vocab = 100"));
    assert!(e.contains("model.vocab: 100 is outside 262..="), "{e}");
    let e = err(&good.replace("dim = 64", "dims = 64"));
    assert!(e.contains("dims"), "unknown keys are refused: {e}");
    let e = err(&good.replace("rms_eps = 1e-5", "rms_eps = -1.0"));
    assert!(e.contains("model.rms_eps"), "{e}");
    let e = err("[model]\nname = \"x\"\n");
    assert!(e.contains("missing field"), "{e}");

    // Optional fields take llama's defaults.
    let c = ModelConfig::parse(
        "[model]\nname = \"m\"\ndim = 64\nn_layers = 1\nn_heads = 4\nhidden = 64\nvocab = 300\nctx = 8\n",
        Path::new("min.toml"),
    )
    .unwrap();
    assert_eq!(
        (c.kv_heads(), c.tied, c.rope_base, c.rms_eps),
        (4, false, 10_000.0, 1e-5)
    );
}

#[test]
fn cli_writes_the_same_file_as_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cli.gguf");
    let run = Command::new(env!("CARGO_BIN_EXE_mote"))
        .arg("init-random")
        .arg("--config")
        .arg(config_path("stories260k"))
        .args(["--quant", "q4_0", "--seed", "5", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("ffn_down") && stderr.contains("f16"),
        "the fallback is reported: {stderr}"
    );
    let lib = dir.path().join("lib.gguf");
    init_random(&config("stories260k"), Quant::Q4_0, 5, &lib).unwrap();
    assert!(std::fs::read(&out).unwrap() == std::fs::read(&lib).unwrap());

    let bad = Command::new(env!("CARGO_BIN_EXE_mote"))
        .arg("init-random")
        .arg("--config")
        .arg(config_path("stories260k"))
        .args(["--quant", "q4_k", "-o"])
        .arg(dir.path().join("x.gguf"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(!dir.path().join("x.gguf").exists());
}

/// Reads a GGUF file with the `gguf` Python package; prints the metadata and tensors as JSON.
const PY_READ: &str = r#"
import json, sys
try:
    import gguf
except ImportError as e:
    print("the Python package `gguf` is missing (pip install gguf): %s" % e, file=sys.stderr)
    sys.exit(3)
r = gguf.GGUFReader(sys.argv[1])
fields = {}
for name, f in r.fields.items():
    if name.startswith("GGUF."):
        continue
    v = f.contents()
    if name in ("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"):
        v = {"len": len(v), "first": v[:8], "last": v[-1]}
    fields[name] = v
tensors = [{"name": t.name, "type": t.tensor_type.name, "shape": [int(x) for x in t.shape],
            "n_bytes": int(t.n_bytes)} for t in r.tensors]
print(json.dumps({"fields": fields, "tensors": tensors}))
"#;

fn python_read(path: &Path) -> Json {
    let out = Command::new("python3")
        .arg("-c")
        .arg(PY_READ)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 (needed to cross-check GGUF files): {e}"));
    assert!(
        out.status.success(),
        "python3 failed to read {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn python_gguf_reads_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (config("stories260k"), Quant::F32),
        (config("stories260k"), Quant::Q4_0),
        (config("mcu300k"), Quant::Q8_0),
    ];
    for (c, quant) in cases {
        let (path, _) = generate(&c, quant, 1, dir.path());
        let py = python_read(&path);
        let f = &py["fields"];
        assert_eq!(f["general.architecture"], "llama");
        assert_eq!(f["general.name"], c.name.as_str());
        assert_eq!(f["general.file_type"], quant.file_type() as u32);
        assert_eq!(f["llama.block_count"], c.n_layers);
        assert_eq!(f["llama.embedding_length"], c.dim);
        assert_eq!(f["llama.feed_forward_length"], c.hidden);
        assert_eq!(f["llama.attention.head_count_kv"], c.kv_heads());
        assert_eq!(f["tokenizer.chat_template"], CHATML_TEMPLATE);
        let tokens = &f["tokenizer.ggml.tokens"];
        assert_eq!(tokens["len"], c.vocab);
        assert_eq!(
            tokens["first"],
            serde_json::json!([
                "<unk>",
                "<s>",
                "</s>",
                "<|im_start|>",
                "<|im_end|>",
                "<0x00>",
                "<0x01>",
                "<0x02>"
            ])
        );
        assert_eq!(
            f["tokenizer.ggml.token_type"]["first"],
            serde_json::json!([2, 3, 3, 3, 3, 6, 6, 6])
        );
        assert_eq!(f["tokenizer.ggml.token_type"]["last"], 1);
        assert_eq!(f["tokenizer.ggml.scores"]["len"], c.vocab);

        // Python sees the tensors the runtime sees.
        let bytes = std::fs::read(&path).unwrap();
        let g = Gguf::parse(&bytes).unwrap();
        let runtime: BTreeMap<String, (String, Vec<usize>, usize)> = g
            .tensors()
            .map(|t| {
                let ty = match t.ty {
                    GgmlType::F32 => "F32",
                    GgmlType::F16 => "F16",
                    GgmlType::Q8_0 => "Q8_0",
                    GgmlType::Q4_0 => "Q4_0",
                    other => panic!("unexpected {other:?}"),
                };
                let dims = t.dims[..t.n_dims].to_vec();
                (t.name.to_owned(), (ty.to_owned(), dims, t.data.len()))
            })
            .collect();
        let python: BTreeMap<String, (String, Vec<usize>, usize)> = py["tensors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let shape = t["shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_u64().unwrap() as usize)
                    .collect();
                let info = (
                    t["type"].as_str().unwrap().to_owned(),
                    shape,
                    t["n_bytes"].as_u64().unwrap() as usize,
                );
                (t["name"].as_str().unwrap().to_owned(), info)
            })
            .collect();
        assert_eq!(python, runtime, "{}", path.display());
    }
}

/// llama.cpp's tokenizer loads the vocabulary and splits text as mote-runtime does. Runs only
/// where `LLAMA_CPP_BIN_DIR` names a directory with `llama-tokenize` (not installed in CI).
#[test]
fn llama_cpp_tokenizer_agrees() {
    let Some(bin) = std::env::var_os("LLAMA_CPP_BIN_DIR") else {
        eprintln!("LLAMA_CPP_BIN_DIR is not set: llama.cpp's tokenizer is not checked");
        return;
    };
    let exe = Path::new(&bin).join("llama-tokenize");
    let dir = tempfile::tempdir().unwrap();
    let texts = [
        "hello world",
        " the cat sat on a mat",
        "Hi! 123 \u{e9}t\u{e9}",
        "<|im_start|>user\nhow are you<|im_end|>\n<|im_start|>assistant\n",
    ];
    for c in [config("stories260k"), config("mcu300k")] {
        let (path, _) = generate(&c, Quant::Q4_0, 1, dir.path());
        let bytes = std::fs::read(&path).unwrap();
        let g = Gguf::parse(&bytes).unwrap();
        let mut table = vec![0u32; Tokenizer::table_len(&g).unwrap()];
        let tok = Tokenizer::build(&g, &mut table).unwrap();
        for text in texts {
            let out = Command::new(&exe)
                .arg("-m")
                .arg(&path)
                .args(["-p", text, "--ids", "--log-disable"])
                .output()
                .unwrap_or_else(|e| panic!("{}: {e}", exe.display()));
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "llama-tokenize rejected {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            let last = stdout.lines().rev().find(|l| l.starts_with('[')).unwrap();
            let theirs: Vec<u32> = serde_json::from_str(last).unwrap();
            let ours = tok.encode_vec(text, true, true).unwrap();
            assert_eq!(ours, theirs, "{}: {text:?}", c.name);
        }
    }
}
