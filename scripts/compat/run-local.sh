#!/usr/bin/env bash
# Runs one compat setup end to end without the aggregator: the fake LLM server, the OTLP dump
# receiver (dump-otlp.py) and the driver, then stops both servers and prints the spans as trees
# and the expected cost of every call (expected_cost.py). Installs what it needs (cached).
#   scripts/compat/run-local.sh OUTDIR js|py SETUP CALLS.json [VAR=value ...]
# e.g. scripts/compat/run-local.sh "$(mktemp -d)" js anthropic-builtin scripts/compat/calls/anthropic.json COSTTRACE_SDK=1
# OUTDIR gets truth.jsonl (ground truth), spans.jsonl (the spans), driver.out (trace ids),
# driver.err, expected.jsonl and tree.txt. With OTLP_ENDPOINT set, the spans go there instead
# (e.g. the aggregator's ingest) and no dump receiver is started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ $# -ge 4 ]] || { sed -n '2,9p' "${BASH_SOURCE[0]}" >&2; exit 2; }
OUT="$1" SIDE="$2" SETUP="$3" CALLS="$4"
shift 4
mkdir -p "$OUT"
rm -f "$OUT/truth.jsonl" "$OUT/spans.jsonl" "$OUT/expected.jsonl"
PY="$(bash "$ROOT/scripts/compat/install-python.sh" main)"
case "$SIDE" in
  js) M="$(bash "$ROOT/scripts/compat/install-js.sh")"; RUN=("$M/.bin/node" "$ROOT/scripts/compat/js/drive.mjs") ;;
  py) W=main
      case "$SETUP" in otel-openai-v2) W=openai-v2 ;; openlit-*) W=openlit ;; esac
      RUN=("$(bash "$ROOT/scripts/compat/install-python.sh" "$W")" "$ROOT/scripts/compat/python/drive.py") ;;
  *) echo "SIDE must be js or py" >&2; exit 2 ;;
esac

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
# Each server prints {"port":N} as its first line once it listens: read it, no sleeping.
exec 3< <(exec node "$ROOT/scripts/compat/fake-llm-server.mjs" --log "$OUT/truth.jsonl" 2>"$OUT/fake.err")
PIDS+=($!)
read -r line <&3 || { echo "fake-llm-server did not start: $(cat "$OUT/fake.err")" >&2; exit 1; }
export FAKE_LLM_URL="http://127.0.0.1:$(tr -dc 0-9 <<<"$line")"
if [[ -z "${OTLP_ENDPOINT:-}" ]]; then
  exec 4< <(exec "$PY" "$ROOT/scripts/compat/dump-otlp.py" serve "$OUT/spans.jsonl" 2>"$OUT/dump.err")
  PIDS+=($!)
  read -r line <&4 || { echo "dump-otlp did not start: $(cat "$OUT/dump.err")" >&2; exit 1; }
  export OTLP_ENDPOINT="http://127.0.0.1:$(tr -dc 0-9 <<<"$line")/v1/traces"
  DUMPED=1
fi
rc=0
env "$@" "${RUN[@]}" "$SETUP" <"$CALLS" >"$OUT/driver.out" 2>"$OUT/driver.err" || rc=$?
cleanup
PIDS=()
cat "$OUT/driver.err" >&2
[[ -n "${DUMPED:-}" ]] && "$PY" "$ROOT/scripts/compat/dump-otlp.py" show "$OUT/spans.jsonl" >"$OUT/tree.txt" && cat "$OUT/tree.txt"
"$PY" "$ROOT/scripts/compat/expected_cost.py" "$OUT/truth.jsonl" | tee "$OUT/expected.jsonl"
echo "driver exit status $rc; files in $OUT" >&2
exit "$rc"
