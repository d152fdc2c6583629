//! The writer's output read back by the runtime's reader and by the `gguf` Python package.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use mote_runtime::gguf::{Gguf, Value, ValueType};
use serde_json::{json, Value as Json};

use super::*;
use crate::Error;

/// Deterministic filler bytes.
fn bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect()
}

struct Expected {
    name: &'static str,
    dims: Vec<u64>,
    ty: GgmlType,
    data: Vec<u8>,
}

fn expected_tensors() -> Vec<Expected> {
    let t = |name, dims: &[u64], ty: GgmlType, seed| {
        let n: u64 = dims.iter().product();
        let nbytes = n as usize / ty.block_size() * ty.type_size();
        Expected {
            name,
            dims: dims.to_vec(),
            ty,
            data: bytes(nbytes, seed),
        }
    };
    vec![
        t("f32", &[5, 3], GgmlType::F32, 1),
        t("f16", &[7], GgmlType::F16, 2),
        t("blk.0.q4_0", &[64, 2], GgmlType::Q4_0, 3),
        t("q8_0.streamed", &[32, 3], GgmlType::Q8_0, 4),
        t("q6_k.from_file", &[256, 2, 1], GgmlType::Q6K, 5),
        t("f32_4d", &[2, 3, 1, 2], GgmlType::F32, 6),
    ]
}

/// A writer holding every metadata type and the tensors of `expected_tensors`.
fn sample(dir: &Path, alignment: Option<u32>) -> GgufWriter<'static> {
    let mut w = GgufWriter::new();
    if let Some(a) = alignment {
        w.set_alignment(a).unwrap();
    }
    w.add_u8("t.u8", 255).unwrap();
    w.add_i8("t.i8", -128).unwrap();
    w.add_u16("t.u16", 65535).unwrap();
    w.add_i16("t.i16", -32768).unwrap();
    w.add_u32("t.u32", u32::MAX).unwrap();
    w.add_i32("t.i32", i32::MIN).unwrap();
    w.add_f32("t.f32", 1.5).unwrap();
    w.add_bool("t.bool_true", true).unwrap();
    w.add_bool("t.bool_false", false).unwrap();
    w.add_string("t.string", "h\u{e9}llo \u{2581}w\u{f6}rld")
        .unwrap();
    w.add_string("t.empty_string", "").unwrap();
    w.add_u64("t.u64", u64::MAX).unwrap();
    w.add_i64("t.i64", i64::MIN).unwrap();
    w.add_f64("t.f64", -2.25).unwrap();
    w.add_array("a.u8", vec![0u8, 1, 255]).unwrap();
    w.add_array("a.i8", vec![-1i8, 127]).unwrap();
    w.add_array("a.u16", vec![1u16, 65535]).unwrap();
    w.add_array("a.i16", vec![-2i16, 3]).unwrap();
    w.add_array("a.u32", vec![7u32, u32::MAX]).unwrap();
    w.add_array("a.i32", vec![1i32, -1, 6]).unwrap();
    w.add_array("a.f32", vec![0.5f32, -0.25, 8.0]).unwrap();
    w.add_array("a.bool", vec![true, false, true]).unwrap();
    w.add_array("a.string", vec!["<s>", "", "\u{2581}the"])
        .unwrap();
    w.add_array("a.u64", vec![u64::MAX, 0]).unwrap();
    w.add_array("a.i64", vec![i64::MIN, 5]).unwrap();
    w.add_array("a.f64", vec![1.25f64]).unwrap();
    w.add_array("a.empty", Vec::<f32>::new()).unwrap();

    let src = dir.join("source.bin");
    for t in expected_tensors() {
        let data: TensorData = match t.name {
            "q8_0.streamed" => {
                let bytes = t.data.clone();
                // Written in two pieces to exercise the counting sink.
                TensorData::Stream(Box::new(move |out: &mut dyn Write| {
                    out.write_all(&bytes[..10])?;
                    out.write_all(&bytes[10..])
                }))
            }
            "q6_k.from_file" => {
                let mut file = bytes(13, 99);
                file.extend_from_slice(&t.data);
                file.extend_from_slice(&bytes(5, 98));
                std::fs::write(&src, file).unwrap();
                TensorData::File {
                    path: src.clone(),
                    offset: 13,
                }
            }
            _ => t.data.into(),
        };
        w.add_tensor(t.name, &t.dims, t.ty, data).unwrap();
    }
    w
}

fn check_with_runtime(file: &[u8], alignment: usize) {
    let g = Gguf::parse(file).expect("the runtime reader accepts the file");
    assert_eq!(g.version(), 3);
    assert_eq!(g.alignment(), alignment);
    assert_eq!(g.data_offset() % alignment, 0);
    let get = |k: &str| g.get(k).unwrap_or_else(|| panic!("key {k} missing"));
    assert_eq!(get("t.u8"), Value::U8(255));
    assert_eq!(get("t.i8"), Value::I8(-128));
    assert_eq!(get("t.u16"), Value::U16(65535));
    assert_eq!(get("t.i16"), Value::I16(-32768));
    assert_eq!(get("t.u32"), Value::U32(u32::MAX));
    assert_eq!(get("t.i32"), Value::I32(i32::MIN));
    assert_eq!(get("t.f32"), Value::F32(1.5));
    assert_eq!(get("t.bool_true"), Value::Bool(true));
    assert_eq!(get("t.bool_false"), Value::Bool(false));
    assert_eq!(get("t.string"), Value::Str("h\u{e9}llo \u{2581}w\u{f6}rld"));
    assert_eq!(get("t.empty_string"), Value::Str(""));
    assert_eq!(get("t.u64"), Value::U64(u64::MAX));
    assert_eq!(get("t.i64"), Value::I64(i64::MIN));
    assert_eq!(get("t.f64"), Value::F64(-2.25));
    let arr = |k: &str, ty: ValueType, len: usize, raw: &[u8]| {
        let a = get(k)
            .as_array()
            .unwrap_or_else(|| panic!("{k} is not an array"));
        assert_eq!((a.elem_type(), a.len()), (ty, len), "{k}");
        assert_eq!(a.raw(), raw, "{k}");
    };
    let le = |v: &[&[u8]]| v.concat();
    arr("a.u8", ValueType::U8, 3, &[0, 1, 255]);
    arr("a.i8", ValueType::I8, 2, &[0xff, 127]);
    arr(
        "a.u16",
        ValueType::U16,
        2,
        &le(&[&1u16.to_le_bytes(), &[255, 255]]),
    );
    arr(
        "a.i16",
        ValueType::I16,
        2,
        &le(&[&(-2i16).to_le_bytes(), &3i16.to_le_bytes()]),
    );
    arr(
        "a.u32",
        ValueType::U32,
        2,
        &le(&[&7u32.to_le_bytes(), &[255; 4]]),
    );
    arr("a.bool", ValueType::Bool, 3, &[1, 0, 1]);
    arr("a.u64", ValueType::U64, 2, &le(&[&[255; 8], &[0; 8]]));
    arr(
        "a.i64",
        ValueType::I64,
        2,
        &le(&[&i64::MIN.to_le_bytes(), &5i64.to_le_bytes()]),
    );
    arr("a.f64", ValueType::F64, 1, &1.25f64.to_le_bytes());
    arr("a.empty", ValueType::F32, 0, &[]);
    let a = get("a.i32").as_array().unwrap();
    assert_eq!(
        (0..3).map(|i| a.i32(i).unwrap()).collect::<Vec<_>>(),
        [1, -1, 6]
    );
    let a = get("a.f32").as_array().unwrap();
    assert_eq!(
        (0..3).map(|i| a.f32(i).unwrap()).collect::<Vec<_>>(),
        [0.5, -0.25, 8.0]
    );
    let a = get("a.string").as_array().unwrap();
    let strings: Vec<&[u8]> = a.strings().collect();
    assert_eq!(strings, [&b"<s>"[..], b"", "\u{2581}the".as_bytes()]);

    let expected = expected_tensors();
    assert_eq!(g.n_tensors(), expected.len());
    let mut next = g.data_offset();
    for (t, e) in g.tensors().zip(&expected) {
        assert_eq!(t.name, e.name);
        assert_eq!(t.n_dims, e.dims.len(), "{}", e.name);
        let dims: Vec<u64> = t.dims[..t.n_dims].iter().map(|&d| d as u64).collect();
        assert_eq!(dims, e.dims, "{}", e.name);
        assert_eq!(t.ty, e.ty, "{}", e.name);
        assert_eq!(t.data, &e.data[..], "{}", e.name);
        assert_eq!(
            t.file_offset, next,
            "{} starts after the previous padded tensor",
            e.name
        );
        next += t.data.len().div_ceil(alignment) * alignment;
    }
    assert_eq!(next, file.len(), "the last tensor is padded too");
}

#[test]
fn runtime_reads_what_the_writer_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.gguf");
    let w = sample(dir.path(), None);
    let predicted = w.file_size();
    let size = w.write(&path).unwrap();
    let file = std::fs::read(&path).unwrap();
    assert_eq!((size, predicted), (file.len() as u64, file.len() as u64));
    check_with_runtime(&file, 32);
    let g = Gguf::parse(&file).unwrap();
    assert!(
        g.get(ALIGNMENT_KEY).is_none(),
        "the default alignment is implied"
    );

    // In memory and on disk the bytes are the same.
    assert_eq!(sample(dir.path(), None).to_bytes().unwrap(), file);
}

#[test]
fn runtime_reads_a_non_default_alignment() {
    let dir = tempfile::tempdir().unwrap();
    let file = sample(dir.path(), Some(64)).to_bytes().unwrap();
    check_with_runtime(&file, 64);
    let g = Gguf::parse(&file).unwrap();
    assert_eq!(g.get(ALIGNMENT_KEY), Some(Value::U32(64)));
}

#[test]
fn empty_file_is_valid() {
    let file = GgufWriter::new().to_bytes().unwrap();
    assert_eq!(file.len(), 32, "24-byte header padded to 32");
    let g = Gguf::parse(&file).unwrap();
    assert_eq!((g.n_kv(), g.n_tensors()), (0, 0));
}

/// Reads a GGUF file with the `gguf` Python package and prints what it sees as JSON.
const PY_DUMP: &str = r#"
import json, sys
try:
    import gguf
except ImportError as e:
    print("the Python package `gguf` is missing (pip install gguf): %s" % e, file=sys.stderr)
    sys.exit(3)
r = gguf.GGUFReader(sys.argv[1])
out = {"alignment": int(r.alignment), "data_offset": int(r.data_offset), "fields": {}, "tensors": []}
for name, f in r.fields.items():
    if name.startswith("GGUF."):
        continue
    out["fields"][name] = {"types": [int(t) for t in f.types], "value": f.contents()}
for t in r.tensors:
    out["tensors"].append({
        "name": t.name,
        "shape": [int(x) for x in t.shape],
        "type": int(t.tensor_type),
        "offset": int(t.data_offset),
        "n_bytes": int(t.n_bytes),
        "hex": t.data.tobytes().hex(),
    })
print(json.dumps(out, default=lambda o: o.item()))
"#;

fn python_dump(path: &Path) -> Json {
    let out = Command::new("python3")
        .arg("-c")
        .arg(PY_DUMP)
        .arg(path)
        .output()
        .unwrap_or_else(|e| {
            panic!("this test needs python3 with the `gguf` package (pip install gguf): {e}")
        });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python3 could not read the file with the `gguf` package ({}):\n{stderr}",
        out.status
    );
    serde_json::from_slice(&out.stdout).expect("the Python dump is JSON")
}

fn check_with_python(path: &Path, alignment: u64) {
    let file = std::fs::read(path).unwrap();
    let g = Gguf::parse(&file).unwrap();
    let py = python_dump(path);
    assert_eq!(py["alignment"], alignment);
    assert_eq!(py["data_offset"], g.data_offset() as u64);

    let (arr, s) = (9, 8);
    let mut expected = serde_json::Map::new();
    if alignment != 32 {
        expected.insert(
            ALIGNMENT_KEY.into(),
            json!({"types": [4], "value": alignment}),
        );
    }
    for (k, types, v) in [
        ("t.u8", json!([0]), json!(255)),
        ("t.i8", json!([1]), json!(-128)),
        ("t.u16", json!([2]), json!(65535)),
        ("t.i16", json!([3]), json!(-32768)),
        ("t.u32", json!([4]), json!(u32::MAX)),
        ("t.i32", json!([5]), json!(i32::MIN)),
        ("t.f32", json!([6]), json!(1.5)),
        ("t.bool_true", json!([7]), json!(true)),
        ("t.bool_false", json!([7]), json!(false)),
        (
            "t.string",
            json!([s]),
            json!("h\u{e9}llo \u{2581}w\u{f6}rld"),
        ),
        ("t.empty_string", json!([s]), json!("")),
        ("t.u64", json!([10]), json!(u64::MAX)),
        ("t.i64", json!([11]), json!(i64::MIN)),
        ("t.f64", json!([12]), json!(-2.25)),
        ("a.u8", json!([arr, 0]), json!([0, 1, 255])),
        ("a.i8", json!([arr, 1]), json!([-1, 127])),
        ("a.u16", json!([arr, 2]), json!([1, 65535])),
        ("a.i16", json!([arr, 3]), json!([-2, 3])),
        ("a.u32", json!([arr, 4]), json!([7, u32::MAX])),
        ("a.i32", json!([arr, 5]), json!([1, -1, 6])),
        ("a.f32", json!([arr, 6]), json!([0.5, -0.25, 8.0])),
        ("a.bool", json!([arr, 7]), json!([true, false, true])),
        (
            "a.string",
            json!([arr, s]),
            json!(["<s>", "", "\u{2581}the"]),
        ),
        ("a.u64", json!([arr, 10]), json!([u64::MAX, 0])),
        ("a.i64", json!([arr, 11]), json!([i64::MIN, 5])),
        ("a.f64", json!([arr, 12]), json!([1.25])),
    ] {
        expected.insert(k.into(), json!({"types": types, "value": v}));
    }
    let fields = py["fields"].as_object().expect("fields");
    for (k, v) in &expected {
        assert_eq!(fields.get(k), Some(v), "Python's view of {k}");
    }
    // An empty array has no element type in gguf-py's view; only its emptiness is checked.
    assert_eq!(fields["a.empty"]["value"], json!([]));
    assert_eq!(
        fields.len(),
        expected.len() + 1,
        "no other keys: {fields:?}"
    );

    let tensors = py["tensors"].as_array().expect("tensors");
    assert_eq!(tensors.len(), expected_tensors().len());
    for ((p, e), t) in tensors.iter().zip(expected_tensors()).zip(g.tensors()) {
        assert_eq!(p["name"], e.name);
        assert_eq!(p["shape"], json!(e.dims), "{}", e.name);
        assert_eq!(p["type"], e.ty as u32, "{}", e.name);
        assert_eq!(p["offset"], t.file_offset as u64, "{}", e.name);
        assert_eq!(p["n_bytes"], e.data.len() as u64, "{}", e.name);
        let hex: String = e.data.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(p["hex"], hex, "{}", e.name);
    }
}

#[test]
fn python_gguf_reads_what_the_writer_writes() {
    let dir = tempfile::tempdir().unwrap();
    // The default alignment (no key), then an explicit one.
    for alignment in [None, Some(64)] {
        let path = dir.path().join(format!("all-{alignment:?}.gguf"));
        sample(dir.path(), alignment).write(&path).unwrap();
        check_with_python(&path, alignment.unwrap_or(32).into());
    }
}

#[test]
fn misuse_is_rejected_when_added() {
    let mut w = GgufWriter::new();
    w.add_u32("k", 1).unwrap();
    let err = |r: crate::Result<()>| match r {
        Err(Error::GgufWrite(e)) => e,
        other => panic!("expected a write error, got {other:?}"),
    };
    assert!(matches!(
        err(w.add_u32("k", 2)),
        WriteError::DuplicateKey(_)
    ));
    assert!(matches!(err(w.add_u32("", 2)), WriteError::BadKey(_)));
    assert!(matches!(
        err(w.add_u32("k\u{e9}", 2)),
        WriteError::BadKey(_)
    ));
    assert!(matches!(
        err(w.set_alignment(48)),
        WriteError::BadAlignment(48)
    ));
    assert!(matches!(
        err(w.set_alignment(0)),
        WriteError::BadAlignment(0)
    ));
    assert!(matches!(
        err(w.add_u64(ALIGNMENT_KEY, 64)),
        WriteError::AlignmentNotU32
    ));
    w.add_u32(ALIGNMENT_KEY, 16).unwrap();
    assert_eq!(w.alignment(), 16);

    let f32s = |n: usize| vec![0u8; 4 * n];
    w.add_tensor("a", &[4], GgmlType::F32, f32s(4)).unwrap();
    let e = err(w.add_tensor("a", &[4], GgmlType::F32, f32s(4)));
    assert!(matches!(e, WriteError::DuplicateTensor(_)));
    let e = err(w.add_tensor("", &[4], GgmlType::F32, f32s(4)));
    assert!(matches!(e, WriteError::BadTensorName(_)));
    let long = "x".repeat(64);
    let e = err(w.add_tensor(&long, &[4], GgmlType::F32, f32s(4)));
    assert!(matches!(e, WriteError::BadTensorName(_)));
    let e = err(w.add_tensor("b", &[4, 0], GgmlType::F32, f32s(0)));
    assert!(matches!(e, WriteError::BadDims { .. }));
    let e = err(w.add_tensor("b", &[], GgmlType::F32, f32s(1)));
    assert!(matches!(e, WriteError::BadDims { .. }));
    let e = err(w.add_tensor("b", &[1, 1, 1, 1, 1], GgmlType::F32, f32s(1)));
    assert!(matches!(e, WriteError::BadDims { .. }));
    let e = err(w.add_tensor("b", &[u64::MAX, 2], GgmlType::F32, f32s(1)));
    assert!(matches!(e, WriteError::BadDims { .. }));
    let e = err(w.add_tensor("b", &[1 << 25, 1 << 24], GgmlType::F32, f32s(1)));
    assert!(matches!(e, WriteError::BadDims { .. }));
    let e = err(w.add_tensor("b", &[33], GgmlType::Q8_0, vec![0u8; 34]));
    assert!(matches!(e, WriteError::RaggedBlocks { ne0: 33, .. }));
    let e = err(w.add_tensor("b", &[32, 2], GgmlType::Q8_0, vec![0u8; 34]));
    assert!(matches!(
        e,
        WriteError::DataSize {
            expected: 68,
            got: 34,
            ..
        }
    ));
    assert_eq!((w.n_kv(), w.n_tensors()), (2, 1));
}

#[test]
fn failed_write_leaves_the_destination_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.gguf");
    std::fs::write(&path, b"previous").unwrap();
    let listing = || {
        let mut v: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    let before = listing();

    // A stream that writes too little.
    let mut w = GgufWriter::new();
    let short = TensorData::Stream(Box::new(|out: &mut dyn Write| out.write_all(&[0; 3])));
    w.add_tensor("t", &[1], GgmlType::F32, short).unwrap();
    let e = w.write(&path).unwrap_err();
    assert!(
        matches!(
            e,
            Error::GgufWrite(WriteError::DataSize {
                expected: 4,
                got: 3,
                ..
            })
        ),
        "{e}"
    );

    // A stream that writes too much.
    let mut w = GgufWriter::new();
    let long = TensorData::Stream(Box::new(|out: &mut dyn Write| out.write_all(&[0; 5])));
    w.add_tensor("t", &[1], GgmlType::F32, long).unwrap();
    let e = w.write(&path).unwrap_err();
    assert!(
        matches!(
            e,
            Error::GgufWrite(WriteError::DataSize { expected: 4, .. })
        ),
        "{e}"
    );

    // A stream whose source fails.
    let mut w = GgufWriter::new();
    let failing = TensorData::Stream(Box::new(|_: &mut dyn Write| {
        Err(std::io::Error::other("source broke"))
    }));
    w.add_tensor("t", &[1], GgmlType::F32, failing).unwrap();
    let e = w.write(&path).unwrap_err();
    assert!(e.to_string().contains("tensor \"t\"") && e.to_string().contains("source broke"));

    // A file source shorter than the tensor: the error names the source file.
    let src = dir.path().join("short.bin");
    std::fs::write(&src, [0u8; 10]).unwrap();
    let mut w = GgufWriter::new();
    let data = TensorData::File {
        path: src.clone(),
        offset: 4,
    };
    w.add_tensor("t", &[2], GgmlType::F32, data).unwrap();
    let e = w.write(&path).unwrap_err();
    match &e {
        Error::Format {
            path: p, offset, ..
        } => assert_eq!((p, *offset), (&src, 10)),
        other => panic!("expected a format error, got {other:?}"),
    }
    assert!(e.to_string().contains("short.bin"), "{e}");
    std::fs::remove_file(&src).unwrap();

    // A missing source file.
    let mut w = GgufWriter::new();
    let data = TensorData::File {
        path: dir.path().join("missing.bin"),
        offset: 0,
    };
    w.add_tensor("t", &[1], GgmlType::F32, data).unwrap();
    let e = w.write(&path).unwrap_err();
    assert!(
        matches!(&e, Error::Io { path, .. } if path.ends_with("missing.bin")),
        "{e}"
    );

    assert_eq!(std::fs::read(&path).unwrap(), b"previous");
    assert_eq!(listing(), before, "no temporary file is left behind");

    // A successful write replaces the file and leaves nothing else.
    let mut w = GgufWriter::new();
    w.add_string("general.name", "x").unwrap();
    w.write(&path).unwrap();
    assert!(Gguf::parse(&std::fs::read(&path).unwrap()).is_ok());
    assert_eq!(listing(), before);
}

#[test]
fn a_path_without_a_file_name_is_an_io_error() {
    let e = GgufWriter::new().write(Path::new("")).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
}
