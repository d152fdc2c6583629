#!/usr/bin/env bash
# Install everything mote's build and tests need on a fresh Debian machine with rustup.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if command -v apt-get >/dev/null; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends \
        python3 python3-pip qemu-user qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
        gcc-arm-linux-gnueabihf libc6-dev-armhf-cross chromium >/dev/null
fi

# The toolchain and cross targets pinned in rust-toolchain.toml.
rustup show active-toolchain >/dev/null
rustup target add thumbv7em-none-eabihf thumbv8m.main-none-eabihf aarch64-unknown-none \
    aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf >/dev/null
rustup component add rustfmt clippy >/dev/null

# Reference tooling used by tests (reading GGUF files independently of mote).
python3 -m pip install --quiet --disable-pip-version-check gguf numpy 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages gguf numpy
# The browser test of `mote label`: headless Chromium (above) driven by playwright-core
# (needs node and npm).
(cd tests/e2e && npm ci --no-audit --no-fund --silent)
echo "setup done"
