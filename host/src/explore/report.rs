//! A campaign's results: every point tried, the findings grouped by code
//! path, and the reports written from them (JSON, JUnit, the summary table).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::classify::Outcome;
use super::faults::Fault;
use super::key::PointKey;

/// One injected run: where, what, and what came of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriedPoint {
    /// The id `--replay` takes.
    pub id: String,
    /// The point's key.
    pub key: PointKey,
    /// The fault injected.
    pub fault: Fault,
    /// What came of it.
    pub outcome: Outcome,
    /// Why, in a line.
    pub detail: String,
    /// The call stack, named where symbols allow.
    pub stack: Vec<String>,
    /// The command line that replays it.
    pub replay: String,
}

/// One code path whose error handling goes wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The code path's id (what a suppression file names).
    pub id: String,
    /// The worst outcome seen on this path.
    pub outcome: Outcome,
    /// The syscall.
    pub syscall: String,
    /// The fault of the first point with that outcome.
    pub fault: Fault,
    /// The path class of the file.
    pub path: String,
    /// The program (executable name).
    pub program: String,
    /// The call stack.
    pub stack: Vec<String>,
    /// The innermost frame in the program's own code (not the C library or
    /// a language runtime), where the error went unhandled; empty for a
    /// power loss.
    pub at: String,
    /// How many injected points share this path and outcome.
    pub points: usize,
    /// Why, in a line (of the first point).
    pub detail: String,
    /// The command line that reproduces it.
    pub replay: String,
}

/// A campaign's report: what `--json` writes and `merge` reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The explored command.
    pub command: Vec<String>,
    /// How many points (with their faults) the plan holds.
    pub planned: usize,
    /// Every point tried, in plan order.
    pub points: Vec<TriedPoint>,
    /// The findings, worst first.
    pub findings: Vec<Finding>,
    /// Findings left out by the suppression file, by id.
    #[serde(default)]
    pub suppressed: Vec<String>,
}

impl Report {
    /// A report of `points`, with the findings made from them, leaving out
    /// those `suppressions` name.
    pub fn new(
        command: Vec<String>,
        planned: usize,
        mut points: Vec<TriedPoint>,
        suppressions: &Suppressions,
    ) -> Report {
        points.sort_by(|a, b| a.id.cmp(&b.id));
        points.dedup_by(|a, b| a.id == b.id);
        let (findings, suppressed) = findings_of(&points, suppressions);
        Report {
            command,
            planned,
            points,
            findings,
            suppressed,
        }
    }

    /// Several shards' reports as one (points united; findings made anew).
    pub fn merge(reports: Vec<Report>, suppressions: &Suppressions) -> Report {
        let command = reports
            .first()
            .map(|r| r.command.clone())
            .unwrap_or_default();
        let planned = reports.iter().map(|r| r.planned).max().unwrap_or(0);
        let points = reports.into_iter().flat_map(|r| r.points).collect();
        Report::new(command, planned, points, suppressions)
    }

    /// How many tried points had each outcome.
    pub fn counts(&self) -> BTreeMap<Outcome, usize> {
        let mut counts = BTreeMap::new();
        for point in &self.points {
            *counts.entry(point.outcome).or_default() += 1;
        }
        counts
    }

    /// The summary table printed at the end of a campaign.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let counts = self.counts();
        let tally: Vec<String> = counts
            .iter()
            .map(|(outcome, n)| format!("{n} {outcome}"))
            .collect();
        let _ = writeln!(
            out,
            "explored {} of {} planned runs: {}",
            self.points.len(),
            self.planned,
            if tally.is_empty() {
                "nothing tried".to_string()
            } else {
                tally.join(", ")
            }
        );
        if self.findings.is_empty() {
            let _ = writeln!(out, "no findings");
        } else {
            let _ = writeln!(
                out,
                "\n{:<10}  {:<8}  {:<12}  {:<7}  {:>6}  where",
                "finding", "outcome", "syscall", "fault", "points"
            );
            for finding in &self.findings {
                let at = if finding.at.is_empty() {
                    String::new()
                } else {
                    format!(" at {}", finding.at)
                };
                let _ = writeln!(
                    out,
                    "{:<10}  {:<8}  {:<12}  {:<7}  {:>6}  {}{at}",
                    finding.id,
                    finding.outcome.name(),
                    finding.syscall,
                    finding.fault.to_string(),
                    finding.points,
                    finding.path,
                );
            }
            for finding in &self.findings {
                let _ = writeln!(
                    out,
                    "\n{} {}: {}\n  replay:   {}\n  suppress: add the line {} to a --suppress file",
                    finding.id, finding.outcome, finding.detail, finding.replay, finding.id
                );
                for frame in finding.stack.iter().take(8) {
                    let _ = writeln!(out, "    {frame}");
                }
            }
        }
        if !self.suppressed.is_empty() {
            let _ = writeln!(out, "\n{} suppressed", self.suppressed.len());
        }
        out
    }

    /// The report as JUnit XML: one failing test case per finding.
    pub fn junit(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"fault explore\" tests=\"{n}\" failures=\"{n}\">\n  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{n}\">",
            xml(&self.command.join(" ")),
            n = self.findings.len()
        );
        for finding in &self.findings {
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"{} {} {} {}\">\n      <failure message=\"{}\" type=\"{}\">{}\nreplay: {}\n{}</failure>\n    </testcase>",
                xml(&finding.program),
                finding.id,
                xml(&finding.syscall),
                finding.fault,
                xml(&finding.path),
                xml(&finding.detail),
                finding.outcome,
                xml(&finding.detail),
                xml(&finding.replay),
                xml(&finding.stack.join("\n"))
            );
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }
}

/// The innermost frame of `point`'s stack outside the C library, the
/// dynamic loader and the Go runtime's system call layers.
fn own_frame(point: &TriedPoint) -> String {
    const LIBRARIES: &[&str] = &["libc.so", "libc-", "ld-linux", "libpthread"];
    const RUNTIME: &[&str] = &["runtime", "syscall.", "internal/", "os.", "io.", "bufio."];
    point
        .key
        .site
        .iter()
        .zip(&point.stack)
        .find(|(site, name)| {
            !LIBRARIES.iter().any(|lib| site.starts_with(lib))
                && !RUNTIME.iter().any(|prefix| name.starts_with(prefix))
        })
        .or_else(|| point.key.site.iter().zip(&point.stack).next())
        .map(|(_, name)| name.clone())
        .unwrap_or_default()
}

/// Escape text for XML and HTML.
pub fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The findings of `points`: one per code path (site id) with any finding
/// outcome, the worst outcome first; and the ids suppressed.
fn findings_of(points: &[TriedPoint], suppressions: &Suppressions) -> (Vec<Finding>, Vec<String>) {
    let mut by_site: BTreeMap<String, Vec<&TriedPoint>> = BTreeMap::new();
    for point in points.iter().filter(|p| p.outcome.is_finding()) {
        by_site.entry(point.key.site_id()).or_default().push(point);
    }
    let mut findings = Vec::new();
    let mut suppressed = Vec::new();
    for (site, mut group) in by_site {
        group.sort_by_key(|p| (p.outcome, p.key.ordinal, p.fault));
        let worst = group[0];
        if suppressions.covers(&site, &worst.stack) {
            suppressed.push(site);
            continue;
        }
        findings.push(Finding {
            id: site,
            outcome: worst.outcome,
            syscall: worst.key.syscall.clone(),
            fault: worst.fault,
            path: worst.key.path.clone(),
            program: worst.key.program.clone(),
            stack: worst.stack.clone(),
            at: own_frame(worst),
            points: group.iter().filter(|p| p.outcome == worst.outcome).count(),
            detail: worst.detail.clone(),
            replay: worst.replay.clone(),
        });
    }
    findings.sort_by(|a, b| (a.outcome, &a.id).cmp(&(b.outcome, &b.id)));
    (findings, suppressed)
}

/// What a `--suppress` file leaves out: finding ids, and globs matched
/// against the frames of a finding's stack (`*libfoo*`, `*flush_cache*`).
#[derive(Debug, Default)]
pub struct Suppressions {
    ids: Vec<String>,
    globs: Option<globset::GlobSet>,
}

impl Suppressions {
    /// Read `path`: one id or stack glob per line; `#` starts a comment.
    pub fn read(path: &Path) -> Result<Suppressions, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--suppress {}: {e}", path.display()))?;
        let mut ids = Vec::new();
        let mut globs = globset::GlobSetBuilder::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            if line.contains(['*', '?', '[']) {
                let glob = globset::Glob::new(line)
                    .map_err(|e| format!("--suppress {}:{}: {e}", path.display(), number + 1))?;
                globs.add(glob);
            } else {
                ids.push(line.to_string());
            }
        }
        let globs = globs
            .build()
            .map_err(|e| format!("--suppress {}: {e}", path.display()))?;
        Ok(Suppressions {
            ids,
            globs: Some(globs),
        })
    }

    fn covers(&self, site: &str, stack: &[String]) -> bool {
        self.ids.iter().any(|id| id == site)
            || self
                .globs
                .as_ref()
                .is_some_and(|globs| stack.iter().any(|frame| globs.is_match(frame)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscalls::Errno;

    fn point(site: &str, ordinal: u32, fault: Fault, outcome: Outcome) -> TriedPoint {
        let key = PointKey {
            program: "db".into(),
            syscall: "write".into(),
            path: "{workdir}/log".into(),
            site: vec![site.into()],
            ordinal,
        };
        TriedPoint {
            id: key.id(fault),
            key,
            fault,
            outcome,
            detail: String::new(),
            stack: vec![site.into()],
            replay: String::new(),
        }
    }

    #[test]
    fn findings_group_by_code_path_worst_first() {
        let eio = Fault::Errno(Errno::EIO);
        let points = vec![
            point("a", 1, eio, Outcome::Silent),
            point("a", 2, eio, Outcome::Silent),
            point("a", 3, Fault::Short, Outcome::Crash),
            point("b", 1, eio, Outcome::Silent),
            point("c", 1, eio, Outcome::Handled),
        ];
        let report = Report::new(vec![], 5, points, &Suppressions::default());
        assert_eq!(report.findings.len(), 2);
        assert_eq!(report.findings[0].outcome, Outcome::Crash);
        assert_eq!(report.findings[0].points, 1);
        assert_eq!(report.findings[1].outcome, Outcome::Silent);
    }

    #[test]
    fn merged_shards_equal_the_whole() {
        let eio = Fault::Errno(Errno::EIO);
        let points: Vec<TriedPoint> = (1..=8)
            .map(|n| point(&format!("s{}", n % 3), n, eio, Outcome::Silent))
            .collect();
        let whole = Report::new(vec![], 8, points.clone(), &Suppressions::default());
        let shards = points
            .chunks(3)
            .map(|chunk| Report::new(vec![], 8, chunk.to_vec(), &Suppressions::default()))
            .collect();
        assert_eq!(Report::merge(shards, &Suppressions::default()), whole);
    }
}
