/* Queues SIGRTMIN+1 three times (values 1, 2, 3) and SIGUSR2 to itself while
 * blocked, then takes them with sigwaitinfo and checks each one's value and
 * origin; prints "rt ok 1 2 3 usr2" and exits 0, or what was wrong.          */
#include "fi_test.h"
#include <signal.h>

int main(void) {
    int rt = SIGRTMIN + 1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, rt);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (int v = 1; v <= 3; v++) {
        union sigval value = {.sival_int = v};
        if (sigqueue(getpid(), rt, value) != 0)
            die("sigqueue");
    }
    kill(getpid(), SIGUSR2);
    char got[64] = "rt ok";
    /* Lower-numbered signals are taken first: SIGUSR2, then the queue in order. */
    siginfo_t info;
    if (sigwaitinfo(&set, &info) != SIGUSR2 || info.si_code != SI_USER || info.si_pid != getpid()) {
        say("first signal %d code %d: expected SIGUSR2 from kill", info.si_signo, info.si_code);
        return 1;
    }
    for (int v = 1; v <= 3; v++) {
        int sig = sigwaitinfo(&set, &info);
        if (sig != rt || info.si_code != SI_QUEUE || info.si_value.sival_int != v) {
            say("signal %d code %d value %d: expected SIGRTMIN+1 value %d", sig, info.si_code,
                info.si_value.sival_int, v);
            return 1;
        }
        char item[8];
        snprintf(item, sizeof item, " %d", v);
        strcat(got, item);
    }
    struct timespec none = {0, 0};
    if (sigtimedwait(&set, &info, &none) != -1) {
        say("extra signal %d", info.si_signo);
        return 1;
    }
    say("%s usr2", got);
    return 0;
}
