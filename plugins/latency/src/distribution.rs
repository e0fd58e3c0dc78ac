//! The distribution each call's delay is drawn from, read from the
//! configuration and sampled with fi's seeded generator.

use std::f64::consts::PI;
use std::time::Duration;

use fi_sdk::{random, Config, ConfigError};

/// A distribution of delays, in seconds where it has a scale.
#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    /// Always this delay.
    Fixed(Duration),
    /// Evenly between `min` and `max`.
    Uniform { min: f64, max: f64 },
    /// Normal, cut at zero.
    Normal { mean: f64, stddev: f64 },
    /// `exp(mu + sigma * Z)`: the median is `exp(mu)`.
    LogNormal { mu: f64, sigma: f64 },
    /// Pareto with scale `min` (the smallest delay) and shape `alpha`.
    Pareto { min: f64, alpha: f64 },
}

/// The `dist=` names, in the order the help lists them.
const NAMES: [&str; 5] = ["fixed", "uniform", "normal", "lognormal", "pareto"];

/// The keys that set a distribution's parameters, with the distributions
/// each applies to.
const PARAMETERS: [(&str, &[&str]); 8] = [
    ("delay", &["fixed"]),
    ("min", &["uniform", "pareto"]),
    ("max", &["uniform"]),
    ("mean", &["normal"]),
    ("stddev", &["normal"]),
    ("median", &["lognormal"]),
    ("sigma", &["lognormal"]),
    ("alpha", &["pareto"]),
];

/// The percentile keys and the fraction of calls below each.
pub const PERCENTILES: [(&str, f64); 5] = [
    ("p50", 0.50),
    ("p90", 0.90),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p999", 0.999),
];

/// The distributions two percentiles can be fitted to.
const FITTED: [&str; 3] = ["lognormal", "normal", "pareto"];

/// The configuration keys this module reads, with their help, for
/// `describe`.
pub const KEYS: [(&str, &str); 15] = [
    (
        "dist",
        "fixed, uniform, normal, lognormal or pareto; default lognormal with p50=..., else fixed",
    ),
    ("delay", "dist=fixed: every call's delay (2ms)"),
    (
        "min",
        "dist=uniform: the shortest delay; dist=pareto: the scale (the shortest delay)",
    ),
    ("max", "dist=uniform: the longest delay"),
    ("mean", "dist=normal: the mean delay"),
    (
        "stddev",
        "dist=normal: the standard deviation (draws below 0 are 0)",
    ),
    ("median", "dist=lognormal: the median delay"),
    (
        "sigma",
        "dist=lognormal: the standard deviation of the delay's logarithm (0.5)",
    ),
    (
        "alpha",
        "dist=pareto: the shape (1.5; smaller is a heavier tail)",
    ),
    (
        "p50",
        "the median delay; with a second percentile, fits dist= (lognormal, normal or pareto)",
    ),
    ("p90", "the delay 90% of calls stay under (see p50)"),
    ("p95", "the delay 95% of calls stay under (see p50)"),
    ("p99", "the delay 99% of calls stay under (see p50)"),
    ("p999", "the delay 99.9% of calls stay under (see p50)"),
    (
        "cap",
        "the longest delay drawn, so a heavy tail cannot hang the run; default 10s",
    ),
];

/// The longest delay drawn unless `cap=` says otherwise.
pub const DEFAULT_CAP: Duration = Duration::from_secs(10);

impl Distribution {
    /// The distribution the configuration asks for, or `None` if it names
    /// none (no `dist=`, no parameter, no percentile).
    pub fn from_config(config: &Config) -> Result<Option<Distribution>, ConfigError> {
        let given_percentiles: Vec<(&str, f64)> = PERCENTILES
            .iter()
            .copied()
            .filter(|(key, _)| config.get(key).is_some())
            .collect();
        let name = match config.get("dist") {
            Some(name) if NAMES.contains(&name) => name,
            Some(other) => {
                return Err(ConfigError::invalid(
                    "dist",
                    other,
                    format!("expected one of {}", NAMES.join(", ")),
                ))
            }
            None if !given_percentiles.is_empty() => "lognormal",
            None if config.get("delay").is_some() => "fixed",
            None => {
                if let Some((key, _)) = PARAMETERS.iter().find(|(key, _)| config.get(key).is_some())
                {
                    return Err(ConfigError::new(format!(
                        "{key}= needs dist= (one of {})",
                        NAMES.join(", ")
                    )));
                }
                return Ok(None);
            }
        };
        for (key, applies) in PARAMETERS {
            if config.get(key).is_some() && !applies.contains(&name) {
                return Err(ConfigError::new(format!(
                    "key '{key}' does not apply to dist={name}"
                )));
            }
        }
        if !given_percentiles.is_empty() {
            return fit(config, name, &given_percentiles).map(Some);
        }
        let seconds = |key: &str| -> Result<f64, ConfigError> {
            config
                .duration(key)?
                .map(|d| d.as_secs_f64())
                .ok_or_else(|| ConfigError::new(format!("dist={name} needs {key}=")))
        };
        let distribution = match name {
            "fixed" => Distribution::Fixed(
                config
                    .duration("delay")?
                    .ok_or_else(|| ConfigError::new("dist=fixed needs delay="))?,
            ),
            "uniform" => {
                let (min, max) = (seconds("min")?, seconds("max")?);
                if max < min {
                    return Err(ConfigError::invalid(
                        "max",
                        config.get("max").unwrap_or_default(),
                        "below min=",
                    ));
                }
                Distribution::Uniform { min, max }
            }
            "normal" => Distribution::Normal {
                mean: seconds("mean")?,
                stddev: seconds("stddev")?,
            },
            "lognormal" => {
                let median = seconds("median")?;
                if median <= 0.0 {
                    return Err(ConfigError::invalid("median", "0", "must be above 0"));
                }
                Distribution::LogNormal {
                    mu: median.ln(),
                    sigma: positive(config, "sigma", name)?,
                }
            }
            _ => {
                let min = seconds("min")?;
                if min <= 0.0 {
                    return Err(ConfigError::invalid(
                        "min",
                        config.get("min").unwrap_or_default(),
                        "must be above 0",
                    ));
                }
                Distribution::Pareto {
                    min,
                    alpha: positive(config, "alpha", name)?,
                }
            }
        };
        Ok(Some(distribution))
    }

    /// Draws one delay from fi's seeded generator.
    pub fn sample(&self) -> Duration {
        let seconds = match *self {
            Distribution::Fixed(delay) => return delay,
            Distribution::Uniform { min, max } => min + (max - min) * unit_interval(),
            Distribution::Normal { mean, stddev } => mean + stddev * standard_normal(),
            Distribution::LogNormal { mu, sigma } => (mu + sigma * standard_normal()).exp(),
            // 1 - U lies in (0, 1]: never a division by zero.
            Distribution::Pareto { min, alpha } => min / (1.0 - unit_interval()).powf(1.0 / alpha),
        };
        Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or(Duration::MAX)
    }

    /// The delay a fraction `p` of the draws stay under.
    #[cfg(test)]
    fn quantile(&self, p: f64) -> f64 {
        match *self {
            Distribution::Fixed(delay) => delay.as_secs_f64(),
            Distribution::Uniform { min, max } => min + (max - min) * p,
            Distribution::Normal { mean, stddev } => mean + stddev * inverse_normal(p),
            Distribution::LogNormal { mu, sigma } => (mu + sigma * inverse_normal(p)).exp(),
            Distribution::Pareto { min, alpha } => min * (1.0 - p).powf(-1.0 / alpha),
        }
    }
}

/// A positive number for `key` (a shape, not a duration).
fn positive(config: &Config, key: &str, name: &str) -> Result<f64, ConfigError> {
    let value: f64 = config
        .parse(key)?
        .ok_or_else(|| ConfigError::new(format!("dist={name} needs {key}=")))?;
    if !(value.is_finite() && value > 0.0) {
        return Err(ConfigError::invalid(
            key,
            config.get(key).unwrap_or_default(),
            "must be a number above 0",
        ));
    }
    Ok(value)
}

/// Fits the distribution `name` to two percentiles, such as `p50=1ms` and
/// `p99=20ms`.
fn fit(config: &Config, name: &str, given: &[(&str, f64)]) -> Result<Distribution, ConfigError> {
    if !FITTED.contains(&name) {
        return Err(ConfigError::new(format!(
            "percentiles fit only dist= {}, not dist={name}",
            FITTED.join(", ")
        )));
    }
    let [(low_key, p_low), (high_key, p_high)] = given else {
        let keys: Vec<&str> = given.iter().map(|(key, _)| *key).collect();
        return Err(ConfigError::new(format!(
            "give exactly two percentiles to fit dist={name}, got {}",
            keys.join(", ")
        )));
    };
    let seconds = |key: &str| -> Result<f64, ConfigError> {
        Ok(config.duration(key)?.unwrap_or_default().as_secs_f64())
    };
    let (low, high) = (seconds(low_key)?, seconds(high_key)?);
    if high <= low {
        return Err(ConfigError::invalid(
            high_key,
            config.get(high_key).unwrap_or_default(),
            format!(
                "must be above {low_key}={}",
                config.get(low_key).unwrap_or_default()
            ),
        ));
    }
    if low <= 0.0 && name != "normal" {
        return Err(ConfigError::invalid(
            low_key,
            config.get(low_key).unwrap_or_default(),
            format!("must be above 0 to fit dist={name}"),
        ));
    }
    let (z_low, z_high) = (inverse_normal(*p_low), inverse_normal(*p_high));
    Ok(match name {
        "lognormal" => {
            let sigma = (high.ln() - low.ln()) / (z_high - z_low);
            Distribution::LogNormal {
                mu: low.ln() - sigma * z_low,
                sigma,
            }
        }
        "normal" => {
            let stddev = (high - low) / (z_high - z_low);
            Distribution::Normal {
                mean: low - stddev * z_low,
                stddev,
            }
        }
        _ => {
            // Q(p) = min * (1 - p)^(-1/alpha): two equations in ln.
            let inverse_alpha = (high.ln() - low.ln()) / ((1.0 - p_low).ln() - (1.0 - p_high).ln());
            Distribution::Pareto {
                min: (low.ln() + inverse_alpha * (1.0 - p_low).ln()).exp(),
                alpha: 1.0 / inverse_alpha,
            }
        }
    })
}

/// A uniform draw in `[0, 1)`: the top 53 bits of a random number.
fn unit_interval() -> f64 {
    (random() >> 11) as f64 / (1u64 << 53) as f64
}

/// A standard normal draw (Box–Muller).
fn standard_normal() -> f64 {
    // 1 - U lies in (0, 1]: its logarithm is finite.
    let radius = (-2.0 * (1.0 - unit_interval()).ln()).sqrt();
    radius * (2.0 * PI * unit_interval()).cos()
}

/// The standard normal quantile: the `z` with `P(Z < z) = p`, for `p` in
/// (0, 1). Acklam's rational approximation, relative error below 1.2e-9.
fn inverse_normal(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.02425;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - LOW {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fi_sdk::testing::seed_random;

    fn config(pairs: &[(&str, &str)]) -> Result<Option<Distribution>, ConfigError> {
        use fi_sdk::{Description, Policy, Subscription};
        // A policy that only reads the distribution, for its Config.
        struct Reader(Option<Distribution>);
        impl Policy for Reader {
            fn describe() -> Description {
                Description::new("reader", "reads a distribution").keys(KEYS)
            }
            fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
                let distribution = Distribution::from_config(config)?;
                Ok((Reader(distribution), Subscription::syscalls(["write"])))
            }
        }
        fi_sdk::testing::init::<Reader>(pairs).map(|(reader, _)| reader.0)
    }

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance * b.abs()
    }

    #[test]
    fn inverse_normal_matches_known_quantiles() {
        assert!(inverse_normal(0.5).abs() < 1e-9);
        assert!(close(inverse_normal(0.99), 2.326_347_874, 1e-8));
        assert!(close(inverse_normal(0.999), 3.090_232_306, 1e-8));
        assert!(close(inverse_normal(0.01), -2.326_347_874, 1e-8));
    }

    #[test]
    fn percentiles_fit_each_distribution() {
        for name in FITTED {
            let fitted = config(&[("dist", name), ("p50", "1ms"), ("p99", "20ms")])
                .unwrap()
                .unwrap();
            assert!(
                close(fitted.quantile(0.5), 0.001, 1e-6),
                "{name}: {fitted:?}"
            );
            assert!(
                close(fitted.quantile(0.99), 0.020, 1e-6),
                "{name}: {fitted:?}"
            );
        }
        let default = config(&[("p90", "5ms"), ("p999", "50ms")])
            .unwrap()
            .unwrap();
        assert!(matches!(default, Distribution::LogNormal { .. }));
        assert!(close(default.quantile(0.999), 0.050, 1e-6));
    }

    #[test]
    fn draws_follow_the_distribution() {
        seed_random(7);
        let lognormal = config(&[("p50", "1ms"), ("p99", "20ms")]).unwrap().unwrap();
        let mut draws: Vec<f64> = (0..20_000)
            .map(|_| lognormal.sample().as_secs_f64())
            .collect();
        draws.sort_by(f64::total_cmp);
        assert!(close(draws[10_000], 0.001, 0.05), "p50 {}", draws[10_000]);
        assert!(close(draws[19_800], 0.020, 0.10), "p99 {}", draws[19_800]);
        let uniform = config(&[("dist", "uniform"), ("min", "1ms"), ("max", "3ms")])
            .unwrap()
            .unwrap();
        let draws: Vec<f64> = (0..1000).map(|_| uniform.sample().as_secs_f64()).collect();
        assert!(draws.iter().all(|d| (0.001..0.003).contains(d)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!(close(mean, 0.002, 0.05), "mean {mean}");
        let pareto = config(&[("dist", "pareto"), ("min", "2ms"), ("alpha", "1.5")])
            .unwrap()
            .unwrap();
        assert!((0..1000).all(|_| pareto.sample() >= Duration::from_millis(2)));
        let normal = config(&[("dist", "normal"), ("mean", "1ms"), ("stddev", "5ms")])
            .unwrap()
            .unwrap();
        assert!(
            (0..1000).any(|_| normal.sample() == Duration::ZERO),
            "cut at 0"
        );
    }

    #[test]
    fn the_distribution_follows_from_the_keys() {
        assert_eq!(config(&[]), Ok(None));
        assert_eq!(
            config(&[("delay", "2ms")]),
            Ok(Some(Distribution::Fixed(Duration::from_millis(2))))
        );
        let error = |pairs: &[(&str, &str)]| config(pairs).unwrap_err().to_string();
        assert_eq!(
            error(&[("dist", "gamma")]),
            "dist=gamma: expected one of fixed, uniform, normal, lognormal, pareto"
        );
        assert_eq!(
            error(&[("min", "1ms")]),
            "min= needs dist= (one of fixed, uniform, normal, lognormal, pareto)"
        );
        assert_eq!(
            error(&[("dist", "uniform"), ("min", "1ms")]),
            "dist=uniform needs max="
        );
        assert_eq!(
            error(&[("dist", "uniform"), ("min", "3ms"), ("max", "1ms")]),
            "max=1ms: below min="
        );
        assert_eq!(
            error(&[
                ("dist", "normal"),
                ("mean", "1ms"),
                ("stddev", "1ms"),
                ("sigma", "1")
            ]),
            "key 'sigma' does not apply to dist=normal"
        );
        assert_eq!(
            error(&[("dist", "lognormal"), ("median", "1ms"), ("sigma", "-1")]),
            "sigma=-1: must be a number above 0"
        );
        assert_eq!(
            error(&[("p50", "20ms"), ("p99", "1ms")]),
            "p99=1ms: must be above p50=20ms"
        );
        assert_eq!(
            error(&[("p50", "1ms")]),
            "give exactly two percentiles to fit dist=lognormal, got p50"
        );
        assert_eq!(
            error(&[("dist", "uniform"), ("p50", "1ms"), ("p99", "2ms")]),
            "percentiles fit only dist= lognormal, normal, pareto, not dist=uniform"
        );
        assert_eq!(
            error(&[("p50", "1x"), ("p99", "2ms")]),
            "p50=1x: unknown unit 'x' (use s, ms, us or ns)"
        );
    }
}
