/* bench/experiments/unotify_retval.c: NOT part of fi. A minimal seccomp
 * user-notification supervisor (about what fi's `-e inject=write:retval=1`
 * does, minus logging and policy), run by bench/run section 2 as a reference
 * row: how fast a policy that only fails or returns can decide calls without
 * ptrace stops.
 *
 * Usage: unotify_retval CMD [ARGS...]
 *   Every write(2) of CMD (and its children) returns 1 without running.
 *   Asks the kernel (6.6+) for synchronous wake-ups; NO_SYNC_WAKE=1 does not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/audit.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

int main(int argc, char **argv) {
    int go[2];
    pipe(go);
    pid_t pid = fork();
    if (pid == 0) {
        close(go[1]);
        struct sock_filter f[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {sizeof f / sizeof f[0], f};
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        int fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
        if (fd < 0) _exit(120);
        dup2(fd, 100);
        char b;
        read(go[0], &b, 1);
        close(100); close(fd);
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    close(go[0]);
    int pidfd = syscall(SYS_pidfd_open, pid, 0);
    int lfd = -1;
    while ((lfd = syscall(SYS_pidfd_getfd, pidfd, 100, 0)) < 0) usleep(100);
    close(go[1]);
    /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6): the kernel wakes the
     * supervisor on the caller's CPU and the caller on the supervisor's, so
     * the pair does not bounce between CPUs. Best effort. */
    if (!getenv("NO_SYNC_WAKE"))
        ioctl(lfd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, 1UL);
    struct seccomp_notif_sizes sz;
    syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz);
    struct seccomp_notif *req = calloc(1, sz.seccomp_notif);
    struct seccomp_notif_resp *resp = calloc(1, sz.seccomp_notif_resp);
    long n = 0;
    for (;;) {
        struct pollfd p = {lfd, POLLIN, 0};
        if (poll(&p, 1, -1) < 0) { if (errno == EINTR) continue; break; }
        if (p.revents & POLLHUP) break;
        memset(req, 0, sz.seccomp_notif);
        if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) { if (errno == EINTR) continue; break; }
        resp->id = req->id; resp->val = 1; resp->error = 0; resp->flags = 0;
        ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, resp);
        n++;
    }
    int status;
    waitpid(pid, &status, 0);
    if (getenv("VERBOSE"))
        fprintf(stderr, "decided %ld calls\n", n);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
