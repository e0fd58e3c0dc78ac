//! A campaign's results: every point tried, the findings grouped by code
//! path, and the reports written from them (JSON, JUnit, the summary table).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

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
    /// What the user loses, in a line (empty where `detail` says it).
    #[serde(default)]
    pub loss: String,
    /// The plain rule that injects the same fault at the same call in the
    /// work directory itself, where one can (empty where none can).
    #[serde(default)]
    pub rule: String,
}

/// One call site of a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// The code path's id ([`PointKey::site_id`]).
    pub id: String,
    /// The innermost frame in the program's own code.
    pub at: String,
    /// How many injected points there had the finding's outcome.
    pub points: usize,
}

/// One root cause whose error handling goes wrong: the points whose fault
/// led to the same outcome with the same syscall on the same file by the
/// same program (and, for a crash, the same crash) from any call site; or
/// that failed inside the same call of the program's code on the same file;
/// or that cost the user the same through the same kind of call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The code path's id (what a suppression file names).
    pub id: String,
    /// The worst outcome among its points.
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
    /// How many injected points share this root cause.
    pub points: usize,
    /// The call sites it was reached from, the representative's first.
    #[serde(default)]
    pub sites: Vec<Site>,
    /// Why, in a line (of the representative point).
    pub detail: String,
    /// What the user loses, in a line (of the representative point).
    #[serde(default)]
    pub loss: String,
    /// The command line that reproduces it (the representative point).
    pub replay: String,
    /// The representative point as a plain rule, where one can be written.
    #[serde(default)]
    pub rule: String,
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

    /// The summary printed at the end of a campaign: the tally, the
    /// points not reached and why, the findings (each with what is lost,
    /// its sites and its replay), and the errors reported as uncaught
    /// exceptions.
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
        self.not_reached(&mut out);
        let untried = self.planned.saturating_sub(self.points.len());
        if self.findings.is_empty() {
            let unexplored = counts.get(&Outcome::NotReached).copied().unwrap_or(0) + untried;
            if unexplored == 0 {
                let _ = writeln!(out, "no findings");
            } else {
                let _ = writeln!(
                    out,
                    "no findings in the runs that reached their point; {unexplored} of {} planned runs did not ({untried} not tried)",
                    self.planned
                );
            }
        } else {
            self.finding_table(&mut out);
        }
        if untried > 0 && !self.findings.is_empty() {
            let _ = writeln!(
                out,
                "\n{untried} of {} planned runs not tried (--max-runs, --time-budget or --shard)",
                self.planned
            );
        }
        self.reported_uncaught(&mut out);
        if !self.suppressed.is_empty() {
            let _ = writeln!(out, "\n{} suppressed", self.suppressed.len());
        }
        out
    }

    /// How many runs did not reach their point, by reason, with a few of
    /// the points.
    fn not_reached(&self, out: &mut String) {
        let mut reasons: BTreeMap<&str, Vec<&TriedPoint>> = BTreeMap::new();
        for point in self
            .points
            .iter()
            .filter(|p| p.outcome == Outcome::NotReached)
        {
            reasons.entry(&point.detail).or_default().push(point);
        }
        if reasons.is_empty() {
            return;
        }
        let total: usize = reasons.values().map(Vec::len).sum();
        let _ = writeln!(
            out,
            "{total} of {} runs did not reach their point (nothing was injected):",
            self.points.len()
        );
        for (reason, points) in &reasons {
            let _ = writeln!(out, "  {} runs: {reason}", points.len());
            for point in points.iter().take(3) {
                let _ = writeln!(
                    out,
                    "    {} {} #{} ({})",
                    point.key.syscall, point.key.path, point.key.ordinal, point.id
                );
            }
        }
    }

    fn finding_table(&self, out: &mut String) {
        let count = match self.findings.len() {
            1 => "1 finding".to_string(),
            n => format!("{n} findings"),
        };
        let _ = writeln!(
            out,
            "\n{count}\n{:<10}  {:<8}  {:<12}  {:<7}  {:>6}  {:>5}  where",
            "finding", "outcome", "syscall", "fault", "points", "sites"
        );
        for finding in &self.findings {
            let at = if finding.at.is_empty() {
                String::new()
            } else {
                format!(" at {}", finding.at)
            };
            let _ = writeln!(
                out,
                "{:<10}  {:<8}  {:<12}  {:<7}  {:>6}  {:>5}  {}{at}",
                finding.id,
                finding.outcome.name(),
                finding.syscall,
                finding.fault.to_string(),
                finding.points,
                finding.sites.len().max(1),
                finding.path,
            );
        }
        for finding in &self.findings {
            let loss = if finding.loss.is_empty() {
                String::new()
            } else {
                format!("\n  loses:    {}", finding.loss)
            };
            let rule = if finding.rule.is_empty() {
                String::new()
            } else {
                format!("\n  rule:     {}", finding.rule)
            };
            let _ = writeln!(
                out,
                "\n{} {}: {}{loss}\n  replay:   {}{rule}\n  suppress: add the line {} to a --suppress file",
                finding.id, finding.outcome, finding.detail, finding.replay, finding.id
            );
            if finding.sites.len() > 1 {
                let _ = writeln!(out, "  {} call sites:", finding.sites.len());
                for site in &finding.sites {
                    let _ = writeln!(out, "    {} ({} points)", site.at, site.points);
                }
                let _ = writeln!(out, "  the first one's stack:");
            }
            for frame in finding.stack.iter().take(8) {
                let _ = writeln!(out, "    {frame}");
            }
        }
    }

    /// The injected errors that reached the top as an uncaught exception
    /// naming them: reported, not findings.
    fn reported_uncaught(&self, out: &mut String) {
        let mut places: BTreeMap<(&str, &str), Vec<&TriedPoint>> = BTreeMap::new();
        for point in self
            .points
            .iter()
            .filter(|p| p.outcome == Outcome::ReportedUncaught)
        {
            places
                .entry((&point.key.syscall, &point.key.path))
                .or_default()
                .push(point);
        }
        if places.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "\nreported, uncaught (not findings): the injected error ended the program as an uncaught exception naming it"
        );
        for ((syscall, path), points) in &places {
            let _ = writeln!(
                out,
                "  {syscall} {path}: {} runs, e.g. {}",
                points.len(),
                points[0].detail
            );
        }
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

/// What makes two failing points one root cause: the program, the
/// outcome, the syscall and the file, and for a crash what crashed.
fn root_cause(point: &TriedPoint) -> String {
    let crash = if point.outcome == Outcome::Crash {
        point.detail.as_str()
    } else {
        ""
    };
    let key = format!(
        "{}\n{}\n{}\n{}\n{crash}",
        point.key.program, point.outcome, point.key.syscall, point.key.path
    );
    let digest = sha2::Sha256::digest(key.as_bytes());
    digest[..5].iter().map(|b| format!("{b:02x}")).collect()
}

/// The other ways two failing points are one root cause, as keys that
/// such points share: an error that went unreported (corrupt or silent)
/// in the same call of the program's own code on the same file (whatever
/// failed inside it: a flush's `write` and the `close` of one ignored
/// `fclose`); and the same effect, by the same program with the
/// same outcome through the same kind of call (a read or a change), such
/// as the same file left whole but unedited whichever of its opens failed.
fn same_cause_keys(point: &TriedPoint) -> Vec<String> {
    let program = &point.key.program;
    let mut keys = Vec::new();
    // An error that went unreported (a crash or a hang is a bug of its own).
    if matches!(point.outcome, Outcome::Corrupt | Outcome::Silent) {
        keys.push(format!(
            "call\n{program}\n{}\n{}",
            own_frame(point),
            point.key.path
        ));
    }
    if let Some(effect) = effect(point) {
        let crash = if point.outcome == Outcome::Crash {
            point.detail.as_str()
        } else {
            ""
        };
        keys.push(format!(
            "effect\n{program}\n{}\n{crash}\n{}\n{effect}",
            point.outcome,
            super::classify::changes_state(&point.key.syscall)
        ));
    }
    keys
}

/// What `point` cost the user, without what only tells where it was hit
/// (byte counts, the failed call's name); a loss that names no file is told
/// by the file the fault hit.
fn effect(point: &TriedPoint) -> Option<String> {
    if point.loss.is_empty() {
        return None;
    }
    let parts: Vec<String> = point
        .loss
        .split("; ")
        .filter(|part| !part.starts_with("the failed ") && !part.starts_with("the corrupted "))
        .map(numbers_as_n)
        .collect();
    let mut effect = parts.join("; ");
    if parts.len() <= 1 {
        effect = format!("{effect}; {}", point.key.path);
    }
    Some(effect)
}

/// `text` with every number (digits and thousands commas) as `N`.
fn numbers_as_n(text: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in text.chars() {
        if c.is_ascii_digit() || (in_number && c == ',') {
            if !in_number {
                out.push('N');
            }
            in_number = true;
        } else {
            out.push(c);
            in_number = false;
        }
    }
    out
}

/// The failing points of `points` in groups of one root cause each: points
/// are one cause when they share a [`root_cause`] or any of
/// [`same_cause_keys`], directly or through others.
fn causes<'a>(points: &[&'a TriedPoint]) -> Vec<Vec<&'a TriedPoint>> {
    let mut leader: Vec<usize> = (0..points.len()).collect();
    fn find(leader: &mut [usize], mut i: usize) -> usize {
        while leader[i] != i {
            leader[i] = leader[leader[i]];
            i = leader[i];
        }
        i
    }
    let mut first_with: BTreeMap<String, usize> = BTreeMap::new();
    for (i, point) in points.iter().enumerate() {
        let keys =
            std::iter::once(format!("cause\n{}", root_cause(point))).chain(same_cause_keys(point));
        for key in keys {
            let other = *first_with.entry(key).or_insert(i);
            let (a, b) = (find(&mut leader, i), find(&mut leader, other));
            leader[a.max(b)] = a.min(b);
        }
    }
    let mut groups: BTreeMap<usize, Vec<&TriedPoint>> = BTreeMap::new();
    for (i, point) in points.iter().enumerate() {
        groups.entry(find(&mut leader, i)).or_default().push(point);
    }
    groups.into_values().collect()
}

/// The findings of `points`: one per root cause ([`root_cause`]), the worst
/// outcome first, each with its call sites and a representative (the
/// earliest point of its first site); and the ids suppressed.
fn findings_of(points: &[TriedPoint], suppressions: &Suppressions) -> (Vec<Finding>, Vec<String>) {
    let failing: Vec<&TriedPoint> = points.iter().filter(|p| p.outcome.is_finding()).collect();
    let mut findings = Vec::new();
    let mut suppressed = Vec::new();
    for mut group in causes(&failing) {
        // The worst outcome first; its earliest point represents the cause.
        group.sort_by_key(|p| (p.outcome, p.key.ordinal, p.fault, p.key.site_id()));
        let first = group[0];
        let ids: BTreeSet<String> = group.iter().map(|p| root_cause(p)).collect();
        let id = ids.first().cloned().unwrap_or_default();
        let site_ids: Vec<String> = group.iter().map(|p| p.key.site_id()).collect();
        let covered = ids.iter().any(|id| suppressions.covers(id, &first.stack))
            || site_ids.iter().any(|site| suppressions.covers(site, &[]));
        if covered {
            suppressed.push(id);
            continue;
        }
        // Frames every site shares (the code that ignores the error) are
        // named once; each site is told by the first frame that differs.
        let shared = group
            .iter()
            .map(|p| {
                p.stack
                    .iter()
                    .zip(&first.stack)
                    .take_while(|(a, b)| a == b)
                    .count()
            })
            .min()
            .unwrap_or(0);
        // A cause reached through several syscalls names each site's.
        let syscalls: BTreeSet<&str> = group.iter().map(|p| p.key.syscall.as_str()).collect();
        let mut sites: Vec<Site> = Vec::new();
        for (point, site_id) in group.iter().zip(site_ids) {
            match sites.iter_mut().find(|site| site.id == site_id) {
                Some(site) => site.points += 1,
                None => sites.push(Site {
                    id: site_id,
                    at: match point.stack.get(shared) {
                        _ if syscalls.len() > 1 => {
                            format!("{} ({})", own_frame(point), point.key.syscall)
                        }
                        Some(caller) if group.len() > 1 => {
                            format!("{} via {caller}", own_frame(point))
                        }
                        _ => own_frame(point),
                    },
                    points: 1,
                }),
            }
        }
        findings.push(Finding {
            id,
            outcome: first.outcome,
            syscall: first.key.syscall.clone(),
            fault: first.fault,
            path: first.key.path.clone(),
            program: first.key.program.clone(),
            stack: first.stack.clone(),
            at: own_frame(first),
            points: group.len(),
            sites,
            detail: first.detail.clone(),
            loss: first.loss.clone(),
            replay: first.replay.clone(),
            rule: first.rule.clone(),
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
            loss: String::new(),
            rule: String::new(),
        }
    }

    #[test]
    fn findings_group_by_root_cause_worst_first_listing_their_sites() {
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
        // The silent writes of sites a and b on the same file: one cause.
        let silent = &report.findings[1];
        assert_eq!(silent.outcome, Outcome::Silent);
        assert_eq!(silent.points, 3);
        let mut sites: Vec<usize> = silent.sites.iter().map(|s| s.points).collect();
        sites.sort();
        assert_eq!(sites, [1, 2]);
        assert!(report.summary().contains("2 findings"));
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
