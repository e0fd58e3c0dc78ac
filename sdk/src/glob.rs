//! Shell-style patterns for paths.

use std::fmt;
use std::str::FromStr;

/// A shell-style pattern matched against a whole path.
///
/// - `*` matches any run of characters, **including `/`**: `/data/*` matches
///   every path under `/data`, however deep (as `fnmatch` without
///   `FNM_PATHNAME`, and globset's default). `**` means the same.
/// - `?` matches one character, `/` included.
/// - `[abc]`, `[a-z]` match one listed character; `[!abc]` or `[^abc]` one
///   character not listed. A `]` right after the `[` (or `[!`) is listed.
/// - `\` makes the next character literal: `\*` matches a `*`.
/// - Anything else matches itself. The match is anchored at both ends, so
///   `/data` matches only `/data`, and `/data/*` does not match `/data`.
///
/// ```
/// use fi_sdk::Glob;
///
/// let glob = Glob::new("/data/*.log").unwrap();
/// assert!(glob.matches("/data/db.log"));
/// assert!(glob.matches("/data/2024/db.log"));
/// assert!(!glob.matches("/data/db.log.1"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    tokens: Vec<Token>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Char(char),
    AnyChar,
    AnyRun,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Token {
    fn matches(&self, c: char) -> bool {
        match self {
            Token::Char(want) => *want == c,
            Token::AnyChar => true,
            Token::AnyRun => unreachable!("`*` is handled by the matcher"),
            Token::Class { negated, ranges } => {
                ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&c)) != *negated
            }
        }
    }
}

impl Glob {
    /// One line for a `path` key's help.
    pub const HELP: &'static str =
        "act only on calls touching a path matching this glob (* also matches /); default any";

    /// Compiles `pattern`; fails on an unclosed `[` or a trailing `\`.
    pub fn new(pattern: &str) -> Result<Glob, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let token = match chars[i] {
                '*' if tokens.last() == Some(&Token::AnyRun) => None,
                '*' => Some(Token::AnyRun),
                '?' => Some(Token::AnyChar),
                '[' => Some(
                    class(&chars, &mut i).ok_or_else(|| "'[' without a closing ']'".to_string())?,
                ),
                '\\' => {
                    i += 1;
                    let c = chars
                        .get(i)
                        .ok_or_else(|| "'\\' at the end escapes nothing".to_string())?;
                    Some(Token::Char(*c))
                }
                c => Some(Token::Char(c)),
            };
            tokens.extend(token);
            i += 1;
        }
        Ok(Glob {
            pattern: pattern.to_string(),
            tokens,
        })
    }

    /// Whether the whole of `path` matches.
    pub fn matches(&self, path: &str) -> bool {
        let text: Vec<char> = path.chars().collect();
        let tokens = &self.tokens;
        let (mut t, mut p) = (0, 0);
        // Where to resume if what follows the last `*` fails: the token after
        // the star, and the text position the star's run would end at next.
        let mut backtrack = None;
        while t < text.len() {
            match tokens.get(p) {
                Some(Token::AnyRun) => {
                    backtrack = Some((p + 1, t));
                    p += 1;
                    continue;
                }
                Some(token) if token.matches(text[t]) => {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
            match backtrack {
                Some((after_star, run_end)) => {
                    backtrack = Some((after_star, run_end + 1));
                    p = after_star;
                    t = run_end + 1;
                }
                None => return false,
            }
        }
        tokens[p..].iter().all(|token| *token == Token::AnyRun)
    }

    /// Whether any of `paths` matches.
    pub fn matches_any<S: AsRef<str>>(&self, paths: &[S]) -> bool {
        paths.iter().any(|path| self.matches(path.as_ref()))
    }
}

/// Parses the class whose `[` is at `chars[*i]`, leaving `*i` at its `]`;
/// `None` if it never closes.
fn class(chars: &[char], i: &mut usize) -> Option<Token> {
    let mut j = *i + 1;
    let negated = matches!(chars.get(j), Some('!' | '^'));
    if negated {
        j += 1;
    }
    let start = j;
    let mut ranges = Vec::new();
    loop {
        let c = match *chars.get(j)? {
            ']' if j > start => break,
            '\\' => {
                j += 1;
                *chars.get(j)?
            }
            c => c,
        };
        match (chars.get(j + 1), chars.get(j + 2)) {
            (Some('-'), Some(&hi)) if hi != ']' => {
                ranges.push((c, hi));
                j += 3;
            }
            _ => {
                ranges.push((c, c));
                j += 1;
            }
        }
    }
    *i = j;
    Some(Token::Class { negated, ranges })
}

impl FromStr for Glob {
    type Err = String;

    fn from_str(s: &str) -> Result<Glob, String> {
        Glob::new(s)
    }
}

impl fmt::Display for Glob {
    /// The pattern as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        Glob::new(pattern).unwrap().matches(path)
    }

    #[test]
    fn stars_cross_slashes() {
        assert!(m("/data/*", "/data/a"));
        assert!(m("/data/*", "/data/a/b/c"));
        assert!(m("/data/*", "/data/"));
        assert!(!m("/data/*", "/data"));
        assert!(!m("/data/*", "/database"));
        assert!(m("/data*", "/database"));
        assert!(m("*.log", "/var/log/x.log"));
        assert!(m("/a/**/z", "/a/b/c/z"));
        assert!(m("*a*b*c", "xxaxxbxxbxc"));
        assert!(!m("*a*b*c", "xxaxxbxxbx"));
        assert!(m("*", ""));
        assert!(m("", ""));
        assert!(!m("", "x"));
    }

    #[test]
    fn exact_and_question_mark() {
        assert!(m("/etc/passwd", "/etc/passwd"));
        assert!(!m("/etc/passwd", "/etc/passwd2"));
        assert!(!m("/etc/passwd", "/etc/passw"));
        assert!(m("/tmp/?", "/tmp/a"));
        assert!(!m("/tmp/?", "/tmp/ab"));
        assert!(m("/tmp/é?", "/tmp/éü"));
    }

    #[test]
    fn classes_and_escapes() {
        assert!(m("/dev/sd[a-c]", "/dev/sdb"));
        assert!(!m("/dev/sd[a-c]", "/dev/sdd"));
        assert!(m("/dev/sd[!a-c]", "/dev/sdd"));
        assert!(m("/dev/sd[^a]", "/dev/sdz"));
        assert!(m("[]]", "]"));
        assert!(m("[!]]", "a"));
        assert!(m("[a-]", "-"));
        assert!(m("x[*]", "x*"));
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("[ab]*[cd]", "a/x/d"));
    }

    #[test]
    fn errors() {
        assert_eq!(
            Glob::new("/x/[ab").unwrap_err(),
            "'[' without a closing ']'"
        );
        assert!(Glob::new("[]").is_err());
        assert!(Glob::new("x\\").unwrap_err().contains("escapes nothing"));
        assert_eq!(Glob::new("/a*").unwrap().to_string(), "/a*");
    }

    #[test]
    fn matches_any_path() {
        let glob = Glob::new("/data/*").unwrap();
        assert!(glob.matches_any(&["/etc/x", "/data/y"]));
        assert!(!glob.matches_any::<&str>(&[]));
    }
}
