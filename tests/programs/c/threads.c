/* 4 threads each make 6 writes to an fd opened on /dev/null and record which
 * of them failed; after joining, main reports one line per thread:
 *   thread T: failed=N:ERRNO,N:ERRNO   (or failed=none)                     */
#include "fi_test.h"
#include <fcntl.h>
#include <pthread.h>

#define THREADS 4
#define WRITES 6

static int fd;
static int results[THREADS][WRITES]; /* 0 ok, else errno */
static pthread_barrier_t barrier;

static void *worker(void *arg) {
    int t = (int)(long)arg;
    pthread_barrier_wait(&barrier); /* all threads write concurrently */
    for (int i = 0; i < WRITES; i++) {
        ssize_t n = write(fd, "x", 1);
        results[t][i] = n == 1 ? 0 : (n < 0 ? errno : -1);
    }
    return NULL;
}

int main(void) {
    fd = open("/dev/null", O_WRONLY);
    if (fd < 0)
        die("open /dev/null");
    pthread_barrier_init(&barrier, NULL, THREADS);
    pthread_t tids[THREADS];
    for (long t = 0; t < THREADS; t++)
        if (pthread_create(&tids[t], NULL, worker, (void *)t) != 0)
            die("pthread_create");
    for (int t = 0; t < THREADS; t++)
        pthread_join(tids[t], NULL);
    for (int t = 0; t < THREADS; t++) {
        char list[256] = "";
        for (int i = 0; i < WRITES; i++) {
            if (results[t][i] == 0)
                continue;
            char item[32];
            snprintf(item, sizeof item, "%s%d:%s", list[0] ? "," : "", i + 1,
                     results[t][i] < 0 ? "SHORT" : err_name(results[t][i]));
            strcat(list, item);
        }
        say("thread %d: failed=%s", t, list[0] ? list : "none");
    }
    return 0;
}
