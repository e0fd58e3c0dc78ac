// fsync-eio, written in C against bindings from `wit-bindgen c`.
//
// fsync and fdatasync of the files matching path= fail with EIO, from the
// when=-th call on. The same policy exists in Rust, Python, JavaScript and
// WAT beside this folder; all of them accept the same keys and word their
// errors alike:
//
// - path=GLOB (required): `*` matches any run of characters, `/` included;
//   every other character matches itself; the whole path must match.
// - when=N (default 1): a thread's first N-1 calls to fsync on matching files
//   pass, and every one from the N-th on fails. fsync and fdatasync are
//   counted apart, per thread; calls on other files are neither failed nor
//   counted.
//
// Who owns what (the canonical ABI, as wit-bindgen's C bindings follow it):
// - arguments fi passes to an exported function belong to it: free them
//   (`config` in init);
// - what an exported function returns must be malloc'd: the generated
//   post-return function frees it once fi has copied it out, so use
//   plugin_string_dup, never plugin_string_set, for returned strings;
// - what an imported function returns belongs to the caller: free it.

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

// Linux's EIO, asked of fault by name in init: wasi-libc's <errno.h> has
// WASI's numbers, not Linux's.
static uint16_t eio;
// The path= pattern, NUL-terminated.
static char *pattern;
// The when= count: the first call to fail.
static uint32_t when = 1;
// Calls failed, for the summary.
static uint64_t failed;

// Calls on matching files so far, per (thread, syscall number). A plain
// array searched from the start: enough for an example.
struct counter {
    int32_t tid;
    uint32_t nr;
    uint32_t count;
};
static struct counter *counters;
static size_t n_counters, cap_counters;

static uint32_t *counter_for(int32_t tid, uint32_t nr) {
    for (size_t i = 0; i < n_counters; i++) {
        if (counters[i].tid == tid && counters[i].nr == nr) {
            return &counters[i].count;
        }
    }
    if (n_counters == cap_counters) {
        cap_counters = cap_counters ? 2 * cap_counters : 16;
        counters = realloc(counters, cap_counters * sizeof *counters);
        if (!counters) {
            abort();
        }
    }
    counters[n_counters] = (struct counter){tid, nr, 0};
    return &counters[n_counters++].count;
}

// Whether text[0..len) matches the NUL-terminated pattern p, where `*`
// matches any run of characters and everything else matches itself.
static bool glob_match(const char *p, const uint8_t *text, size_t len) {
    size_t t = 0;
    const char *star = NULL; // the pattern just after the last `*`
    size_t star_end = 0;     // where that star's run would end next
    while (t < len) {
        if (*p == '*') {
            star = ++p;
            star_end = t;
        } else if (*p != '\0' && (uint8_t)*p == text[t]) {
            p++;
            t++;
        } else if (star) {
            p = star;
            t = ++star_end;
        } else {
            return false;
        }
    }
    while (*p == '*') {
        p++;
    }
    return *p == '\0';
}

// Whether s is exactly the NUL-terminated word.
static bool is(const plugin_string_t *s, const char *word) {
    return s->len == strlen(word) && memcmp(s->ptr, word, s->len) == 0;
}

static void config_key(fi_policy_setup_config_key_t *key, const char *name, const char *help) {
    plugin_string_dup(&key->name, name);
    plugin_string_dup(&key->help, help);
}

void exports_fi_policy_policy_describe(exports_fi_policy_policy_description_t *ret) {
    plugin_string_dup(&ret->name, "fsync-eio");
    plugin_string_dup(&ret->summary,
                      "fsync and fdatasync of matching files fail with EIO (written in C)");
    ret->config.len = 2;
    ret->config.ptr = malloc(2 * sizeof *ret->config.ptr);
    if (!ret->config.ptr) {
        abort();
    }
    config_key(&ret->config.ptr[0], "path",
               "glob of the files whose syncs fail (* matches any characters, / too); required");
    config_key(&ret->config.ptr[1], "when",
               "the first call that fails, counted per thread and syscall; later ones fail too; "
               "default 1");
}

// A whole number from 1 that fits 32 bits, or 0.
static uint32_t parse_count(const plugin_string_t *s) {
    if (s->len == 0) {
        return 0;
    }
    uint64_t n = 0;
    for (size_t i = 0; i < s->len; i++) {
        if (s->ptr[i] < '0' || s->ptr[i] > '9') {
            return 0;
        }
        n = n * 10 + (s->ptr[i] - '0');
        if (n > UINT32_MAX) {
            return 0;
        }
    }
    return (uint32_t)n;
}

// Sets *err to the printf-style message; returns false, for init.
__attribute__((format(printf, 2, 3))) static bool fail(plugin_string_t *err, const char *format,
                                                        ...) {
    char message[512];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    plugin_string_dup(err, message);
    return false;
}

static bool configure(plugin_list_tuple2_string_string_t *config, plugin_string_t *err) {
    const plugin_string_t *path = NULL, *when_text = NULL;
    for (size_t i = 0; i < config->len; i++) {
        const plugin_string_t *key = &config->ptr[i].f0, *value = &config->ptr[i].f1;
        const plugin_string_t **slot = is(key, "path")   ? &path
                                       : is(key, "when") ? &when_text
                                                         : NULL;
        if (!slot) {
            return fail(err, "unknown key '%.*s' (known: path, when)", (int)key->len,
                        (const char *)key->ptr);
        }
        if (*slot) {
            return fail(err, "key '%.*s' is given twice", (int)key->len, (const char *)key->ptr);
        }
        *slot = value;
    }
    if (!path) {
        return fail(err, "missing required key 'path'");
    }
    if (path->len == 0) {
        return fail(err, "path=: the pattern is empty");
    }
    if (when_text) {
        when = parse_count(when_text);
        if (when == 0) {
            return fail(err, "when=%.*s: expected a whole number from 1", (int)when_text->len,
                        (const char *)when_text->ptr);
        }
    }
    pattern = strndup((const char *)path->ptr, path->len);
    if (!pattern) {
        abort();
    }
    return true;
}

// A list of the strings `names`, malloc'd, for a returned record.
static plugin_list_string_t string_list(const char *const *names, size_t n) {
    plugin_list_string_t list = {malloc(n * sizeof(plugin_string_t)), n};
    if (n && !list.ptr) {
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        plugin_string_dup(&list.ptr[i], names[i]);
    }
    return list;
}

bool exports_fi_policy_policy_init(plugin_list_tuple2_string_string_t *config,
                                   exports_fi_policy_policy_subscription_t *ret,
                                   plugin_string_t *err) {
    bool ok = configure(config, err);
    plugin_list_tuple2_string_string_free(config);
    if (!ok) {
        return false;
    }
    plugin_string_t name;
    plugin_string_set(&name, "EIO");
    if (!fi_policy_host_errno_number(&name, &eio)) {
        return fail(err, "fault knows no EIO");
    }
    // Decided at entry only, and a call let run is let run untouched: fault
    // answers these calls without a ptrace stop where it can. No paths: any
    // file may matter.
    static const char *const syscalls[] = {"fsync", "fdatasync"};
    ret->syscalls = string_list(syscalls, 2);
    ret->entry_only = string_list(syscalls, 2);
    ret->passes_untouched = string_list(syscalls, 2);
    ret->paths = string_list(NULL, 0);
    return true;
}

void exports_fi_policy_policy_on_enter(exports_fi_policy_policy_syscall_t *call,
                                       exports_fi_policy_policy_verdict_t *ret) {
    memset(ret, 0, sizeof *ret); // pass, no delays, no signal, no on-exit, no log mark
    ret->action.tag = FI_POLICY_TYPES_ACTION_PASS;

    plugin_list_string_t paths;
    fi_policy_tracee_call_paths(&paths);
    bool matches = false;
    for (size_t i = 0; i < paths.len && !matches; i++) {
        matches = glob_match(pattern, paths.ptr[i].ptr, paths.ptr[i].len);
    }
    plugin_list_string_free(&paths);
    if (!matches) {
        return;
    }
    uint32_t *count = counter_for(call->tid, call->nr);
    if (*count < UINT32_MAX) {
        ++*count;
    }
    if (*count >= when) {
        failed++;
        ret->action.tag = FI_POLICY_TYPES_ACTION_FAIL;
        ret->action.val.fail = eio;
    }
}

void exports_fi_policy_policy_on_exit(exports_fi_policy_policy_syscall_t *call, int64_t result,
                                      exports_fi_policy_policy_exit_action_t *ret) {
    (void)call;
    (void)result;
    ret->tag = FI_POLICY_TYPES_EXIT_ACTION_KEEP;
}

// A new thread may get an ended one's id: its counts start afresh.
void exports_fi_policy_policy_thread_exited(int32_t tid) {
    for (size_t i = 0; i < n_counters; i++) {
        if (counters[i].tid == tid) {
            counters[i].count = 0;
        }
    }
}

void exports_fi_policy_policy_finish(void) {
    char message[64];
    snprintf(message, sizeof message, "fsync-eio: failed %llu calls", (unsigned long long)failed);
    plugin_string_t s;
    plugin_string_set(&s, message); // borrowed: an import does not take ownership
    fi_policy_host_log(&s);
}
