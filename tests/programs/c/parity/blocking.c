/* strace parity for signal= on a blocking call: the signal is pending while
 * the call runs, so a 10 s sleep is interrupted at once (the handler has no
 * SA_RESTART) and the handler sees si_code SI_KERNEL:
 *   "nanosleep=-1 errno=EINTR slept_less=yes si_code=SI_KERNEL"
 * Exits 0 iff so.                                                          */
#include "fi_test.h"
#include <signal.h>
#include <time.h>

static volatile sig_atomic_t code = -1;

static void on_usr1(int sig, siginfo_t *info, void *context) {
    (void)sig;
    (void)context;
    code = info->si_code;
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    struct timespec ten = {10, 0}, left = {0, 0};
    int r = nanosleep(&ten, &left);
    int err = r < 0 ? errno : 0;
    int less = left.tv_sec >= 5;
    say("nanosleep=%d errno=%s slept_less=%s si_code=%s", r, err ? err_name(err) : "0",
        less ? "yes" : "no", code == SI_KERNEL ? "SI_KERNEL" : code == SI_TKILL ? "SI_TKILL" : "other");
    return r == -1 && err == EINTR && less && code == SI_KERNEL ? 0 : 1;
}
