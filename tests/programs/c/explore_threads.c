// Four threads, each writing its own file in a loop and syncing it; the
// thread interleaving differs from run to run, the fault points must not.
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *worker(void *arg) {
    long id = (long)arg;
    char name[32];
    snprintf(name, sizeof name, "part-%ld.dat", id);
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(name);
        return (void *)1;
    }
    for (int i = 0; i < 3; i++) {
        char line[64];
        int len = snprintf(line, sizeof line, "thread %ld line %d\n", id, i);
        if (write(fd, line, (size_t)len) != len) {
            perror(name);
            return (void *)1;
        }
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        perror(name);
        return (void *)1;
    }
    return NULL;
}

int main(void) {
    pthread_t threads[4];
    for (long i = 0; i < 4; i++)
        pthread_create(&threads[i], NULL, worker, (void *)i);
    int failed = 0;
    for (int i = 0; i < 4; i++) {
        void *result;
        pthread_join(threads[i], &result);
        failed |= result != NULL;
    }
    return failed;
}
