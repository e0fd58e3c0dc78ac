/* Prints the raw results of getpid and getppid (bypassing any libc cache),
 * and the pid as the kernel knows it (/proc/self):
 *   getpid=N getppid=N self=N                                              */
#include "fi_test.h"
#include <sys/syscall.h>

int main(void) {
    char self[64] = "";
    ssize_t n = readlink("/proc/self", self, sizeof self - 1);
    if (n > 0)
        self[n] = 0;
    long pid = syscall(SYS_getpid);
    int pid_errno = pid < 0 ? errno : 0;
    long ppid = syscall(SYS_getppid);
    say("getpid=%ld getppid=%ld self=%s", pid, ppid, self);
    if (pid_errno)
        say("getpid errno=%s", err_name(pid_errno));
    return 0;
}
