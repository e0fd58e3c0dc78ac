//! Write fi fault-injection policies in Rust.
//!
//! A policy is a WebAssembly component that fi runs in a sandbox and asks
//! about every system call it subscribed to. Implement [`Policy`] for a type,
//! register it with [`export_policy!`], and build the crate as a `cdylib` for
//! `wasm32-wasip2`:
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! fi-sdk = { path = ".../sdk" }
//! ```
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2
//! ```
//!
//! # Example
//!
//! Fail `fsync` of files under `/data` with `EIO`, from the 2nd call on:
//!
//! ```
//! use fi_sdk::{
//!     Call, Config, ConfigError, Description, Errno, Glob, Policy, Subscription, Verdict, When,
//! };
//!
//! struct FsyncFail {
//!     path: Glob,
//!     when: When,
//! }
//!
//! impl Policy for FsyncFail {
//!     fn describe() -> Description {
//!         Description::new("fsync-data", "Fail fsync of some files with EIO")
//!             .key("path", "files whose fsync fails; default /data/*")
//!             .key("when", "which of a thread's fsyncs fail; default 2+ (from the 2nd on)")
//!     }
//!
//!     fn new(config: &Config) -> Result<(Self, Subscription), ConfigError> {
//!         let policy = FsyncFail {
//!             path: config.parse("path")?.unwrap_or(Glob::new("/data/*").unwrap()),
//!             when: config.parse("when")?.unwrap_or("2+".parse().unwrap()),
//!         };
//!         Ok((policy, Subscription::syscalls(["fsync"])))
//!     }
//!
//!     fn on_enter(&mut self, call: &Call) -> Verdict {
//!         if self.path.matches_any(call.paths()) && self.when.hit(call) {
//!             return Verdict::fail(Errno::EIO);
//!         }
//!         Verdict::pass()
//!     }
//! }
//!
//! fi_sdk::export_policy!(FsyncFail);
//! ```
//!
//! Most policies filter calls by `path=`, `when=` and `probability=`;
//! [`Trigger`] reads and applies all three.
//!
//! # The sandbox
//!
//! A policy may use `std` freely, but it sees no files, environment or
//! network; `std`'s clocks are frozen ([`monotonic`] reads a real one). What
//! it prints goes to fi's log, like [`log`]. Randomness comes from fi's
//! seeded generator ([`random`], [`chance`]), so `--seed` replays a run's
//! decisions.
//!
//! # Unit tests
//!
//! With the feature `testing`, [`testing::FakeCall`] makes calls from a
//! made-up process, so `cargo test` runs a policy's `on_enter` and `on_exit`
//! on the build machine.

#![warn(missing_docs)]

// Generated from wit/ (a link to the top-level wit/since-0.5.0, the newest
// contract); reachable only through `__private`.
#[allow(missing_docs)]
mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "plugin",
        pub_export_macro: true,
    });
}

mod call;
mod clock;
mod config;
mod describe;
mod fd;
mod glob;
mod invocation;
mod names;
mod plausible;
mod random;
mod structs;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod trigger;
mod verdict;
mod when;

pub use call::{Call, TraceeError};
pub use clock::monotonic;
pub use config::{Config, ConfigError};
pub use describe::{Description, Subscription};
pub use fd::{FdInfo, FdKind};
pub use glob::Glob;
pub use invocation::Invocation;
pub use names::{Errno, Sysno};
pub use plausible::kernel_may_return;
pub use random::{chance, random, Probability};
pub use structs::{IoVec, MsgHdr, SockAddr, Stat, Timespec};
pub use trigger::Trigger;
pub use verdict::{ExitAction, Verdict};
pub use when::When;

/// A fault-injection policy. fi makes one instance per `--plugin` and calls
/// it for every subscribed system call, of every thread and process of the
/// traced program, one call at a time.
pub trait Policy: Sized + 'static {
    /// Name, summary and configuration keys, for `fi plugins`. Called at any
    /// time, without an instance.
    fn describe() -> Description;

    /// Builds the policy from the user's configuration, before the traced
    /// program starts, and says which calls it wants. An error stops fi and
    /// is shown to the user, so name the key: [`Config::parse`] does.
    ///
    /// Unknown and repeated keys were rejected already.
    fn new(config: &Config) -> Result<(Self, Subscription), ConfigError>;

    /// Decides a subscribed call before it runs. The default lets it run.
    fn on_enter(&mut self, call: &Call) -> Verdict {
        let _ = call;
        Verdict::pass()
    }

    /// Sees, and may change, the result of a call that ran, if its verdict
    /// asked with [`Verdict::want_exit`]. `result` is the raw return value:
    /// negative errno on failure (see [`Errno::from_result`]). The default
    /// keeps it.
    fn on_exit(&mut self, call: &Call, result: i64) -> ExitAction {
        let _ = (call, result);
        ExitAction::Keep
    }

    /// The thread `tid` has ended; a new thread may be given the same id.
    /// Forget what the policy keeps per thread. The default does nothing.
    fn thread_exited(&mut self, tid: i32) {
        let _ = tid;
    }

    /// The traced program has ended: a good time to [`log`] a summary. The
    /// default does nothing.
    fn finish(&mut self) {}
}

/// Writes one line to fi's log, attributed to this plugin.
pub fn log(message: &str) {
    // In a native unit test (feature `testing`), to stderr.
    #[cfg(all(any(test, feature = "testing"), not(target_arch = "wasm32")))]
    eprintln!("{message}");
    #[cfg(not(all(any(test, feature = "testing"), not(target_arch = "wasm32"))))]
    bindings::fi::policy::host::log(message);
}

/// Makes `$policy`, a type implementing [`Policy`], the plugin's policy.
/// Use it once, at the crate root.
///
/// On targets other than wasm32 it exports nothing (native linkers reject
/// the component model's symbol names), so a plugin crate still builds,
/// lints and runs its unit tests on the build machine.
#[macro_export]
macro_rules! export_policy {
    ($policy:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type FiSdkPolicy = $crate::__private::Adapter<$policy>;
            $crate::__export_plugin_impl! {
                FiSdkPolicy with_types_in $crate::__private
            }
        };
        // Elsewhere, only mark the policy as used.
        #[cfg(not(target_arch = "wasm32"))]
        const _: ::core::marker::PhantomData<$policy> = ::core::marker::PhantomData;
    };
}

/// Glue between the generated bindings and [`Policy`], for [`export_policy!`].
#[doc(hidden)]
pub mod __private {
    use std::any::Any;
    use std::cell::RefCell;
    use std::marker::PhantomData;

    pub use crate::bindings::exports;
    use crate::bindings::exports::fi::policy::policy::Guest;
    use crate::bindings::fi::policy::{setup, types};
    use crate::{Call, Config, Policy};

    /// Implements the generated `Guest` trait for the policy `P`.
    pub struct Adapter<P>(PhantomData<P>);

    thread_local! {
        /// The policy instance, once `init` made it.
        static INSTANCE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    }

    fn with<P: Policy, R>(f: impl FnOnce(&mut P) -> R) -> R {
        INSTANCE.with_borrow_mut(|instance| {
            let policy = instance
                .as_mut()
                .and_then(|policy| policy.downcast_mut::<P>())
                .expect("fi called the policy before init");
            f(policy)
        })
    }

    impl<P: Policy> Guest for Adapter<P> {
        fn describe() -> setup::Description {
            P::describe().into()
        }

        fn init(config: Vec<(String, String)>) -> Result<setup::Subscription, String> {
            let config = Config::new(config, &P::describe()).map_err(|e| e.to_string())?;
            let (policy, subscription) = P::new(&config).map_err(|e| e.to_string())?;
            if subscription.keeps_unsynced() {
                crate::bindings::fi::policy::host::keep_unsynced()?;
            }
            INSTANCE.set(Some(Box::new(policy)));
            Ok(subscription.into())
        }

        fn on_enter(call: types::Syscall) -> types::Verdict {
            with(|policy: &mut P| policy.on_enter(&Call::new(call))).into()
        }

        fn on_exit(call: types::Syscall, result: i64) -> types::ExitAction {
            with(|policy: &mut P| policy.on_exit(&Call::new(call), result)).into()
        }

        fn thread_exited(tid: i32) {
            with(|policy: &mut P| policy.thread_exited(tid));
        }

        fn finish() {
            with(|policy: &mut P| policy.finish());
        }
    }
}
