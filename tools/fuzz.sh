#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang + ASan + UBSan in build-fuzz/ and runs each
# for N seconds (default 30) over a seed corpus made from ../shared/testdata. Exits non-zero when
# any fuzzer finds a crash, a leak, a timeout or an out-of-memory; prints executions per target.
#
#   tools/fuzz.sh [SECONDS] [TARGET...]       e.g. tools/fuzz.sh 60 gguf safetensors
#   JOBS=2 (build parallelism), FUZZ_BUILD=build-fuzz, GEMMA_SHARED_DIR=../shared
set -euo pipefail

SECONDS_PER_TARGET="${1:-30}"
shift || true
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${FUZZ_BUILD:-$ROOT/build-fuzz}"
SHARED="${GEMMA_SHARED_DIR:-$ROOT/../shared}"
TESTDATA="$SHARED/testdata"
JOBS="${JOBS:-2}"
ALL_TARGETS=(gguf safetensors hf_config hf_index tokenizer_json chat)
if [[ $# -gt 0 ]]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

# --- build --------------------------------------------------------------------------------------
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DGEMMA_BUILD_TESTS=OFF -DGEMMA_FUZZ=ON >/dev/null
build_targets=()
for t in "${TARGETS[@]}"; do build_targets+=(--target "gemma_fuzz_$t"); done
cmake --build "$BUILD" -j"$JOBS" "${build_targets[@]}"

# --- seed corpus --------------------------------------------------------------------------------
CORPUS="$BUILD/corpus"
mkdir -p "$CORPUS" "$BUILD/crashes" "$BUILD/logs"
if [[ -d "$TESTDATA/golden" ]]; then
  python3 - "$TESTDATA" "$CORPUS" <<'PY'
import json, os, struct, sys
td, out = sys.argv[1], sys.argv[2]
golden = os.path.join(td, "golden")
def put(target, name, data):
    d = os.path.join(out, target); os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "seed-" + name)
    if not os.path.exists(p):
        with open(p, "wb") as f: f.write(data)
models = sorted(m for m in os.listdir(golden) if os.path.isdir(os.path.join(golden, m)))
for m in models:
    base = os.path.join(golden, m)
    # GGUF: the smallest file of each model whole (under 400 KiB), and prefixes that end inside
    # the header, the KVs and the tensor infos.
    ggufs = sorted((os.path.getsize(os.path.join(base, f)), f) for f in os.listdir(base) if f.endswith(".gguf"))
    if ggufs:
        size, f = ggufs[0]
        data = open(os.path.join(base, f), "rb").read()
        if size < 400 << 10: put("gguf", f"{m}-{f}", data)
        for n in (24, 256, 4096, 32768):
            put("gguf", f"{m}-{f}-prefix{n}", data[:n])
    hf = os.path.join(base, "hf")
    if not os.path.isdir(hf): continue
    for cfg in ("config.json", "generation_config.json"):
        p = os.path.join(hf, cfg)
        if os.path.exists(p): put("hf_config", f"{m}-{cfg}", open(p, "rb").read())
    st = os.path.join(hf, "model.safetensors")
    if os.path.exists(st):
        raw = open(st, "rb").read()
        (hlen,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8:8 + hlen])
        put("safetensors", f"{m}-header-only", raw[:8 + hlen])
        # A small valid file: the three smallest tensors, repacked.
        items = sorted(((v["data_offsets"][1] - v["data_offsets"][0], k) for k, v in header.items()
                        if k != "__metadata__"))[:3]
        h, blob = {"__metadata__": {"format": "pt"}}, b""
        for _, k in items:
            v = header[k]; b, e = v["data_offsets"]
            h[k] = {"dtype": v["dtype"], "shape": v["shape"], "data_offsets": [len(blob), len(blob) + e - b]}
            blob += raw[8 + hlen + b:8 + hlen + e]
        hj = json.dumps(h).encode()
        hj += b" " * (-len(hj) % 8)  # the safetensors library pads the header to 8 bytes
        put("safetensors", f"{m}-small", struct.pack("<Q", len(hj)) + hj + blob)
    tj = os.path.join(hf, "tokenizer.json")
    if os.path.exists(tj) and os.path.getsize(tj) < 1 << 20:
        put("tokenizer_json", f"{m}-tokenizer.json", open(tj, "rb").read())
# The index target's scratch directory has these tensors (see hf_index_fuzz.cpp).
layer = ["input_layernorm", "post_attention_layernorm", "self_attn.q_proj", "self_attn.k_proj",
         "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
wm = {"model.embed_tokens.weight": "model-00001-of-00002.safetensors",
      "model.norm.weight": "model-00001-of-00002.safetensors"}
for n in layer: wm[f"model.layers.0.{n}.weight"] = "model-00002-of-00002.safetensors"
put("hf_index", "valid", json.dumps({"metadata": {"total_size": 1000}, "weight_map": wm}).encode())
put("hf_index", "one-shard", json.dumps({"weight_map": {"model.norm.weight": "model-00001-of-00002.safetensors"}}).encode())
put("hf_index", "missing-shard", json.dumps({"weight_map": {"a": "model-00003-of-00003.safetensors"}}).encode())
cases = os.path.join(td, "tokenizer", "chat_template_cases.jsonl")
if os.path.exists(cases):
    for line in open(cases, encoding="utf-8"):
        c = json.loads(line)
        put("chat", c["name"], json.dumps(c["messages"], ensure_ascii=False).encode())
PY
else
  echo "fuzz.sh: $TESTDATA/golden not found; fuzzing from empty corpora" >&2
fi

# --- run ----------------------------------------------------------------------------------------
status=0
printf '\n%-16s %12s %10s %8s  %s\n' target executions exec/s result log
for t in "${TARGETS[@]}"; do
  mkdir -p "$CORPUS/$t"
  log="$BUILD/logs/$t.log"
  set +e
  "$BUILD/fuzz/gemma_fuzz_$t" "$CORPUS/$t" -max_total_time="$SECONDS_PER_TARGET" \
    -timeout=10 -rss_limit_mb=2048 -max_len=1048576 -print_final_stats=1 \
    -artifact_prefix="$BUILD/crashes/$t-" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  result=ok
  if [[ $rc -ne 0 ]]; then
    result="CRASH(rc=$rc)"
    status=1
  fi
  printf '%-16s %12s %10s %8s  %s\n' "$t" "$execs" "$rate" "$result" "$log"
  if [[ $rc -ne 0 ]]; then
    grep -E 'ERROR|SUMMARY|Test unit written|#[0-9]+ 0x' "$log" | head -30 >&2 || true
  fi
done
exit $status
