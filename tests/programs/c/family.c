/* family DIR: forks 20 children (child I writes and fsyncs DIR/child-I and
 * exits 0, or with the fsync's errno), reports "child I: exit=S"; vforks and
 * execs /bin/true, reports "vfork: exit=S"; then a non-leader thread execs
 * `sh -c 'exit 7'`, so the process ends with status 7.                     */
#include "fi_test.h"
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>

#define CHILDREN 20

static void *exec_from_thread(void *arg) {
    (void)arg;
    execl("/bin/sh", "sh", "-c", "exit 7", (char *)NULL);
    say("execl: %s", err_name(errno));
    _exit(98);
}

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    pid_t pids[CHILDREN];
    for (int i = 0; i < CHILDREN; i++) {
        pids[i] = fork();
        if (pids[i] < 0)
            die("fork");
        if (pids[i] == 0) {
            char path[4096];
            snprintf(path, sizeof path, "%s/child-%d", argv[1], i);
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0)
                _exit(90);
            if (write(fd, "x", 1) != 1)
                _exit(91);
            _exit(fsync(fd) == 0 ? 0 : errno);
        }
    }
    for (int i = 0; i < CHILDREN; i++) {
        int status;
        if (waitpid(pids[i], &status, 0) != pids[i])
            die("waitpid");
        if (WIFEXITED(status))
            say("child %d: exit=%d", i, WEXITSTATUS(status));
        else
            say("child %d: signal=%d", i, WTERMSIG(status));
    }
    pid_t v = vfork();
    if (v < 0)
        die("vfork");
    if (v == 0) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(97);
    }
    int status;
    if (waitpid(v, &status, 0) != v)
        die("waitpid vfork");
    say("vfork: exit=%d", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    pthread_t t;
    if (pthread_create(&t, NULL, exec_from_thread, NULL) != 0)
        die("pthread_create");
    for (;;)
        pause(); /* the exec in the thread replaces the whole process */
}
