//! The acceptance test of the `latency` plugin's percentiles, alone in its
//! own test binary: it measures wake-up times, and the tests of the other
//! binaries (cargo runs one binary at a time) must not share the two cores
//! with it.

mod common;
mod latency_measure;

use latency_measure::*;

/// The acceptance test of the plugin: under `p50=1ms, p99=20ms` the
/// program's own measurements of 10,000 calls, less fault's cost per held
/// call, have the percentiles asked for, within 10%. (Measured with both
/// cores of this VM busy with other work: p50 +4.4%, p99 -8.1%; the seeded
/// draws themselves put p99 a few percent under 20ms.)
#[test]
fn measured_percentiles_are_those_asked_for() {
    let Measured {
        delays, overhead, ..
    } = measured_delays("p50=1ms:p99=20ms", 10_000);
    let (p50, p99) = (percentile(&delays, 0.50), percentile(&delays, 0.99));
    let within = |measured: f64, asked: f64| (measured / asked - 1.0).abs() <= 0.10;
    println!(
        "measured p50={:.3}ms p99={:.3}ms, fault's cost per held call {:.3}ms",
        p50 * 1e3,
        p99 * 1e3,
        overhead * 1e3
    );
    assert!(
        within(p50, 0.001) && within(p99, 0.020),
        "asked p50=1ms p99=20ms, measured p50={:.3}ms p99={:.3}ms (fault's cost per held call {:.3}ms subtracted)",
        p50 * 1e3,
        p99 * 1e3,
        overhead * 1e3
    );
}
