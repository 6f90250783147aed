# Sourced by the bench scripts: median_ms RUNS CMD… runs CMD RUNS times (after one warm-up) and
# prints the median wall time in milliseconds with two decimals.
median_ms() {
    local runs=$1
    shift
    "$@" >/dev/null 2>&1 || true
    local times=() start end
    for ((i = 0; i < runs; i++)); do
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s%N)
        times+=($(( (end - start) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f\n", a[int((NR+1)/2)]/1000}'
}
