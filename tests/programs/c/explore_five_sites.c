// One error-handling bug reached from five call sites: log_line() ignores
// what write() returns, and five steps of the program log through it. The
// open, the fsync and the close are checked. `fault explore` must report
// one finding that lists the five sites.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int log_fd = -1;

__attribute__((noinline)) static void log_line(const char *line) {
    // The bug: a failed write is not looked at.
    ssize_t ignored = write(log_fd, line, strlen(line));
    (void)ignored;
}

__attribute__((noinline)) static void step_load(void) { log_line("load\n"); }
__attribute__((noinline)) static void step_parse(void) { log_line("parse\n"); }
__attribute__((noinline)) static void step_check(void) { log_line("check\n"); }
__attribute__((noinline)) static void step_apply(void) { log_line("apply\n"); }
__attribute__((noinline)) static void step_done(void) { log_line("done\n"); }

static void fail(const char *what) {
    fprintf(stderr, "five_sites: %s: %s\n", what, strerror(errno));
    exit(1);
}

int main(void) {
    log_fd = open("journal.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log_fd < 0)
        fail("open journal.log");
    step_load();
    step_parse();
    step_check();
    step_apply();
    step_done();
    if (fsync(log_fd) < 0)
        fail("fsync journal.log");
    if (close(log_fd) < 0)
        fail("close journal.log");
    return 0;
}
