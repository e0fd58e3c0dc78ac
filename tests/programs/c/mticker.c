/* mticker DIR THREADS COUNT INTERVAL_MS: THREADS threads each make COUNT
 * writes of "tick I\n" to DIR/tI, INTERVAL_MS apart. Once all have started
 * it prints "started"; after joining, one line per thread:
 *   thread T: ok=N failed=M first_failed=F last_failed=L
 * then "done".                                                             */
#include "fi_test.h"
#include <fcntl.h>
#include <pthread.h>
#include <time.h>

#define MAX_THREADS 16

static const char *dir;
static int count;
static long interval;
static int ok[MAX_THREADS], failed[MAX_THREADS], first[MAX_THREADS], last[MAX_THREADS];
static pthread_barrier_t barrier;

static void *worker(void *arg) {
    int t = (int)(long)arg;
    char path[4096];
    snprintf(path, sizeof path, "%s/t%d", dir, t);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (fd < 0)
        die("open");
    pthread_barrier_wait(&barrier);
    for (int i = 1; i <= count; i++) {
        struct timespec ts = {interval / 1000, (interval % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        char line[32];
        int len = snprintf(line, sizeof line, "tick %d\n", i);
        if (write(fd, line, len) == len) {
            ok[t]++;
        } else {
            failed[t]++;
            if (!first[t])
                first[t] = i;
            last[t] = i;
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5)
        return 2;
    dir = argv[1];
    int threads = atoi(argv[2]);
    count = atoi(argv[3]);
    interval = atol(argv[4]);
    if (threads < 1 || threads > MAX_THREADS)
        return 2;
    pthread_barrier_init(&barrier, NULL, threads + 1);
    pthread_t tids[MAX_THREADS];
    for (long t = 0; t < threads; t++)
        if (pthread_create(&tids[t], NULL, worker, (void *)t) != 0)
            die("pthread_create");
    pthread_barrier_wait(&barrier);
    say("started");
    for (int t = 0; t < threads; t++)
        pthread_join(tids[t], NULL);
    for (int t = 0; t < threads; t++)
        say("thread %d: ok=%d failed=%d first_failed=%d last_failed=%d", t, ok[t], failed[t], first[t], last[t]);
    say("done");
    return 0;
}
