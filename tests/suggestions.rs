//! Mistyped names on the command line get the one-line refusal and, where a
//! known name is close, "did you mean" it, as cargo and clap do: syscalls,
//! errnos, rule options, qualifiers, built-in plugins and plugins' keys.

mod common;

use common::*;

#[test]
fn a_mistyped_name_is_refused_with_the_name_meant() {
    let dir = TestDir::new("suggestions");
    let marker = dir.join("ran");
    let touch = format!("touch {}", arg(&marker));
    let cases: [(&[&str], &str); 6] = [
        (
            &["-e", "fault=opnat:error=EACCES"],
            "fault: -e fault=opnat:error=EACCES: unknown syscall 'opnat' (did you mean 'openat'?)",
        ),
        (
            &["-e", "inject=openat:error=EACESS"],
            "fault: -e inject=openat:error=EACESS: unknown errno 'EACESS' (did you mean 'EACCES'?)",
        ),
        (
            &["-e", "fualt=openat:error=EACCES"],
            "(did you mean 'fault='?)",
        ),
        (
            &["-e", "inject=openat:eror=EIO"],
            "unknown option 'eror=EIO' (did you mean 'error='?)",
        ),
        (
            &["--plugin", "short-wirte"],
            "no built-in plugin named 'short-wirte' (did you mean 'short-write'?)",
        ),
        (
            &["--plugin", "path-errno:pth=/nonexistent/*"],
            "fault: --plugin path-errno:pth=/nonexistent/*: unknown key 'pth' (did you mean 'path'?)",
        ),
    ];
    for (args, message) in cases {
        let out = Cmd::fault()
            .args(args)
            .args(["--", "sh", "-c", &touch])
            .run();
        assert_refused(&out, message, &marker);
        assert_eq!(
            out.stderr.lines().count(),
            1,
            "one line\n{}",
            out.describe()
        );
    }
}
