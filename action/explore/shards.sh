#!/usr/bin/env bash
# A `fault explore` campaign split into shards, as a CI matrix runs it: the
# logic of action/explore/action.yml, runnable on any machine.
#
#   shards.sh plan  OUT -- [explore options] -- PROGRAM [ARGS]
#       Record the campaign's plan once, into OUT/plan.json (every shard
#       must explore the same points).
#   shards.sh shard OUT I N -- [explore options] -- PROGRAM [ARGS]
#       Make slice I of N of the plan's runs; its report is OUT/explore-I.json.
#   shards.sh merge OUT
#       Combine OUT/explore-*.json into OUT/explore.json, OUT/explore.xml
#       (JUnit) and OUT/explore.html; exits as `fault explore merge` does
#       (0: no findings, 1: findings).
#   shards.sh local OUT N -- [explore options] -- PROGRAM [ARGS]
#       plan, the N shards one after another, and merge: what a matrix does,
#       on one machine.
#
# FAULT names the fault command (default: fault on PATH). A shard that
# found something still succeeds (explore's exit 1): findings are the merged
# report's to tell; any other failure stops the script with explore's exit
# status.
set -euo pipefail

fault=${FAULT:-fault}

usage() {
    echo "usage: shards.sh plan OUT -- [OPTIONS] -- PROGRAM [ARGS] | shard OUT I N -- ... | merge OUT | local OUT N -- ..." >&2
    exit 2
}

# explore, accepting exit 1 (findings) as success.
explore() {
    local code=0
    "$fault" explore "$@" || code=$?
    if [ "$code" -gt 1 ]; then
        echo "shards.sh: fault explore exited $code" >&2
        exit "$code"
    fi
}

plan() {
    local out=$1
    shift
    mkdir -p "$out"
    rm -f "$out/plan.json"
    explore --plan "$out/plan.json" --max-runs 0 "$@"
}

shard() {
    local out=$1 i=$2 n=$3
    shift 3
    [ -f "$out/plan.json" ] || { echo "shards.sh: no $out/plan.json: run 'shards.sh plan' first" >&2; exit 2; }
    explore --plan "$out/plan.json" --shard "$i/$n" --json "$out/explore-$i.json" "$@"
}

merge() {
    local out=$1
    local reports=("$out"/explore-[0-9]*.json)
    [ -e "${reports[0]}" ] || { echo "shards.sh: no shard reports in $out" >&2; exit 2; }
    "$fault" explore merge "${reports[@]}" \
        --json "$out/explore.json" --junit "$out/explore.xml" --html "$out/explore.html"
}

[ $# -ge 2 ] || usage
command=$1
out=$2
shift 2
case "$command" in
plan)
    [ "${1:-}" = -- ] || usage
    shift
    plan "$out" "$@"
    ;;
shard)
    [ $# -ge 3 ] && [ "$3" = -- ] || usage
    i=$1 n=$2
    shift 3
    shard "$out" "$i" "$n" "$@"
    ;;
merge)
    [ $# -eq 0 ] || usage
    merge "$out"
    ;;
local)
    [ $# -ge 2 ] && [ "$2" = -- ] || usage
    n=$1
    shift 2
    plan "$out" "$@"
    for i in $(seq 1 "$n"); do
        shard "$out" "$i" "$n" "$@"
    done
    merge "$out"
    ;;
*)
    usage
    ;;
esac
