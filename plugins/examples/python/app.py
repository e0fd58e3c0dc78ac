"""fsync-eio, written in Python with componentize-py.

fsync and fdatasync of the files matching path= fail with EIO, from the
when=-th call on. The same policy exists in Rust, C, JavaScript and WAT
beside this folder; all of them accept the same keys and word their errors
alike:

- path=GLOB (required): `*` matches any run of characters, `/` included;
  every other character matches itself; the whole path must match.
- when=N (default 1): a thread's first N-1 calls to fsync on matching files
  pass, and every one from the N-th on fails. fsync and fdatasync are
  counted apart, per thread; calls on other files are neither failed nor
  counted.
"""

import re

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import host, tracee
from wit_world.imports.setup import ConfigKey, Description, Subscription
from wit_world.imports.types import Action_Fail, Action_Pass, ExitAction_Keep, Verdict

KEYS = ("path", "when")
SYSCALLS = ["fsync", "fdatasync"]

# The policy's state lives in the module: fi keeps one instance of the
# component for the whole run.
pattern = None  # the compiled path= glob
when = 1  # the first call that fails
counts = {}  # (tid, syscall name) -> calls on matching files so far
failed = 0  # calls failed, for the summary
# Linux's EIO, from fault: Python's own errno module has WASI's numbers.
EIO = None


def compile_glob(glob):
    """A regular expression matching what `glob` matches."""
    return re.compile(".*".join(re.escape(part) for part in glob.split("*")), re.DOTALL)


def parse_count(text):
    """The when= value, or None if it is not a whole number from 1."""
    if not text.isascii() or not text.isdigit():
        return None
    n = int(text)
    return n if 1 <= n <= 0xFFFFFFFF else None


def verdict(action):
    return Verdict(
        action=action, delay_enter_ns=0, delay_exit_ns=0, signal=None, want_exit=False, log_call=False
    )


class Policy(exports.Policy):
    def describe(self):
        return Description(
            name="fsync-eio",
            summary="fsync and fdatasync of matching files fail with EIO (written in Python)",
            config=[
                ConfigKey(
                    "path",
                    "glob of the files whose syncs fail (* matches any characters, / too); required",
                ),
                ConfigKey(
                    "when",
                    "the first call that fails, counted per thread and syscall; later ones fail too; default 1",
                ),
            ],
        )

    def init(self, config):
        global pattern, when, EIO
        given = {}
        for key, value in config:
            if key not in KEYS:
                raise Err(f"unknown key '{key}' (known: {', '.join(KEYS)})")
            if key in given:
                raise Err(f"key '{key}' is given twice")
            given[key] = value
        if "path" not in given:
            raise Err("missing required key 'path'")
        if given["path"] == "":
            raise Err("path=: the pattern is empty")
        if "when" in given:
            when = parse_count(given["when"])
            if when is None:
                raise Err(f"when={given['when']}: expected a whole number from 1")
        pattern = compile_glob(given["path"])
        EIO = host.errno_number("EIO")
        # Decided at entry only, and a call let run is let run untouched:
        # fault answers these calls without a ptrace stop where it can.
        return Subscription(
            syscalls=SYSCALLS, entry_only=SYSCALLS, passes_untouched=SYSCALLS, paths=[]
        )

    def on_enter(self, call):
        global failed
        if not any(pattern.fullmatch(path) for path in tracee.call_paths()):
            return verdict(Action_Pass())
        key = (call.tid, host.syscall_name(call.nr))
        counts[key] = counts.get(key, 0) + 1
        if counts[key] < when:
            return verdict(Action_Pass())
        failed += 1
        return verdict(Action_Fail(EIO))

    def on_exit(self, call, result):
        return ExitAction_Keep()

    def thread_exited(self, tid):
        # A thread's counts go with it: a new thread that gets its id
        # starts from its own first call.
        for key in [key for key in counts if key[0] == tid]:
            del counts[key]

    def finish(self):
        host.log(f"fsync-eio: failed {failed} calls")
