#!/usr/bin/env bash
# scaling.sh: how much a second core speeds up oar. Runs bench/mnist (one binary) with
# GOMAXPROCS=1 and GOMAXPROCS=2 alternately, RUNS times each per model, and prints each side's best
# training and inference samples/s, the ratios 2-core/1-core, and whether the runs' final weights
# (bench/mnist's "weights" checksum) are bitwise equal across core counts.
#
#   bash bench/scaling.sh            (from the repository root; RUNS=3, MODELS="lenet cnn")
#
# It then runs BenchmarkStepScaling (bench/mnist/step_test.go): each model's training step on a
# synthetic batch (no data loading), one core and two alternating in blocks within one process.
#
# Two more measurements say how much a second core can add on this machine at all:
# - one-core epochs pinned to each CPU in turn (taskset, when installed): on a shared VM one vCPU
#   can run slower than the other for a while, and a split into equal halves then goes at the
#   slower one's pace;
# - BenchmarkStepCeiling: two independent copies of each model training on half a batch each, one
#   goroutine per copy and per core, so nothing is shared or waited for inside a step. Their
#   speed-up over one core ("ceiling") is about the most that splitting one model's step over the
#   two cores of this process can reach.
#
# Quote it only from a quiet machine: a busy second CPU makes GOMAXPROCS=2 look like 1.
set -euo pipefail

cd "$(dirname "$0")/.."
runs="${RUNS:-3}"
models="${MODELS:-lenet cnn}"
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/oar-mnist" ./bench/mnist
load="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"

num_after() { sed -n "s/.*$1 \([0-9.]*\).*/\1/p" <<<"$2" | head -1; }
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }'; }

printf '%-6s  %-32s  %-32s  %s\n' model "train samples/s 1 → 2 cores" "infer samples/s 1 → 2 cores" "weights equal"
for model in $models; do
	declare -A train=() infer=() sums=()
	for ((r = 1; r <= runs; r++)); do
		for procs in 1 2; do
			out="$(GOMAXPROCS=$procs "$bin/oar-mnist" -model "$model")"
			line="$(grep '^epoch 1:' <<<"$out")"
			train[$procs]="$(best "${train[$procs]:-0}" "$(num_after train "$line")")"
			infer[$procs]="$(best "${infer[$procs]:-0}" "$(num_after infer "$line")")"
			sums[$(sed -n 's/^weights \([0-9a-f]*\).*/\1/p' <<<"$out")]=1
		done
	done
	equal=yes
	((${#sums[@]} == 1)) || equal="NO (${!sums[*]})"
	printf '%-6s  %-32s  %-32s  %s\n' "$model" \
		"${train[1]} → ${train[2]} ($(ratio "${train[2]}" "${train[1]}")×)" \
		"${infer[1]} → ${infer[2]} ($(ratio "${infer[2]}" "${infer[1]}")×)" "$equal"
done
echo "(best of $runs runs each; load average at the start: $load)"
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
	echo
	echo "one core, pinned to each CPU in turn (train samples/s, one epoch each):"
	for model in $models; do
		line="$model "
		for cpu in 0 1; do
			out="$(GOMAXPROCS=1 taskset -c "$cpu" "$bin/oar-mnist" -model "$model" | grep '^epoch 1:')"
			line+=" cpu$cpu $(num_after train "$out")"
		done
		echo "$line"
	done
fi
echo
echo "training step, 1 and 2 cores alternating in one process (BenchmarkStepScaling, median of 15 blocks):"
go test -run - -bench StepScaling -benchtime 15x ./bench/mnist | awk '/^BenchmarkStepScaling/ {
	split($1, name, "[/-]")
	for (i = 2; i < NF; i++) m[$(i + 1)] = $i
	printf "%-6s  %s → %s µs/step (%.2f×)\n", name[2], m["µs/step-1core"], m["µs/step-2cores"], m["speedup"]
}'
echo
echo "the ceiling: two independent copies, half a batch each, one core each (BenchmarkStepCeiling, median of 15 blocks):"
go test -run - -bench StepCeiling -benchtime 15x ./bench/mnist | awk '/^BenchmarkStepCeiling/ {
	split($1, name, "[/-]")
	for (i = 2; i < NF; i++) m[$(i + 1)] = $i
	printf "%-6s  1 core %s µs/step; 2 cores: the model %s (%.2f×), two half-batch copies %s (%.2f×)\n", name[2], m["µs/step-1core"], m["µs/step-2cores"], m["speedup"], m["µs/step-2halves"], m["ceiling"]
}'
