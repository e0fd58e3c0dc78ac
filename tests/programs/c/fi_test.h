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

/* The `len` bytes at `buf` as runs of equal bytes on one line of stdout:
 * "A x 2048, B x 2048"; a zero byte shows as 0. */
static inline void print_runs(const char *buf, ssize_t len) {
    for (ssize_t i = 0; i < len;) {
        ssize_t j = i;
        while (j < len && buf[j] == buf[i])
            j++;
        printf("%s%c x %zd", i ? ", " : "", buf[i] ? buf[i] : '0', j - i);
        i = j;
    }
    printf("\n");
}
