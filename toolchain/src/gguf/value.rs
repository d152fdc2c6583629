//! Owned GGUF metadata values, as the writer takes them.

/// GGUF's value type ids (`gguf_type` in ggml).
pub(crate) mod type_id {
    pub const U8: u32 = 0;
    pub const I8: u32 = 1;
    pub const U16: u32 = 2;
    pub const I16: u32 = 3;
    pub const U32: u32 = 4;
    pub const I32: u32 = 5;
    pub const F32: u32 = 6;
    pub const BOOL: u32 = 7;
    pub const STRING: u32 = 8;
    pub const ARRAY: u32 = 9;
    pub const U64: u32 = 10;
    pub const I64: u32 = 11;
    pub const F64: u32 = 12;
}

/// One metadata value. The variant is the GGUF type written to the file, so a key that
/// llama.cpp reads as `u32` must be given as [`MetaValue::U32`].
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    U64(u64),
    I64(i64),
    F64(f64),
    Array(MetaArray),
}

/// A homogeneous metadata array. GGUF allows arrays of arrays; ggml and the runtime reject
/// them, so they are not offered here.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaArray {
    U8(Vec<u8>),
    I8(Vec<i8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    Bool(Vec<bool>),
    String(Vec<String>),
    U64(Vec<u64>),
    I64(Vec<i64>),
    F64(Vec<f64>),
}

impl MetaValue {
    pub fn type_id(&self) -> u32 {
        use type_id::*;
        match self {
            MetaValue::U8(_) => U8,
            MetaValue::I8(_) => I8,
            MetaValue::U16(_) => U16,
            MetaValue::I16(_) => I16,
            MetaValue::U32(_) => U32,
            MetaValue::I32(_) => I32,
            MetaValue::F32(_) => F32,
            MetaValue::Bool(_) => BOOL,
            MetaValue::String(_) => STRING,
            MetaValue::U64(_) => U64,
            MetaValue::I64(_) => I64,
            MetaValue::F64(_) => F64,
            MetaValue::Array(_) => ARRAY,
        }
    }

    /// Append the value (without its type id) in GGUF's little-endian encoding.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        match self {
            MetaValue::U8(v) => out.push(*v),
            MetaValue::I8(v) => out.extend_from_slice(&v.to_le_bytes()),
            MetaValue::U16(v) => out.extend_from_slice(&v.to_le_bytes()),
            MetaValue::I16(v) => out.extend_from_slice(&v.to_le_bytes()),
            MetaValue::U32(v) => out.extend_from_slice(&v.to_le_bytes()),
            MetaValue::I32(v) => out.extend_from_slice(&v.to_le_bytes()),
            MetaValue::F32(v) => out.extend_from_slice(&v.to_le_bytes()),
            MetaValue::Bool(v) => out.push(u8::from(*v)),
            MetaValue::String(s) => encode_str(s, out),
            MetaValue::U64(v) => out.extend_from_slice(&v.to_le_bytes()),
            MetaValue::I64(v) => out.extend_from_slice(&v.to_le_bytes()),
            MetaValue::F64(v) => out.extend_from_slice(&v.to_le_bytes()),
            MetaValue::Array(a) => a.encode(out),
        }
    }

    /// Every string inside the value (to check lengths before writing).
    pub(crate) fn strings(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match self {
            MetaValue::String(s) => Box::new(std::iter::once(s.as_str())),
            MetaValue::Array(MetaArray::String(v)) => Box::new(v.iter().map(String::as_str)),
            _ => Box::new(std::iter::empty()),
        }
    }
}

impl MetaArray {
    pub fn elem_type_id(&self) -> u32 {
        use type_id::*;
        match self {
            MetaArray::U8(_) => U8,
            MetaArray::I8(_) => I8,
            MetaArray::U16(_) => U16,
            MetaArray::I16(_) => I16,
            MetaArray::U32(_) => U32,
            MetaArray::I32(_) => I32,
            MetaArray::F32(_) => F32,
            MetaArray::Bool(_) => BOOL,
            MetaArray::String(_) => STRING,
            MetaArray::U64(_) => U64,
            MetaArray::I64(_) => I64,
            MetaArray::F64(_) => F64,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            MetaArray::U8(v) => v.len(),
            MetaArray::I8(v) => v.len(),
            MetaArray::U16(v) => v.len(),
            MetaArray::I16(v) => v.len(),
            MetaArray::U32(v) => v.len(),
            MetaArray::I32(v) => v.len(),
            MetaArray::F32(v) => v.len(),
            MetaArray::Bool(v) => v.len(),
            MetaArray::String(v) => v.len(),
            MetaArray::U64(v) => v.len(),
            MetaArray::I64(v) => v.len(),
            MetaArray::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element type, count, then the elements.
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.elem_type_id().to_le_bytes());
        out.extend_from_slice(&(self.len() as u64).to_le_bytes());
        fn each<T: Copy, const N: usize>(v: &[T], out: &mut Vec<u8>, f: fn(T) -> [u8; N]) {
            out.reserve(v.len() * N);
            for &x in v {
                out.extend_from_slice(&f(x));
            }
        }
        match self {
            MetaArray::U8(v) => out.extend_from_slice(v),
            MetaArray::I8(v) => each(v, out, i8::to_le_bytes),
            MetaArray::U16(v) => each(v, out, u16::to_le_bytes),
            MetaArray::I16(v) => each(v, out, i16::to_le_bytes),
            MetaArray::U32(v) => each(v, out, u32::to_le_bytes),
            MetaArray::I32(v) => each(v, out, i32::to_le_bytes),
            MetaArray::F32(v) => each(v, out, f32::to_le_bytes),
            MetaArray::Bool(v) => each(v, out, |b| [u8::from(b)]),
            MetaArray::String(v) => v.iter().for_each(|s| encode_str(s, out)),
            MetaArray::U64(v) => each(v, out, u64::to_le_bytes),
            MetaArray::I64(v) => each(v, out, i64::to_le_bytes),
            MetaArray::F64(v) => each(v, out, f64::to_le_bytes),
        }
    }
}

/// A GGUF string: u64 byte length, then UTF-8 bytes without a terminator.
pub(crate) fn encode_str(s: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

macro_rules! from_scalar {
    ($($t:ty => $v:ident),* $(,)?) => {$(
        impl From<$t> for MetaValue {
            fn from(x: $t) -> Self {
                MetaValue::$v(x)
            }
        }
        impl From<Vec<$t>> for MetaArray {
            fn from(x: Vec<$t>) -> Self {
                MetaArray::$v(x)
            }
        }
    )*};
}

from_scalar!(
    u8 => U8, i8 => I8, u16 => U16, i16 => I16, u32 => U32, i32 => I32, f32 => F32,
    bool => Bool, String => String, u64 => U64, i64 => I64, f64 => F64,
);

impl From<&str> for MetaValue {
    fn from(s: &str) -> Self {
        MetaValue::String(s.to_owned())
    }
}

impl From<Vec<&str>> for MetaArray {
    fn from(v: Vec<&str>) -> Self {
        MetaArray::String(v.into_iter().map(str::to_owned).collect())
    }
}

impl From<MetaArray> for MetaValue {
    fn from(a: MetaArray) -> Self {
        MetaValue::Array(a)
    }
}
