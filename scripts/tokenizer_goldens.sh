#!/usr/bin/env bash
# Regenerate toolchain/tests/data/tokenizer_golden.json: train the tokenizer on
# models/data/tiny-corpus.txt (512 tokens), and record the ids llama.cpp's llama-tokenize gives
# (BOS added, special tokens parsed, no escape processing) on vocab.gguf for every string in
# toolchain/tests/data/tokenizer_strings.json. Needs llama.cpp's tools and python3:
#   LLAMA_CPP_BIN_DIR=/path/to/llama.cpp/build/bin bash scripts/tokenizer_goldens.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${LLAMA_CPP_BIN_DIR:?set LLAMA_CPP_BIN_DIR to the directory holding llama-tokenize}"
vocab=512
data=toolchain/tests/data
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo build -p mote-toolchain
target/debug/mote tokenizer train --input models/data/tiny-corpus.txt --vocab "$vocab" -o "$out"
python3 - "$LLAMA_CPP_BIN_DIR/llama-tokenize" "$out" "$vocab" "$data" <<'PY'
import json, os, subprocess, sys
exe, out, vocab, data = sys.argv[1:]
cases = []
for text in json.load(open(os.path.join(data, "tokenizer_strings.json"), encoding="utf-8")):
    prompt = os.path.join(out, "prompt.txt")
    with open(prompt, "wb") as f:
        f.write(text.encode("utf-8"))
    r = subprocess.run([exe, "-m", os.path.join(out, "vocab.gguf"), "-f", prompt,
                        "--no-escape", "--ids", "--log-disable"],
                       capture_output=True, check=True)
    last = [l for l in r.stdout.decode().splitlines() if l.startswith("[")][-1]
    cases.append({"text": text, "ids": json.loads(last)})
golden = {
    "made_by": "scripts/tokenizer_goldens.sh: llama.cpp llama-tokenize (llama-cpp-python 0.3.36), "
               "add_special and parse_special on, on the vocab.gguf of "
               "`mote tokenizer train --input models/data/tiny-corpus.txt --vocab %s`" % vocab,
    "vocab": int(vocab),
    "cases": cases,
}
with open(os.path.join(data, "tokenizer_golden.json"), "w", encoding="utf-8") as f:
    f.write("{\n")
    f.write('  "made_by": %s,\n' % json.dumps(golden["made_by"]))
    f.write('  "vocab": %d,\n' % golden["vocab"])
    f.write('  "cases": [\n')
    f.write(",\n".join("    " + json.dumps(c, ensure_ascii=False) for c in cases))
    f.write("\n  ]\n}\n")
print("%d cases" % len(cases))
PY
