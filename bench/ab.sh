#!/usr/bin/env bash
# ab.sh: oar against oar. Builds bench/mnist from a base commit and from the working tree, runs
# the two alternately on the same MNIST files, and prints each side's best training and inference
# samples/s and the ratio new/base. Use it before landing a change that could cost speed.
#
#   bash bench/ab.sh [base-rev] [runs]    (from the repository root; defaults: origin's main
#                                          if there is one, else HEAD; 3 runs per side and model)
#
# MODELS="lenet" limits the models; EPOCHS sets the epochs per run (default 1). Each run is one
# process, alternating base and new so that a change in the machine's load hits both.
set -euo pipefail

cd "$(dirname "$0")/.."
base="${1:-$(git rev-parse --verify -q origin/main || git rev-parse HEAD)}"
runs="${2:-3}"
models="${MODELS:-lenet cnn}"
epochs="${EPOCHS:-1}"

tmp="$(mktemp -d)"
cleanup() {
	git worktree remove --force "$tmp/base" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
git worktree add -q --detach "$tmp/base" "$base"
(cd "$tmp/base" && go build -o "$tmp/oar-base" ./bench/mnist)
go build -o "$tmp/oar-new" ./bench/mnist
echo "base $(git rev-parse --short "$base"), new: the working tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ', modified'))"

num_after() { sed -n "s/.*$1 \([0-9.]*\).*/\1/p" <<<"$2" | head -1; }
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }

printf '%-6s %-6s %12s %12s %8s\n' model what base new new/base
for model in $models; do
	declare -A top=([base.train]=0 [base.infer]=0 [new.train]=0 [new.infer]=0)
	for ((i = 1; i <= runs; i++)); do
		for side in base new; do
			out="$("$tmp/oar-$side" -model "$model" -epochs "$epochs" ${MNIST_DIR:+-data "$MNIST_DIR"})"
			tr="$(num_after train "$out")" inf="$(num_after infer "$out")"
			echo "   $model run $i $side: train $tr, infer $inf samples/s" >&2
			top[$side.train]="$(best "${top[$side.train]}" "$tr")"
			top[$side.infer]="$(best "${top[$side.infer]}" "$inf")"
		done
	done
	for what in train infer; do
		b="${top[base.$what]}" n="${top[new.$what]}"
		printf '%-6s %-6s %12.0f %12.0f %8.3f\n' "$model" "$what" "$b" "$n" "$(awk -v n="$n" -v b="$b" 'BEGIN { print n / b }')"
	done
done
