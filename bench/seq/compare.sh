#!/usr/bin/env bash
# compare.sh: oar against PyTorch on CPU, training steps of an LSTM and a Transformer encoder
# layer (batch 32, sequence 64, width 128; see bench/seq/main.go), in one go.
#
#   bash bench/seq/compare.sh [steps]      (from anywhere; steps defaults to 20)
#
# It runs bench/seq/torch_seq.py and then the Go program, back to back, and prints for each model
# the median milliseconds per step of both and the speed ratio oar/torch (above 1: oar is faster),
# with the load average before each run: ratios from a machine that other processes keep busy are
# not meaningful. It installs nothing; when something is missing it says so and exits 2.
set -euo pipefail

cd "$(dirname "$0")/../.."
steps="${1:-20}"
python="${PYTHON:-/usr/bin/python3}"

missing=()
command -v go >/dev/null 2>&1 || missing+=("go: Go 1.26 or newer (https://go.dev/dl/)")
if [[ ! -x "$python" ]]; then
	missing+=("$python: Python 3, or set PYTHON")
elif ! "$python" -c 'import torch' >/dev/null 2>&1; then
	missing+=("PyTorch for $python (apt-get update && apt-get install -y python3-torch)")
fi
if ((${#missing[@]})); then
	echo "compare.sh: missing, nothing was installed:" >&2
	printf '  - %s\n' "${missing[@]}" >&2
	exit 2
fi

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/oar-seq" ./bench/seq

ms() { sed -n "s/^$1: \([0-9.]*\) ms.*/\1/p" <<<"$2"; }
printf '%-12s  %-10s  %-10s  %s\n' model "oar ms" "torch ms" "speed oar/torch"
for model in lstm transformer; do
	echo "== $model: load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')" >&2
	t_out="$("$python" bench/seq/torch_seq.py --model "$model" --steps "$steps")"
	echo "$t_out" | sed 's/^/   torch: /' >&2
	o_out="$("$bin/oar-seq" -model "$model" -steps "$steps")"
	echo "$o_out" | sed 's/^/   oar:   /' >&2
	t="$(ms "$model" "$t_out")"
	o="$(ms "$model" "$o_out")"
	printf '%-12s  %-10s  %-10s  %s\n' "$model" "$o" "$t" "$(awk -v a="$o" -v b="$t" 'BEGIN { if (a > 0) printf "%.2fx", b / a; else print "?" }')"
done
