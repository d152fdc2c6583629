//! llama2.c fixtures made from GGUF models: a legacy float32 checkpoint and a `tokenizer.bin`,
//! byte for byte as llama2.c's `export.py --version 0` and `tokenizer.py` write them.
//!
//! These are test fixtures: any inconsistency in the source GGUF panics with a message.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use mote_runtime::gguf::Gguf;
use mote_runtime::quant::GgmlType;

/// Write `bin` (checkpoint) and `tok` (tokenizer) from the F32 llama GGUF `gguf`.
///
/// The header's `vocab_size` is negated when the GGUF has an `output.weight` (llama2.c's
/// untied-classifier flag). The RoPE tables llama2.c stores between the final norm and the
/// classifier are computed from `llama.rope.freq_base`. In the tokenizer, `▁` becomes a space
/// and the BOS/EOS pieces become `"\n<s>\n"`/`"\n</s>\n"`, as llama2.c's exporter does.
pub fn write_llama2c_from_gguf(gguf: &Path, bin: &Path, tok: &Path) {
    let bytes = std::fs::read(gguf).unwrap_or_else(|e| panic!("{}: {e}", gguf.display()));
    let g = Gguf::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", gguf.display()));
    let u32_key = |k: &str| -> usize {
        g.get(k)
            .and_then(|v| v.as_u64())
            .unwrap_or_else(|| panic!("{}: no integer key {k}", gguf.display())) as usize
    };
    let dim = u32_key("llama.embedding_length");
    let hidden = u32_key("llama.feed_forward_length");
    let n_layers = u32_key("llama.block_count");
    let n_heads = u32_key("llama.attention.head_count");
    let n_kv_heads = u32_key("llama.attention.head_count_kv");
    let seq_len = u32_key("llama.context_length");
    let freq_base = g
        .get("llama.rope.freq_base")
        .and_then(|v| v.as_f32())
        .unwrap_or(10000.0);
    let tokens = g
        .get("tokenizer.ggml.tokens")
        .and_then(|v| v.as_array())
        .expect("tokenizer.ggml.tokens");
    let scores = g
        .get("tokenizer.ggml.scores")
        .and_then(|v| v.as_array())
        .expect("tokenizer.ggml.scores");
    let vocab = tokens.len();
    let bos = u32_key("tokenizer.ggml.bos_token_id");
    let eos = u32_key("tokenizer.ggml.eos_token_id");
    let untied = g.tensor("output.weight").is_some();

    // --- checkpoint ---
    let tensor = |name: &str| -> &[u8] {
        let t = g
            .tensor(name)
            .unwrap_or_else(|| panic!("{}: no tensor {name}", gguf.display()));
        assert_eq!(
            t.ty,
            GgmlType::F32,
            "{name}: llama2.c checkpoints are float32"
        );
        t.data
    };
    let file = File::create(bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    let mut w = BufWriter::new(file);
    let vocab_field = if untied {
        -(vocab as i32)
    } else {
        vocab as i32
    };
    let header = [
        dim as i32,
        hidden as i32,
        n_layers as i32,
        n_heads as i32,
        n_kv_heads as i32,
        vocab_field,
        seq_len as i32,
    ];
    for v in header {
        w.write_all(&v.to_le_bytes()).unwrap();
    }
    w.write_all(tensor("token_embd.weight")).unwrap();
    // llama2.c groups each weight kind across layers: w1 = gate, w2 = down, w3 = up.
    for kind in [
        "attn_norm",
        "attn_q",
        "attn_k",
        "attn_v",
        "attn_output",
        "ffn_norm",
        "ffn_gate",
        "ffn_down",
        "ffn_up",
    ] {
        for l in 0..n_layers {
            w.write_all(tensor(&format!("blk.{l}.{kind}.weight")))
                .unwrap();
        }
    }
    w.write_all(tensor("output_norm.weight")).unwrap();
    let head_size = dim / n_heads;
    let angle = |pos: usize, i: usize| {
        let freq = 1.0 / (freq_base as f64).powf((2 * i) as f64 / head_size as f64);
        pos as f64 * freq
    };
    for f in [f64::cos, f64::sin] {
        for pos in 0..seq_len {
            for i in 0..head_size / 2 {
                w.write_all(&(f(angle(pos, i)) as f32).to_le_bytes())
                    .unwrap();
            }
        }
    }
    if untied {
        w.write_all(tensor("output.weight")).unwrap();
    }
    w.flush().unwrap();

    // --- tokenizer ---
    let pieces: Vec<Vec<u8>> = tokens
        .strings()
        .enumerate()
        .map(|(id, piece)| {
            let piece = std::str::from_utf8(piece).expect("UTF-8 piece");
            let piece = match id {
                _ if id == bos => "\n<s>\n".to_owned(),
                _ if id == eos => "\n</s>\n".to_owned(),
                _ => piece.replace('\u{2581}', " "),
            };
            piece.into_bytes()
        })
        .collect();
    assert_eq!(pieces.len(), vocab);
    let file = File::create(tok).unwrap_or_else(|e| panic!("{}: {e}", tok.display()));
    let mut w = BufWriter::new(file);
    let max_len = pieces.iter().map(Vec::len).max().unwrap_or(0) as u32;
    w.write_all(&max_len.to_le_bytes()).unwrap();
    for (i, p) in pieces.iter().enumerate() {
        let score = scores.f32(i).expect("one f32 score per token");
        w.write_all(&score.to_le_bytes()).unwrap();
        w.write_all(&(p.len() as i32).to_le_bytes()).unwrap();
        w.write_all(p).unwrap();
    }
    w.flush().unwrap();
}
