// fsync-eio, written in JavaScript with jco / componentize-js.
//
// fsync and fdatasync of the files matching path= fail with EIO, from the
// when=-th call on. The same policy exists in Rust, C, Python and WAT beside
// this folder; all of them accept the same keys and word their errors alike:
//
// - path=GLOB (required): `*` matches any run of characters, `/` included;
//   every other character matches itself; the whole path must match.
// - when=N (default 1): a thread's first N-1 calls to fsync on matching files
//   pass, and every one from the N-th on fails. fsync and fdatasync are
//   counted apart, per thread; calls on other files are neither failed nor
//   counted.
//
// How WIT types look here: records are objects with camelCase fields,
// variants are { tag, val }, u64/s64 are BigInt, and an exported function
// returning result<T, E> returns T or throws E.

import { callPaths } from "fi:policy/tracee@0.6.0";
import { errnoNumber, log, syscallName } from "fi:policy/host@0.6.0";

const KEYS = ["path", "when"];
const SYSCALLS = ["fsync", "fdatasync"];

let pattern = null; // the path= glob, as a RegExp
let when = 1; // the first call that fails
const counts = new Map(); // "tid/syscall" -> calls on matching files so far
let failed = 0; // calls failed, for the summary
let eio = 0; // Linux's EIO, from fault

function compileGlob(glob) {
  const escape = (s) => s.replace(/[\\^$.|?+()[\]{}*]/g, "\\$&");
  return new RegExp("^" + glob.split("*").map(escape).join("[\\s\\S]*") + "$");
}

function verdict(action) {
  return {
    action,
    delayEnterNs: 0n,
    delayExitNs: 0n,
    signal: undefined,
    wantExit: false,
    logCall: false,
  };
}

export const policy = {
  describe() {
    return {
      name: "fsync-eio",
      summary: "fsync and fdatasync of matching files fail with EIO (written in JavaScript)",
      config: [
        {
          name: "path",
          help: "glob of the files whose syncs fail (* matches any characters, / too); required",
        },
        {
          name: "when",
          help: "the first call that fails, counted per thread and syscall; later ones fail too; default 1",
        },
      ],
    };
  },

  init(config) {
    const given = new Map();
    for (const [key, value] of config) {
      if (!KEYS.includes(key)) {
        throw `unknown key '${key}' (known: ${KEYS.join(", ")})`;
      }
      if (given.has(key)) {
        throw `key '${key}' is given twice`;
      }
      given.set(key, value);
    }
    if (!given.has("path")) {
      throw "missing required key 'path'";
    }
    if (given.get("path") === "") {
      throw "path=: the pattern is empty";
    }
    if (given.has("when")) {
      const text = given.get("when");
      const n = /^[0-9]+$/.test(text) ? Number(text) : 0;
      if (!(n >= 1 && n <= 0xffffffff)) {
        throw `when=${text}: expected a whole number from 1`;
      }
      when = n;
    }
    pattern = compileGlob(given.get("path"));
    eio = errnoNumber("EIO");
    // Decided at entry only, and a call let run is let run untouched: fault
    // answers these calls without a ptrace stop where it can.
    return { syscalls: SYSCALLS, entryOnly: SYSCALLS, passesUntouched: SYSCALLS, paths: [] };
  },

  onEnter(call) {
    if (!callPaths().some((path) => pattern.test(path))) {
      return verdict({ tag: "pass" });
    }
    const key = `${call.tid}/${syscallName(call.nr)}`;
    const count = (counts.get(key) ?? 0) + 1;
    counts.set(key, count);
    if (count < when) {
      return verdict({ tag: "pass" });
    }
    failed += 1;
    return verdict({ tag: "fail", val: eio });
  },

  onExit(call, result) {
    return { tag: "keep" };
  },

  threadExited(tid) {
    // A thread's counts go with it: a new thread that gets its id starts
    // from its own first call.
    for (const key of [...counts.keys()]) {
      if (key.startsWith(`${tid}/`)) {
        counts.delete(key);
      }
    }
  },

  finish() {
    log(`fsync-eio: failed ${failed} calls`);
  },
};
