//! fi: syscall fault injection for real programs, as a library first (the
//! `fault` command is a thin layer over it).
//!
//! A [`session::Session`] runs a program (or attaches to processes) under a
//! chain of policies and returns what happened; the `fault` command is a
//! thin layer over it ([`cli`]). The flow runs one way:
//!
//! ```text
//! cli → session → engine → backend (ptrace+seccomp, ptrace-syscall) → arch
//!                   │
//!                   └─► policy::chain ─► Policy: rules · wasm plugins · native Rust
//! ```
//!
//! [`model`] (calls, verdicts, records) is the leaf every layer speaks;
//! [`tracee`] reads a traced thread's memory and paths; [`output`] writes
//! the log.

/// The command's name, which its own messages carry (`fault: ...`,
/// `[fault] ...`).
pub const COMMAND: &str = "fault";

pub mod arch;
pub mod backend;
pub mod cli;
pub mod crash;
pub mod engine;
pub mod explore;
pub mod interrupt;
pub mod launch;
pub mod leftovers;
pub mod model;
pub mod output;
pub mod plugin_build;
pub mod policy;
pub mod rng;
pub mod rules;
pub mod session;
pub mod tracee;
pub mod wasm;
