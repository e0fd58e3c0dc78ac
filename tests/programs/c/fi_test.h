/* Shared helpers for the programs fi's tests trace. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "EIO", or the number when glibc has no name for it. */
static inline const char *err_name(int err) {
    static __thread char buf[16];
    const char *name = strerrorname_np(err);
    if (name)
        return name;
    snprintf(buf, sizeof buf, "%d", err);
    return buf;
}

/* One line to stdout with a single write(2), so that a line is never split
 * and stdio buffering never matters. */
static inline void say(const char *fmt, ...) {
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    (void)!write(1, line, n);
}

static inline void die(const char *what) {
    say("FATAL %s: %s", what, err_name(errno));
    exit(99);
}
