/* sigcount N FILE: counts SIGUSR1 deliveries while making N fsyncs on FILE:
 *   fsync I: ok|ERRNO   ...   deliveries=D                                 */
#include "fi_test.h"
#include <fcntl.h>
#include <signal.h>

static volatile sig_atomic_t deliveries;

static void on_usr1(int sig) {
    (void)sig;
    deliveries++;
}

int main(int argc, char **argv) {
    if (argc != 3)
        return 2;
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    int fd = open(argv[2], O_WRONLY | O_CREAT, 0644);
    if (fd < 0)
        die("open");
    int count = atoi(argv[1]);
    for (int i = 1; i <= count; i++) {
        if (fsync(fd) == 0)
            say("fsync %d: ok", i);
        else
            say("fsync %d: %s", i, err_name(errno));
    }
    say("deliveries=%d", (int)deliveries);
    return 0;
}
