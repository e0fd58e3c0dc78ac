/* own_seccomp trace|strict: a program with a seccomp filter of its own.
 *
 * trace: installs a filter that returns SECCOMP_RET_TRACE (data 0) for
 * getppid and allows the rest, then calls getppid: "getppid: ENOSYS" when
 * no tracer takes the stop (the kernel's meaning), "getppid: ok" if the call
 * ran. Then "getpid: ok" (a call the filter allows).
 *
 * strict: enters SECCOMP_MODE_STRICT and writes "strict: ok" (only read,
 * write, _exit and sigreturn are allowed then), or "strict: ERRNO" if the
 * kernel refused it.                                                       */
#include "fi_test.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static void own_filter(void) {
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        die("no_new_privs");
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        die("seccomp");
}

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    if (strcmp(argv[1], "trace") == 0) {
        own_filter();
        long ppid = syscall(SYS_getppid);
        say("getppid: %s", ppid < 0 ? err_name(errno) : "ok");
        say("getpid: %s", syscall(SYS_getpid) < 0 ? err_name(errno) : "ok");
        return 0;
    }
    if (strcmp(argv[1], "strict") == 0) {
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) != 0) {
            say("strict: %s", err_name(errno));
            return 0;
        }
        static const char ok[] = "strict: ok\n";
        (void)!write(1, ok, sizeof ok - 1);
        syscall(SYS_exit, 0);
    }
    return 2;
}
