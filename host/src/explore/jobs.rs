//! A campaign's runs on its worker threads, and the progress they report.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Instant;

use super::events;
use super::options::{ExploreError, Options};
use super::report::TriedPoint;

/// Make `work(n, item)` for every item on `options.jobs` threads, starting
/// none after `deadline`, showing progress; the points they tried. The
/// first error stops the campaign. Once the interrupt is raised no item
/// starts, and the items then running are left out (their runs were killed).
pub(super) fn run_jobs<T: Sync>(
    options: &Options,
    deadline: Option<Instant>,
    items: &[T],
    work: impl Fn(usize, &T) -> Result<Vec<TriedPoint>, ExploreError> + Sync,
) -> Result<Vec<TriedPoint>, ExploreError> {
    let progress = Progress::new(items.len(), &options.progress);
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel();
    let failure: Mutex<Option<ExploreError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.min(items.len().max(1)) {
            let sender = sender.clone();
            let (next, failure, work) = (&next, &failure, &work);
            scope.spawn(move || loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let over_budget = deadline.is_some_and(|deadline| Instant::now() >= deadline);
                let Some(item) = items.get(n) else { break };
                if over_budget || options.interrupt.is_raised() {
                    break;
                }
                let done = work(n, item);
                if options.interrupt.is_raised() {
                    break;
                }
                match done {
                    Ok(points) => {
                        if sender.send(points).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        failure
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(e);
                        next.store(items.len(), Ordering::Relaxed);
                        break;
                    }
                }
            });
        }
        drop(sender);
        for points in receiver.iter() {
            progress.advance(points);
        }
    });
    progress.finish();
    if let Some(error) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(error);
    }
    Ok(progress.into_points())
}

/// The campaign's progress: the points tried so far, told to the reporter
/// as each run ends.
struct Progress<'a> {
    reporter: &'a events::Reporter,
    total: usize,
    done: AtomicUsize,
    points: Mutex<Vec<TriedPoint>>,
}

impl Progress<'_> {
    fn new(total: usize, reporter: &events::Reporter) -> Progress<'_> {
        reporter.emit(&events::Event::Started { total });
        Progress {
            reporter,
            total,
            done: AtomicUsize::new(0),
            points: Mutex::new(Vec::new()),
        }
    }

    /// One item done, with the points it tried.
    fn advance(&self, tried: Vec<TriedPoint>) {
        let mut points = self.points.lock().unwrap_or_else(|e| e.into_inner());
        points.extend(tried.iter().cloned());
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let findings = points.iter().filter(|p| p.outcome.is_finding()).count();
        self.reporter.emit(&events::Event::RunDone {
            tried: &tried,
            done,
            total: self.total,
            findings,
        });
    }

    fn finish(&self) {
        self.reporter.emit(&events::Event::Finished);
    }

    fn into_points(self) -> Vec<TriedPoint> {
        self.points.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}
