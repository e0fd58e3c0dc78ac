// A worker thread writes out.dat and tells the main thread it is done. On
// an error the worker returns without telling it, and the main thread waits
// forever: one failed call hangs the program.
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t finished = PTHREAD_COND_INITIALIZER;
static int done;

static void *worker(void *arg) {
    (void)arg;
    int fd = open("out.dat", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return NULL;
    if (write(fd, "payload\n", 8) != 8)
        return NULL;
    if (close(fd) < 0) {
        perror("close out.dat");
        exit(1);
    }
    pthread_mutex_lock(&lock);
    done = 1;
    pthread_cond_signal(&finished);
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void) {
    pthread_t thread;
    pthread_create(&thread, NULL, worker, NULL);
    pthread_mutex_lock(&lock);
    while (!done)
        pthread_cond_wait(&finished, &lock);
    pthread_mutex_unlock(&lock);
    puts("written");
    return 0;
}
