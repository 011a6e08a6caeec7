#!/usr/bin/env bash
# compare.sh: oar against PyTorch 1.13 on CPU, training steps of ResNet-18 (10 classes, batch 32,
# 3×32×32 inputs, cross-entropy, SGD with momentum; see bench/resnet/main.go and torch_resnet.py),
# in one go.
#
#   bash bench/resnet/compare.sh [steps]      (from anywhere; steps defaults to 10)
#
# It runs bench/resnet/torch_resnet.py and then the Go program, back to back, and prints the
# median milliseconds per step of both, their CPU milliseconds per step, and the speed ratio
# torch/oar of the medians (above 1: oar is faster), with the load average before each run:
# ratios from a machine that other processes keep busy are not meaningful (the CPU-time ratio
# suffers less). It installs nothing; when something is missing it says so and exits 2.
set -euo pipefail

cd "$(dirname "$0")/../.."
steps="${1:-10}"
python="${PYTHON:-/usr/bin/python3}"

missing=()
command -v go >/dev/null 2>&1 || missing+=("go: Go 1.26 or newer (https://go.dev/dl/)")
if [[ ! -x "$python" ]]; then
	missing+=("$python: Python 3, or set PYTHON")
elif ! "$python" -c 'import torch, torchvision' >/dev/null 2>&1; then
	missing+=("PyTorch and torchvision for $python (apt-get update && apt-get install -y python3-torch python3-torchvision)")
fi
if ((${#missing[@]})); then
	echo "compare.sh: missing, nothing was installed:" >&2
	printf '  - %s\n' "${missing[@]}" >&2
	exit 2
fi

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/oar-resnet" ./bench/resnet

field() { sed -n "s|^resnet18: $1.*|\1|p" <<<"$2"; }
echo "== torch: load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')" >&2
t_out="$("$python" bench/resnet/torch_resnet.py --steps "$steps")"
echo "$t_out" | sed 's/^/   /' >&2
echo "== oar: load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')" >&2
o_out="$("$bin/oar-resnet" -steps "$steps")"
echo "$o_out" | sed 's/^/   /' >&2
t="$(field '\([0-9.]*\) ms/step' "$t_out")"
o="$(field '\([0-9.]*\) ms/step' "$o_out")"
tc="$(field '.* \([0-9.]*\) CPU ms/step' "$t_out")"
oc="$(field '.* \([0-9.]*\) CPU ms/step' "$o_out")"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.2fx", b / a; else print "?" }'; }
printf '%-10s  %-10s  %-10s  %-12s  %-12s  %-16s  %s\n' model "oar ms" "torch ms" "oar CPU ms" "torch CPU ms" "speed torch/oar" "CPU torch/oar"
printf '%-10s  %-10s  %-10s  %-12s  %-12s  %-16s  %s\n' resnet18 "$o" "$t" "$oc" "$tc" "$(ratio "$o" "$t")" "$(ratio "$oc" "$tc")"
