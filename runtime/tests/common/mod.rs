//! Shared by the integration tests: where they find the reference models
//! (`../shared/reference` beside the checkout, or `$MOTE_REFERENCE_DIR`), and a seeded
//! generator for test data.

use std::path::PathBuf;

pub fn reference_dir() -> PathBuf {
    std::env::var("MOTE_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference")
        })
}

/// The bytes of a reference file; a missing file fails the test with its path.
#[allow(dead_code)]
pub fn read_reference(name: &str) -> Vec<u8> {
    let path = reference_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// splitmix64: test data from a seed (proptest draws and shrinks the seed and the shape).
/// Each test file adds the helpers it needs.
#[allow(dead_code)]
pub struct Rng(pub u64);

#[allow(dead_code)]
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
