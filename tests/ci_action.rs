//! The GitHub Action's logic, `action/explore/shards.sh`, run as a matrix
//! would run it but on this machine: a plan, three shards and a merge give the
//! findings one unsharded campaign gives, and the JUnit and HTML reports.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::*;

/// A campaign can make dozens of runs.
const CAMPAIGN: Duration = Duration::from_secs(600);

/// The ids of a --json report's findings, sorted.
fn finding_ids(report: &Path) -> Vec<String> {
    let text = fs::read_to_string(report).unwrap_or_else(|e| panic!("{}: {e}", report.display()));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut ids: Vec<String> = json["findings"]
        .as_array()
        .expect("a findings list")
        .iter()
        .map(|finding| finding["id"].as_str().expect("a finding id").to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn three_shards_and_a_merge_find_what_one_campaign_finds() {
    let dir = TestDir::new("ci-action");
    fs::create_dir_all(dir.join("work")).unwrap();
    let store = c_program("explore_store");
    let check = format!("{} verify", arg(&store));
    let explore_args = ["--workdir", "work", "--check", &check, "--"];

    let whole = dir.join("whole.json");
    Cmd::fault()
        .arg("explore")
        .args(["--json", whole.to_str().unwrap()])
        .args(explore_args)
        .arg(&store)
        .cwd(dir.path())
        .timeout(CAMPAIGN)
        .run()
        .assert_code(1);

    let script = tests_dir().join("../action/explore/shards.sh");
    let out = Cmd::new(require_tool("bash", "apt-get install bash"))
        .arg(&script)
        .args(["local", "shards", "3", "--"])
        .args(explore_args)
        .arg(&store)
        .env("FAULT", FAULT)
        .cwd(dir.path())
        .timeout(CAMPAIGN)
        .run();
    // The merge exits as explore does: 1, findings.
    out.assert_code(1);
    let shards = dir.join("shards");
    for i in 1..=3 {
        assert!(
            shards.join(format!("explore-{i}.json")).is_file(),
            "{}",
            out.describe()
        );
    }
    assert_eq!(
        finding_ids(&shards.join("explore.json")),
        finding_ids(&whole),
        "{}",
        out.describe()
    );
    assert!(!finding_ids(&whole).is_empty());
    let junit = fs::read_to_string(shards.join("explore.xml")).unwrap();
    assert!(junit.contains("<testsuite"), "{junit}");
    let html = fs::read_to_string(shards.join("explore.html")).unwrap();
    assert!(html.contains("<html"), "{}", &html[..html.len().min(300)]);
}

#[test]
fn a_shard_without_a_plan_is_refused_in_one_line() {
    let dir = TestDir::new("ci-action-no-plan");
    let script = tests_dir().join("../action/explore/shards.sh");
    let out = Cmd::new(require_tool("bash", "apt-get install bash"))
        .arg(&script)
        .args(["shard", "out", "1", "3", "--", "--", "true"])
        .env("FAULT", FAULT)
        .cwd(dir.path())
        .run();
    out.assert_code(2);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.describe());
    assert!(
        out.stderr.contains("run 'shards.sh plan' first"),
        "{}",
        out.describe()
    );
}
