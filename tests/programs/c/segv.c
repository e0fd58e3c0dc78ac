/* Writes through NULL 3 times, recovering each time with siglongjmp from a
 * SIGSEGV handler; prints "recovered 3" and exits 0.                        */
#include "fi_test.h"
#include <setjmp.h>
#include <signal.h>

static sigjmp_buf env;
static volatile sig_atomic_t faults;

static void on_segv(int sig, siginfo_t *info, void *ctx) {
    (void)sig;
    (void)ctx;
    if (info->si_addr != NULL)
        _exit(3);
    faults++;
    siglongjmp(env, 1);
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    volatile int *volatile null = NULL;
    sigsetjmp(env, 1); /* each fault comes back here */
    if (faults < 3) {
        *null = 1;
        say("no fault?");
        return 1;
    }
    say("recovered %d", (int)faults);
    return faults == 3 ? 0 : 1;
}
