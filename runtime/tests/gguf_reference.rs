//! The reader accepts every reference file and sees what the `gguf` package wrote.

mod common;
use common::read_reference;

use mote_runtime::gguf::Gguf;
use mote_runtime::quant::GgmlType;

#[test]
fn reads_every_reference_file() {
    for (file, layers, embd_ty) in [
        ("ref-tiny-f32.gguf", 2, GgmlType::F32),
        ("ref-tiny-f16.gguf", 2, GgmlType::F16),
        ("ref-tiny-q8_0.gguf", 2, GgmlType::Q8_0),
        ("ref-tiny-q4_0.gguf", 2, GgmlType::Q4_0),
        ("ref-tiny-q4_0-pure.gguf", 2, GgmlType::Q4_0),
        ("ref-small-tied-f32.gguf", 2, GgmlType::F32),
        ("ref-small-tied-q4_0.gguf", 2, GgmlType::Q6K),
    ] {
        let bytes = read_reference(file);
        let g = Gguf::parse(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            g.get("general.architecture").and_then(|v| v.as_str()),
            Some("llama")
        );
        assert_eq!(
            g.get("llama.block_count").and_then(|v| v.as_u64()),
            Some(layers)
        );
        let embd = g.tensor("token_embd.weight").expect("token_embd");
        assert_eq!(embd.ty, embd_ty, "{file}");
        assert_eq!(embd.dims[1], 512);
        let tokens = g
            .get("tokenizer.ggml.tokens")
            .and_then(|v| v.as_array())
            .unwrap();
        assert_eq!(tokens.len(), 512);
        assert_eq!(tokens.strings().nth(3), Some(&b"<|im_start|>"[..]));
        for t in g.tensors() {
            eprintln!("{file} {} {:?} {:?}", t.name, t.ty, &t.dims[..t.n_dims]);
        }
    }
}
