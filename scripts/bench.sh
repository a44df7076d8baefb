#!/usr/bin/env bash
# Measures doggogan against the PyTorch peer scripts of ../shared/bench, one
# right after the other, ROUNDS times per configuration, and prints a Markdown
# table of medians: seconds per iteration, ratio, doggogan's GFLOPS, and peak
# resident memory of each process (/usr/bin/time -v).
#
#   scripts/bench.sh            # GEMM and all configurations, 3 rounds
#   ROUNDS=5 scripts/bench.sh gemm R1 I256
#
# Needs Debian's python3-torch (apt-get install python3-torch) and, for the
# strongest peer, an optimised BLAS (apt-get install libopenblas0-pthread).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
PEER=../shared/bench/peer_cyclegan.py
BIN=$(mktemp -d)/doggogan
go build -o "$BIN" ./cmd/doggogan

declare -A CFG=(
  [R1]="--size 64 --ngf 32 --ndf 32 --blocks 6 --batch 1 --loss wgangp"
  [R2]="--size 128 --ngf 64 --ndf 64 --blocks 9 --batch 1 --loss wgangp --iters 3"
  [I256]="--mode infer --size 256 --ngf 64 --blocks 9 --batch 1"
  [R1-batch4]="--size 64 --ngf 32 --ndf 32 --blocks 6 --batch 4 --loss wgangp"
  [R1-lsgan]="--size 64 --ngf 32 --ndf 32 --blocks 6 --batch 1 --loss lsgan"
)
names=("$@")
((${#names[@]})) || names=(R1 R2 I256 R1-batch4 R1-lsgan)

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# run CMD... → prints "seconds rss_kb gflops"
measure() {
  local out
  out=$(/usr/bin/time -v "$@" 2>&1)
  local s rss g
  s=$(grep '^median_s_per_iter' <<<"$out" | awk '{print $2}')
  rss=$(grep 'Maximum resident set size' <<<"$out" | awk '{print $6}')
  g=$(grep -o '[0-9.]* GFLOPS,' <<<"$out" | head -1 | awk '{print $1}')
  echo "$s $rss ${g:-0}"
}

gemm_table() {
  echo "| GEMM n | peer GFLOPS | doggogan GFLOPS | ratio |"
  echo "| --- | --- | --- | --- |"
  for n in 1024 2048; do
    ps=() ds=()
    for ((i = 0; i < ROUNDS; i++)); do
      ps+=("$(/usr/bin/python3 ../shared/bench/peer_gemm.py --n $n --threads 2 | awk '/^gflops/ {print $2}')")
      ds+=("$("$BIN" bench gemm --n $n --threads 2 | awk '/^gflops/ {print $2}')")
    done
    p=$(printf '%s\n' "${ps[@]}" | median); d=$(printf '%s\n' "${ds[@]}" | median)
    printf '| %d | %.1f | %.1f | %.2f |\n' "$n" "$p" "$d" "$(echo "$d / $p" | bc -l)"
  done
  echo
}
if [[ " ${names[*]} " == *" gemm "* ]] || ((${#@} == 0)); then gemm_table; fi
names=("${names[@]/gemm/}")

echo "| config | peer s/iter | doggogan s/iter | ratio | doggogan GFLOPS | peer RSS | doggogan RSS |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for name in "${names[@]}"; do
  [[ -n $name ]] || continue
  args=${CFG[$name]}
  ps=() ds=() pr=() dr=() dg=()
  for ((i = 0; i < ROUNDS; i++)); do
    read -r s r _ <<<"$(measure /usr/bin/python3 $PEER $args --threads 2)"; ps+=("$s"); pr+=("$r")
    read -r s r g <<<"$(measure "$BIN" bench step $args --threads 2)"; ds+=("$s"); dr+=("$r"); dg+=("$g")
  done
  p=$(printf '%s\n' "${ps[@]}" | median); d=$(printf '%s\n' "${ds[@]}" | median)
  printf '| %s | %.3f | %.3f | %.2f | %.0f | %.0f MB | %.0f MB |\n' "$name" "$p" "$d" "$(echo "$d / $p" | bc -l)" \
    "$(printf '%s\n' "${dg[@]}" | median)" "$(echo "$(printf '%s\n' "${pr[@]}" | median) / 1024" | bc -l)" \
    "$(echo "$(printf '%s\n' "${dr[@]}" | median) / 1024" | bc -l)"
done
