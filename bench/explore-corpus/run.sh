#!/usr/bin/env bash
# Run `fault explore` over the corpus (corpus.sh), one campaign per entry,
# with --jobs 1 and at most MAX_RUNS runs each; write each --json report
# and a table of what came of it (docs/explore.md gives a verdict per
# finding).
#
#   bench/explore-corpus/run.sh [-n MAX_RUNS] [-o OUT_DIR] [NAME...]
#
# FAULT names the fault binary (default: target/debug/fault, or fault on
# PATH).
set -u
here=$(cd "$(dirname "$0")" && pwd)
max_runs=60
out=${TMPDIR:-/tmp}/explore-corpus
while getopts n:o: opt; do
    case $opt in
        n) max_runs=$OPTARG ;;
        o) out=$OPTARG ;;
        *) echo "usage: $0 [-n MAX_RUNS] [-o OUT_DIR] [NAME...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
fault=${FAULT:-$here/../../target/debug/fault}
[ -x "$fault" ] || fault=$(command -v fault) || { echo "no fault binary: set FAULT" >&2; exit 2; }
only=" $* "
mkdir -p "$out"
table=$out/table.tsv
printf 'name\tstatus\tplanned\ttried\tnot_reached\treported_uncaught\tfindings\tseconds\n' > "$table"

entry() {
    local name=$1 setup=$2 check=$3
    shift 3
    if [ "$only" != "  " ] && [[ "$only" != *" $name "* ]]; then
        return
    fi
    local dir=$out/$name
    rm -rf "$dir" && mkdir -p "$dir/work"
    if [ -n "$setup" ] && ! (cd "$dir/work" && sh -c "$setup") > "$dir/setup.log" 2>&1; then
        echo "$name: setup failed (see $dir/setup.log)" >&2
        return
    fi
    local args=(explore --workdir work --jobs 1 --max-runs "$max_runs" --json report.json)
    [ -n "$check" ] && args+=(--check "$check")
    local started=$SECONDS
    (cd "$dir" && "$fault" "${args[@]}" -- "$@") > "$dir/summary.txt" 2> "$dir/stderr.txt"
    local status=$?
    local took=$((SECONDS - started))
    if [ -f "$dir/report.json" ]; then
        jq -r --arg name "$name" --arg status "$status" --arg took "$took" '
            [$name, $status, .planned, (.points | length),
             ([.points[] | select(.outcome == "not-reached")] | length),
             ([.points[] | select(.outcome == "reported-uncaught")] | length),
             (.findings | length), $took] | @tsv' "$dir/report.json" >> "$table"
    else
        printf '%s\t%s\t-\t-\t-\t-\t-\t%s\n' "$name" "$status" "$took" >> "$table"
    fi
    echo "$name: exit $status in ${took}s" >&2
}

# shellcheck source=corpus.sh
. "$here/corpus.sh"
column -t -s $'\t' "$table"
