"""Turn one bench/run result directory into a markdown table with ratios.

Usage: report.py RESULT_DIR
       report.py merge OUT.json ROUND.json...   (used by bench/run)

Reads RESULT_DIR/index.tsv (written by bench/run: one line per measurement,
`section<TAB>workload<TAB>variant<TAB>label<TAB>kind<TAB>data`), the raw
hyperfine JSON it points to, and RESULT_DIR/machine.md; writes
RESULT_DIR/results.md and prints the same to stdout.

Variants are compared within their workload: `native` is the program alone,
`strace` is strace doing the same job, and every variant whose id starts
with `fi` is fi. Ratios are of medians.
"""

import json
import os
import statistics
import sys

TARGETS_DOC = {
    "1": "fi/native <= 1.15 when the hot syscalls are unsubscribed",
    "2": "fi/strace <= 0.25 with every call decided (pinned), <= 0.30 unpinned (2u); the WASM plugin within 10% of the native rule",
    "8": "fi/native <= 1.10 for a constant error on a hot call",
    "9": "fi/native <= 1.10 for clock_gettime through the vDSO when nothing subscribes to it",
    "4": "warm plugin start-up <= 20 ms over native",
    "5": "peak RSS <= 50 MB with three plugins loaded",
}

SECTION_TITLES = {
    "1": "1. Unsubscribed hot path",
    "2": "2. Every call decided",
    "3": "3. Real programs",
    "4": "4. Start-up",
    "5": "5. Memory (peak RSS)",
    "6": "6. Per-language plugin cost",
    "7": "7. CPU placement",
    "2u": "2u. Every call decided, unpinned",
    "8": "8. Constant error on a hot call",
    "9": "9. clock_gettime through the vDSO",
    "10": "10. explore's throughput",
}


# Section 3's workloads, as the targets name them.
REAL_PROGRAMS = [
    ("git-status", "git status"),
    ("tar-extract", "tar x"),
    ("make-j2", "make -B -j2"),
    ("python-import", "python3 import"),
]


def load(result_dir):
    rows = []
    with open(os.path.join(result_dir, "index.tsv")) as index:
        for line in index:
            line = line.rstrip("\n")
            if not line:
                continue
            section, workload, variant, label, kind, data = line.split("\t", 5)
            row = {
                "section": section,
                "workload": workload,
                "variant": variant,
                "label": label,
                "kind": kind,
            }
            if kind == "time":
                path = os.path.join(result_dir, data)
                try:
                    with open(path) as f:
                        result = json.load(f)["results"][0]
                    times = result["times"]
                    row["median"] = result["median"]
                    row["stddev"] = result.get("stddev") or 0.0
                    row["runs"] = len(times)
                    row["min"] = min(times)
                    row["max"] = max(times)
                except (OSError, ValueError, KeyError, IndexError):
                    row["failed"] = True
            elif kind == "rss":
                values = [int(v) for v in data.split(",") if v]
                if values:
                    row["rss_kb"] = statistics.median(values)
                    row["rss_max_kb"] = max(values)
                    row["runs"] = len(values)
                else:
                    row["failed"] = True
            elif kind == "note":
                row["note"] = data
            rows.append(row)
    return rows


def find(rows, workload, variant):
    for row in rows:
        if row["workload"] == workload and row["variant"] == variant and "median" in row:
            return row
    return None


def ms(seconds):
    return f"{seconds * 1000:.1f}"


def ratio(a, b):
    return a / b if b else float("nan")


def ratios_of(rows, row):
    """(text for the console, cells for the table) of one timed row."""
    native = find(rows, row["workload"], "native")
    strace = find(rows, row["workload"], "strace")
    rule = find(rows, row["workload"], "fi-rule")
    floor = find(rows, row["workload"], "ref-notify-floor") or find(rows, row["workload"], "ref-unotify")
    parts, cells = [], {"native": "", "strace": "", "rule": "", "floor": ""}
    who = "fi" if row["variant"].startswith("fi") else row["variant"]
    if native and row["variant"] != "native":
        r = ratio(row["median"], native["median"])
        parts.append(f"{who}/native {r:.2f}")
        cells["native"] = f"{r:.2f}"
    if strace and row["variant"].startswith("fi"):
        r = ratio(row["median"], strace["median"])
        parts.append(f"fi/strace {r:.2f}")
        cells["strace"] = f"{r:.2f}"
    if rule and row["variant"].startswith("fi") and row["variant"] != "fi-rule":
        r = ratio(row["median"], rule["median"])
        parts.append(f"vs fi-rule {r:.2f}")
        cells["rule"] = f"{r:.2f}"
    if floor and row["variant"].startswith("fi"):
        r = ratio(row["median"], floor["median"])
        parts.append(f"fi/floor {r:.2f}")
        cells["floor"] = f"{r:.2f}"
    return "  ".join(parts), cells


def verdict(ok):
    return "MET" if ok else "MISSED"


def targets(rows):
    """Lines judging each target from the measured medians."""
    out = []

    def check_ratio(section, workload, variant, base_variant, limit, name):
        row, base = find(rows, workload, variant), find(rows, workload, base_variant)
        if not row or not base:
            out.append(f"- [{section}] {name}: not measured")
            return
        r = ratio(row["median"], base["median"])
        miss = "" if r <= limit else f" (over by {(r / limit - 1) * 100:.0f}% of the limit)"
        out.append(f"- [{section}] {name}: {r:.2f} (limit {limit}) **{verdict(r <= limit)}**{miss}")

    def notify_floor(workload):
        """The line under a section 3 workload's targets: the floor's rows."""
        floor, strace = find(rows, workload, "ref-notify-floor"), find(rows, workload, "strace")
        native = find(rows, workload, "native")
        if not floor:
            return
        parts = [f"the floor {ms(floor['median'])} ms"]
        if native:
            parts.append(f"native {ms(native['median'])} ms, floor / native {ratio(floor['median'], native['median']):.2f}")
        if strace:
            parts.append(f"floor / strace {ratio(floor['median'], strace['median']):.2f}")
        out.append("  - [3] " + "; ".join(parts))

    check_ratio("1", "dd-unsubscribed", "fi-rule", "native", 1.15, "fi rule / native")
    check_ratio("1", "dd-unsubscribed", "fi-plugin", "native", 1.15, "fi plugin / native")
    check_ratio("1", "dd-unsubscribed", "fi-rule", "strace", 1.00, "unsubscribed dd, fi rule / strace --seccomp-bpf")
    check_ratio("2", "dd-every-write", "fi-rule", "ref-unotify", 1.10,
                "every write decided, pinned, fi rule / the 100-line notification prototype")
    check_ratio("2", "dd-every-write", "fi-rule", "strace", 0.25, "fi rule / strace, pinned")
    check_ratio("2u", "dd-every-write-unpinned", "fi-rule", "strace", 0.30, "fi rule / strace, unpinned")
    check_ratio("8", "fsync-loop-eio", "fi-rule", "native", 1.10, "fi constant error / native")
    floor = find(rows, "fsync-loop-eio", "ref-own-filter")
    native = find(rows, "fsync-loop-eio", "native")
    if floor and native:
        fi_row = find(rows, "fsync-loop-eio", "fi-rule")
        over_floor = f"; fi / that floor {ratio(fi_row['median'], floor['median']):.2f}" if fi_row else ""
        out.append(
            f"  - [8] the loop's own one-rule seccomp filter, no tracer (the floor) / native: "
            f"{ratio(floor['median'], native['median']):.2f}{over_floor}"
        )
    check_ratio("9", "clock-unsubscribed", "fi-rule", "native", 1.10, "fi, vDSO clock_gettime unsubscribed / native")
    # Section 3 against the notification floor measured in the same run:
    # the least any supervisor that reads each %file call's path costs.
    for workload, name in REAL_PROGRAMS:
        check_ratio("3", workload, "fi-rule", "ref-notify-floor", 1.10,
                    f"{name}, -e fault=%file -P /nonexistent / the notification floor")
        check_ratio("3", workload, "fi-plugin", "ref-notify-floor", 1.20,
                    f"{name}, --plugin path-errno:path=/nonexistent/* / the notification floor")
        notify_floor(workload)
    check_ratio("2", "dd-every-write", "fi-plugin", "fi-rule", 1.10, "fi WASM plugin / fi rule")

    # Section 10: explore against the same runs made bare (copy, run, check).
    bare, run = find(rows, "explore-store", "native"), find(rows, "explore-store", "fi-run")
    recording = find(rows, "explore-store", "fi-recording")
    if bare and run:
        r = ratio(bare["median"], run["median"])
        miss = "" if r >= 0.8 else f" (under by {(1 - r / 0.8) * 100:.0f}% of the limit)"
        out.append(
            f"- [10] explore runs per minute / a bare loop's (copy, run, check): {r:.2f} "
            f"({60 / run['median']:.0f} against {60 / bare['median']:.0f}; limit 0.8) **{verdict(r >= 0.8)}**{miss}"
        )
    else:
        out.append("- [10] explore runs per minute / a bare loop's: not measured")
    if bare and recording:
        r = ratio(recording["median"], 2 * bare["median"])
        miss = "" if r <= 1.5 else f" (over by {(r / 1.5 - 1) * 100:.0f}% of the limit)"
        out.append(
            f"- [10] explore's recording (two runs, the pause between them, planning) / two bare runs: "
            f"{r:.2f} ({ms(recording['median'])} against 2 x {ms(bare['median'])} ms; limit 1.5) "
            f"**{verdict(r <= 1.5)}**{miss}"
        )
    else:
        out.append("- [10] explore's recording / two bare runs: not measured")

    native = find(rows, "start-true", "native")
    for variant, name in [("fi-plugin-warm", "warm plugin start-up over native")]:
        row = find(rows, "start-true", variant)
        if row and native:
            over = (row["median"] - native["median"]) * 1000
            miss = "" if over <= 20 else f" (over by {over - 20:.1f} ms)"
            out.append(f"- [4] {name}: +{over:.1f} ms (limit 20 ms) **{verdict(over <= 20)}**{miss}")
        else:
            out.append(f"- [4] {name}: not measured")

    rss = [r for r in rows if r["workload"] == "rss" and r["variant"] == "fi-3-plugins" and "rss_kb" in r]
    if rss:
        mb = rss[0]["rss_max_kb"] / 1024
        miss = "" if mb <= 50 else f" (over by {mb - 50:.1f} MiB)"
        out.append(f"- [5] peak RSS, three plugins (max of runs): {mb:.1f} MiB (limit 50) **{verdict(mb <= 50)}**{miss}")
    else:
        out.append("- [5] peak RSS, three plugins: not measured")
    return out


def render(result_dir):
    rows = load(result_dir)
    md, console = [], []
    machine_path = os.path.join(result_dir, "machine.md")
    if os.path.exists(machine_path):
        with open(machine_path) as f:
            md.append(f.read().rstrip() + "\n")

    md.append("Medians of hyperfine runs; ratios are of medians (×fi rule: the same workload's `fault -e` row; ×floor: the same workload's notification floor, or in section 2 the 100-line notification prototype). `σ` is hyperfine's standard deviation.\n")
    md.append("| # | workload | variant | median ms | σ ms | runs | ×native | ×strace | ×fi rule | ×floor |")
    md.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    notes = []
    for row in rows:
        if row["kind"] == "note":
            notes.append(f"- [{row['section']}] {row['workload']}: {row['note']}")
            continue
        if row["kind"] != "time":
            continue
        if row.get("failed"):
            md.append(f"| {row['section']} | {row['workload']} | {row['label']} | failed | | | | | | |")
            console.append(f"[{row['section']}] {row['workload']:<18} {row['label']:<44} FAILED")
            continue
        text, cells = ratios_of(rows, row)
        md.append(
            f"| {row['section']} | {row['workload']} | {row['label']} | {ms(row['median'])} | "
            f"{ms(row['stddev'])} | {row['runs']} | {cells['native']} | {cells['strace']} | {cells['rule']} | {cells['floor']} |"
        )
        console.append(
            f"[{row['section']}] {row['workload']:<18} {row['label']:<44} {ms(row['median']):>9} ms  {text}"
        )

    rss_rows = [r for r in rows if r["kind"] == "rss"]
    if rss_rows:
        md.append("")
        md.append("Peak resident set size (`/usr/bin/time -v`, maximum resident set size of fault):\n")
        md.append("| # | what | median MiB | max MiB | runs |")
        md.append("|---|---|---:|---:|---:|")
        for row in rss_rows:
            if row.get("failed"):
                md.append(f"| {row['section']} | {row['label']} | failed | | |")
                console.append(f"[{row['section']}] rss {row['label']:<58} FAILED")
                continue
            md.append(
                f"| {row['section']} | {row['label']} | {row['rss_kb'] / 1024:.1f} | "
                f"{row['rss_max_kb'] / 1024:.1f} | {row['runs']} |"
            )
            console.append(
                f"[{row['section']}] rss {row['label']:<58} {row['rss_max_kb'] / 1024:>7.1f} MiB (max of {row['runs']})"
            )

    if notes:
        md.append("\nNotes from the run:\n")
        md.extend(notes)

    judged = targets(rows)
    md.append("\nTargets:\n")
    md.extend(judged)
    text = "\n".join(md) + "\n"
    with open(os.path.join(result_dir, "results.md"), "w") as f:
        f.write(text)

    print("\n".join(console))
    print()
    if notes:
        print("Notes:")
        print("\n".join(notes))
        print()
    print("Targets:")
    print("\n".join(judged))


def merge(out_path, in_paths):
    """Merge the rounds of one command (hyperfine JSON files) into one."""
    times, users, systems, codes, command = [], [], [], [], None
    for path in in_paths:
        with open(path) as f:
            result = json.load(f)["results"][0]
        command = result["command"]
        times += result["times"]
        n = len(result["times"])
        users += [result["user"]] * n
        systems += [result["system"]] * n
        codes += result.get("exit_codes", [])
    if not times:
        sys.exit(f"merge: no runs for {out_path}")
    merged = {
        "command": command,
        "mean": statistics.fmean(times),
        "stddev": statistics.stdev(times) if len(times) > 1 else None,
        "median": statistics.median(times),
        "user": statistics.fmean(users),
        "system": statistics.fmean(systems),
        "min": min(times),
        "max": max(times),
        "times": times,
        "exit_codes": codes,
        "rounds": len(in_paths),
    }
    with open(out_path, "w") as f:
        json.dump({"results": [merged]}, f, indent=2)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "merge":
        merge(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 2:
        render(sys.argv[1])
    else:
        sys.exit(__doc__)
