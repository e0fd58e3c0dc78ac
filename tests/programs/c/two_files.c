/* two_files DIR: opens DIR/a and DIR/b, writes a line to each:
 *   write a: ok|ERRNO
 *   write b: ok|ERRNO                                                      */
#include "fi_test.h"
#include <fcntl.h>

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    char path_a[4096], path_b[4096];
    snprintf(path_a, sizeof path_a, "%s/a", argv[1]);
    snprintf(path_b, sizeof path_b, "%s/b", argv[1]);
    int a = open(path_a, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int b = open(path_b, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (a < 0 || b < 0)
        die("open");
    const char *names[2] = {"a", "b"};
    int fds[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        char data[32];
        int len = snprintf(data, sizeof data, "data for %s\n", names[i]);
        ssize_t n = write(fds[i], data, len);
        if (n == len)
            say("write %s: ok", names[i]);
        else if (n < 0)
            say("write %s: %s", names[i], err_name(errno));
        else
            say("write %s: short %zd", names[i], n);
    }
    return 0;
}
