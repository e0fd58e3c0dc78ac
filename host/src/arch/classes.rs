//! Facts about x86_64 syscalls that the `syscalls` crate does not carry:
//! strace's syscall classes (`%file`, `%desc`, ...), how many arguments each
//! call takes, and which arguments hold a pathname or a file descriptor.
//!
//! Classes and argument counts follow strace's x86_64 table
//! (`src/linux/x86_64/syscallent.h` and
//! `src/linux/generic/syscallent-common.h`), flags `TF TD TN TP TS TM TI TC
//! TCL TST TLST TFST TSTA TSF TFSF TSFA PU`.

use std::ops::BitOr;

use syscalls::{Sysno, SysnoSet};

/// A set of strace syscall classes, one bit per class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Classes(u32);

impl Classes {
    /// `%file`: takes a file name.
    pub const FILE: Classes = Classes(1 << 0);
    /// `%desc`: takes or returns a file descriptor.
    pub const DESC: Classes = Classes(1 << 1);
    /// `%network` (`%net`): network related.
    pub const NETWORK: Classes = Classes(1 << 2);
    /// `%process`: process management (fork, exec, exit, wait, kill).
    pub const PROCESS: Classes = Classes(1 << 3);
    /// `%signal`: signal related.
    pub const SIGNAL: Classes = Classes(1 << 4);
    /// `%memory`: memory mapping.
    pub const MEMORY: Classes = Classes(1 << 5);
    /// `%ipc`: System V IPC.
    pub const IPC: Classes = Classes(1 << 6);
    /// `%creds`: reads or changes user/group ids or capabilities.
    pub const CREDS: Classes = Classes(1 << 7);
    /// `%clock`: reads or changes system clocks.
    pub const CLOCK: Classes = Classes(1 << 8);
    /// `%stat`: stat variants taking a file name.
    pub const STAT: Classes = Classes(1 << 9);
    /// `%lstat`: lstat variants.
    pub const LSTAT: Classes = Classes(1 << 10);
    /// `%fstat`: stat variants taking an fd (`fstat`, `newfstatat`, `statx`).
    pub const FSTAT: Classes = Classes(1 << 11);
    /// `%%stat`: every stat-like call.
    pub const STAT_LIKE: Classes = Classes(1 << 12);
    /// `%statfs`: statfs variants taking a file name.
    pub const STATFS: Classes = Classes(1 << 13);
    /// `%fstatfs`: statfs variants taking an fd.
    pub const FSTATFS: Classes = Classes(1 << 14);
    /// `%%statfs`: every statfs-like call (`ustat` included).
    pub const STATFS_LIKE: Classes = Classes(1 << 15);
    /// `%pure`: no arguments, always succeeds, no side effects (`getpid`).
    pub const PURE: Classes = Classes(1 << 16);

    /// Whether every class in `other` is also in `self`.
    pub const fn contains(self, other: Classes) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Classes {
    type Output = Classes;

    fn bitor(self, other: Classes) -> Classes {
        Classes(self.0 | other.0)
    }
}

/// The classes strace puts `sysno` in; empty for unclassified calls.
pub fn classes_of(sysno: Sysno) -> Classes {
    use Sysno as S;
    // Grouped by combination of classes. listxattrat, removexattrat,
    // open_tree_attr, file_getattr and file_setattr are newer than the strace
    // table this was taken from; like their siblings they are TD|TF.
    match sysno {
        S::access | S::truncate | S::getcwd | S::chdir | S::rename | S::mkdir => Classes::FILE,
        S::rmdir | S::link | S::unlink | S::symlink | S::readlink | S::chmod => Classes::FILE,
        S::chown | S::lchown | S::utime | S::mknod | S::uselib | S::pivot_root => Classes::FILE,
        S::chroot | S::acct | S::mount | S::umount2 | S::swapon | S::swapoff => Classes::FILE,
        S::quotactl | S::setxattr | S::lsetxattr | S::getxattr | S::lgetxattr => Classes::FILE,
        S::listxattr | S::llistxattr | S::removexattr | S::lremovexattr => Classes::FILE,
        S::utimes => Classes::FILE,
        S::read | S::write | S::close | S::poll | S::lseek | S::ioctl | S::pread64 => Classes::DESC,
        S::pwrite64 | S::readv | S::writev | S::pipe | S::select | S::dup => Classes::DESC,
        S::dup2 | S::fcntl | S::flock | S::fsync | S::fdatasync | S::ftruncate => Classes::DESC,
        S::getdents | S::fchdir | S::fchmod | S::fchown | S::readahead => Classes::DESC,
        S::fsetxattr | S::fgetxattr | S::flistxattr | S::fremovexattr => Classes::DESC,
        S::epoll_create | S::getdents64 | S::fadvise64 | S::epoll_wait => Classes::DESC,
        S::epoll_ctl | S::mq_open | S::mq_timedsend | S::mq_timedreceive => Classes::DESC,
        S::mq_notify | S::mq_getsetattr | S::inotify_init | S::inotify_rm_watch => Classes::DESC,
        S::pselect6 | S::ppoll | S::splice | S::tee | S::sync_file_range => Classes::DESC,
        S::vmsplice | S::epoll_pwait | S::timerfd_create | S::eventfd => Classes::DESC,
        S::fallocate | S::timerfd_settime | S::timerfd_gettime | S::eventfd2 => Classes::DESC,
        S::epoll_create1 | S::dup3 | S::pipe2 | S::inotify_init1 | S::preadv => Classes::DESC,
        S::pwritev | S::perf_event_open | S::fanotify_init | S::open_by_handle_at => Classes::DESC,
        S::syncfs | S::setns | S::finit_module | S::memfd_create => Classes::DESC,
        S::kexec_file_load | S::bpf | S::userfaultfd | S::copy_file_range => Classes::DESC,
        S::preadv2 | S::pwritev2 | S::io_uring_setup | S::fsopen | S::fsmount => Classes::DESC,
        S::pidfd_open | S::pidfd_getfd | S::process_madvise | S::epoll_pwait2 => Classes::DESC,
        S::quotactl_fd | S::landlock_create_ruleset | S::landlock_add_rule => Classes::DESC,
        S::landlock_restrict_self | S::memfd_secret | S::process_mrelease => Classes::DESC,
        S::cachestat => Classes::DESC,
        S::socket | S::connect | S::accept | S::sendto | S::recvfrom => Classes::NETWORK,
        S::sendmsg | S::recvmsg | S::shutdown | S::bind | S::listen => Classes::NETWORK,
        S::getsockname | S::getpeername | S::socketpair | S::setsockopt => Classes::NETWORK,
        S::getsockopt | S::getpmsg | S::putpmsg | S::accept4 | S::recvmmsg => Classes::NETWORK,
        S::sendmmsg => Classes::NETWORK,
        S::clone | S::fork | S::vfork | S::exit | S::wait4 | S::exit_group => Classes::PROCESS,
        S::waitid | S::clone3 => Classes::PROCESS,
        S::rt_sigaction | S::rt_sigprocmask | S::rt_sigreturn | S::pause => Classes::SIGNAL,
        S::rt_sigpending | S::rt_sigtimedwait | S::rt_sigsuspend => Classes::SIGNAL,
        S::sigaltstack => Classes::SIGNAL,
        S::mprotect | S::munmap | S::brk | S::mremap | S::msync | S::mincore => Classes::MEMORY,
        S::madvise | S::mlock | S::munlock | S::mlockall | S::munlockall => Classes::MEMORY,
        S::io_setup | S::io_destroy | S::remap_file_pages | S::mbind => Classes::MEMORY,
        S::set_mempolicy | S::get_mempolicy | S::migrate_pages | S::move_pages => Classes::MEMORY,
        S::mlock2 | S::pkey_mprotect | S::set_mempolicy_home_node => Classes::MEMORY,
        S::map_shadow_stack | S::mseal => Classes::MEMORY,
        S::shmget | S::shmctl | S::semget | S::semop | S::semctl | S::msgget => Classes::IPC,
        S::msgsnd | S::msgrcv | S::msgctl | S::semtimedop => Classes::IPC,
        S::setuid | S::setgid | S::setreuid | S::setregid | S::getgroups => Classes::CREDS,
        S::setgroups | S::setresuid | S::getresuid | S::setresgid | S::getresgid => Classes::CREDS,
        S::setfsuid | S::setfsgid | S::capget | S::capset | S::prctl => Classes::CREDS,
        S::gettimeofday | S::adjtimex | S::settimeofday | S::time => Classes::CLOCK,
        S::clock_settime | S::clock_gettime | S::clock_getres | S::clock_adjtime => Classes::CLOCK,
        S::ustat => Classes::STATFS_LIKE,
        S::getpid | S::getppid | S::getpgrp | S::gettid => Classes::PURE,
        S::open | S::creat | S::inotify_add_watch | S::openat => Classes::FILE | Classes::DESC,
        S::mkdirat | S::mknodat | S::fchownat | S::futimesat => Classes::FILE | Classes::DESC,
        S::unlinkat | S::renameat | S::linkat | S::symlinkat => Classes::FILE | Classes::DESC,
        S::readlinkat | S::fchmodat | S::faccessat | S::utimensat => Classes::FILE | Classes::DESC,
        S::fanotify_mark | S::name_to_handle_at | S::renameat2 => Classes::FILE | Classes::DESC,
        S::open_tree | S::move_mount | S::fsconfig | S::fspick => Classes::FILE | Classes::DESC,
        S::openat2 | S::faccessat2 | S::mount_setattr => Classes::FILE | Classes::DESC,
        S::fchmodat2 | S::setxattrat | S::getxattrat => Classes::FILE | Classes::DESC,
        S::listxattrat | S::removexattrat | S::open_tree_attr => Classes::FILE | Classes::DESC,
        S::file_getattr | S::file_setattr => Classes::FILE | Classes::DESC,
        S::execve => Classes::FILE | Classes::PROCESS,
        S::sendfile => Classes::DESC | Classes::NETWORK,
        S::signalfd | S::signalfd4 | S::io_uring_enter => Classes::DESC | Classes::SIGNAL,
        S::mmap | S::io_uring_register => Classes::DESC | Classes::MEMORY,
        S::kill | S::rt_sigqueueinfo | S::tkill | S::tgkill => Classes::PROCESS | Classes::SIGNAL,
        S::rt_tgsigqueueinfo => Classes::PROCESS | Classes::SIGNAL,
        S::shmat | S::shmdt => Classes::MEMORY | Classes::IPC,
        S::getuid | S::getgid | S::geteuid | S::getegid => Classes::CREDS | Classes::PURE,
        S::execveat => Classes::FILE | Classes::DESC | Classes::PROCESS,
        S::stat => Classes::FILE | Classes::STAT | Classes::STAT_LIKE,
        S::lstat => Classes::FILE | Classes::LSTAT | Classes::STAT_LIKE,
        S::statfs => Classes::FILE | Classes::STATFS | Classes::STATFS_LIKE,
        S::pidfd_send_signal => Classes::DESC | Classes::PROCESS | Classes::SIGNAL,
        S::fstat => Classes::DESC | Classes::FSTAT | Classes::STAT_LIKE,
        S::fstatfs => Classes::DESC | Classes::FSTATFS | Classes::STATFS_LIKE,
        S::newfstatat => Classes::FILE | Classes::DESC | Classes::FSTAT | Classes::STAT_LIKE,
        S::statx => Classes::FILE | Classes::DESC | Classes::FSTAT | Classes::STAT_LIKE,
        _ => Classes::default(),
    }
}

/// How many arguments `sysno` takes (the `nargs` of strace's table); 6,
/// every argument register, for a syscall the table does not know.
pub fn arg_count(sysno: Sysno) -> usize {
    use Sysno as S;
    match sysno {
        S::rt_sigreturn | S::sched_yield | S::pause | S::getpid | S::fork | S::vfork => 0,
        S::getuid | S::getgid | S::geteuid | S::getegid | S::getppid | S::getpgrp | S::setsid => 0,
        S::munlockall | S::vhangup | S::sync | S::gettid | S::restart_syscall => 0,
        S::inotify_init | S::uretprobe | S::uprobe => 0,
        S::close | S::brk | S::pipe | S::dup | S::alarm | S::exit | S::uname | S::shmdt => 1,
        S::fsync | S::fdatasync | S::chdir | S::fchdir | S::rmdir | S::unlink | S::umask => 1,
        S::sysinfo | S::times | S::setuid | S::setgid | S::getpgid | S::setfsuid | S::setfsgid => 1,
        S::getsid | S::uselib | S::personality | S::sched_getscheduler => 1,
        S::sched_get_priority_max | S::sched_get_priority_min | S::mlockall | S::_sysctl => 1,
        S::adjtimex | S::chroot | S::acct | S::swapoff | S::iopl | S::get_kernel_syms => 1,
        S::time | S::set_thread_area | S::io_destroy | S::get_thread_area | S::epoll_create => 1,
        S::set_tid_address | S::timer_getoverrun | S::timer_delete | S::exit_group => 1,
        S::mq_unlink | S::unshare | S::eventfd | S::epoll_create1 | S::inotify_init1 => 1,
        S::syncfs | S::userfaultfd | S::pkey_free | S::memfd_secret => 1,
        S::stat | S::fstat | S::lstat | S::munmap | S::access | S::dup2 | S::nanosleep => 2,
        S::getitimer | S::shutdown | S::listen | S::kill | S::msgget | S::flock | S::truncate => 2,
        S::ftruncate | S::getcwd | S::rename | S::mkdir | S::creat | S::link | S::symlink => 2,
        S::chmod | S::fchmod | S::gettimeofday | S::getrlimit | S::getrusage | S::setpgid => 2,
        S::setreuid | S::setregid | S::getgroups | S::setgroups | S::capget | S::capset => 2,
        S::rt_sigpending | S::rt_sigsuspend | S::sigaltstack | S::utime | S::ustat | S::statfs => 2,
        S::fstatfs | S::getpriority | S::sched_setparam | S::sched_getparam => 2,
        S::sched_rr_get_interval | S::mlock | S::munlock | S::pivot_root | S::arch_prctl => 2,
        S::setrlimit | S::settimeofday | S::umount2 | S::swapon | S::sethostname => 2,
        S::setdomainname | S::create_module | S::delete_module | S::removexattr => 2,
        S::lremovexattr | S::fremovexattr | S::tkill | S::io_setup | S::timer_gettime => 2,
        S::clock_settime | S::clock_gettime | S::clock_getres | S::utimes | S::mq_notify => 2,
        S::ioprio_get | S::inotify_rm_watch | S::set_robust_list | S::timerfd_create => 2,
        S::timerfd_gettime | S::eventfd2 | S::pipe2 | S::fanotify_init | S::clock_adjtime => 2,
        S::setns | S::memfd_create | S::pkey_alloc | S::io_uring_setup | S::fsopen => 2,
        S::pidfd_open | S::clone3 | S::landlock_restrict_self | S::process_mrelease => 2,
        S::read | S::write | S::open | S::poll | S::lseek | S::mprotect | S::ioctl | S::readv => 3,
        S::writev | S::msync | S::mincore | S::madvise | S::shmget | S::shmat | S::shmctl => 3,
        S::setitimer | S::socket | S::connect | S::accept | S::sendmsg | S::recvmsg | S::bind => 3,
        S::getsockname | S::getpeername | S::execve | S::semget | S::semop | S::msgctl => 3,
        S::fcntl | S::getdents | S::readlink | S::chown | S::fchown | S::lchown | S::syslog => 3,
        S::setresuid | S::getresuid | S::setresgid | S::getresgid | S::rt_sigqueueinfo => 3,
        S::mknod | S::sysfs | S::setpriority | S::sched_setscheduler | S::modify_ldt => 3,
        S::ioperm | S::init_module | S::nfsservctl | S::tuxcall | S::security | S::readahead => 3,
        S::listxattr | S::llistxattr | S::flistxattr | S::sched_setaffinity => 3,
        S::sched_getaffinity | S::io_submit | S::io_cancel | S::lookup_dcookie | S::getdents64 => 3,
        S::timer_create | S::tgkill | S::set_mempolicy | S::mq_getsetattr | S::ioprio_set => 3,
        S::inotify_add_watch | S::mkdirat | S::futimesat | S::unlinkat | S::symlinkat => 3,
        S::fchmodat | S::faccessat | S::get_robust_list | S::signalfd | S::dup3 => 3,
        S::open_by_handle_at | S::getcpu | S::finit_module | S::sched_setattr | S::seccomp => 3,
        S::getrandom | S::bpf | S::membarrier | S::mlock2 | S::open_tree | S::fsmount => 3,
        S::fspick | S::close_range | S::pidfd_getfd | S::landlock_create_ruleset => 3,
        S::map_shadow_stack | S::lsm_list_modules | S::mseal => 3,
        S::rt_sigaction | S::rt_sigprocmask | S::pread64 | S::pwrite64 | S::sendfile => 4,
        S::socketpair | S::wait4 | S::semctl | S::msgsnd | S::ptrace | S::rt_sigtimedwait => 4,
        S::reboot | S::quotactl | S::getxattr | S::lgetxattr | S::fgetxattr | S::epoll_ctl_old => 4,
        S::epoll_wait_old | S::semtimedop | S::fadvise64 | S::timer_settime => 4,
        S::clock_nanosleep | S::epoll_wait | S::epoll_ctl | S::mq_open | S::kexec_load => 4,
        S::request_key | S::migrate_pages | S::openat | S::mknodat | S::newfstatat => 4,
        S::renameat | S::readlinkat | S::tee | S::sync_file_range | S::vmsplice | S::utimensat => 4,
        S::fallocate | S::timerfd_settime | S::accept4 | S::signalfd4 | S::preadv | S::pwritev => 4,
        S::rt_tgsigqueueinfo | S::prlimit64 | S::sendmmsg | S::sched_getattr => 4,
        S::pkey_mprotect | S::rseq | S::pidfd_send_signal | S::io_uring_register | S::openat2 => 4,
        S::faccessat2 | S::quotactl_fd | S::landlock_add_rule | S::set_mempolicy_home_node => 4,
        S::cachestat | S::fchmodat2 | S::futex_wake | S::futex_requeue | S::statmount => 4,
        S::listmount | S::lsm_get_self_attr | S::lsm_set_self_attr | S::removexattrat => 4,
        S::select | S::mremap | S::setsockopt | S::getsockopt | S::clone | S::msgrcv => 5,
        S::prctl | S::mount | S::query_module | S::getpmsg | S::putpmsg | S::afs_syscall => 5,
        S::setxattr | S::lsetxattr | S::fsetxattr | S::io_getevents | S::remap_file_pages => 5,
        S::vserver | S::get_mempolicy | S::mq_timedsend | S::mq_timedreceive | S::waitid => 5,
        S::add_key | S::keyctl | S::fchownat | S::linkat | S::ppoll | S::perf_event_open => 5,
        S::recvmmsg | S::fanotify_mark | S::name_to_handle_at | S::kcmp | S::renameat2 => 5,
        S::kexec_file_load | S::execveat | S::statx | S::move_mount | S::fsconfig => 5,
        S::process_madvise | S::mount_setattr | S::futex_waitv | S::listxattrat => 5,
        S::open_tree_attr | S::file_getattr | S::file_setattr => 5,
        S::mmap | S::sendto | S::recvfrom | S::futex | S::mbind | S::pselect6 | S::splice => 6,
        S::move_pages | S::epoll_pwait | S::process_vm_readv | S::process_vm_writev => 6,
        S::copy_file_range | S::preadv2 | S::pwritev2 | S::io_pgetevents | S::io_uring_enter => 6,
        S::epoll_pwait2 | S::futex_wait | S::setxattrat | S::getxattrat => 6,
        _ => 6,
    }
}

/// The class strace calls `%NAME`, looked up by `NAME` (without the `%`):
/// `file`, `desc`, `network` or `net`, `process`, `signal`, `memory`, `ipc`,
/// `creds`, `clock`, `stat`, `lstat`, `fstat`, `%stat` (strace's `%%stat`),
/// `statfs`, `fstatfs`, `%statfs` (strace's `%%statfs`) and `pure`.
pub fn class_by_name(name: &str) -> Option<Classes> {
    let class = match name {
        "file" => Classes::FILE,
        "desc" => Classes::DESC,
        "network" | "net" => Classes::NETWORK,
        "process" => Classes::PROCESS,
        "signal" => Classes::SIGNAL,
        "memory" => Classes::MEMORY,
        "ipc" => Classes::IPC,
        "creds" => Classes::CREDS,
        "clock" => Classes::CLOCK,
        "stat" => Classes::STAT,
        "lstat" => Classes::LSTAT,
        "fstat" => Classes::FSTAT,
        "%stat" => Classes::STAT_LIKE,
        "statfs" => Classes::STATFS,
        "fstatfs" => Classes::FSTATFS,
        "%statfs" => Classes::STATFS_LIKE,
        "pure" => Classes::PURE,
        _ => return None,
    };
    Some(class)
}

/// Every syscall that belongs to all of `classes` (strace's rule for a class
/// in a syscall set); an empty `classes` selects every syscall.
pub fn syscalls_in(classes: Classes) -> SysnoSet {
    // Not `Sysno::iter()`: in syscalls 0.8 it stops before the last syscall.
    SysnoSet::all()
        .iter()
        .filter(|&sysno| classes_of(sysno).contains(classes))
        .collect()
}

/// An argument of a call that names a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathArg {
    /// Argument `.0` is a pathname, relative to the working directory.
    Path(usize),
    /// Argument `path` is a pathname relative to the directory fd in argument
    /// `dirfd` (`AT_FDCWD`: the working directory), as in the `*at()` calls.
    /// With `AT_EMPTY_PATH` or a NULL path (`utimensat`) the call acts on
    /// `dirfd` itself.
    At {
        /// Index of the directory fd argument.
        dirfd: usize,
        /// Index of the pathname argument.
        path: usize,
    },
}

impl PathArg {
    /// The index of the pathname argument.
    pub fn path(self) -> usize {
        match self {
            PathArg::Path(path) | PathArg::At { path, .. } => path,
        }
    }
}

const PATH_0: &[PathArg] = &[PathArg::Path(0)];
const PATH_1: &[PathArg] = &[PathArg::Path(1)];
const PATH_0_1: &[PathArg] = &[PathArg::Path(0), PathArg::Path(1)];
const AT_0_1: &[PathArg] = &[PathArg::At { dirfd: 0, path: 1 }];
const AT_1_2: &[PathArg] = &[PathArg::At { dirfd: 1, path: 2 }];
const AT_3_4: &[PathArg] = &[PathArg::At { dirfd: 3, path: 4 }];
const AT_0_1_2_3: &[PathArg] = &[
    PathArg::At { dirfd: 0, path: 1 },
    PathArg::At { dirfd: 2, path: 3 },
];

/// The arguments of `sysno` that hold pathnames, in argument order.
///
/// Only real filesystem paths count: `symlink`'s target is an arbitrary
/// string, and `fsconfig`'s value is a path only for some commands, so
/// neither is listed. `mount`'s source is listed although it is sometimes
/// a plain string (`"proc"`, `"tmpfs"`).
pub fn path_args(sysno: Sysno) -> &'static [PathArg] {
    use Sysno as S;
    match sysno {
        S::open | S::creat | S::stat | S::lstat | S::access | S::truncate | S::chdir => PATH_0,
        S::mkdir | S::rmdir | S::unlink | S::readlink | S::chmod | S::chown | S::lchown => PATH_0,
        S::utime | S::utimes | S::mknod | S::uselib | S::statfs | S::execve | S::chroot => PATH_0,
        S::acct | S::umount2 | S::swapon | S::swapoff => PATH_0,
        S::setxattr | S::lsetxattr | S::getxattr | S::lgetxattr => PATH_0,
        S::listxattr | S::llistxattr | S::removexattr | S::lremovexattr => PATH_0,
        S::symlink | S::quotactl | S::inotify_add_watch => PATH_1,
        S::rename | S::link | S::mount | S::pivot_root => PATH_0_1,
        S::openat | S::openat2 | S::newfstatat | S::statx | S::faccessat | S::faccessat2 => AT_0_1,
        S::execveat | S::mkdirat | S::unlinkat | S::readlinkat | S::mknodat => AT_0_1,
        S::fchmodat | S::fchmodat2 | S::fchownat | S::futimesat | S::utimensat => AT_0_1,
        S::name_to_handle_at | S::open_tree | S::open_tree_attr | S::fspick => AT_0_1,
        S::mount_setattr | S::file_getattr | S::file_setattr => AT_0_1,
        S::setxattrat | S::getxattrat | S::listxattrat | S::removexattrat => AT_0_1,
        S::symlinkat => AT_1_2,
        S::fanotify_mark => AT_3_4,
        S::renameat | S::renameat2 | S::linkat | S::move_mount => AT_0_1_2_3,
        _ => &[],
    }
}

/// For a call that acts on the file of its directory descriptor when its
/// path argument is NULL, as the kernel's `do_utimes` does (`futimens` and
/// `futimes` are `utimensat` and `futimesat` so): that descriptor argument
/// and the path's, as indexes ([`path_args`]'s).
pub fn fd_when_path_null(sysno: Sysno) -> Option<(&'static [usize], usize)> {
    /// Every argument's index, to lend one as a slice.
    static INDEXES: [usize; 6] = [0, 1, 2, 3, 4, 5];
    match (sysno, path_args(sysno)) {
        (Sysno::utimensat | Sysno::futimesat, &[PathArg::At { dirfd, path }]) => {
            Some((std::slice::from_ref(&INDEXES[dirfd]), path))
        }
        _ => None,
    }
}

/// The arguments of `sysno` that are addresses naming a file through the
/// shared mapping there: `msync` flushes the file mapped at its address.
pub fn mapping_args(sysno: Sysno) -> &'static [usize] {
    match sysno {
        Sysno::msync => &[0],
        _ => &[],
    }
}

/// The arguments of `sysno` that hold a file descriptor of the caller, in
/// argument order.
///
/// The directory fd of a `*at()` call is not listed: it belongs to the
/// [`PathArg::At`] pair. Values may be -1 where the call allows "no fd"
/// (`mmap`'s argument 4 for anonymous mappings, `signalfd` creating a new
/// one). Fds passed indirectly (`poll`, `select`, `epoll_wait` events,
/// `bpf` attributes) and fd ranges (`close_range`) are not listed.
pub fn fd_args(sysno: Sysno) -> &'static [usize] {
    use Sysno as S;
    match sysno {
        S::read | S::write | S::close | S::fstat | S::lseek | S::ioctl => &[0],
        S::pread64 | S::pwrite64 | S::readv | S::writev | S::preadv | S::pwritev => &[0],
        S::preadv2 | S::pwritev2 | S::readahead | S::fadvise64 | S::fallocate => &[0],
        S::fsync | S::fdatasync | S::syncfs | S::sync_file_range | S::ftruncate => &[0],
        S::fcntl | S::flock | S::dup | S::getdents | S::getdents64 | S::fchdir => &[0],
        S::fchmod | S::fchown | S::fstatfs | S::vmsplice | S::cachestat => &[0],
        S::fsetxattr | S::fgetxattr | S::flistxattr | S::fremovexattr => &[0],
        S::epoll_wait | S::epoll_pwait | S::epoll_pwait2 => &[0],
        S::inotify_add_watch | S::inotify_rm_watch | S::fanotify_mark => &[0],
        S::signalfd | S::signalfd4 | S::timerfd_settime | S::timerfd_gettime => &[0],
        S::mq_timedsend | S::mq_timedreceive | S::mq_notify | S::mq_getsetattr => &[0],
        S::connect | S::accept | S::accept4 | S::bind | S::listen | S::shutdown => &[0],
        S::sendto | S::recvfrom | S::sendmsg | S::recvmsg | S::sendmmsg | S::recvmmsg => &[0],
        S::getsockname | S::getpeername | S::setsockopt | S::getsockopt => &[0],
        S::open_by_handle_at | S::setns | S::finit_module | S::quotactl_fd => &[0],
        S::fsconfig | S::fsmount | S::io_uring_enter | S::io_uring_register => &[0],
        S::pidfd_send_signal | S::pidfd_getfd | S::process_madvise | S::process_mrelease => &[0],
        S::landlock_add_rule | S::landlock_restrict_self => &[0],
        S::dup2 | S::dup3 | S::sendfile | S::tee | S::kexec_file_load => &[0, 1],
        S::splice | S::copy_file_range | S::epoll_ctl => &[0, 2],
        S::mmap => &[4],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_strace() {
        assert_eq!(classes_of(Sysno::openat), Classes::FILE | Classes::DESC);
        assert_eq!(classes_of(Sysno::write), Classes::DESC);
        assert!(classes_of(Sysno::fsync).contains(Classes::DESC));
        assert_eq!(classes_of(Sysno::execve), Classes::FILE | Classes::PROCESS);
        assert_eq!(classes_of(Sysno::getpid), Classes::PURE);
        assert_eq!(classes_of(Sysno::geteuid), Classes::CREDS | Classes::PURE);
        assert_eq!(classes_of(Sysno::futex), Classes::default());
        assert!(classes_of(Sysno::newfstatat).contains(Classes::FSTAT | Classes::STAT_LIKE));
        assert!(classes_of(Sysno::ustat).contains(Classes::STATFS_LIKE));
    }

    #[test]
    fn class_names_resolve() {
        assert_eq!(class_by_name("net"), Some(Classes::NETWORK));
        assert_eq!(class_by_name("network"), Some(Classes::NETWORK));
        assert_eq!(class_by_name("%stat"), Some(Classes::STAT_LIKE));
        assert_eq!(class_by_name("%statfs"), Some(Classes::STATFS_LIKE));
        assert_eq!(class_by_name("%file"), None);
        assert_eq!(class_by_name("fiel"), None);
    }

    #[test]
    fn syscalls_in_selects_members() {
        let network = syscalls_in(Classes::NETWORK);
        assert!(network.contains(Sysno::connect));
        assert!(network.contains(Sysno::socket));
        assert!(network.contains(Sysno::sendfile));
        assert!(!network.contains(Sysno::read));

        let file = syscalls_in(Classes::FILE);
        assert!(file.contains(Sysno::openat));
        assert!(file.contains(Sysno::renameat2));
        assert!(!file.contains(Sysno::write));

        let stat_like = syscalls_in(Classes::STAT_LIKE);
        let expected = [
            Sysno::stat,
            Sysno::fstat,
            Sysno::lstat,
            Sysno::newfstatat,
            Sysno::statx,
        ];
        assert_eq!(stat_like, SysnoSet::new(&expected));

        let pure = syscalls_in(Classes::PURE);
        let expected = [
            Sysno::getpid,
            Sysno::getppid,
            Sysno::getpgrp,
            Sysno::gettid,
            Sysno::getuid,
            Sysno::geteuid,
            Sysno::getgid,
            Sysno::getegid,
        ];
        assert_eq!(pure, SysnoSet::new(&expected));
    }

    #[test]
    fn empty_classes_select_everything() {
        assert_eq!(syscalls_in(Classes::default()), SysnoSet::all());
    }

    #[test]
    fn path_args_cover_two_path_calls() {
        let at = |dirfd, path| PathArg::At { dirfd, path };
        assert_eq!(path_args(Sysno::renameat2), &[at(0, 1), at(2, 3)]);
        assert_eq!(path_args(Sysno::linkat), &[at(0, 1), at(2, 3)]);
        assert_eq!(
            path_args(Sysno::rename),
            &[PathArg::Path(0), PathArg::Path(1)]
        );
        assert_eq!(path_args(Sysno::symlink), &[PathArg::Path(1)]);
        assert_eq!(path_args(Sysno::symlinkat), &[at(1, 2)]);
        assert_eq!(path_args(Sysno::openat), &[at(0, 1)]);
        assert_eq!(path_args(Sysno::open), &[PathArg::Path(0)]);
        assert_eq!(path_args(Sysno::fanotify_mark), &[at(3, 4)]);
        assert!(path_args(Sysno::write).is_empty());
    }

    #[test]
    fn every_file_call_but_two_has_a_path() {
        // getcwd only writes a path; fsconfig's path depends on its command.
        let without_path = SysnoSet::new(&[Sysno::getcwd, Sysno::fsconfig]);
        for sysno in syscalls_in(Classes::FILE).iter() {
            assert_eq!(
                path_args(sysno).is_empty(),
                without_path.contains(sysno),
                "{sysno}"
            );
        }
    }

    #[test]
    fn arg_counts_follow_strace() {
        assert_eq!(arg_count(Sysno::getpid), 0);
        assert_eq!(arg_count(Sysno::close), 1);
        assert_eq!(arg_count(Sysno::write), 3);
        assert_eq!(arg_count(Sysno::openat), 4);
        assert_eq!(arg_count(Sysno::renameat2), 5);
        assert_eq!(arg_count(Sysno::mmap), 6);
        assert_eq!(arg_count(Sysno::file_setattr), 5);
    }

    #[test]
    fn path_and_fd_args_are_within_the_arguments() {
        for sysno in SysnoSet::all().iter() {
            let count = arg_count(sysno);
            assert!(count <= 6, "{sysno}");
            for arg in path_args(sysno) {
                let highest = match *arg {
                    PathArg::Path(i) => i,
                    PathArg::At { dirfd, path } => dirfd.max(path),
                };
                assert!(highest < count, "{sysno}");
            }
            assert!(fd_args(sysno).iter().all(|&i| i < count), "{sysno}");
        }
    }

    #[test]
    fn fd_args_list_descriptor_arguments() {
        assert_eq!(fd_args(Sysno::write), &[0]);
        assert_eq!(fd_args(Sysno::fsync), &[0]);
        assert_eq!(fd_args(Sysno::sendfile), &[0, 1]);
        assert_eq!(fd_args(Sysno::copy_file_range), &[0, 2]);
        assert_eq!(fd_args(Sysno::splice), &[0, 2]);
        assert_eq!(fd_args(Sysno::mmap), &[4]);
        assert_eq!(fd_args(Sysno::connect), &[0]);
        assert_eq!(fd_args(Sysno::inotify_add_watch), &[0]);
        // A *at() call's dirfd belongs to its path, not to the fd list.
        assert!(fd_args(Sysno::openat).is_empty());
        assert!(fd_args(Sysno::socket).is_empty());
    }

    #[test]
    fn fd_args_only_on_desc_or_network_calls() {
        let with_fds = syscalls_in(Classes::DESC) | syscalls_in(Classes::NETWORK);
        for sysno in SysnoSet::all().iter() {
            if !fd_args(sysno).is_empty() {
                assert!(with_fds.contains(sysno), "{sysno}");
            }
        }
    }
}
