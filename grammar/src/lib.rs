//! The syntax fi's `-e` rules, its command line and its guest SDK share, in
//! one place so that they accept the same things:
//!
//! - [`duration`]: times such as `delay_enter=1.5ms` and `--plugin-timeout 2s`;
//! - [`when`]: strace's `when=FIRST[..LAST][+[STEP]]`;
//! - [`names`]: the errno and signal spellings beyond their canonical names;
//! - [`size`]: byte counts such as `size=1M` and `rate=10MB/s`;
//! - [`suggest`]: "did you mean" for a mistyped name (a syscall, an errno, a
//!   rule's or a plugin's key).
//!
//! Its one dependency, strsim, builds for the host and for `wasm32-wasip2`
//! alike.

pub mod duration;
pub mod names;
pub mod size;
pub mod suggest;
pub mod when;

pub use duration::{parse_duration, DurationError, DurationErrorKind};
pub use size::{parse_size, SizeError};
pub use suggest::DidYouMean;
pub use when::{When, WhenError};
