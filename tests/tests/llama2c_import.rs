//! `import_llama2c` against the reference GGUFs: each reference is turned into a llama2.c
//! checkpoint + tokenizer.bin, imported back, and must come out identical — every tensor's
//! bytes, shape and type, and every metadata key and value (including the token types: the
//! importer marks `<|im_start|>`/`<|im_end|>` control, as the reference does).

use std::fs;
use std::path::{Path, PathBuf};

use mote_runtime::gguf::{Gguf, Value};
use mote_tests::llama2c::write_llama2c_from_gguf;
use mote_tests::reference_dir;
use mote_toolchain::import::{import_llama2c, ImportReport};
use mote_toolchain::Error;

struct Fixture {
    dir: tempfile::TempDir,
    reference: PathBuf,
    bin: PathBuf,
    tok: PathBuf,
    out: PathBuf,
}

impl Fixture {
    /// `name` is the reference's stem without the weight-type suffix; the checkpoint gets
    /// that name so the imported `general.name` matches the reference's.
    fn new(name: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let reference = reference_dir().join(format!("{name}-f32.gguf"));
        let bin = dir.path().join(format!("{name}.bin"));
        let tok = dir.path().join("tokenizer.bin");
        let out = dir.path().join("out.gguf");
        write_llama2c_from_gguf(&reference, &bin, &tok);
        Fixture {
            dir,
            reference,
            bin,
            tok,
            out,
        }
    }

    fn import(&self) -> Result<ImportReport, Error> {
        import_llama2c(&self.bin, &self.tok, &self.out)
    }

    fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// Import must fail with a format error in `file` containing every `needle`, and leave
    /// neither the output nor a temporary file behind.
    fn expect_format_error(&self, file: &Path, needles: &[&str]) -> u64 {
        let before = self.files();
        let err = self.import().expect_err("the import must fail");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("{}: ", file.display())),
            "the error names the file: {msg}"
        );
        for n in needles {
            assert!(msg.contains(n), "{msg:?} lacks {n:?}");
        }
        assert!(!self.out.exists(), "no output on error");
        assert_eq!(self.files(), before, "no temporary files left: {msg}");
        match err {
            Error::Format { path, offset, .. } => {
                assert_eq!(path, file);
                offset
            }
            other => panic!("expected a format error, got {other:?}"),
        }
    }
}

fn round_trip(name: &str, tied: bool) {
    let f = Fixture::new(name);
    let report = f.import().unwrap();

    let ref_bytes = fs::read(&f.reference).unwrap();
    let out_bytes = fs::read(&f.out).unwrap();
    let r = Gguf::parse(&ref_bytes).unwrap();
    let o = Gguf::parse(&out_bytes).expect("the runtime reads the imported file");

    // Metadata: same keys in the same order, same types and values.
    let keys = |g: &Gguf| g.metadata().map(|(k, _)| k.to_owned()).collect::<Vec<_>>();
    assert_eq!(keys(&o), keys(&r));
    for (key, value) in r.metadata() {
        assert_eq!(o.get(key), Some(value), "metadata {key}");
    }
    let types = o
        .get("tokenizer.ggml.token_type")
        .and_then(|v| v.as_array())
        .unwrap();
    assert_eq!(types.i32(3), Some(3), "<|im_start|> is a control token");
    assert_eq!(types.i32(4), Some(3), "<|im_end|> is a control token");

    // Tensors: same names in the same order, shapes, types and bytes.
    assert_eq!(o.n_tensors(), r.n_tensors());
    for (a, b) in o.tensors().zip(r.tensors()) {
        assert_eq!(a.name, b.name);
        assert_eq!(
            (a.n_dims, a.dims, a.ty),
            (b.n_dims, b.dims, b.ty),
            "{}",
            a.name
        );
        assert!(a.data == b.data, "{}: tensor bytes differ", a.name);
    }
    assert_eq!(r.tensor("output.weight").is_none(), tied);

    // The report.
    let u = |k: &str| r.get(k).and_then(|v| v.as_u64()).unwrap() as usize;
    let c = report.config;
    assert_eq!(report.tied, tied);
    assert_eq!(
        [
            c.dim,
            c.hidden_dim,
            c.n_layers,
            c.n_heads,
            c.n_kv_heads,
            c.vocab_size,
            c.seq_len
        ],
        [
            u("llama.embedding_length"),
            u("llama.feed_forward_length"),
            u("llama.block_count"),
            u("llama.attention.head_count"),
            u("llama.attention.head_count_kv"),
            u("llama.vocab_size"),
            u("llama.context_length"),
        ]
    );
    let n_params: usize = r.tensors().map(|t| t.n_elements()).sum();
    assert_eq!(report.n_params, n_params as u64);
    assert!(report
        .to_string()
        .contains(if tied { "tied" } else { "untied" }));

    let mut expected = vec![
        format!("{name}.bin"),
        "out.gguf".to_owned(),
        "tokenizer.bin".to_owned(),
    ];
    expected.sort();
    assert_eq!(f.files(), expected, "no temporary files left");
}

#[test]
fn untied_gqa_model_round_trips() {
    round_trip("ref-tiny", false);
}

#[test]
fn tied_model_round_trips() {
    round_trip("ref-small-tied", true);
}

#[test]
fn fixture_is_laid_out_as_llama2c_writes_it() {
    let f = Fixture::new("ref-tiny");
    let bin = fs::read(&f.bin).unwrap();
    let header: Vec<i32> = bin[..28]
        .chunks(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(
        header,
        [64, 192, 2, 4, 2, -512, 256],
        "negative vocab: untied"
    );
    let tok = fs::read(&f.tok).unwrap();
    let mut pos = 4;
    let mut pieces = Vec::new();
    while pos < tok.len() {
        let len = i32::from_le_bytes(tok[pos + 4..pos + 8].try_into().unwrap()) as usize;
        pieces.push(String::from_utf8(tok[pos + 8..pos + 8 + len].to_vec()).unwrap());
        pos += 8 + len;
    }
    assert_eq!(pieces.len(), 512);
    assert_eq!(&pieces[..3], ["<unk>", "\n<s>\n", "\n</s>\n"]);
    assert!(pieces.iter().any(|p| p == " the"), "▁ written as a space");
    assert!(!pieces.iter().any(|p| p.contains('\u{2581}')));
}

#[test]
fn truncated_checkpoint_is_rejected() {
    let f = Fixture::new("ref-tiny");
    let len = fs::metadata(&f.bin).unwrap().len();
    let file = fs::OpenOptions::new().write(true).open(&f.bin).unwrap();
    file.set_len(len - 100).unwrap();
    let found = (len - 100).to_string();
    let offset = f.expect_format_error(
        &f.bin,
        &[
            &format!("file is {found} bytes"),
            &format!("implies {len}"),
            "truncated",
            "missing 100 bytes",
        ],
    );
    assert_eq!(offset, len - 100);
}

#[test]
fn checkpoint_longer_than_its_header_is_rejected() {
    let f = Fixture::new("ref-small-tied");
    let mut bytes = fs::read(&f.bin).unwrap();
    let len = bytes.len() as u64;
    bytes.extend_from_slice(&[0; 8]);
    fs::write(&f.bin, &bytes).unwrap();
    let offset = f.expect_format_error(
        &f.bin,
        &[
            &format!("implies {len}"),
            "8 unexpected bytes after the weights",
        ],
    );
    assert_eq!(offset, len);
}

#[test]
fn tied_checkpoint_with_a_classifier_is_rejected() {
    // A positive vocab_size (tied) on a file that still carries wcls is too long by vocab·dim.
    let f = Fixture::new("ref-tiny");
    let mut bytes = fs::read(&f.bin).unwrap();
    bytes[20..24].copy_from_slice(&512i32.to_le_bytes());
    fs::write(&f.bin, &bytes).unwrap();
    let extra = (512 * 64 * 4).to_string();
    f.expect_format_error(&f.bin, &[&format!("{extra} unexpected bytes")]);
}

#[test]
fn bad_headers_are_rejected() {
    let f = Fixture::new("ref-tiny");
    let original = fs::read(&f.bin).unwrap();
    let with_field = |i: usize, v: i32| {
        let mut b = original.clone();
        b[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
        fs::write(&f.bin, &b).unwrap();
    };
    with_field(3, 3);
    let at = f.expect_format_error(&f.bin, &["n_heads = 3 does not divide dim 64"]);
    assert_eq!(at, 12);
    with_field(4, 3);
    let at = f.expect_format_error(&f.bin, &["n_kv_heads = 3 does not divide n_heads 4"]);
    assert_eq!(at, 16);
    with_field(0, 0);
    f.expect_format_error(&f.bin, &["dim = 0 is not positive"]);
    with_field(2, -1);
    f.expect_format_error(&f.bin, &["n_layers = -1 is not positive"]);
    with_field(6, i32::MAX);
    f.expect_format_error(&f.bin, &["seq_len = 2147483647 is implausibly large"]);

    fs::write(&f.bin, &original[..20]).unwrap();
    let at = f.expect_format_error(&f.bin, &["file is 20 bytes, shorter than the 28-byte"]);
    assert_eq!(at, 0);

    // The newer llama2.c export formats start with a magic number.
    let mut v1 = b"24ka".to_vec();
    v1.extend_from_slice(&1i32.to_le_bytes());
    v1.extend_from_slice(&original[8..]);
    fs::write(&f.bin, &v1).unwrap();
    f.expect_format_error(&f.bin, &["version-1 export", "legacy"]);
}

#[test]
fn truncated_tokenizer_is_rejected() {
    let f = Fixture::new("ref-tiny");
    let tok = fs::read(&f.tok).unwrap();
    fs::write(&f.tok, &tok[..tok.len() - 3]).unwrap();
    let at = f.expect_format_error(&f.tok, &["truncated", "token 511 of the 512"]);
    assert_eq!(at, tok.len() as u64 - 3);

    fs::write(&f.tok, &tok[..2]).unwrap();
    f.expect_format_error(&f.tok, &["max_token_length"]);
}

#[test]
fn tokenizer_of_another_model_is_rejected() {
    let f = Fixture::new("ref-tiny");
    let mut tok = fs::read(&f.tok).unwrap();
    let len = tok.len() as u64;
    // One token more than the checkpoint's vocab_size.
    tok.extend_from_slice(&0f32.to_le_bytes());
    tok.extend_from_slice(&1i32.to_le_bytes());
    tok.push(b'x');
    fs::write(&f.tok, &tok).unwrap();
    let at = f.expect_format_error(&f.tok, &["9 bytes follow the 512 tokens"]);
    assert_eq!(at, len);
}

#[test]
fn missing_files_are_io_errors_naming_them() {
    let f = Fixture::new("ref-tiny");
    let missing = f.dir.path().join("missing.bin");
    for (bin, tok) in [(&missing, &f.tok), (&f.bin, &missing)] {
        let err = import_llama2c(bin, tok, &f.out).unwrap_err();
        assert!(
            matches!(&err, Error::Io { path, .. } if path == &missing),
            "{err:?}"
        );
        assert!(err.to_string().contains("missing.bin"), "{err}");
    }
    assert!(!f.out.exists());
}

#[test]
fn import_replaces_an_existing_output() {
    let f = Fixture::new("ref-tiny");
    fs::write(&f.out, b"old").unwrap();
    f.import().unwrap();
    let bytes = fs::read(&f.out).unwrap();
    let g = Gguf::parse(&bytes).unwrap();
    assert_eq!(g.get("general.name"), Some(Value::Str("ref-tiny")));
}
