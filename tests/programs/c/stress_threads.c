/* Stress for exact accounting: T threads (argv[1]) each open /dev/null once
 * and make N writes (argv[2]) to it, counting the ones that fail with EIO.
 * After joining, main prints one line per thread:  TID FAILURES
 * A failure with any other errno, or a short write, is fatal (exit 98).    */
#include "fi_test.h"
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>

static long writes;
static pthread_barrier_t barrier;

struct slot {
    pthread_t thread;
    long tid;
    long failures;
    int other_errno;
};

static void *worker(void *arg) {
    struct slot *s = arg;
    s->tid = syscall(SYS_gettid);
    int fd = open("/dev/null", O_WRONLY);
    if (fd < 0)
        die("open /dev/null");
    pthread_barrier_wait(&barrier); /* all threads write concurrently */
    for (long i = 0; i < writes; i++) {
        ssize_t n = write(fd, "x", 1);
        if (n == 1)
            continue;
        if (n < 0 && errno == EIO)
            s->failures++;
        else
            s->other_errno = n < 0 ? errno : -1;
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        say("usage: stress_threads THREADS WRITES");
        return 2;
    }
    int threads = atoi(argv[1]);
    writes = atol(argv[2]);
    if (threads < 1 || writes < 0)
        return 2;
    struct slot *slots = calloc(threads, sizeof *slots);
    if (!slots)
        die("calloc");
    pthread_barrier_init(&barrier, NULL, threads);
    for (int t = 0; t < threads; t++)
        if (pthread_create(&slots[t].thread, NULL, worker, &slots[t]) != 0)
            die("pthread_create");
    int bad = 0;
    for (int t = 0; t < threads; t++)
        pthread_join(slots[t].thread, NULL);
    for (int t = 0; t < threads; t++) {
        if (slots[t].other_errno) {
            say("thread %ld: unexpected failure %s", slots[t].tid,
                slots[t].other_errno < 0 ? "SHORT" : err_name(slots[t].other_errno));
            bad = 1;
        }
        say("%ld %ld", slots[t].tid, slots[t].failures);
    }
    return bad ? 98 : 0;
}
