/* spinwrite DIR: forks once; parent and child each record their pid in
 * DIR/parent.pid and DIR/child.pid (with pwrite) and then write to /dev/null
 * forever.                                                                 */
#include "fi_test.h"
#include <fcntl.h>

static void record(const char *dir, const char *name) {
    char path[4096], pid[32];
    snprintf(path, sizeof path, "%s/%s.pid.tmp", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (fd < 0 || pwrite(fd, pid, len, 0) != len)
        die("pidfile");
    close(fd);
    char final_path[4096];
    snprintf(final_path, sizeof final_path, "%s/%s.pid", dir, name);
    if (rename(path, final_path) != 0)
        die("rename");
}

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    int null = open("/dev/null", O_WRONLY);
    if (null < 0)
        die("open");
    pid_t child = fork();
    if (child < 0)
        die("fork");
    record(argv[1], child == 0 ? "child" : "parent");
    for (;;)
        (void)!write(null, "x", 1);
}
