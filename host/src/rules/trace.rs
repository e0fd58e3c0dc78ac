//! `-e trace=SET` and the order of several `-e` rules: what the rules of a
//! command line mean among themselves, as strace has it. A later rule
//! replaces an earlier one for the syscalls it names; with `-e trace=` (the
//! last one counts) rules tamper only with traced calls, and `--trace`
//! logs only them.

use syscalls::SysnoSet;

use super::parse::{self, Expr, Rule, RuleError};

/// The `-e` expressions of a command line, resolved.
#[derive(Debug)]
pub struct Resolved {
    /// For each expression, in order: its rule with the set it still decides
    /// and the set it was written with, or `None` for `-e trace=`.
    pub rules: Vec<Option<(Rule, SysnoSet)>>,
    /// The set of the last `-e trace=`, if any.
    pub traced: Option<SysnoSet>,
    /// strace's warnings about the rules, one line each
    /// (`-e EXPR: warning: ...`).
    pub warnings: Vec<String>,
}

/// Parse the `-e` expressions `texts`, in command-line order, and give them
/// their meaning among themselves ([`resolve`]).
pub fn resolve_exprs<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<Resolved, RuleError> {
    let mut traced = None;
    let mut exprs = Vec::new();
    for text in texts {
        match parse::parse_qualified(text)? {
            Expr::Rule(rule) => exprs.push(Some(rule)),
            Expr::Trace(set) => {
                traced = Some(set);
                exprs.push(None);
            }
        }
    }
    let named: Vec<Option<SysnoSet>> = exprs
        .iter()
        .map(|rule| rule.as_ref().map(|rule| rule.syscalls.clone()))
        .collect();
    let mut rules: Vec<Rule> = exprs.into_iter().flatten().collect();
    resolve(&mut rules, traced.as_ref());
    let warnings = rules
        .iter()
        .filter_map(|rule| {
            let warning = rule.warning.as_ref()?;
            Some(format!("-e {}: warning: {warning}", rule.text))
        })
        .collect();
    let mut rules = rules.into_iter();
    let rules = named
        .into_iter()
        .map(|named| {
            let named = named?;
            Some((rules.next()?, named))
        })
        .collect();
    Ok(Resolved {
        rules,
        traced,
        warnings,
    })
}

/// Give several `-e` rules strace's meaning among themselves: a later rule
/// replaces an earlier one for the syscalls it names, and with `-e trace=`
/// (`traced`) rules tamper only with traced calls. Each rule's set shrinks
/// to the syscalls it still decides (keep the sets as written for
/// [`RulePolicy::resolved`]).
pub fn resolve(rules: &mut [Rule], traced: Option<&SysnoSet>) {
    let mut taken_later = SysnoSet::empty();
    for rule in rules.iter_mut().rev() {
        let mine = rule.syscalls.clone().difference(&taken_later);
        taken_later = taken_later.union(&rule.syscalls);
        rule.syscalls = match traced {
            Some(traced) => mine.intersection(traced),
            None => mine,
        };
    }
}

#[cfg(test)]
mod tests {
    use syscalls::Sysno;

    use super::*;

    fn set(calls: &[Sysno]) -> SysnoSet {
        SysnoSet::new(calls)
    }

    #[test]
    fn a_later_rule_takes_the_calls_it_names_from_an_earlier_one() {
        let resolved =
            resolve_exprs(["fault=write,fsync:error=EIO", "fault=fsync:error=ENOSPC"]).unwrap();
        assert_eq!(resolved.traced, None);
        let [Some((first, first_named)), Some((second, _))] = &resolved.rules[..] else {
            panic!("{resolved:?}");
        };
        assert_eq!(first.syscalls, set(&[Sysno::write]));
        assert_eq!(*first_named, set(&[Sysno::write, Sysno::fsync]));
        assert_eq!(second.syscalls, set(&[Sysno::fsync]));
    }

    #[test]
    fn rules_tamper_only_with_the_calls_of_the_last_trace() {
        let resolved = resolve_exprs([
            "trace=read",
            "fault=write,fsync:error=EIO",
            "trace=fsync,openat",
        ])
        .unwrap();
        assert_eq!(resolved.traced, Some(set(&[Sysno::fsync, Sysno::openat])));
        let [None, Some((rule, named)), None] = &resolved.rules[..] else {
            panic!("{resolved:?}");
        };
        assert_eq!(rule.syscalls, set(&[Sysno::fsync]));
        assert_eq!(*named, set(&[Sysno::write, Sysno::fsync]));
    }

    #[test]
    fn a_bad_expression_is_refused_with_its_text() {
        let error = resolve_exprs(["fault=write:error=EIO", "fault=nosuchcall"]).unwrap_err();
        assert_eq!(error.expr, "fault=nosuchcall");
    }
}
