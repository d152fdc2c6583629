#!/usr/bin/env bash
# The test suite: formatting, lints, the no_std builds, every workspace test on the host,
# and mote-runtime's tests (kernels and goldens included) on aarch64 and armv7 under QEMU
# user mode. A missing emulator or cross linker fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
log=target/test.log
: > "$log"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p mote-runtime --all-targets --target aarch64-unknown-linux-gnu -- -D warnings
cargo clippy -p mote-runtime --all-targets --target armv7-unknown-linux-gnueabihf -- -D warnings
# With VFPv4 (VFMA.F32 and VCVTB on `s` registers), and no_std on a single-precision FPU (the
# same via core registers): the two forms of the hardware fmaf and f16 conversions.
CARGO_TARGET_DIR=target/armv7-vfpv4 \
CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUSTFLAGS="-C target-cpu=cortex-a15" \
    cargo clippy -p mote-runtime --all-targets --target armv7-unknown-linux-gnueabihf -- -D warnings
cargo clippy -p mote-runtime --no-default-features --target thumbv7em-none-eabihf -- -D warnings

echo "== no_std builds of mote-runtime and mote-console"
for target in thumbv7em-none-eabihf thumbv8m.main-none-eabihf aarch64-unknown-none; do
    cargo build -p mote-runtime --no-default-features --target "$target" --release
    cargo build -p mote-console --target "$target" --release
done

run() { "$@" 2>&1 | tee -a "$log"; }

echo "== board images with ref-tiny-q8_0: clippy, build, flash and RAM use"
ref_model="${MOTE_REFERENCE_DIR:-$PWD/../shared/reference}/ref-tiny-q8_0.gguf"
for board in qemu-virt mps2-an500 rp2350; do
    (cd "firmware/$board" && cargo fmt --check \
        && MOTE_MODEL="$ref_model" cargo clippy --release -- -D warnings)
    cargo run -q -p mote-toolchain --bin mote -- flash --board "$board" --model "$ref_model" --build-only
done

echo "== cargo test (host; boots the QEMU boards)"
run cargo test --workspace

echo "== mote-runtime on aarch64, Cortex-A72 (NEON without dotprod) under qemu-aarch64"
MOTE_EXPECT_DOTPROD=0 run cargo test -p mote-runtime --target aarch64-unknown-linux-gnu
echo "== mote-runtime on aarch64, -cpu max (NEON with dotprod) under qemu-aarch64"
MOTE_EXPECT_DOTPROD=1 \
CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max" \
    run cargo test -p mote-runtime --target aarch64-unknown-linux-gnu
echo "== mote-runtime on armv7 (DSP; VFPv3, so fmaf and f16 conversions in software) under qemu-arm"
MOTE_EXPECT_VFMA=0 MOTE_EXPECT_F16CVT=0 run cargo test -p mote-runtime --target armv7-unknown-linux-gnueabihf
echo "== mote-runtime on armv7 for Cortex-A15 (DSP; VFPv4: VFMA.F32, VCVTB) under qemu-arm"
# Its own target directory, so the two armv7 builds do not replace each other's.
MOTE_EXPECT_VFMA=1 MOTE_EXPECT_F16CVT=1 CARGO_TARGET_DIR=target/armv7-vfpv4 \
CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUSTFLAGS="-C target-cpu=cortex-a15" \
    run cargo test -p mote-runtime --target armv7-unknown-linux-gnueabihf

# One closing line for the whole run.
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
