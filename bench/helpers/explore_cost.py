"""What a `fault explore` campaign costs, against the same work done bare.

Usage: explore_cost.py FAULT OUT_DIR NAME REPEATS --check CHECK -- CMD [ARGS...]

In a scratch directory under OUT_DIR, with an empty work directory (`work`):

- the campaign: `fault explore --workdir work --jobs 1 --check CHECK --json
  R -- CMD`, REPEATS times, with TMPDIR set to the scratch directory: its
  copies of `work` are made beside the bare loop's, on the same file
  system (a sync on tmpfs is free, on a disk it is not). Its recording (two
  runs without faults, the pause between them and the planning) ends when it notes `planned N runs`
  on standard error; the injected runs take the rest. Each campaign gives
  its recording's time, its runs (the report's points) and their time;
- the bare loop: what explore does for each run, without fault: copy the
  work directory (`cp -a`), run CMD in the copy (stdin /dev/null, its
  output read), run the check there (`sh -c CHECK`, its output read),
  remove the copy. As many iterations as the campaign has runs (at least
  20), right after each campaign.

Writes three files in the hyperfine JSON shape bench/run's report reads,
one value per repeat: NAME-bare.json (seconds per bare iteration, the
median of the loop after that campaign), NAME-run.json (seconds per
injected run: the campaign after its recording, over its runs) and
NAME-recording.json (seconds per recording), and prints one line: runs,
explore's runs per minute, the bare loop's, and the recording against two
bare iterations.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def campaign(fault, scratch, check, command):
    """Seconds of the recording, of the injected runs, and their number."""
    report = os.path.join(scratch, "report.json")
    if os.path.exists(report):
        os.remove(report)
    argv = [fault, "explore", "--workdir", "work", "--jobs", "1", "--check", check,
            "--json", report, "--"] + command
    # The campaign's copies go where the bare loop's do (explore makes them
    # under $TMPDIR): on another file system a sync costs another price.
    env = dict(os.environ, TMPDIR=scratch)
    start = time.perf_counter()
    planned = None
    with subprocess.Popen(argv, cwd=scratch, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as child:
        for line in child.stderr:
            if planned is None and b"explore: planned " in line:
                planned = time.perf_counter()
    end = time.perf_counter()
    if planned is None:
        sys.exit(f"explore_cost.py: the campaign never noted its plan: {argv}")
    with open(report) as f:
        runs = len(json.load(f)["points"])
    return planned - start, end - planned, runs


def bare(scratch, check, command):
    """Seconds of one bare iteration: copy, run, check, remove."""
    copy = os.path.join(scratch, "copy")
    start = time.perf_counter()
    subprocess.run(["cp", "-a", os.path.join(scratch, "work"), copy], check=True)
    subprocess.run(command, cwd=copy, stdin=subprocess.DEVNULL, capture_output=True)
    subprocess.run(["sh", "-c", check], cwd=copy, stdin=subprocess.DEVNULL,
                   capture_output=True)
    shutil.rmtree(copy)
    return time.perf_counter() - start


def write(path, times):
    result = {
        "command": os.path.basename(path),
        "mean": statistics.fmean(times),
        "stddev": statistics.stdev(times) if len(times) > 1 else None,
        "median": statistics.median(times),
        "user": 0.0,
        "system": 0.0,
        "min": min(times),
        "max": max(times),
        "times": times,
    }
    with open(path, "w") as f:
        json.dump({"results": [result]}, f, indent=2)


def main():
    args = sys.argv[1:]
    if len(args) < 7 or args[4] != "--check" or args[6] != "--":
        sys.exit(__doc__)
    fault, out_dir, name, repeats, check, command = args[0], args[1], args[2], int(args[3]), args[5], args[7:]
    scratch = tempfile.mkdtemp(prefix=f"explore-{name}.", dir=out_dir)
    try:
        os.mkdir(os.path.join(scratch, "work"))
        recordings, per_run, loop = [], [], []
        campaign(fault, scratch, check, command)  # warm: caches, page cache
        for _ in range(3):
            bare(scratch, check, command)  # warm
        # Each campaign is followed by its bare loop, so that a slow spell of
        # the machine falls on both sides of the ratio alike.
        for _ in range(repeats):
            recording, injected, runs = campaign(fault, scratch, check, command)
            recordings.append(recording)
            per_run.append(injected / max(runs, 1))
            loop.append(statistics.median(
                [bare(scratch, check, command) for _ in range(max(runs, 20))]))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    write(os.path.join(out_dir, f"{name}-bare.json"), loop)
    write(os.path.join(out_dir, f"{name}-run.json"), per_run)
    write(os.path.join(out_dir, f"{name}-recording.json"), recordings)
    bare_s, run_s, rec_s = statistics.median(loop), statistics.median(per_run), statistics.median(recordings)
    print(f"{runs} runs; explore {60 / run_s:.0f} runs/min, bare loop {60 / bare_s:.0f} runs/min "
          f"(ratio {bare_s / run_s:.2f}); recording {rec_s * 1000:.1f} ms = "
          f"{rec_s / (2 * bare_s):.2f} x two bare runs")


if __name__ == "__main__":
    main()
