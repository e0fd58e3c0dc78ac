//! Words of the messages: counts with their nouns.

/// `1 syscall`, `2 syscalls`: a count with its noun in the right number.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
