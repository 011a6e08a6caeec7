#!/usr/bin/env bash
# compare.sh: oar against PyTorch on CPU, and against ONNX Runtime for inference, on MNIST
# training and inference; one table of ratios.
#
#   bash bench/compare.sh [epochs]        (from the repository root; epochs defaults to 1)
#   SEEDS=5 bash bench/compare.sh         (also the mean test accuracy over seeds 1..5)
#   ORT=1 bash bench/compare.sh           (fail if ONNX Runtime is missing; ORT=0 leaves it out)
#
# For each model (lenet, cnn) it runs bench/torch_mnist.py (PyTorch on OpenBLAS with the script's
# own thread settings), then go run ./bench/mnist, back to back on the same MNIST files, and then
# ONNX Runtime (node bench/ort_mnist.js) on the network PyTorch has just trained, exported by
# torch.onnx.export. All three time inference by the same rule: the 10k test images as float32 in
# memory before timing; at each batch size of 100, 250, 500 and 1000 a warm-up pass and the best
# of 2; each program's best samples/s and its batch size; batch-1 latency as the median of 1,000
# single-image calls. The table gives oar/PyTorch ratios of training and inference samples/s, of
# batch-1 latency and of peak RSS (lower is better for these two), the test accuracies, each
# program's configuration, then oar/ONNX Runtime ratios and ONNX Runtime's accuracy on the
# exported model (a check of the export: it must match PyTorch's), and last "lenet train ratio R".
#
# It installs nothing: when something is missing it says what and how to get it, and exits 2 (also
# when PyTorch would run on Debian's reference BLAS, 2-3x slower than on OpenBLAS). Without node
# or onnxruntime-node it says how to get them and leaves ONNX Runtime out, unless ORT=1.
#
# Ratios from a machine that other processes keep busy are not meaningful (PyTorch's two
# OpenMP threads suffer most); the script prints the load average before each run.
set -euo pipefail

cd "$(dirname "$0")/.."
epochs="${1:-1}"
torch_script="${TORCH_MNIST:-bench/torch_mnist.py}"
python="${PYTHON:-/usr/bin/python3}"
ort_mode="${ORT:-auto}"
ort_modules="$(realpath -m "${ORT_NODE_MODULES:-onnx/testdata/ort/node_modules}")"

missing=()
command -v go >/dev/null 2>&1 || missing+=("go: Go 1.26 or newer (https://go.dev/dl/)")
if [[ ! -x "$python" ]]; then
	missing+=("$python: Python 3 (apt-get install -y python3), or set PYTHON")
elif ! "$python" -c 'import torch, numpy' >/dev/null 2>&1; then
	missing+=("PyTorch and NumPy for $python (apt-get update && apt-get install -y python3-torch python3-numpy libopenblas0-pthread)")
fi
[[ -f "$torch_script" ]] || missing+=("$torch_script: the PyTorch baseline (in this repository), or set TORCH_MNIST")

# ONNX Runtime: node, and onnxruntime-node from onnx/testdata/ort's lock file (or ORT_NODE_MODULES).
ort_missing=()
if [[ "$ort_mode" != 0 ]]; then
	command -v node >/dev/null 2>&1 || ort_missing+=("node: Node.js 18 or newer (apt-get install -y nodejs npm)")
	[[ -f "$ort_modules/onnxruntime-node/package.json" ]] ||
		ort_missing+=("$ort_modules/onnxruntime-node: ONNX Runtime 1.30 for node (cd onnx/testdata/ort && npm ci --ignore-scripts), or set ORT_NODE_MODULES")
	if ((${#ort_missing[@]})) && [[ "$ort_mode" == 1 ]]; then
		missing+=("${ort_missing[@]}")
	fi
fi
use_ort=0
[[ "$ort_mode" != 0 ]] && ((${#ort_missing[@]} == 0)) && use_ort=1

# Both programs read the same IDX files. oar caches them in $OAR_DATA_HOME/mnist (default
# ~/.cache/oar/mnist); the PyTorch script reads $MNIST_DIR.
data_home="${OAR_DATA_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/oar}"
mnist_dir="${MNIST_DIR:-$data_home/mnist}"
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
	if [[ ! -f "$mnist_dir/$f" ]]; then
		missing+=("$mnist_dir/$f: MNIST (go run ./examples/lenet fetches it into oar's cache, or set MNIST_DIR to a directory holding the four .gz files)")
		break
	fi
done
if ((${#missing[@]})); then
	echo "compare.sh: missing, nothing was installed:" >&2
	printf '  - %s\n' "${missing[@]}" >&2
	exit 2
fi
if [[ "$ort_mode" != 0 ]] && ((use_ort == 0)); then
	echo "compare.sh: leaving ONNX Runtime out (ORT=1 makes this an error); to include it, install:" >&2
	printf '  - %s\n' "${ort_missing[@]}" >&2
fi

# PyTorch's configuration, and its BLAS: torch_mnist.py exits 3 on the reference BLAS.
rc=0
t_config="$("$python" "$torch_script" --check)" || rc=$?
if ((rc == 3)); then
	echo "compare.sh: PyTorch runs on the reference BLAS, which makes it 2-3x slower than it can be." >&2
	echo "  Install OpenBLAS, nothing else to change: apt-get install -y libopenblas0-pthread" >&2
	exit 2
elif ((rc != 0)); then
	exit "$rc"
fi

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/oar-mnist" ./bench/mnist

# num_after WORD LINE: the number after "WORD " in LINE ("train 1234 samples/s" -> 1234 for
# "train").
num_after() { sed -n "s/.*$1 \([0-9.]*\).*/\1/p" <<<"$2" | head -1; }
# The greater (higher) and the lesser (lower) of two numbers.
higher() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }
lower() { awk -v a="$1" -v b="$2" 'BEGIN { print (b < a ? b : a) }'; }

declare -A res
o_config="" r_config=""
seeds="${SEEDS:-1}"
# With SEEDS=N (N > 1) all programs also run with seeds 2..N, for the mean test accuracy: one
# epoch's accuracy moves by more than a point from seed to seed (PyTorch's LeNet: 0.9685 to
# 0.9821 over seeds 1-5), so one seed cannot show two programs within half a point. The speeds in
# the table are then each program's best over its N runs (the host's noise only slows), the
# accuracies in the first table seed 1's.
for ((seed = 1; seed <= seeds; seed++)); do
	for model in lenet cnn; do
		echo "== $model, seed $seed: load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')" >&2
		onnx_args=()
		((use_ort)) && onnx_args=(--onnx "$bin/$model.onnx")
		t_out="$(MNIST_DIR="$mnist_dir" "$python" "$torch_script" --model "$model" --epochs "$epochs" --seed "$seed" "${onnx_args[@]}")"
		echo "$t_out" | sed 's/^/   torch: /' >&2
		o_out="$("$bin/oar-mnist" -model "$model" -epochs "$epochs" -seed "$seed" -data "$mnist_dir")"
		echo "$o_out" | sed 's/^/   oar:   /' >&2
		o_config="$(sed -n '1s/.*\(GOMAXPROCS [0-9]*, ISA [a-z0-9]*\).*/\1/p' <<<"$o_out")"
		lines=("t:$(grep "^epoch $epochs:" <<<"$t_out")" "o:$(grep "^epoch $epochs:" <<<"$o_out")")
		if ((use_ort)); then
			r_out="$(MNIST_DIR="$mnist_dir" ORT_NODE_MODULES="$ort_modules" node bench/ort_mnist.js "$bin/$model.onnx")"
			echo "$r_out" | sed 's/^/   ORT:   /' >&2
			r_config="$(sed -n '1s/, model .*//p' <<<"$r_out")"
			lines+=("r:$(grep '^infer ' <<<"$r_out")")
		fi
		for entry in "${lines[@]}"; do
			p="${entry%%:*}" line="${entry#*:}"
			infer="$(num_after infer "$line")" batch="$(num_after "at batch" "$line")"
			lat="$(num_after latency "$line")" acc="$(num_after accuracy "$line")"
			res[$model,${p}_accs]+="${res[$model,${p}_accs]:+ }$acc"
			if ((seed == 1)); then
				res[$model,${p}_acc]="$acc"
				res[$model,${p}_infer]="$infer" res[$model,${p}_batch]="$batch" res[$model,${p}_lat]="$lat"
				[[ "$p" == r ]] || res[$model,${p}_train]="$(num_after train "$line")"
			else
				if [[ "$(higher "${res[$model,${p}_infer]}" "$infer")" != "${res[$model,${p}_infer]}" ]]; then
					res[$model,${p}_infer]="$infer" res[$model,${p}_batch]="$batch"
				fi
				res[$model,${p}_lat]="$(lower "${res[$model,${p}_lat]}" "$lat")"
				[[ "$p" == r ]] || res[$model,${p}_train]="$(higher "${res[$model,${p}_train]}" "$(num_after train "$line")")"
			fi
		done
		if ((seed == 1)); then
			res[$model,t_rss]="$(num_after RSS "$(grep '^peak RSS' <<<"$t_out")")"
			res[$model,o_rss]="$(num_after RSS "$(grep '^peak RSS' <<<"$o_out")")"
		fi
		if ((use_ort)); then
			# ONNX Runtime runs the weights PyTorch has just evaluated: the same accuracy to within a
			# few images (float rounding), or the export is wrong and ONNX Runtime's speed means nothing.
			t_acc="${res[$model,t_accs]##* }" r_acc="${res[$model,r_accs]##* }"
			if awk -v a="$t_acc" -v b="$r_acc" 'BEGIN { exit !((a - b) ^ 2 > 0.0005 ^ 2) }'; then
				res[$model,r_bad]+=" seed $seed: ORT $r_acc, torch $t_acc"
			fi
		fi
	done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }'; }
# at MODEL P: "samples/s@batch" of program P's best inference.
at() { echo "${res[$1,$2_infer]}@${res[$1,$2_batch]}"; }

echo
echo "PyTorch: $t_config"
echo "oar:     $o_config"
((use_ort)) && echo "ORT:     $r_config, running the network torch trained and exported (opset 13, dynamic batch)"
echo "(inference: best samples/s @ its batch size; batch-1: median ms per single-image call; lower is better for it and RSS)"
printf '%-6s  %-26s  %-34s  %-24s  %-22s  %s\n' model "train samples/s oar/torch" "infer samples/s@batch oar/torch" "batch-1 ms oar/torch" "peak RSS MiB oar/torch" "test accuracy oar, torch"
for model in lenet cnn; do
	printf '%-6s  %-26s  %-34s  %-24s  %-22s  %s\n' "$model" \
		"$(ratio "${res[$model,o_train]}" "${res[$model,t_train]}") (${res[$model,o_train]}/${res[$model,t_train]})" \
		"$(ratio "${res[$model,o_infer]}" "${res[$model,t_infer]}") ($(at "$model" o)/$(at "$model" t))" \
		"$(ratio "${res[$model,o_lat]}" "${res[$model,t_lat]}") (${res[$model,o_lat]}/${res[$model,t_lat]})" \
		"$(ratio "${res[$model,o_rss]}" "${res[$model,t_rss]}") (${res[$model,o_rss]}/${res[$model,t_rss]})" \
		"${res[$model,o_acc]}, ${res[$model,t_acc]}"
done
bad=0
if ((use_ort)); then
	echo
	printf '%-6s  %-34s  %-24s  %s\n' model "infer samples/s@batch oar/ORT" "batch-1 ms oar/ORT" "ORT test accuracy (torch's, same weights)"
	for model in lenet cnn; do
		check="${res[$model,t_acc]}"
		if [[ -n "${res[$model,r_bad]:-}" ]]; then
			check="MISMATCH:${res[$model,r_bad]}"
			bad=1
		fi
		printf '%-6s  %-34s  %-24s  %s\n' "$model" \
			"$(ratio "${res[$model,o_infer]}" "${res[$model,r_infer]}") ($(at "$model" o)/$(at "$model" r))" \
			"$(ratio "${res[$model,o_lat]}" "${res[$model,r_lat]}") (${res[$model,o_lat]}/${res[$model,r_lat]})" \
			"${res[$model,r_acc]} ($check)"
	done
fi
if ((seeds > 1)); then
	mean() { awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.4f", s / NF }' <<<"$1"; }
	range() { tr ' ' '\n' <<<"$1" | sort -n | sed -n '1p;$p' | paste -sd- -; }
	echo
	printf '%-6s  %-28s  %-28s  %s\n' model "oar accuracy mean (range)" "torch accuracy mean (range)" "difference, points"
	for model in lenet cnn; do
		om="$(mean "${res[$model,o_accs]}")"
		tm="$(mean "${res[$model,t_accs]}")"
		printf '%-6s  %-28s  %-28s  %s\n' "$model" "$om ($(range "${res[$model,o_accs]}"))" "$tm ($(range "${res[$model,t_accs]}"))" \
			"$(awk -v a="$om" -v b="$tm" 'BEGIN { printf "%+.2f", 100 * (a - b) }')"
	done
	echo "(seeds 1-$seeds, $epochs epoch(s) each; speeds above: each program's best of the $seeds runs)"
fi
if ((bad)); then
	echo "compare.sh: ONNX Runtime's accuracy differs from PyTorch's on the same weights: the export is wrong, its speeds mean nothing" >&2
fi
echo "lenet train ratio $(ratio "${res[lenet,o_train]}" "${res[lenet,t_train]}")"
exit "$bad"
