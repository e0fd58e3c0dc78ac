//! Real storage systems under `fault explore --crash`, each against what its
//! documentation promises after a power loss: Redis with `appendfsync
//! always` and PostgreSQL with `fsync = on` lose no acknowledged write (and
//! Redis with `appendfsync no` does, which the campaign finds). The
//! programs and checks are tests/programs/shell/crash_redis.sh and
//! crash_postgres.sh; redis-server and PostgreSQL come from Debian's
//! packages (`.ci/run` installs them), and a machine without them fails
//! these tests, saying what to install.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{require_tool, tests_dir, Cmd, Outcome, TestDir, FAULT};

/// A campaign of a server makes dozens of runs.
const CAMPAIGN: Duration = Duration::from_secs(600);

/// tests/programs/shell/NAME.
fn script_path(name: &str) -> PathBuf {
    tests_dir().join("programs/shell").join(name)
}

/// `sh tests/programs/shell/NAME ARGS`, as one shell command line.
fn script(name: &str, args: &str) -> String {
    format!("sh {} {args}", script_path(name).display())
}

/// The --json report of a campaign: its findings' details.
fn findings(report: &Path) -> Vec<String> {
    let text = fs::read_to_string(report)
        .unwrap_or_else(|e| panic!("no report at {}: {e}", report.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("a JSON report");
    json["findings"]
        .as_array()
        .expect("a findings list")
        .iter()
        .map(|f| f["detail"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// How many runs a campaign made, from its summary line on standard output
/// ("explored N of M planned runs: ...").
fn runs(run: &Outcome) -> usize {
    run.stdout
        .lines()
        .find_map(|line| {
            line.strip_prefix("explored ")?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no run count: {}", run.describe()))
}

/// `fault explore --crash` of Redis, with `appendfsync FSYNC`, setting three
/// keys in a fresh data directory and acknowledging each in `ack`, on the
/// file system `fs`, with `extra` options; the run and its findings.
fn explore_redis(dir: &TestDir, fsync: &str, fs: &str, extra: &[&str]) -> (Outcome, Vec<String>) {
    fs::create_dir_all(dir.join("work/data")).unwrap();
    let report = dir.join("report.json");
    let run = Cmd::fault()
        .arg("explore")
        .args(["--workdir", "work", "--crash", "--root", "data"])
        .args([
            "--fs",
            fs,
            "--ack",
            "ack",
            "--timeout",
            "60s",
            "--jobs",
            "2",
        ])
        .args(["--check", &script("crash_redis.sh", "check data ack")])
        .arg("--json")
        .arg(&report)
        .args(extra)
        .args(["--", "sh", "-c"])
        .arg(script("crash_redis.sh", &format!("run data ack 3 {fsync}")))
        .cwd(dir.path())
        .timeout(CAMPAIGN)
        .run();
    let findings = findings(&report);
    (run, findings)
}

/// Redis documents `appendfsync always` as "fsync every time new commands
/// are appended to the AOF. Very very slow, very safe": a key it said OK to
/// survives any crash. The whole campaign under `--fs ext4`: the end of the
/// run, the three acknowledgements and every durability point (Redis
/// creating `appendonlydir`, its base file and manifest, and each append),
/// each in every mode and reorder state (sampled as the campaign says).
#[test]
fn redis_appendfsync_always_loses_no_acknowledged_key_on_ext4() {
    let redis = require_tool("redis-server", "apt-get install redis-server");
    require_tool("redis-cli", "apt-get install redis-tools");
    let dir = TestDir::new("systems-redis-always");
    let (run, findings) = explore_redis(&dir, "always", "ext4", &[]);
    assert!(findings.is_empty(), "{findings:#?}\n{}", run.describe());
    run.assert_code(0);
    assert!(run.stdout.contains("no findings"), "{}", run.describe());
    assert!(
        run.stderr
            .contains("3 acknowledgements, the end of the run"),
        "{} did not acknowledge three keys: {}",
        redis.display(),
        run.describe()
    );
    assert!(runs(&run) >= 30, "{}", run.describe());
}

/// Redis never syncs its data directory after creating `appendonlydir`
/// in it: POSIX alone lets a crash at the end of the run undo that mkdir,
/// and with it every key; ext4, XFS and btrfs keep it (the fsync of a file
/// inside commits it). One crash at the end, in the default mode, on the
/// default profile: the loss is found and marked POSIX only.
#[test]
fn redis_relies_on_more_than_posix_for_its_fresh_directory() {
    require_tool("redis-server", "apt-get install redis-server");
    let dir = TestDir::new("systems-redis-posix");
    fs::create_dir(dir.join("data")).unwrap();
    let run = Cmd::fault()
        .args(["--root", "data", "--crash-at", "end", "--check"])
        .arg(script("crash_redis.sh", "check data ack"))
        .args(["--", "sh", "-c"])
        .arg(script("crash_redis.sh", "run data ack 3"))
        .cwd(dir.path())
        .timeout(Duration::from_secs(120))
        .run();
    run.assert_code(1);
    assert!(
        run.stdout.contains("acknowledged but lost: k1 k2 k3"),
        "{}",
        run.describe()
    );
    assert!(
        run.stderr
            .contains("file systems: POSIX only: ext4, xfs and btrfs keep it"),
        "{}",
        run.describe()
    );
}

/// The control: with `appendfsync no`, Redis leaves the flush to the
/// kernel (and syncs its append-only file only at shutdown), and a crash
/// after the last OK loses every key on every file system.
/// Only the end of the run and the last acknowledgement are tried
/// (`--max-runs 2`): the loss is at the acknowledgement.
#[test]
fn redis_appendfsync_no_loses_an_acknowledged_key() {
    require_tool("redis-server", "apt-get install redis-server");
    let dir = TestDir::new("systems-redis-no");
    let (run, findings) = explore_redis(&dir, "no", "ext4", &["--max-runs", "2"]);
    run.assert_code(1);
    let lost = findings
        .iter()
        .find(|d| d.contains("acknowledged but lost: k1 k2 k3"))
        .unwrap_or_else(|| panic!("{findings:#?}\n{}", run.describe()));
    assert!(
        lost.contains("reachable on posix, ext4, xfs and btrfs"),
        "{lost}"
    );
}

/// PostgreSQL's binaries, where crash_postgres.sh looks for them: under
/// /usr/lib/postgresql (Debian's layout) or on PATH. Without them the test
/// fails, saying what to install.
fn require_postgres() {
    let debian = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .any(|version| version.path().join("bin/pg_ctl").is_file());
    if !debian {
        require_tool("pg_ctl", "apt-get install postgresql");
    }
}

/// Whether the tests run as root.
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A command run as the user PostgreSQL runs as: `postgres` (which Debian's
/// package creates) when the tests run as root, as PostgreSQL refuses root;
/// the current user otherwise.
fn as_postgres(program: &str) -> Cmd {
    if !is_root() {
        return Cmd::new(program);
    }
    let known = Cmd::new("id").args(["-u", "postgres"]).run();
    assert_eq!(
        known.code(),
        Some(0),
        "no user postgres to run PostgreSQL as (apt-get install postgresql creates it)"
    );
    Cmd::new("setpriv")
        .args([
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--",
        ])
        .arg(program)
}

/// `fault explore --crash` of PostgreSQL, as a non-root user, in `dir`
/// (whose `work/pg` is the cluster), committing two rows; `extra` chooses
/// the points. The run and its findings.
fn explore_postgres(dir: &TestDir, name: &str, extra: &[&str]) -> (Outcome, Vec<String>) {
    let report = dir.join(&format!("{name}.json"));
    let run = as_postgres(FAULT)
        .arg("explore")
        .args([
            "--workdir",
            "work",
            "--crash",
            "--root",
            "pg",
            "--ack",
            "ack",
        ])
        .args(["--timeout", "120s", "--jobs", "2"])
        .args(["--check", &script("crash_postgres.sh", "check pg ack")])
        .arg("--json")
        .arg(&report)
        .args(extra)
        .args(["--", "sh", "-c"])
        .arg(script("crash_postgres.sh", "run pg ack 2"))
        .cwd(dir.path())
        .timeout(CAMPAIGN)
        .run();
    let findings = findings(&report);
    (run, findings)
}

/// PostgreSQL documents `fsync = on` as making sure "that updates are
/// physically written to disk", and a COMMIT returns once its WAL is
/// flushed: an acknowledged row survives any crash. Run as a non-root user
/// (`postgres` when the tests run as root), with a check that simply
/// restarts the server: the crashed tree is gone (fault reaps it), so
/// `postmaster.pid` names no live process and needs no workaround.
///
/// A whole campaign (some 80 durability points, each in up to 19 states)
/// takes many minutes; tests/stress/crash_postgres runs it. This test tries,
/// under the default `posix` profile:
/// - the end of the run and the last acknowledgement (`--max-runs 2`, as
///   the campaign orders its points), each in every mode and reorder state
///   the campaign samples: where a lost commit would show;
/// - every tenth point of the campaign's list from its fourth on (`--shard
///   4/10`: the first durability point, the eleventh, ...: server start,
///   the commits, the stop), each in one reorder state chosen by the
///   point's fixed seed (`--crash-mode reorder`).
#[test]
fn postgres_fsync_on_loses_no_acknowledged_row() {
    require_postgres();
    let dir = TestDir::new("systems-postgres");
    fs::create_dir(dir.join("work")).unwrap();
    if is_root() {
        Cmd::new("chown")
            .args(["-R", "postgres"])
            .arg(dir.path())
            .run()
            .assert_code(0);
    }
    as_postgres("sh")
        .arg(script_path("crash_postgres.sh"))
        .args(["init", "pg"])
        .cwd(dir.join("work"))
        .timeout(Duration::from_secs(120))
        .run()
        .assert_code(0);

    let (run, findings) = explore_postgres(&dir, "acknowledged", &["--max-runs", "2"]);
    assert!(findings.is_empty(), "{findings:#?}\n{}", run.describe());
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("2 acknowledgements, the end of the run"),
        "{}",
        run.describe()
    );
    assert!(runs(&run) >= 10, "{}", run.describe());

    let sample = ["--shard", "4/10", "--crash-mode", "reorder"];
    let (run, findings) = explore_postgres(&dir, "sample", &sample);
    assert!(findings.is_empty(), "{findings:#?}\n{}", run.describe());
    run.assert_code(0);
    assert!(runs(&run) >= 5, "{}", run.describe());
}
