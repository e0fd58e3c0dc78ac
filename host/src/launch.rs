//! Starting a program from fault's process without copying its memory.
//!
//! fault is a big process (wasmtime, its caches, several threads): a `fork`
//! copies its page tables, 0.3 to 0.8 ms on a small VM. The child here is
//! made with `clone(CLONE_VM)` instead, as glibc's `posix_spawn` makes its
//! own: it shares fault's memory and runs on a stack of its own until it
//! execs. Sharing memory sets its rules:
//!
//! - the child makes only raw system calls ([`raw`]): they write no
//!   `errno`, which is the variable of the thread that started the child
//!   (its TLS is that thread's), and call no libc code that might lock;
//! - it runs none of fault's signal handlers (they would change fault's
//!   state): every signal is blocked from before the clone, and the child
//!   sets each handled signal back to its default before it unblocks them;
//! - what it reads (the [`Plan`]) stays alive and unchanged until it has
//!   exec'd or exited: [`start`] gives it to a [`Started`] that keeps it
//!   until then, [`start_and_wait`] returns only then (`CLONE_VFORK`).

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod raw;

/// Why a started child never became the program: which step failed.
#[derive(Debug)]
pub enum StartError {
    /// Installing no_new_privs or the seccomp filter (fault's failure).
    Seccomp(io::Error),
    /// `execve` itself: the program cannot be run (not an executable, a
    /// missing interpreter, ...).
    Exec(io::Error),
    /// Changing to the program's directory.
    Directory(io::Error),
    /// Giving the program the standard streams it was asked to have.
    Stdio(io::Error),
    /// Making the child a process group's leader, or tying it to its
    /// parent's life.
    Process(io::Error),
}

/// The steps a child reports a failure of, in the report's high half.
const STEP_SECCOMP: u64 = 1;
const STEP_EXEC: u64 = 2;
const STEP_DIRECTORY: u64 = 3;
const STEP_STDIO: u64 = 4;
const STEP_PROCESS: u64 = 5;

/// An argument or variable held a NUL byte: the string.
#[derive(Debug)]
pub struct Nul(pub OsString);

/// The seccomp filter the child installs just before exec.
pub struct Seccomp {
    /// The compiled filter (a copy the plan owns).
    pub program: Vec<libc::sock_filter>,
    /// The `seccomp(SECCOMP_SET_MODE_FILTER)` flags.
    pub flags: libc::c_ulong,
    /// Ask for a listener: the child posts its number and waits, yielding
    /// its CPU if `may_yield` (else spinning), until the parent took it.
    pub may_yield: bool,
}

/// Everything the child does, prepared before the clone: it allocates
/// nothing afterwards.
pub struct Plan {
    path: CString,
    argv: Strings,
    env: Strings,
    cwd: Option<CString>,
    stdio: [Option<RawFd>; 3],
    /// Read one byte from the first descriptor first (EOF: exit 127),
    /// after closing the second, the pipe's write end, so that EOF comes
    /// once fault is gone.
    go: Option<(RawFd, RawFd)>,
    filter: Option<(Seccomp, libc::sock_fprog)>,
    own_group: bool,
    /// The process whose child it must stay, killed when its parent thread
    /// ends.
    dies_with: Option<libc::pid_t>,
    /// Signals set back to their default action even if fault ignores
    /// them: bit `n - 1` for signal `n`.
    defaults_too: u64,
    /// Words the child and its parent share: the failed step and errno
    /// (`step << 32 | errno`), the listener's number plus one, and the
    /// parent's word that it took the listener.
    words: [AtomicU64; 3],
}

/// The kernel's signals, 1 to 64.
const SIGNALS: i32 = 64;

/// The failed step and errno.
const WORD_ERROR: usize = 0;
/// The listener's fd number plus one.
const WORD_LISTENER: usize = 1;
/// Nonzero once the parent took a copy of the listener.
const WORD_TAKEN: usize = 2;

fn c_string(s: &OsStr) -> Result<CString, Nul> {
    CString::new(s.as_bytes()).map_err(|_| Nul(s.to_owned()))
}

/// C strings and the null-terminated array of pointers to them that
/// `execve` takes.
struct Strings {
    /// The strings the pointers point into.
    _owned: Vec<CString>,
    pointers: Vec<*const libc::c_char>,
}

impl Strings {
    fn new(owned: Vec<CString>) -> Strings {
        let pointers = owned
            .iter()
            .map(|s| s.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        Strings {
            _owned: owned,
            pointers,
        }
    }
}

impl Plan {
    /// Exec `path` with `argv` and the environment `env`, in `cwd` (the
    /// caller's if `None`), with `stdio` as its standard streams (the
    /// caller's where `None`; the caller keeps them open until the child
    /// exec'd). Signals caught by fault start at their default action,
    /// those it ignores stay ignored.
    pub fn new(
        path: &OsStr,
        argv: &[OsString],
        env: &[(OsString, OsString)],
        cwd: Option<&OsStr>,
        stdio: [Option<RawFd>; 3],
    ) -> Result<Plan, Nul> {
        let argv: Vec<CString> = argv.iter().map(|a| c_string(a)).collect::<Result<_, _>>()?;
        let env: Vec<CString> = env
            .iter()
            .map(|(k, v)| {
                let mut pair = k.clone().into_vec();
                pair.push(b'=');
                pair.extend(v.as_bytes());
                CString::new(pair).map_err(|e| Nul(OsString::from_vec(e.into_vec())))
            })
            .collect::<Result<_, _>>()?;
        Ok(Plan {
            path: c_string(path)?,
            argv: Strings::new(argv),
            env: Strings::new(env),
            cwd: cwd.map(c_string).transpose()?,
            stdio,
            go: None,
            filter: None,
            own_group: false,
            dies_with: None,
            defaults_too: 0,
            words: Default::default(),
        })
    }

    /// Wait for one byte on `read` before anything else, and exit with 127
    /// on EOF (the parent is gone); `write` is the pipe's other end.
    fn after_go(mut self, read: RawFd, write: RawFd) -> Plan {
        self.go = Some((read, write));
        self
    }

    /// Install `filter` (after no_new_privs) just before exec.
    pub fn filtered(mut self, filter: Seccomp) -> Plan {
        let fprog = libc::sock_fprog {
            len: filter.program.len() as u16,
            filter: filter.program.as_ptr() as *mut libc::sock_filter,
        };
        self.filter = Some((filter, fprog));
        self
    }

    /// Lead a process group of its own.
    pub fn own_process_group(mut self) -> Plan {
        self.own_group = true;
        self
    }

    /// Be killed when the thread that starts it ends (fault killed with
    /// SIGKILL, too), and never start if fault is already gone.
    pub fn dies_with_its_thread(mut self) -> Plan {
        // SAFETY: getpid has no preconditions.
        self.dies_with = Some(unsafe { libc::getpid() });
        self
    }

    /// Start with `signal` at its default action even if fault ignores it.
    pub fn default_action(mut self, signal: i32) -> Plan {
        self.defaults_too |= 1 << (signal - 1);
        self
    }

    fn word(&self, index: usize) -> &AtomicU64 {
        &self.words[index]
    }

    /// Why the child could not exec the program, once it has exited
    /// (`None` if it did exec).
    pub fn start_error(&self) -> Option<StartError> {
        let word = self.word(WORD_ERROR).load(Ordering::Acquire);
        let error = io::Error::from_raw_os_error(word as u32 as i32);
        match word >> 32 {
            STEP_SECCOMP => Some(StartError::Seccomp(error)),
            STEP_EXEC => Some(StartError::Exec(error)),
            STEP_DIRECTORY => Some(StartError::Directory(error)),
            STEP_STDIO => Some(StartError::Stdio(error)),
            STEP_PROCESS => Some(StartError::Process(error)),
            _ => None,
        }
    }

    /// Where the child is with its seccomp listener.
    pub fn listener(&self) -> Listener {
        if self.word(WORD_ERROR).load(Ordering::Acquire) != 0 {
            return Listener::Failed;
        }
        match self.word(WORD_LISTENER).load(Ordering::Acquire) {
            0 => Listener::Pending,
            plus_one => Listener::Posted((plus_one - 1) as RawFd),
        }
    }

    /// Let the child go on to exec: the parent took its listener.
    pub fn listener_taken(&self) {
        self.word(WORD_TAKEN).store(1, Ordering::Release);
    }
}

/// Where a child is with the listener of its seccomp filter.
pub enum Listener {
    /// Not posted yet.
    Pending,
    /// Posted: its number in the child.
    Posted(RawFd),
    /// The child failed a step first.
    Failed,
}

/// The child's stack: a private mapping with a guard page below it.
struct Stack {
    base: *mut libc::c_void,
}

/// The stack's size, guard page included: the child calls a few functions
/// of [`Plan::run`] deep.
const STACK: usize = 64 * 1024;
const GUARD: usize = 4096;

impl Stack {
    fn new() -> io::Result<Stack> {
        // SAFETY: a fresh anonymous mapping.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                STACK,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = Stack { base };
        // SAFETY: the lowest page of our own mapping.
        if unsafe { libc::mprotect(base, GUARD, libc::PROT_NONE) } == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    /// Where the child's stack starts (it grows down), 16-byte aligned.
    fn top(&self) -> *mut libc::c_void {
        // SAFETY: one past the end of the mapping, which is page-aligned.
        unsafe { self.base.cast::<u8>().add(STACK).cast() }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: our own mapping, which no child runs on any more.
        unsafe { libc::munmap(self.base, STACK) };
    }
}

/// A child started with [`start`], which may not have exec'd yet: it keeps
/// what the child reads until the child is past its exec.
pub struct Started {
    /// The child's process id.
    pub pid: i32,
    plan: ManuallyDrop<Box<Plan>>,
    stack: ManuallyDrop<Stack>,
    /// A pipe's write end whose only read end is the child's, closed on
    /// exec: readers gone means the child exec'd or exited.
    watch: OwnedFd,
}

impl Started {
    /// The plan the child runs (and its shared words).
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The write end of the child's go pipe ([`Plan::after_go`]).
    pub fn go(&self) -> RawFd {
        self.watch.as_raw_fd()
    }
}

/// How long dropping a [`Started`] waits for its child to leave the shared
/// memory (it was killed, or exec'd long ago): past it, the memory is left
/// to the child.
const LEAVE_DEADLINE: Duration = Duration::from_secs(1);

impl Drop for Started {
    fn drop(&mut self) {
        let deadline = Instant::now() + LEAVE_DEADLINE;
        loop {
            let mut polled = libc::pollfd {
                fd: self.watch.as_raw_fd(),
                events: 0,
                revents: 0,
            };
            let left = deadline.saturating_duration_since(Instant::now());
            // SAFETY: polls one descriptor of ours.
            unsafe { libc::poll(&mut polled, 1, left.as_millis() as i32) };
            if polled.revents & libc::POLLERR != 0 {
                // SAFETY: dropped once, here; the child no longer uses them.
                unsafe {
                    ManuallyDrop::drop(&mut self.plan);
                    ManuallyDrop::drop(&mut self.stack);
                }
                return;
            }
            if left.is_zero() {
                // Still before its exec: rather than free what it may read,
                // leave it.
                return;
            }
        }
    }
}

/// Start `plan` in a child sharing fault's memory; the child first reads
/// its go byte from the read end of a new pipe, whose write end is
/// [`Started::go`]. Returns at once.
pub fn start(plan: Plan) -> io::Result<Started> {
    let (read, write) = pipe()?;
    let mut plan = Box::new(plan.after_go(read.as_raw_fd(), write.as_raw_fd()));
    let stack = Stack::new()?;
    let pid = clone(&mut plan, &stack, libc::CLONE_VM)?;
    drop(read);
    Ok(Started {
        pid,
        plan: ManuallyDrop::new(plan),
        stack: ManuallyDrop::new(stack),
        watch: write,
    })
}

/// Start `plan` in a child sharing fault's memory, and return once it has
/// exec'd (or failed to: then its [`StartError`], the child reaped).
pub fn start_and_wait(plan: Plan) -> Result<i32, StartError> {
    let mut plan = Box::new(plan);
    let stack = Stack::new().map_err(StartError::Process)?;
    let pid = clone(&mut plan, &stack, libc::CLONE_VM | libc::CLONE_VFORK)
        .map_err(StartError::Process)?;
    match plan.start_error() {
        None => Ok(pid),
        Some(error) => {
            let mut status = 0;
            // SAFETY: reaps our own child, which has exited.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            Err(error)
        }
    }
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let (read, write) = io::pipe()?;
    Ok((read.into(), write.into()))
}

/// Clone a child that runs `plan` on `stack`, every signal blocked in this
/// thread meanwhile (the child starts with them blocked).
fn clone(plan: &mut Box<Plan>, stack: &Stack, flags: libc::c_int) -> io::Result<i32> {
    // SAFETY: sigfillset fills a local set; pthread_sigmask swaps this
    // thread's mask with locals.
    let old = unsafe {
        let mut all = std::mem::zeroed::<libc::sigset_t>();
        let mut old = std::mem::zeroed::<libc::sigset_t>();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        old
    };
    let arg: *mut Plan = &mut **plan;
    // SAFETY: the child runs `child` on its own stack over `plan`, which
    // outlives its use (see the module); `child` makes raw system calls
    // only and never returns.
    let pid = unsafe { libc::clone(child, stack.top(), flags | libc::SIGCHLD, arg.cast()) };
    let error = io::Error::last_os_error();
    // SAFETY: restores this thread's mask from a local.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    if pid == -1 {
        return Err(error);
    }
    Ok(pid)
}

extern "C" fn child(plan: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `clone` passes the plan, alive until the child exec'd or
    // exited; the child only reads it (and its atomic words).
    unsafe { (*plan.cast::<Plan>()).run() }
}

impl Plan {
    /// The child's side: wait for the go byte, set up, exec; leave a
    /// failure in the shared words.
    ///
    /// # Safety
    /// Runs in a child cloned with `CLONE_VM` on its own stack, every
    /// signal blocked: raw system calls only, no allocation.
    unsafe fn run(&self) -> ! {
        // First, while the parent seizes: signals blocked, fault's
        // handlers are of no use to the child.
        self.default_signal_actions();
        if let Some((go, write_end)) = self.go {
            raw::close(write_end);
            let mut byte = 0u8;
            // A byte means "go on"; EOF means the parent is gone.
            let got = loop {
                match raw::read(go, &mut byte) {
                    n if n == -(libc::EINTR as isize) => continue,
                    n => break n,
                }
            };
            if got != 1 {
                raw::exit(127);
            }
        }
        if self.own_group {
            self.check(raw::setpgid_self(), STEP_PROCESS);
        }
        if let Some(parent) = self.dies_with {
            self.check(raw::die_with_parent(), STEP_PROCESS);
            if raw::getppid() != parent as isize {
                raw::exit(127);
            }
        }
        raw::unblock_all_signals();
        for (target, fd) in (0..).zip(self.stdio) {
            let Some(fd) = fd else { continue };
            // dup2 onto itself would keep close-on-exec: clear it instead.
            let done = if fd == target {
                raw::clear_cloexec(fd)
            } else {
                raw::dup2(fd, target)
            };
            self.check(done, STEP_STDIO);
        }
        if let Some(dir) = &self.cwd {
            self.check(raw::chdir(dir), STEP_DIRECTORY);
        }
        if let Some((filter, fprog)) = &self.filter {
            self.check(raw::no_new_privs(), STEP_SECCOMP);
            let listener = raw::seccomp_filter(filter.flags, fprog);
            self.check(listener, STEP_SECCOMP);
            if filter.flags & libc::SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
                // Post the listener (close-on-exec) and wait until the
                // parent took a copy: with no system call but sched_yield,
                // if the filter lets it pass (any other call may now wait
                // on the parent).
                self.word(WORD_LISTENER)
                    .store(listener as u64 + 1, Ordering::Release);
                while self.word(WORD_TAKEN).load(Ordering::Acquire) == 0 {
                    if filter.may_yield {
                        raw::sched_yield();
                    } else {
                        std::hint::spin_loop();
                    }
                }
            }
        }
        let failed = raw::execve(&self.path, &self.argv.pointers, &self.env.pointers);
        self.check(failed, STEP_EXEC);
        raw::exit(127)
    }

    /// Set every signal fault catches back to its default action, and
    /// those of [`Plan::default_action`]; leave the ignored ones ignored.
    unsafe fn default_signal_actions(&self) {
        for signal in 1..=SIGNALS {
            let to_default = match raw::handler_of(signal) {
                Some(libc::SIG_DFL) | None => false,
                Some(libc::SIG_IGN) => self.defaults_too & 1 << (signal - 1) != 0,
                Some(_) => true,
            };
            if to_default {
                raw::default_action(signal);
            }
        }
    }

    /// Go on if `result` (a raw call's) succeeded; else leave `step` and
    /// errno in the shared word (a store, no system call) and exit like a
    /// shell that could not exec.
    unsafe fn check(&self, result: isize, step: u64) {
        if result < 0 {
            self.word(WORD_ERROR)
                .store(step << 32 | (-result) as u64, Ordering::Release);
            raw::exit(127);
        }
    }
}
