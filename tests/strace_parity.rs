//! strace parity (issue 13): an strace command line pasted into fault means
//! what it means to strace. Each case runs a small self-checking C program
//! (tests/programs/c/parity/) under the rules and checks what the program
//! saw: raw return values, errno, si_code, whether the real call ran, the
//! working directory. The syntax cases, accepted and refused, are tables.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;

/// Run `fault ARGS -- PROGRAM PROGRAM_ARGS` in /tmp.
fn fault(args: &[&str], program: &str, program_args: &[&str]) -> Outcome {
    Cmd::fault()
        .args(args)
        .arg("--")
        .arg(c_program(program))
        .args(program_args)
        .cwd("/tmp")
        .run()
}

/// The program exited 0 (it saw what it expected) and printed `lines`.
#[track_caller]
fn assert_saw(out: &Outcome, lines: &[&str]) {
    out.assert_code(0);
    for line in lines {
        assert!(
            out.lines().contains(line),
            "the program must print {line:?}\n{}",
            out.describe()
        );
    }
}

// 1. An empty set is a no-op.

#[test]
fn empty_sets_are_accepted_and_change_nothing() {
    for rule in [
        "fault=none",
        "inject=none:error=EIO",
        "fault=!all",
        "inject=?fsycn:retval=1",
    ] {
        let out = fault(&["-e", rule], "parity/chdirs", &["/", "ok"]);
        assert_saw(&out, &["chdir=0 errno=0 cwd=/"]);
        assert!(
            !out.stderr.contains("warning"),
            "a rule over no syscall is not worth a warning\n{}",
            out.describe()
        );
    }
}

// 2. retval= in the error range: injected raw, with strace's warning.

#[test]
fn retval_in_the_error_range_is_injected_raw() {
    let cases = [
        ("-1", "0xffffffffffffffff", 1, "18446744073709551615"),
        (
            "0xffffffffffffffff",
            "0xffffffffffffffff",
            1,
            "18446744073709551615",
        ),
        ("-4095", "0xfffffffffffff001", 4095, "18446744073709547521"),
        ("-2", "0xfffffffffffffffe", 2, "18446744073709551614"),
    ];
    for (retval, raw, errno, unsigned) in cases {
        let rule = format!("inject=geteuid:retval={retval}");
        let out = fault(&["-e", &rule], "parity/raw_geteuid", &[raw]);
        assert_saw(&out, &[&format!("geteuid={raw}")]);
        let warning =
            format!("Inadvertent injection of error {errno} is possible for retval={unsigned}");
        assert!(out.stderr.contains(&warning), "{}", out.describe());
    }
    // Outside the error range: no warning.
    let out = fault(
        &["-e", "inject=geteuid:retval=-4096"],
        "parity/raw_geteuid",
        &["0xfffffffffffff000"],
    );
    assert_saw(&out, &["geteuid=0xfffffffffffff000"]);
    assert!(!out.stderr.contains("Inadvertent"), "{}", out.describe());
}

// 3. A later -e rule replaces an earlier one for the syscalls it names.

#[test]
fn a_later_rule_replaces_an_earlier_one_for_its_syscalls() {
    let out = fault(
        &[
            "-e",
            "fault=chdir:error=ENOENT",
            "-e",
            "fault=chdir:error=EACCES",
        ],
        "parity/chdirs",
        &["/", "EACCES"],
    );
    assert_saw(&out, &["chdir=-1 errno=EACCES cwd=/tmp"]);
    // Only for the syscalls it names: fchdir keeps the first rule.
    let out = fault(
        &[
            "-e",
            "fault=chdir,fchdir:error=ENOENT",
            "--inject=chdir:error=EACCES",
        ],
        "parity/chdirs",
        &["/", "EACCES", "fchdir", "ENOENT"],
    );
    assert_saw(
        &out,
        &[
            "chdir=-1 errno=EACCES cwd=/tmp",
            "fchdir=-1 errno=ENOENT cwd=/tmp",
        ],
    );
    // The rule that lost every syscall says why it changed nothing.
    let out = fault(
        &[
            "-e",
            "fault=chdir:error=ENOENT",
            "--fault=chdir:error=EPERM",
        ],
        "parity/chdirs",
        &["/", "EPERM"],
    );
    assert_saw(&out, &["chdir=-1 errno=EPERM cwd=/tmp"]);
    assert!(
        out.stderr
            .contains("-e fault=chdir:error=ENOENT: changed no call; later -e rules"),
        "{}",
        out.describe()
    );
}

// 4. Nothing before the command's own first execve is tampered with or counted.

#[test]
fn the_launch_is_neither_tampered_with_nor_counted() {
    for mode in [&[][..], &["--no-seccomp"][..]] {
        let with = |rule: &'static str| -> Vec<&str> { [mode, &["-e", rule][..]].concat() };
        // The program's own execve is the first one counted.
        let out = fault(&with("fault=execve:error=EACCES"), "parity/exec_self", &[]);
        out.assert_code(3);
        assert!(
            out.lines() == ["launched", "execve=-1 errno=EACCES"],
            "{}",
            out.describe()
        );
        let out = fault(&with("fault=execve:when=2"), "parity/exec_self", &[]);
        assert_saw(&out, &["launched", "again ran"]);
        let out = fault(
            &with("fault=execve:error=EACCES:when=1"),
            "parity/exec_self",
            &[],
        );
        out.assert_code(3);
    }
    let out = Cmd::fault()
        .args(["-e", "fault=execve", "--", "true"])
        .run();
    out.assert_code(0);
}

// 5. signal= is delivered as strace delivers it: si_code SI_KERNEL.
// 6. syscall= without error=/retval= substitutes nothing: the call runs.

#[test]
fn signals_arrive_with_si_kernel_and_syscall_alone_substitutes_nothing() {
    for mode in [&[][..], &["--no-seccomp"][..]] {
        let args = [mode, &["-e", "inject=chdir:signal=USR1:syscall=gettid"][..]].concat();
        let out = fault(&args, "parity/chdirs", &["/", "ok"]);
        assert_saw(
            &out,
            &[
                "chdir=0 errno=0 cwd=/",
                "signal=SIGUSR1 si_code=SI_KERNEL count=1",
            ],
        );
        let args = [
            mode,
            &["-e", "inject=chdir:error=ENOENT:signal=SIGUSR1"][..],
        ]
        .concat();
        let out = fault(&args, "parity/chdirs", &["/", "ENOENT"]);
        assert_saw(
            &out,
            &[
                "chdir=-1 errno=ENOENT cwd=/tmp",
                "signal=SIGUSR1 si_code=SI_KERNEL count=1",
            ],
        );
    }
    // Pending while the call runs: a blocking call is interrupted.
    for mode in [&[][..], &["--no-seccomp"][..]] {
        let args = [
            mode,
            &["-e", "inject=clock_nanosleep,nanosleep:signal=USR1"][..],
        ]
        .concat();
        let out = fault(&args, "parity/blocking", &[]);
        assert_saw(
            &out,
            &["nanosleep=-1 errno=EINTR slept_less=yes si_code=SI_KERNEL"],
        );
    }
    // With a result, syscall= runs the substitute instead: chdir does not.
    let out = fault(
        &["-e", "inject=chdir:retval=0:syscall=gettid"],
        "parity/chdirs",
        &["/", "ok"],
    );
    assert_saw(&out, &["chdir=0 errno=0 cwd=/tmp"]);
}

// 7. poke_enter= and poke_exit=.

#[test]
fn pokes_write_where_the_arguments_point() {
    // "/tmp\0" over the path before chdir runs.
    let out = fault(
        &["-e", "inject=chdir:poke_enter=@arg1=2f746d7000"],
        "parity/poke",
        &["enter"],
    );
    assert_saw(&out, &["chdir=0 cwd=/tmp"]);
    // "poked\0" over what getcwd returned.
    let out = fault(
        &["-e", "inject=getcwd:poke_exit=@arg1=706f6b656400"],
        "parity/poke",
        &["exit"],
    );
    assert_saw(&out, &["getcwd buffer=poked"]);
    // A buffer whose end is unmapped gets its mapped start, and fault says
    // what it could not write.
    let out = fault(
        &[
            "-e",
            "inject=write:poke_enter=@arg2=4142434445464748:when=1",
        ],
        "parity/poke",
        &["partial"],
    );
    assert_saw(&out, &["write=-1 errno=EBADF mapped=ABCD"]);
    assert!(
        out.stderr.contains("poked 4 of 8 bytes;") && out.stderr.contains("is not mapped"),
        "{}",
        out.describe()
    );
    // Nothing mapped at all: strace's words, and the call goes on.
    let out = fault(
        &["-e", "inject=chdir:poke_enter=@arg1=00"],
        "parity/poke",
        &["unmapped"],
    );
    assert_saw(&out, &["chdir=-1 errno=EFAULT"]);
    assert!(
        out.stderr.contains("Failed to tamper with process")
            && out.stderr.contains("couldn't poke 1 bytes (@arg1 = 0x8)"),
        "{}",
        out.describe()
    );
}

// 8. -e trace=: rules tamper only with traced calls.

#[test]
fn rules_tamper_only_with_traced_calls() {
    for args in [
        &["-e", "trace=writev", "-e", "fault=desc"][..],
        &["--trace=writev", "--fault=%desc"][..],
        &["-e", "writev", "-f", "-qq", "-e", "fault=%desc"][..],
        &[
            "-ff",
            "-q",
            "-e",
            "t=writev",
            "-e",
            "inject=all:error=ENOSYS",
        ][..],
    ] {
        let out = fault(args, "parity/writes", &["ok", "ENOSYS"]);
        assert_saw(&out, &["write=5 errno=0", "writev=-1 errno=ENOSYS"]);
    }
    // The last -e trace= counts.
    let out = fault(
        &[
            "-e",
            "trace=writev",
            "-e",
            "trace=write",
            "-e",
            "fault=desc:when=1",
        ],
        "parity/writes",
        &["ENOSYS", "ok"],
    );
    assert_saw(&out, &["write=-1 errno=ENOSYS", "writev=5 errno=0"]);
    // --trace logs only the traced calls, stopped for the log alone if no
    // rule wants them; --trace=SET is -e trace=SET --trace.
    for args in [
        &["--trace", "-e", "trace=writev"][..],
        &["--trace=writev"][..],
        &[
            "--trace",
            "-e",
            "trace=writev",
            "-e",
            "inject=write:delay_enter=1",
        ][..],
    ] {
        let out = fault(args, "parity/writes", &["ok", "ok"]);
        out.assert_code(0);
        assert!(
            out.stderr.contains("] writev(3</dev/null>, ") && !out.stderr.contains("] write(3"),
            "{}",
            out.describe()
        );
    }
}

// Syntax: accepted and refused, with the messages.

#[test]
fn strace_syntax_accepted() {
    let accepted: &[&[&str]] = &[
        &["-e", "fault=none"],
        &["-e", "trace=none", "-e", "fault=chdir"],
        &["--fault=none"],
        &[
            "--inject=chdir:retval=0xffffffffffffffff",
            "-e",
            "trace=none",
        ],
        &[
            "-e",
            "inject=chdir:poke_enter=@arg1=00,",
            "-e",
            "trace=none",
        ],
        &["-e", "inject=%file:poke_exit=@arg3=00", "-e", "trace=none"],
        &["-f", "-e", "fault=none"],
        &["-ff", "-e", "fault=none"],
        &["-qq", "-e", "fault=none"],
    ];
    for args in accepted {
        let out = fault(args, "parity/chdirs", &["/", "ok"]);
        assert_saw(&out, &["chdir=0 errno=0 cwd=/"]);
    }
}

#[test]
fn strace_syntax_refused_with_the_part_named() {
    let long = format!("inject=chdir:poke_enter=@arg1={}", "00".repeat(1025));
    let refused: &[(&[&str], &str)] = &[
        (
            &["-e", "inject=chdir:poke_enter=@arg2=00"],
            "-e inject=chdir:poke_enter=@arg2=00: requested to tamper with argument #2, but system call 'chdir' has only 1 arguments",
        ),
        (
            &["-e", "inject=chdir:poke_enter=@arg1=0"],
            "invalid poke_enter= '@arg1=0': '@arg1=0': data must be an even number of hex digits",
        ),
        (
            &["-e", "inject=chdir:poke_enter=@arg8=00"],
            "'@arg8=00': N of @argN must be in 1..7",
        ),
        (
            &["-e", "inject=chdir:poke_exit=@arg1=00,@arg1=01"],
            "@arg1 given more than once",
        ),
        (
            &["-e", "inject=chdir:poke_exit=@arg1=00:poke_exit=@arg1=01"],
            "poke_exit= given more than once",
        ),
        (&["-e", &long], "at most 1024 bytes"),
        (
            &["-e", "fault=chdir:poke_enter=@arg1=00"],
            "poke_enter= is not allowed in -e fault= (use -e inject=)",
        ),
        (&["-e", "trace=fsycn", "-e", "fault=none"], "-e trace=fsycn: unknown syscall 'fsycn'"),
        (
            &["-e", "signal=none"],
            "-e signal=none: only -e inject=, -e fault= and -e trace= are supported",
        ),
        (&["--inject=chdir"], "-e inject=chdir: inject needs error="),
        // strace refuses it too: an inject with nothing to do.
        (&["-e", "inject=none"], "-e inject=none: inject needs error="),
        (
            &["-ff", "-o", "/tmp/fi-parity-ff.log", "-e", "fault=none"],
            "-ff with -o asks for one log file per process",
        ),
    ];
    let marker = Path::new("/nonexistent-fi-parity-marker");
    for (args, message) in refused {
        let out = fault(args, "parity/chdirs", &["/", "ok"]);
        assert_refused(&out, message, marker);
        assert!(out.stdout.is_empty(), "nothing may run\n{}", out.describe());
    }
}

// 10. Log lines closer to strace's.

#[test]
fn log_lines_read_like_strace() {
    // The call as the program made it, under syscall=; the signal on a
    // line of its own.
    let out = fault(
        &["-e", "inject=chdir:retval=0:syscall=gettid:signal=USR1"],
        "parity/chdirs",
        &["/", "ok"],
    );
    assert_saw(&out, &["signal=SIGUSR1 si_code=SI_KERNEL count=1"]);
    let lines: Vec<&str> = out.stderr.lines().collect();
    let call = lines
        .iter()
        .position(|line| line.contains("] chdir(\"/\") = 0 (INJECTED)"))
        .unwrap_or_else(|| panic!("the original call must be logged\n{}", out.describe()));
    assert!(
        lines[call + 1].ends_with("] --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_KERNEL} ---"),
        "{}",
        out.describe()
    );
    assert!(!out.stderr.contains("] gettid("), "{}", out.describe());
    // A raw retval= in the error range, as strace prints it.
    let out = fault(
        &["-e", "inject=geteuid:retval=-1"],
        "parity/raw_geteuid",
        &["0xffffffffffffffff"],
    );
    assert!(
        out.stderr
            .contains("geteuid() = 18446744073709551615 (INJECTED)"),
        "{}",
        out.describe()
    );
    // Restart errors by strace's names.
    let out = fault(
        &["-e", "fault=chdir:error=ERESTARTSYS:when=1"],
        "parity/chdirs",
        &["/", "ok"],
    );
    assert!(
        out.stderr
            .contains("= -1 ERESTARTSYS (To be restarted if SA_RESTART is set) (INJECTED)"),
        "{}",
        out.describe()
    );
}

#[test]
fn a_call_held_in_a_delay_when_fault_detaches_is_logged() {
    let dir = TestDir::new("parity-detach");
    let ticks = dir.join("ticks");
    let mut program = Cmd::new(c_program("ticker"))
        .arg(&ticks)
        .args(["200", "20"])
        .spawn();
    program.wait_for_stdout("a tick", Duration::from_secs(10), |s| s.contains("tick 1"));
    let fi = Cmd::fault()
        .arg("-p")
        .arg(program.pid().to_string())
        .args(["-e", "inject=write:delay_enter=30s", "-P"])
        .arg(&ticks)
        .spawn();
    // Let fault attach and hold a write, then detach it.
    std::thread::sleep(Duration::from_millis(800));
    fi.signal(libc::SIGINT);
    let out = fi.wait();
    assert!(
        out.stderr.contains("] write(")
            && out
                .stderr
                .contains(") = ? (DELAYED) [-e inject=write:delay_enter=30s]"),
        "the held write must be logged\n{}",
        out.describe()
    );
    // The program goes on, its write let go.
    program.signal(libc::SIGINT);
    let program = program.wait();
    assert_eq!(program.code(), Some(42), "{}", program.describe());
}
