//! "Did you mean": the known name closest to one a user mistyped, as cargo
//! and clap suggest it, for syscalls, errnos, signals, rule options,
//! qualifiers, built-in plugins' names and plugins' keys.

use std::fmt;

/// What an error about an unknown name adds after it: nothing, or
/// ` (did you mean 'NAME'?)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DidYouMean(Option<String>);

impl DidYouMean {
    /// The candidate closest to `typed`, compared without regard to case,
    /// if it is within an edit distance of a third of `typed`'s length (at
    /// least 1), a swap of two neighbours counting as one edit; the first of
    /// the closest, in the candidates' order. Nothing when `typed` is one of
    /// them.
    pub fn among<I, S>(typed: &str, candidates: I) -> DidYouMean
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let typed_lower = typed.to_ascii_lowercase();
        let limit = (typed.chars().count() / 3).max(1);
        let mut best: Option<(usize, String)> = None;
        for candidate in candidates {
            let candidate = candidate.as_ref();
            let distance =
                strsim::damerau_levenshtein(&typed_lower, &candidate.to_ascii_lowercase());
            if distance == 0 {
                // The name is known as typed (or for its case): nothing to suggest.
                return DidYouMean(None);
            }
            if distance > limit {
                continue;
            }
            if best.as_ref().is_none_or(|(d, _)| distance < *d) {
                best = Some((distance, candidate.to_owned()));
            }
        }
        DidYouMean(best.map(|(_, name)| name))
    }

    /// The suggested name, if there is one.
    pub fn name(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl fmt::Display for DidYouMean {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(name) => write!(f, " (did you mean '{name}'?)"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DidYouMean;

    #[test]
    fn suggests_the_closest_name_within_a_third_of_the_length() {
        let syscalls = ["open", "openat", "fsync", "fdatasync"];
        assert_eq!(DidYouMean::among("opnat", syscalls).name(), Some("openat"));
        assert_eq!(DidYouMean::among("fsycn", syscalls).name(), Some("fsync"));
        assert_eq!(DidYouMean::among("xyz", syscalls).name(), None);
        assert_eq!(DidYouMean::among("openat", syscalls).name(), None);
        let errnos = ["EACCES", "EIO", "ENOSPC"];
        assert_eq!(DidYouMean::among("EACESS", errnos).name(), Some("EACCES"));
        assert_eq!(DidYouMean::among("eacces", errnos).name(), None);
        assert_eq!(
            DidYouMean::among("fualt", ["inject", "fault", "trace"]).to_string(),
            " (did you mean 'fault'?)"
        );
        assert_eq!(DidYouMean::among("q", ["inject"]).to_string(), "");
    }
}
