//! The `--html` report: one self-contained page with the findings and their
//! call stacks, and the map of fault points by syscall and outcome.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use super::classify::Outcome;
use super::report::{xml, Report};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}\
th{background:#f3f3f3}.crash{background:#f8d0d0}.corrupt{background:#f8e0c0}.hang{background:#f0f0b0}\
.silent{background:#e0e0f8}.handled{background:#d8f0d8}pre{background:#f7f7f7;padding:.5em;overflow-x:auto}.source{color:#666}\
code{font-size:90%}";

/// The report as an HTML page.
pub fn page(report: &Report) -> String {
    let mut out = String::new();
    let title = format!("fault explore: {}", report.command.join(" "));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        xml(&title),
        xml(&title)
    );
    let tally: Vec<String> = report
        .counts()
        .iter()
        .map(|(outcome, n)| format!("{n} {outcome}"))
        .collect();
    let _ = writeln!(
        out,
        "<table id=\"header\"><tr><th>command</th><td><code>{}</code></td></tr>\n<tr><th>fault</th><td>{}</td></tr>\n<tr><th>date</th><td>{}</td></tr>\n<tr><th>seed</th><td>{}</td></tr></table>",
        xml(&report.command.join(" ")),
        env!("CARGO_PKG_VERSION"),
        utc_now(),
        seed(report),
    );
    let findings_count = match report.findings.len() {
        1 => "1 finding".to_string(),
        n => format!("{n} findings"),
    };
    let _ = writeln!(
        out,
        "<p id=\"summary\">{} runs of {} planned: {}. <strong>{findings_count}.</strong></p>",
        report.points.len(),
        report.planned,
        xml(&tally.join(", ")),
    );
    findings(&mut out, report);
    point_map(&mut out, report);
    out.push_str("</body></html>\n");
    out
}

/// The seed that repeats the campaign: none for failed calls, which are
/// chosen by key; a power-loss run's seed is its number, in its replay.
fn seed(report: &Report) -> &'static str {
    let crash = report
        .points
        .iter()
        .any(|p| matches!(p.fault, super::faults::Fault::Crash(_)));
    if crash {
        "each run's number (see its replay's --seed)"
    } else {
        "none: every run fails one call chosen by its key"
    }
}

/// The time now, in UTC, to the minute.
fn utc_now() -> String {
    // SAFETY: time and gmtime_r write only the given structure.
    unsafe {
        let now = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::gmtime_r(&now, &mut tm).is_null() {
            return String::new();
        }
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            tm.tm_year + 1900,
            tm.tm_mon + 1,
            tm.tm_mday,
            tm.tm_hour,
            tm.tm_min
        )
    }
}

fn findings(out: &mut String, report: &Report) {
    // Each source file is read once however many frames name it.
    let mut sources = HashMap::new();
    out.push_str("<h2>Findings</h2>\n");
    if report.findings.is_empty() {
        out.push_str("<p>No findings.</p>\n");
        return;
    }
    out.push_str("<table id=\"findings\"><tr><th>id</th><th>outcome</th><th>syscall</th><th>fault</th><th>file</th><th>points</th><th>sites</th><th>what is lost</th></tr>\n");
    for finding in &report.findings {
        let _ = writeln!(
            out,
            "<tr class=\"finding {o}\"><td><a href=\"#f-{id}\">{id}</a></td><td>{o}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            xml(&finding.syscall),
            finding.fault,
            xml(&finding.path),
            finding.points,
            finding.sites.len().max(1),
            xml(if finding.loss.is_empty() {
                &finding.detail
            } else {
                &finding.loss
            }),
            id = finding.id,
            o = finding.outcome,
        );
    }
    out.push_str("</table>\n");
    for finding in &report.findings {
        let _ = writeln!(
            out,
            "<h3 id=\"f-{id}\">{id}: {o} on {} ({})</h3>\n<p>{}</p>\n<p>Replay: <code>{}</code></p>\n<ul class=\"sites\">{}</ul>\n<pre class=\"stack\">{}</pre>",
            xml(&finding.syscall),
            finding.fault,
            xml(&finding.detail),
            xml(&finding.replay),
            finding
                .sites
                .iter()
                .map(|site| format!("<li><code>{}</code> ({} points)</li>", xml(&site.at), site.points))
                .collect::<String>(),
            finding
                .stack
                .iter()
                .map(|frame| frame_with_source(frame, &mut sources))
                .collect::<Vec<_>>()
                .join("\n"),
            id = finding.id,
            o = finding.outcome,
        );
    }
}

/// A frame of a stack, escaped, and for one named with its source place
/// (`fn+0x1c (/src/store.c:42)`) whose file is readable here, the line of
/// source below it; `sources` keeps the files read, by path.
fn frame_with_source(frame: &str, sources: &mut HashMap<String, Option<String>>) -> String {
    let source = frame
        .strip_suffix(')')
        .and_then(|rest| rest.rsplit_once(" ("))
        .and_then(|(_, place)| place.rsplit_once(':'))
        .and_then(|(file, line)| {
            let line: usize = line.parse().ok()?;
            let text = sources
                .entry(file.to_string())
                .or_insert_with(|| std::fs::read_to_string(file).ok())
                .as_deref()?;
            Some((
                line,
                text.lines().nth(line.checked_sub(1)?)?.trim().to_string(),
            ))
        });
    match source {
        Some((line, text)) => format!(
            "{}\n<span class=\"source\">{line:>6} | {}</span>",
            xml(frame),
            xml(&text)
        ),
        None => xml(frame),
    }
}

fn point_map(out: &mut String, report: &Report) {
    let mut map: BTreeMap<&str, BTreeMap<Outcome, usize>> = BTreeMap::new();
    let mut outcomes = BTreeSet::new();
    for point in &report.points {
        *map.entry(&point.key.syscall)
            .or_default()
            .entry(point.outcome)
            .or_default() += 1;
        outcomes.insert(point.outcome);
    }
    out.push_str(
        "<h2>Fault points by syscall and outcome</h2>\n<table id=\"map\"><tr><th>syscall</th>",
    );
    for outcome in &outcomes {
        let _ = write!(out, "<th>{outcome}</th>");
    }
    out.push_str("</tr>\n");
    for (syscall, counts) in &map {
        let _ = write!(out, "<tr><td>{}</td>", xml(syscall));
        for outcome in &outcomes {
            match counts.get(outcome) {
                Some(n) => {
                    let _ = write!(out, "<td class=\"{outcome}\">{n}</td>");
                }
                None => out.push_str("<td></td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}
