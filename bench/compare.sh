#!/usr/bin/env bash
# compare.sh: oar against PyTorch on CPU, MNIST training and inference, one table of ratios.
#
#   bash bench/compare.sh [epochs]        (from the repository root; epochs defaults to 1)
#   SEEDS=5 bash bench/compare.sh         (also the mean test accuracy over seeds 1..5)
#
# For each model (lenet, cnn) it runs bench/torch_mnist.py (PyTorch with the script's
# own thread settings) and then go run ./bench/mnist, back to back on the same MNIST files, and
# prints oar/PyTorch ratios of training and inference samples/s and of peak RSS (lower is better
# for RSS), the test accuracies, and last "lenet train ratio R". It installs nothing: when
# something is missing it says what and how to get it, and exits 2.
#
# Ratios from a machine that other processes keep busy are not meaningful (PyTorch's two
# OpenMP threads suffer most); the script prints the load average before each run.
set -euo pipefail

cd "$(dirname "$0")/.."
epochs="${1:-1}"
torch_script="${TORCH_MNIST:-bench/torch_mnist.py}"
python="${PYTHON:-/usr/bin/python3}"

missing=()
command -v go >/dev/null 2>&1 || missing+=("go: Go 1.26 or newer (https://go.dev/dl/)")
if [[ ! -x "$python" ]]; then
	missing+=("$python: Python 3 (apt-get install -y python3), or set PYTHON")
elif ! "$python" -c 'import torch, numpy' >/dev/null 2>&1; then
	missing+=("PyTorch and NumPy for $python (apt-get update && apt-get install -y python3-torch python3-numpy)")
fi
[[ -f "$torch_script" ]] || missing+=("$torch_script: the PyTorch baseline (in this repository), or set TORCH_MNIST")

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

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/oar-mnist" ./bench/mnist

# field LINE WORD: the number before WORD in LINE ("train 1234 samples/s" -> 1234 for "samples/s"
# after "train").
num_after() { sed -n "s/.*$1 \([0-9.]*\).*/\1/p" <<<"$2" | head -1; }

declare -A res
for model in lenet cnn; do
	echo "== $model: load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')" >&2
	t_out="$(MNIST_DIR="$mnist_dir" "$python" "$torch_script" --model "$model" --epochs "$epochs")"
	echo "$t_out" | sed 's/^/   torch: /' >&2
	o_out="$("$bin/oar-mnist" -model "$model" -epochs "$epochs" -data "$mnist_dir")"
	echo "$o_out" | sed 's/^/   oar:   /' >&2
	t_epoch="$(grep "^epoch $epochs:" <<<"$t_out")"
	o_epoch="$(grep "^epoch $epochs:" <<<"$o_out")"
	res[$model,t_train]="$(num_after train "$t_epoch")"
	res[$model,o_train]="$(num_after train "$o_epoch")"
	res[$model,t_infer]="$(num_after infer "$t_epoch")"
	res[$model,o_infer]="$(num_after infer "$o_epoch")"
	res[$model,t_acc]="$(num_after accuracy "$t_epoch")"
	res[$model,o_acc]="$(num_after accuracy "$o_epoch")"
	res[$model,t_rss]="$(num_after RSS "$(grep '^peak RSS' <<<"$t_out")")"
	res[$model,o_rss]="$(num_after RSS "$(grep '^peak RSS' <<<"$o_out")")"
done

# With SEEDS=N (N > 1) both programs also train with seeds 2..N, for the mean test accuracy: one
# epoch's accuracy moves by more than a point from seed to seed (PyTorch's LeNet: 0.9685 to
# 0.9821 over seeds 1-5), so one seed cannot show two programs within half a point.
# The samples/s in the table are then each program's best over its N runs.
seeds="${SEEDS:-1}"
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }
for model in lenet cnn; do
	res[$model,t_accs]="${res[$model,t_acc]}"
	res[$model,o_accs]="${res[$model,o_acc]}"
done
for ((seed = 2; seed <= seeds; seed++)); do
	for model in lenet cnn; do
		echo "== $model, seed $seed" >&2
		t_out="$(MNIST_DIR="$mnist_dir" "$python" "$torch_script" --model "$model" --epochs "$epochs" --seed "$seed")"
		o_out="$("$bin/oar-mnist" -model "$model" -epochs "$epochs" -seed "$seed" -data "$mnist_dir")"
		t_epoch="$(grep "^epoch $epochs:" <<<"$t_out")"
		o_epoch="$(grep "^epoch $epochs:" <<<"$o_out")"
		res[$model,t_accs]+=" $(num_after accuracy "$t_epoch")"
		res[$model,o_accs]+=" $(num_after accuracy "$o_epoch")"
		# Speeds: the best of the runs, for each program alike (the host's noise only slows).
		for k in train infer; do
			res[$model,t_$k]="$(best "${res[$model,t_$k]}" "$(num_after "$k" "$t_epoch")")"
			res[$model,o_$k]="$(best "${res[$model,o_$k]}" "$(num_after "$k" "$o_epoch")")"
		done
		echo "   torch ${res[$model,t_accs]##* }, oar ${res[$model,o_accs]##* }" >&2
	done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }'; }

echo
printf '%-6s  %-26s  %-26s  %-22s  %s\n' model "train samples/s oar/torch" "infer samples/s oar/torch" "peak RSS MiB oar/torch" "test accuracy oar, torch"
for model in lenet cnn; do
	printf '%-6s  %-26s  %-26s  %-22s  %s\n' "$model" \
		"$(ratio "${res[$model,o_train]}" "${res[$model,t_train]}") (${res[$model,o_train]}/${res[$model,t_train]})" \
		"$(ratio "${res[$model,o_infer]}" "${res[$model,t_infer]}") (${res[$model,o_infer]}/${res[$model,t_infer]})" \
		"$(ratio "${res[$model,o_rss]}" "${res[$model,t_rss]}") (${res[$model,o_rss]}/${res[$model,t_rss]})" \
		"${res[$model,o_acc]}, ${res[$model,t_acc]}"
done
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
	echo "(seeds 1-$seeds, $epochs epoch(s) each; samples/s above: each program's best of the $seeds runs)"
fi
echo "lenet train ratio $(ratio "${res[lenet,o_train]}" "${res[lenet,t_train]}")"
