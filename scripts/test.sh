#!/usr/bin/env bash
# The test suite: formatting, lints, every workspace test, and the no_std builds.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== no_std builds of mote-runtime"
for target in thumbv7em-none-eabihf thumbv8m.main-none-eabihf aarch64-unknown-none; do
    cargo build -p mote-runtime --no-default-features --target "$target" --release
done
echo "== cargo test"
cargo test --workspace 2>&1 | tee target/test.log
# One closing line for the whole run.
passed=$(grep -Eo '[0-9]+ passed' target/test.log | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' target/test.log | awk '{s+=$1} END {print s+0}')
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
