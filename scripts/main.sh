#!/usr/bin/env bash
# The main job: build mote in release and run every reference model greedily through
# mote-runtime, then the whole recipe on the synthetic world with `mote pipeline`
# (pretraining, SFT, two RLHF rounds, DPO, export, evaluation). The pipeline resumes where
# it stopped; delete target/pipeline/assistant to start over.
set -euo pipefail
cd "$(dirname "$0")/.."
REF=${MOTE_REFERENCE_DIR:-../shared/reference}
cargo build --release -p mote-toolchain
for m in "$REF"/*.gguf; do
    echo "== $(basename "$m")"
    target/release/mote run "$m" --prompt "<|im_start|>user
What is the capital of France?<|im_end|>
<|im_start|>assistant
" --temperature 0 -n 96 --json
done

target/release/mote pipeline models/pipelines/assistant.toml
