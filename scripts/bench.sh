#!/usr/bin/env bash
# Side-by-side speed against llama.cpp on random-weight models of stories260K, 15M and 110M
# geometry (Q4_0 = llama-quantize --pure, Q8_0), prompt (pp128) and generation (tg128) at 1
# and 2 threads, 5 interleaved repetitions, medians. Needs llama.cpp's llama-bench:
#   LLAMA_BENCH=/path/to/llama-bench bash scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${LLAMA_BENCH:?set LLAMA_BENCH to the llama-bench binary of llama.cpp}"
reps=${REPS:-5}
dir=target/bench-models
mkdir -p "$dir"
cargo build --release -p mote-toolchain
for cfg in stories260k stories15m stories110m; do
    for q in q4_0 q8_0; do
        f="$dir/$cfg-$q.gguf"
        [ -f "$f" ] || target/release/mote init-random --config "models/configs/$cfg.toml" --quant "$q" -o "$f" >&2
        target/release/mote bench "$f" -t 1,2 -p 128 -n 128 -r "$reps" --vs-llama-bench "$LLAMA_BENCH"
    done
done
