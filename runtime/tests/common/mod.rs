//! Where the integration tests find the reference models: `../shared/reference` beside
//! the checkout, or `$MOTE_REFERENCE_DIR`.

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
