//! fi: syscall fault injection for real programs (the `fault` command).
//!
//! The flow of a run: [`cli`] → [`session`] → [`policy::chain`] → [`tracer`]
//! → [`arch`]. Every decision passes through the [`policy::Policy`] seam;
//! strace-style [`rules`] and WebAssembly plugins ([`wasm`]) implement it.

pub mod arch;
pub mod cli;
pub mod command;
pub mod output;
pub mod policy;
pub mod rules;
pub mod session;
pub mod tracee;
pub mod tracer;
pub mod wasm;
