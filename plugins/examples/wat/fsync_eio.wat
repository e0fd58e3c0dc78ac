(component
  ;; fsync-eio, written by hand in the WebAssembly text format.
  ;;
  ;; fsync and fdatasync of the files matching path= fail with EIO, from the
  ;; when=-th call on: the same policy, keys and error messages as the Rust, C,
  ;; Python and JavaScript versions beside this folder.
  ;;
  ;; - path=GLOB (required): `*` matches any run of bytes, `/` included; every
  ;;   other byte matches itself; the whole path must match.
  ;; - when=N (default 1): a thread's first N-1 calls to fsync on matching files
  ;;   pass, and every one from the N-th on fails. fsync and fdatasync are
  ;;   counted apart, per thread; calls on other files are neither failed nor
  ;;   counted. This version remembers 1024 (thread, syscall) pairs; past that
  ;;   it forgets the oldest, whose next call then counts as its first.
  ;;
  ;; No toolchain made this file, so it shows what every other one generates:
  ;; a core module that speaks in i32/i64 and linear memory, and a component
  ;; around it that lifts and lowers those to WIT types by the canonical ABI.
  ;;
  ;; fi loads it as it is (fi --plugin ./fsync_eio.wat:path=...);
  ;; `wasm-tools parse fsync_eio.wat -o fsync_eio.wasm` makes the binary.

  ;; ---------------------------------------------------------------------
  ;; Imports. The contract's types live in the interfaces fi:policy/types
  ;; (those of a call) and fi:policy/setup (those of describe and init); a
  ;; component names them by importing those interfaces, as every
  ;; toolchain's output does. The shapes must be exactly the WIT ones.
  (import "fi:policy/types@0.6.0" (instance $types
    (type $args (tuple u64 u64 u64 u64 u64 u64))
    (type $syscall' (record (field "nr" u32) (field "args" $args) (field "pid" s32) (field "tid" s32)))
    (export "syscall" (type $syscall (eq $syscall')))
    (type $errno' u16)
    (export "errno" (type $errno (eq $errno')))
    (type $invocation' (record (field "nr" u32) (field "args" $args)))
    (export "invocation" (type $invocation (eq $invocation')))
    (type $arg-change' (record (field "index" u8) (field "value" u64)))
    (export "arg-change" (type $arg-change (eq $arg-change')))
    (type $action' (variant (case "pass") (case "fail" $errno) (case "return" s64) (case "rewrite" (list $arg-change))
                            (case "replace" $invocation)))
    (export "action" (type $action (eq $action')))
    (type $verdict' (record (field "action" $action) (field "delay-enter-ns" u64) (field "delay-exit-ns" u64)
                            (field "signal" (option u8)) (field "want-exit" bool) (field "log-call" bool)))
    (export "verdict" (type $verdict (eq $verdict')))
    (type $exit-action' (variant (case "keep") (case "fail" $errno) (case "return" s64) (case "then" $invocation)))
    (export "exit-action" (type $exit-action (eq $exit-action')))
  ))
  (alias export $types "syscall" (type $syscall))
  (alias export $types "verdict" (type $verdict))
  (alias export $types "exit-action" (type $exit-action))
  (import "fi:policy/setup@0.6.0" (instance $setup
    (type $subscription' (record (field "syscalls" (list string)) (field "entry-only" (list string))
                                 (field "passes-untouched" (list string)) (field "paths" (list string))))
    (export "subscription" (type $subscription (eq $subscription')))
    (type $config-key' (record (field "name" string) (field "help" string)))
    (export "config-key" (type $config-key (eq $config-key')))
    (type $description' (record (field "name" string) (field "summary" string) (field "config" (list $config-key))))
    (export "description" (type $description (eq $description')))
  ))
  (alias export $setup "subscription" (type $subscription))
  (alias export $setup "description" (type $description))

  ;; Only the functions this plugin calls; fault provides more.
  (import "fi:policy/tracee@0.6.0" (instance $tracee
    (export "call-paths" (func (result (list string))))
  ))
  (import "fi:policy/host@0.6.0" (instance $host
    (export "log" (func (param "message" string)))
    (export "errno-number" (func (param "name" string) (result (option u16))))
  ))

  ;; ---------------------------------------------------------------------
  ;; The memory and its allocator, in a module of their own: lowering an
  ;; import that returns a list needs them, and the main module needs the
  ;; lowered import, so they must exist first.
  ;;
  ;; The allocator only moves a pointer forward (kept at address 8). The
  ;; policy frees everything at once: each on-enter moves the pointer back to
  ;; the floor (address 12), which init raises above the configuration it
  ;; keeps.
  (core module $Memory
    (memory (export "memory") 1)
    (data (i32.const 8) "\00\40\00\00")  ;; next free byte: 0x4000
    (data (i32.const 12) "\00\40\00\00") ;; floor: 0x4000

    ;; cabi_realloc(old ptr, old size, alignment, new size) -> ptr: what the
    ;; host calls to place lists and strings it passes in.
    (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
      (local $ptr i32) (local $end i32)
      ;; ptr = next free byte, rounded up to the alignment (a power of 2).
      (local.set $ptr
        (i32.and
          (i32.add (i32.load (i32.const 8)) (i32.sub (local.get $align) (i32.const 1)))
          (i32.xor (i32.sub (local.get $align) (i32.const 1)) (i32.const -1))))
      (local.set $end (i32.add (local.get $ptr) (local.get $size)))
      ;; Grow the memory by whole 64 KiB pages when the block overruns it.
      (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
        (then
          (if (i32.eq
                (memory.grow
                  (i32.sub
                    (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16))
                    (memory.size)))
                (i32.const -1))
            (then unreachable))))
      (i32.store (i32.const 8) (local.get $end))
      ;; A reallocation keeps the old contents.
      (if (local.get $old)
        (then (memory.copy (local.get $ptr) (local.get $old) (local.get $old_size))))
      (local.get $ptr))
  )
  (core instance $memory (instantiate $Memory))
  (alias core export $memory "memory" (core memory $mem))
  (alias core export $memory "cabi_realloc" (core func $realloc))

  ;; Lowering: the imported component functions as core functions.
  ;; call-paths returns a list (two i32s), more than a core function may
  ;; return, so its core form takes the address to write (ptr, len) to.
  (alias export $tracee "call-paths" (func $call-paths))
  (core func $call-paths (canon lower (func $call-paths) (memory $mem) (realloc $realloc)))
  ;; log takes a string: (ptr, len) in our memory.
  (alias export $host "log" (func $log))
  (core func $log (canon lower (func $log) (memory $mem)))
  ;; errno-number takes a string and returns an option (two values, again
  ;; more than a core function may return): written to the address given.
  (alias export $host "errno-number" (func $errno-number))
  (core func $errno-number (canon lower (func $errno-number) (memory $mem)))

  ;; ---------------------------------------------------------------------
  ;; The policy.
  (core module $Policy
    (import "memory" "memory" (memory 1))
    (import "memory" "cabi_realloc" (func $alloc (param i32 i32 i32 i32) (result i32)))
    (import "fi" "call-paths" (func $call_paths (param i32)))
    (import "fi" "log" (func $log (param i32 i32)))
    (import "fi" "errno-number" (func $errno_number (param i32 i32 i32)))

    ;; Memory map:
    ;;   0x0008  allocator: next free byte     0x000c  allocator: floor
    ;;   0x0040  return area (88 bytes): exports return records through it
    ;;   0x0098  where errno-number writes its option: tag, then the u16 at +2
    ;;   0x00a0  where call-paths writes its list: (ptr, len)
    ;;   0x00a8  a list<config-key> or list<string> of 2 (32 bytes)
    ;;   0x0100  constant strings, each a u32 length and its bytes
    ;;   0x0c00  a scratch buffer of 64 bytes for the summary
    ;;   0x1000  counters: 1024 of (tid, syscall nr, count), 12 bytes each
    ;;   0x4000  the heap
    (global $RET i32 (i32.const 0x40))
    (global $ERRNO i32 (i32.const 0x98))
    (global $PATHS i32 (i32.const 0xa0))
    (global $LIST i32 (i32.const 0xa8))
    (global $SCRATCH i32 (i32.const 0xc00))
    (global $COUNTERS i32 (i32.const 0x1000))
    (global $MAX_COUNTERS i32 (i32.const 1024))

    (global $NAME i32 (i32.const 0x100))
    (data (i32.const 0x100) "\09\00\00\00fsync-eio")
    (global $SUMMARY i32 (i32.const 0x180))
    (data (i32.const 0x180) "\44\00\00\00fsync and fdatasync of matching files fail with EIO (written in WAT)")
    (global $PATH i32 (i32.const 0x200))
    (data (i32.const 0x200) "\04\00\00\00path")
    (global $PATH_HELP i32 (i32.const 0x280))
    (data (i32.const 0x280) "\4e\00\00\00glob of the files whose syncs fail (* matches any characters, / too); required")
    (global $WHEN i32 (i32.const 0x300))
    (data (i32.const 0x300) "\04\00\00\00when")
    (global $WHEN_HELP i32 (i32.const 0x380))
    (data (i32.const 0x380) "\59\00\00\00the first call that fails, counted per thread and syscall; later ones fail too; default 1")
    (global $FSYNC i32 (i32.const 0x400))
    (data (i32.const 0x400) "\05\00\00\00fsync")
    (global $FDATASYNC i32 (i32.const 0x480))
    (data (i32.const 0x480) "\09\00\00\00fdatasync")
    (global $UNKNOWN_1 i32 (i32.const 0x500))
    (data (i32.const 0x500) "\0d\00\00\00unknown key '")
    (global $UNKNOWN_2 i32 (i32.const 0x580))
    (data (i32.const 0x580) "\15\00\00\00' (known: path, when)")
    (global $TWICE_1 i32 (i32.const 0x600))
    (data (i32.const 0x600) "\05\00\00\00key '")
    (global $TWICE_2 i32 (i32.const 0x680))
    (data (i32.const 0x680) "\10\00\00\00' is given twice")
    (global $MISSING i32 (i32.const 0x700))
    (data (i32.const 0x700) "\1b\00\00\00missing required key 'path'")
    (global $EMPTY i32 (i32.const 0x780))
    (data (i32.const 0x780) "\1b\00\00\00path=: the pattern is empty")
    (global $BAD_WHEN_1 i32 (i32.const 0x800))
    (data (i32.const 0x800) "\05\00\00\00when=")
    (global $BAD_WHEN_2 i32 (i32.const 0x880))
    (data (i32.const 0x880) "\20\00\00\00: expected a whole number from 1")
    (global $FAILED_1 i32 (i32.const 0x900))
    (data (i32.const 0x900) "\12\00\00\00fsync-eio: failed ")
    (global $FAILED_2 i32 (i32.const 0x980))
    (data (i32.const 0x980) "\06\00\00\00 calls")
    (global $EIO_NAME i32 (i32.const 0xa00))
    (data (i32.const 0xa00) "\03\00\00\00EIO")

    ;; The configuration: the pattern (in the heap, below the floor) and the
    ;; first call to fail.
    (global $pattern (mut i32) (i32.const 0))
    (global $pattern_len (mut i32) (i32.const 0))
    (global $when (mut i32) (i32.const 1))
    ;; Counters in use, the next one to reuse once all are, calls failed.
    (global $counters (mut i32) (i32.const 0))
    (global $evict (mut i32) (i32.const 0))
    (global $failed (mut i64) (i64.const 0))
    ;; Linux's EIO, asked of fault by name in init.
    (global $eio (mut i32) (i32.const 0))

    ;; Store a constant string as (ptr, len) at $at: how a string field of a
    ;; record or list element looks in memory.
    (func $store_string (param $at i32) (param $s i32)
      (i32.store (local.get $at) (i32.add (local.get $s) (i32.const 4)))
      (i32.store offset=4 (local.get $at) (i32.load (local.get $s))))

    ;; Copy $len bytes from $src to $dst; return the end of the copy.
    (func $append (param $dst i32) (param $src i32) (param $len i32) (result i32)
      (memory.copy (local.get $dst) (local.get $src) (local.get $len))
      (i32.add (local.get $dst) (local.get $len)))

    ;; Append a constant string.
    (func $append_const (param $dst i32) (param $s i32) (result i32)
      (call $append (local.get $dst) (i32.add (local.get $s) (i32.const 4)) (i32.load (local.get $s))))

    ;; Whether bytes [$ptr, $ptr+$len) equal the constant string $s.
    (func $equals (param $ptr i32) (param $len i32) (param $s i32) (result i32)
      (local $i i32)
      (if (i32.ne (local.get $len) (i32.load (local.get $s)))
        (then (return (i32.const 0))))
      (block $differ
        (loop $next
          (if (i32.eq (local.get $i) (local.get $len))
            (then (return (i32.const 1))))
          (br_if $differ
            (i32.ne
              (i32.load8_u (i32.add (local.get $ptr) (local.get $i)))
              (i32.load8_u (i32.add (i32.add (local.get $s) (i32.const 4)) (local.get $i)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (i32.const 0))

    ;; Whether the text matches the pattern, where `*` matches any run of
    ;; bytes. On a mismatch after a `*`, let that star take one more byte and
    ;; try again from just after it.
    (func $glob (param $p i32) (param $plen i32) (param $t i32) (param $tlen i32) (result i32)
      (local $pi i32) (local $ti i32)
      (local $star i32)  ;; pattern index just after the last `*`, or -1
      (local $mark i32)  ;; text index where that star's run ends
      (local.set $star (i32.const -1))
      (block $text_done
        (loop $next
          (br_if $text_done (i32.ge_u (local.get $ti) (local.get $tlen)))
          (if (i32.lt_u (local.get $pi) (local.get $plen))
            (then
              ;; A `*`: for now it matches nothing.
              (if (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $pi))) (i32.const 42))
                (then
                  (local.set $pi (i32.add (local.get $pi) (i32.const 1)))
                  (local.set $star (local.get $pi))
                  (local.set $mark (local.get $ti))
                  (br $next)))
              ;; The same byte: both move on.
              (if (i32.eq
                    (i32.load8_u (i32.add (local.get $p) (local.get $pi)))
                    (i32.load8_u (i32.add (local.get $t) (local.get $ti))))
                (then
                  (local.set $pi (i32.add (local.get $pi) (i32.const 1)))
                  (local.set $ti (i32.add (local.get $ti) (i32.const 1)))
                  (br $next)))))
          ;; A mismatch: without a star to stretch, no match.
          (if (i32.eq (local.get $star) (i32.const -1))
            (then (return (i32.const 0))))
          (local.set $mark (i32.add (local.get $mark) (i32.const 1)))
          (local.set $pi (local.get $star))
          (local.set $ti (local.get $mark))
          (br $next)))
      ;; The text is used up: what is left of the pattern must be stars.
      (block $pattern_done
        (loop $stars
          (br_if $pattern_done (i32.ge_u (local.get $pi) (local.get $plen)))
          (br_if $pattern_done
            (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $pi))) (i32.const 42)))
          (local.set $pi (i32.add (local.get $pi) (i32.const 1)))
          (br $stars)))
      (i32.eq (local.get $pi) (local.get $plen)))

    ;; when=: a whole number from 1 that fits in 32 bits, or 0.
    (func $parse_count (param $ptr i32) (param $len i32) (result i32)
      (local $i i32) (local $digit i32) (local $n i64)
      (if (i32.eqz (local.get $len)) (then (return (i32.const 0))))
      (loop $next
        (local.set $digit
          (i32.sub (i32.load8_u (i32.add (local.get $ptr) (local.get $i))) (i32.const 48)))
        (if (i32.gt_u (local.get $digit) (i32.const 9)) (then (return (i32.const 0))))
        (local.set $n
          (i64.add (i64.mul (local.get $n) (i64.const 10)) (i64.extend_i32_u (local.get $digit))))
        (if (i64.gt_u (local.get $n) (i64.const 0xffffffff)) (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $i) (local.get $len))))
      (i32.wrap_i64 (local.get $n)))

    ;; describe: () -> description. A record of three (ptr, len) pairs is
    ;; returned through memory: the core function returns its address.
    (func (export "describe") (result i32)
      (call $store_string (global.get $RET) (global.get $NAME))
      (call $store_string (i32.add (global.get $RET) (i32.const 8)) (global.get $SUMMARY))
      ;; config: a list of two config-keys (name, help), 16 bytes each.
      (call $store_string (global.get $LIST) (global.get $PATH))
      (call $store_string (i32.add (global.get $LIST) (i32.const 8)) (global.get $PATH_HELP))
      (call $store_string (i32.add (global.get $LIST) (i32.const 16)) (global.get $WHEN))
      (call $store_string (i32.add (global.get $LIST) (i32.const 24)) (global.get $WHEN_HELP))
      (i32.store offset=16 (global.get $RET) (global.get $LIST))
      (i32.store offset=20 (global.get $RET) (i32.const 2))
      (global.get $RET))

    ;; init's error: result<subscription, string> with tag 1 (err) at +0 and
    ;; the string's (ptr, len) at +4.
    (func $error (param $ptr i32) (param $end i32) (result i32)
      (i32.store8 (global.get $RET) (i32.const 1))
      (i32.store offset=4 (global.get $RET) (local.get $ptr))
      (i32.store offset=8 (global.get $RET) (i32.sub (local.get $end) (local.get $ptr)))
      (global.get $RET))

    ;; init: (list<tuple<string, string>>) -> result<subscription, string>.
    ;; The list arrives as (ptr, len); each element is 16 bytes: the key's
    ;; (ptr, len), then the value's.
    (func (export "init") (param $config i32) (param $count i32) (result i32)
      (local $i i32) (local $entry i32) (local $key i32) (local $key_len i32)
      (local $value i32) (local $value_len i32)
      (local $path_seen i32) (local $when_seen i32) (local $when_text i32) (local $when_len i32)
      (local $msg i32)
      (block $keys_done
        (loop $next
          (br_if $keys_done (i32.ge_u (local.get $i) (local.get $count)))
          (local.set $entry (i32.add (local.get $config) (i32.shl (local.get $i) (i32.const 4))))
          (local.set $key (i32.load (local.get $entry)))
          (local.set $key_len (i32.load offset=4 (local.get $entry)))
          (local.set $value (i32.load offset=8 (local.get $entry)))
          (local.set $value_len (i32.load offset=12 (local.get $entry)))
          (block $known
            (br_if $known (call $equals (local.get $key) (local.get $key_len) (global.get $PATH)))
            (br_if $known (call $equals (local.get $key) (local.get $key_len) (global.get $WHEN)))
            ;; "unknown key 'KEY' (known: path, when)", built in the heap.
            (local.set $msg (call $alloc (i32.const 0) (i32.const 0) (i32.const 1)
                                         (i32.add (local.get $key_len) (i32.const 64))))
            (return (call $error (local.get $msg)
              (call $append_const
                (call $append
                  (call $append_const (local.get $msg) (global.get $UNKNOWN_1))
                  (local.get $key) (local.get $key_len))
                (global.get $UNKNOWN_2)))))
          ;; A known key: given twice?
          (if (if (result i32) (call $equals (local.get $key) (local.get $key_len) (global.get $PATH))
                (then (local.get $path_seen))
                (else (local.get $when_seen)))
            (then
              (local.set $msg (call $alloc (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 64)))
              (return (call $error (local.get $msg)
                (call $append_const
                  (call $append
                    (call $append_const (local.get $msg) (global.get $TWICE_1))
                    (local.get $key) (local.get $key_len))
                  (global.get $TWICE_2))))))
          (if (call $equals (local.get $key) (local.get $key_len) (global.get $PATH))
            (then
              (local.set $path_seen (i32.const 1))
              (global.set $pattern (local.get $value))
              (global.set $pattern_len (local.get $value_len)))
            (else
              (local.set $when_seen (i32.const 1))
              (local.set $when_text (local.get $value))
              (local.set $when_len (local.get $value_len))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (if (i32.eqz (local.get $path_seen))
        (then (return (call $error
          (i32.add (global.get $MISSING) (i32.const 4))
          (i32.add (i32.add (global.get $MISSING) (i32.const 4)) (i32.load (global.get $MISSING)))))))
      (if (i32.eqz (global.get $pattern_len))
        (then (return (call $error
          (i32.add (global.get $EMPTY) (i32.const 4))
          (i32.add (i32.add (global.get $EMPTY) (i32.const 4)) (i32.load (global.get $EMPTY)))))))
      (if (local.get $when_seen)
        (then
          (global.set $when (call $parse_count (local.get $when_text) (local.get $when_len)))
          (if (i32.eqz (global.get $when))
            (then
              ;; "when=VALUE: expected a whole number from 1"
              (local.set $msg (call $alloc (i32.const 0) (i32.const 0) (i32.const 1)
                                           (i32.add (local.get $when_len) (i32.const 64))))
              (return (call $error (local.get $msg)
                (call $append_const
                  (call $append
                    (call $append_const (local.get $msg) (global.get $BAD_WHEN_1))
                    (local.get $when_text) (local.get $when_len))
                  (global.get $BAD_WHEN_2))))))))
      ;; Keep the configuration: later calls free only what lies above it.
      (i32.store (i32.const 12) (i32.load (i32.const 8)))
      ;; EIO's number, from fault (the option's tag is 1 when it is some).
      (call $errno_number (i32.add (global.get $EIO_NAME) (i32.const 4))
                          (i32.load (global.get $EIO_NAME)) (global.get $ERRNO))
      (if (i32.eqz (i32.load8_u (global.get $ERRNO))) (then unreachable))
      (global.set $eio (i32.load16_u offset=2 (global.get $ERRNO)))
      ;; ok(subscription): tag 0, then four lists' (ptr, len). syscalls,
      ;; entry-only and passes-untouched are the same ["fsync", "fdatasync"]:
      ;; decided at entry only, and let run untouched. No paths: any file.
      (call $store_string (global.get $LIST) (global.get $FSYNC))
      (call $store_string (i32.add (global.get $LIST) (i32.const 8)) (global.get $FDATASYNC))
      (i32.store8 (global.get $RET) (i32.const 0))
      (i32.store offset=4 (global.get $RET) (global.get $LIST))
      (i32.store offset=8 (global.get $RET) (i32.const 2))
      (i32.store offset=12 (global.get $RET) (global.get $LIST))
      (i32.store offset=16 (global.get $RET) (i32.const 2))
      (i32.store offset=20 (global.get $RET) (global.get $LIST))
      (i32.store offset=24 (global.get $RET) (i32.const 2))
      (i32.store offset=28 (global.get $RET) (i32.const 0))
      (i32.store offset=32 (global.get $RET) (i32.const 0))
      (global.get $RET))

    ;; The count of calls so far for (tid, nr): the address of its slot.
    (func $counter (param $tid i32) (param $nr i32) (result i32)
      (local $i i32) (local $slot i32)
      (block $not_found
        (loop $next
          (br_if $not_found (i32.ge_u (local.get $i) (global.get $counters)))
          (local.set $slot (i32.add (global.get $COUNTERS) (i32.mul (local.get $i) (i32.const 12))))
          (if (i32.and
                (i32.eq (i32.load (local.get $slot)) (local.get $tid))
                (i32.eq (i32.load offset=4 (local.get $slot)) (local.get $nr)))
            (then (return (i32.add (local.get $slot) (i32.const 8)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      ;; A new pair: a free slot, or the oldest one.
      (if (i32.lt_u (global.get $counters) (global.get $MAX_COUNTERS))
        (then
          (local.set $i (global.get $counters))
          (global.set $counters (i32.add (global.get $counters) (i32.const 1))))
        (else
          (local.set $i (global.get $evict))
          (global.set $evict
            (i32.rem_u (i32.add (global.get $evict) (i32.const 1)) (global.get $MAX_COUNTERS)))))
      (local.set $slot (i32.add (global.get $COUNTERS) (i32.mul (local.get $i) (i32.const 12))))
      (i32.store (local.get $slot) (local.get $tid))
      (i32.store offset=4 (local.get $slot) (local.get $nr))
      (i32.store offset=8 (local.get $slot) (i32.const 0))
      (i32.add (local.get $slot) (i32.const 8)))

    ;; on-enter: (syscall) -> verdict. The syscall record arrives flattened:
    ;; nr, the six argument registers, pid, tid. The verdict is returned
    ;; through memory (88 bytes):
    ;;   +0 action tag (0 pass, 1 fail, 2 return, 3 rewrite, 4 replace)
    ;;   +8 action payload (fail: the errno as u16; replace, the largest:
    ;;      an invocation, 56 bytes)
    ;;   +64 delay-enter-ns   +72 delay-exit-ns
    ;;   +80 signal (an option: tag, then the u8)   +82 want-exit   +83 log-call
    (func (export "on-enter")
      (param $nr i32) (param i64) (param i64) (param i64) (param i64) (param i64) (param i64)
      (param $pid i32) (param $tid i32) (result i32)
      (local $paths i32) (local $n i32) (local $i i32) (local $path i32) (local $matched i32)
      (local $count i32)
      ;; Pass, no delays, no signal, no on-exit, no log mark.
      (i64.store offset=0 (global.get $RET) (i64.const 0))
      (i64.store offset=8 (global.get $RET) (i64.const 0))
      (i64.store offset=16 (global.get $RET) (i64.const 0))
      (i64.store offset=24 (global.get $RET) (i64.const 0))
      (i64.store offset=32 (global.get $RET) (i64.const 0))
      (i64.store offset=40 (global.get $RET) (i64.const 0))
      (i64.store offset=48 (global.get $RET) (i64.const 0))
      (i64.store offset=56 (global.get $RET) (i64.const 0))
      (i64.store offset=64 (global.get $RET) (i64.const 0))
      (i64.store offset=72 (global.get $RET) (i64.const 0))
      (i64.store offset=80 (global.get $RET) (i64.const 0))
      ;; Free what earlier calls allocated; then fetch the call's paths.
      (i32.store (i32.const 8) (i32.load (i32.const 12)))
      (call $call_paths (global.get $PATHS))
      (local.set $paths (i32.load (global.get $PATHS)))
      (local.set $n (i32.load offset=4 (global.get $PATHS)))
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $path (i32.add (local.get $paths) (i32.shl (local.get $i) (i32.const 3))))
          (local.set $matched
            (call $glob (global.get $pattern) (global.get $pattern_len)
                        (i32.load (local.get $path)) (i32.load offset=4 (local.get $path))))
          (br_if $done (local.get $matched))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (if (i32.eqz (local.get $matched))
        (then (return (global.get $RET))))
      ;; Count the call; fail it from the when-th on.
      (local.set $count (call $counter (local.get $tid) (local.get $nr)))
      (if (i32.ne (i32.load (local.get $count)) (i32.const -1))
        (then (i32.store (local.get $count) (i32.add (i32.load (local.get $count)) (i32.const 1)))))
      (if (i32.ge_u (i32.load (local.get $count)) (global.get $when))
        (then
          (global.set $failed (i64.add (global.get $failed) (i64.const 1)))
          (i32.store8 (global.get $RET) (i32.const 1))                  ;; fail
          (i32.store16 offset=8 (global.get $RET) (global.get $eio))))  ;; EIO
      (global.get $RET))

    ;; on-exit: (syscall, s64) -> exit-action. Never asked for (no verdict
    ;; sets want-exit), but the contract has it: keep the result (tag 0).
    (func (export "on-exit")
      (param i32 i64 i64 i64 i64 i64 i64 i32 i32) (param $result i64) (result i32)
      (i64.store (global.get $RET) (i64.const 0))
      (global.get $RET))

    ;; thread-exited: (tid). A new thread may get the id: its counts start
    ;; afresh.
    (func (export "thread-exited") (param $tid i32)
      (local $i i32) (local $slot i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (global.get $counters)))
          (local.set $slot (i32.add (global.get $COUNTERS) (i32.mul (local.get $i) (i32.const 12))))
          (if (i32.eq (i32.load (local.get $slot)) (local.get $tid))
            (then (i32.store offset=8 (local.get $slot) (i32.const 0))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next))))

    ;; finish: log "fsync-eio: failed N calls".
    (func (export "finish")
      (local $end i32) (local $digits i32) (local $n i64)
      (local.set $end (call $append_const (global.get $SCRATCH) (global.get $FAILED_1)))
      ;; The decimal digits of N, written backwards into the top of the
      ;; scratch buffer, then copied into place.
      (local.set $n (global.get $failed))
      (local.set $digits (i32.add (global.get $SCRATCH) (i32.const 64)))
      (loop $digit
        (local.set $digits (i32.sub (local.get $digits) (i32.const 1)))
        (i32.store8 (local.get $digits)
          (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $n) (i64.const 10)))))
        (local.set $n (i64.div_u (local.get $n) (i64.const 10)))
        (br_if $digit (i64.ne (local.get $n) (i64.const 0))))
      (local.set $end
        (call $append (local.get $end) (local.get $digits)
          (i32.sub (i32.add (global.get $SCRATCH) (i32.const 64)) (local.get $digits))))
      (local.set $end (call $append_const (local.get $end) (global.get $FAILED_2)))
      (call $log (global.get $SCRATCH) (i32.sub (local.get $end) (global.get $SCRATCH))))
  )
  (core instance $policy (instantiate $Policy
    (with "memory" (instance $memory))
    (with "fi" (instance
      (export "call-paths" (func $call-paths))
      (export "log" (func $log))
      (export "errno-number" (func $errno-number))))
  ))

  ;; ---------------------------------------------------------------------
  ;; Lifting: the core exports as component functions of the WIT types.
  ;; Results that hold strings or lists are read from memory; init's list
  ;; argument is written into memory with cabi_realloc.
  (func $describe (result $description)
    (canon lift (core func $policy "describe") (memory $mem)))
  (func $init (param "config" (list (tuple string string))) (result (result $subscription (error string)))
    (canon lift (core func $policy "init") (memory $mem) (realloc $realloc)))
  (func $on-enter (param "call" $syscall) (result $verdict)
    (canon lift (core func $policy "on-enter") (memory $mem)))
  (func $on-exit (param "call" $syscall) (param "result" s64) (result $exit-action)
    (canon lift (core func $policy "on-exit") (memory $mem)))
  (func $thread-exited (param "tid" s32)
    (canon lift (core func $policy "thread-exited")))
  (func $finish
    (canon lift (core func $policy "finish")))

  (instance $exports
    (export "describe" (func $describe))
    (export "init" (func $init))
    (export "on-enter" (func $on-enter))
    (export "on-exit" (func $on-exit))
    (export "thread-exited" (func $thread-exited))
    (export "finish" (func $finish)))
  (export "fi:policy/policy@0.6.0" (instance $exports))
)
