/* Stress for process creation under fi:
 *   - forks FORKS (argv[1], default 300) short-lived children; child i calls
 *     getppid() and exits with i % 256 (or (i + 1) % 256 if getppid() did not
 *     return argv[2], the value a rule is expected to inject; "-" skips that
 *     check); the parent checks every child's status;
 *   - vforks and execs /bin/true 20 times, checking each status is 0;
 *   - then a second thread execs this program again with "after-exec", which
 *     prints "after exec" and exits 42 while the main thread is still alive.
 * Prints "forks ok N", "vforks ok 20"; any mismatch exits 97.              */
#include "fi_test.h"
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static long expected_ppid = -1; /* -1: do not check */

static void *exec_thread(void *arg) {
    (void)arg;
    execl("/proc/self/exe", "stress_fork", "after-exec", (char *)NULL);
    die("execl /proc/self/exe");
    return NULL;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "after-exec") == 0) {
        say("after exec");
        return 42;
    }
    int forks = argc > 1 ? atoi(argv[1]) : 300;
    if (argc > 2 && strcmp(argv[2], "-") != 0)
        expected_ppid = atol(argv[2]);

    int bad = 0;
    for (int i = 0; i < forks; i++) {
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            long ppid = syscall(SYS_getppid);
            if (expected_ppid >= 0 && ppid != expected_ppid)
                _exit((i + 1) % 256);
            _exit(i % 256);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid)
            die("waitpid");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != i % 256) {
            say("child %d: status %#x, expected exit %d", i, status, i % 256);
            bad = 1;
        }
    }
    say("forks ok %d", bad ? -1 : forks);

    int vbad = 0;
    for (int i = 0; i < 20; i++) {
        pid_t pid = vfork();
        if (pid < 0)
            die("vfork");
        if (pid == 0) {
            execl("/bin/true", "true", (char *)NULL);
            _exit(127);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid)
            die("waitpid");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            say("vfork child %d: status %#x", i, status);
            vbad = 1;
        }
    }
    say("vforks ok %d", vbad ? -1 : 20);
    if (bad || vbad)
        return 97;

    pthread_t t;
    if (pthread_create(&t, NULL, exec_thread, NULL) != 0)
        die("pthread_create");
    pthread_join(t, NULL); /* never returns: the exec replaces the process */
    say("exec thread returned");
    return 96;
}
