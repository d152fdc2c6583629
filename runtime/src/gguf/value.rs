//! GGUF metadata values, borrowed from the file.

use super::cursor::Cursor;
use crate::error::{Error, Result, Section};

/// Longest metadata array the reader accepts (vocabularies and merge lists are far below).
pub const MAX_ARRAY: u64 = 1 << 24;

/// The value type ids GGUF defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    F32,
    Bool,
    String,
    Array,
    U64,
    I64,
    F64,
}

impl ValueType {
    pub fn from_id(id: u32) -> Result<Self> {
        Ok(match id {
            0 => ValueType::U8,
            1 => ValueType::I8,
            2 => ValueType::U16,
            3 => ValueType::I16,
            4 => ValueType::U32,
            5 => ValueType::I32,
            6 => ValueType::F32,
            7 => ValueType::Bool,
            8 => ValueType::String,
            9 => ValueType::Array,
            10 => ValueType::U64,
            11 => ValueType::I64,
            12 => ValueType::F64,
            _ => return Err(Error::BadValueType(id)),
        })
    }

    /// Size of a fixed-size scalar, `None` for strings and arrays.
    pub fn fixed_size(self) -> Option<usize> {
        Some(match self {
            ValueType::U8 | ValueType::I8 | ValueType::Bool => 1,
            ValueType::U16 | ValueType::I16 => 2,
            ValueType::U32 | ValueType::I32 | ValueType::F32 => 4,
            ValueType::U64 | ValueType::I64 | ValueType::F64 => 8,
            ValueType::String | ValueType::Array => return None,
        })
    }
}

/// One metadata value. Arrays stay as raw bytes and are decoded on access.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    Str(&'a str),
    Array(Array<'a>),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl<'a> Value<'a> {
    /// Any integer type that fits in `u64` without loss.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U8(v) => Some(v as u64),
            Value::U16(v) => Some(v as u64),
            Value::U32(v) => Some(v as u64),
            Value::U64(v) => Some(v),
            Value::I8(v) => u64::try_from(v).ok(),
            Value::I16(v) => u64::try_from(v).ok(),
            Value::I32(v) => u64::try_from(v).ok(),
            Value::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    pub fn as_f32(&self) -> Option<f32> {
        match *self {
            Value::F32(v) => Some(v),
            Value::F64(v) => Some(v as f32),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<Array<'a>> {
        match *self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
}

/// A validated array: element type, count and the raw bytes of its elements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Array<'a> {
    elem: ValueType,
    len: usize,
    bytes: &'a [u8],
}

impl<'a> Array<'a> {
    pub fn elem_type(&self) -> ValueType {
        self.elem
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn fixed<const N: usize>(&self, i: usize) -> Option<[u8; N]> {
        if i >= self.len {
            return None;
        }
        let b = self.bytes.get(i * N..i * N + N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Some(out)
    }

    /// Element `i` of an f32 array, in O(1).
    pub fn f32(&self, i: usize) -> Option<f32> {
        (self.elem == ValueType::F32)
            .then(|| self.fixed::<4>(i).map(f32::from_le_bytes))
            .flatten()
    }

    /// Element `i` of an i32 (or u32) array, in O(1).
    pub fn i32(&self, i: usize) -> Option<i32> {
        matches!(self.elem, ValueType::I32 | ValueType::U32)
            .then(|| self.fixed::<4>(i).map(i32::from_le_bytes))
            .flatten()
    }

    /// Iterate a string array's elements as raw bytes (validated UTF-8 at parse time).
    pub fn strings(&self) -> StringIter<'a> {
        let len = if self.elem == ValueType::String {
            self.len
        } else {
            0
        };
        StringIter {
            cur: Cursor::new(self.bytes, 0),
            left: len,
        }
    }

    /// The raw element bytes, for callers that index them themselves.
    pub fn raw(&self) -> &'a [u8] {
        self.bytes
    }
}

/// Iterator over a string array.
pub struct StringIter<'a> {
    cur: Cursor<'a>,
    left: usize,
}

impl<'a> Iterator for StringIter<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // Validated at parse time; an error here cannot happen, but stay total.
        self.cur.string_bytes(Section::MetadataValue).ok()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// Parse (and fully validate) one value of type `ty` at the cursor.
pub(crate) fn read_value<'a>(cur: &mut Cursor<'a>, ty: ValueType) -> Result<Value<'a>> {
    const S: Section = Section::MetadataValue;
    Ok(match ty {
        ValueType::U8 => Value::U8(cur.array::<1>(S)?[0]),
        ValueType::I8 => Value::I8(cur.array::<1>(S)?[0] as i8),
        ValueType::U16 => Value::U16(u16::from_le_bytes(cur.array(S)?)),
        ValueType::I16 => Value::I16(i16::from_le_bytes(cur.array(S)?)),
        ValueType::U32 => Value::U32(cur.u32(S)?),
        ValueType::I32 => Value::I32(i32::from_le_bytes(cur.array(S)?)),
        ValueType::F32 => Value::F32(f32::from_le_bytes(cur.array(S)?)),
        ValueType::Bool => match cur.array::<1>(S)?[0] {
            0 => Value::Bool(false),
            1 => Value::Bool(true),
            _ => return Err(Error::BadValueType(ValueType::Bool as u32)),
        },
        ValueType::String => Value::Str(cur.str(S)?),
        ValueType::U64 => Value::U64(cur.u64(S)?),
        ValueType::I64 => Value::I64(i64::from_le_bytes(cur.array(S)?)),
        ValueType::F64 => Value::F64(f64::from_le_bytes(cur.array(S)?)),
        ValueType::Array => {
            let elem_id = cur.u32(S)?;
            let elem = ValueType::from_id(elem_id)?;
            let len = cur.u64(S)?;
            if len > MAX_ARRAY {
                return Err(Error::TooLarge(S));
            }
            let start = cur.pos;
            match elem.fixed_size() {
                Some(size) => {
                    let total = len.checked_mul(size as u64).ok_or(Error::TooLarge(S))?;
                    if total > (cur.data.len() - start) as u64 {
                        return Err(Error::Truncated(S));
                    }
                    cur.bytes(total as usize, S)?;
                }
                None if elem == ValueType::String => {
                    // Each string takes at least its 8-byte length: bound the count first.
                    if len > ((cur.data.len() - start) / 8) as u64 {
                        return Err(Error::Truncated(S));
                    }
                    for _ in 0..len {
                        cur.str(S)?;
                    }
                }
                // Nested arrays are not part of the llama contract; ggml rejects them too.
                None => return Err(Error::NestedArray),
            }
            Value::Array(Array {
                elem,
                len: len as usize,
                bytes: &cur.data[start..cur.pos],
            })
        }
    })
}
