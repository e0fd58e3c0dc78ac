/* strace parity for -e trace=: write and writev to /dev/null, each result
 * printed raw:  "write=5 errno=0" "writev=5 errno=ENOSYS"...
 *   writes EXPECT_WRITE EXPECT_WRITEV   (each "ok" or an errno name)
 * Exits 0 iff both gave what was expected.                                 */
#include "fi_test.h"
#include <fcntl.h>
#include <sys/uio.h>

static int check(const char *what, long result, const char *expect) {
    int err = result < 0 ? errno : 0;
    say("%s=%ld errno=%s", what, result, err ? err_name(err) : "0");
    if (strcmp(expect, "ok") == 0)
        return result >= 0;
    return result == -1 && strcmp(err_name(err), expect) == 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        say("usage: writes EXPECT_WRITE EXPECT_WRITEV");
        return 2;
    }
    int fd = open("/dev/null", O_WRONLY);
    if (fd < 0)
        die("open /dev/null");
    int ok = check("write", write(fd, "hello", 5), argv[1]);
    struct iovec iov = {.iov_base = "hello", .iov_len = 5};
    ok &= check("writev", writev(fd, &iov, 1), argv[2]);
    return ok ? 0 : 1;
}
