//! Shared helpers for the end-to-end tests: where the reference files live.

pub mod llama2c;

use std::path::PathBuf;

/// `../shared/reference` beside the checkout (override with `MOTE_REFERENCE_DIR`).
pub fn reference_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("MOTE_REFERENCE_DIR") {
        return PathBuf::from(dir);
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference");
    assert!(
        dir.is_dir(),
        "reference files not found at {} (set MOTE_REFERENCE_DIR)",
        dir.display()
    );
    dir
}
