/* strace parity for rules on chdir: what the program saw.
 *   chdirs DIR EXPECT [fchdir EXPECT2]
 * chdir(DIR), then (with "fchdir") fchdir to an fd of "/". EXPECT is "ok"
 * or an errno name. Prints one line per call with the raw result, the errno,
 * the working directory afterwards, and every SIGUSR1 seen with its si_code:
 *   chdir=0 errno=0 cwd=/tmp
 *   signal=SIGUSR1 si_code=SI_KERNEL count=1
 * and exits 0 iff each call gave what was expected.                        */
#include "fi_test.h"
#include <fcntl.h>
#include <signal.h>

static volatile sig_atomic_t signals, last_code;

static void on_usr1(int sig, siginfo_t *info, void *context) {
    (void)sig;
    (void)context;
    signals++;
    last_code = info->si_code;
}

static const char *code_name(int code) {
    switch (code) {
    case SI_KERNEL: return "SI_KERNEL";
    case SI_TKILL: return "SI_TKILL";
    case SI_USER: return "SI_USER";
    case SI_QUEUE: return "SI_QUEUE";
    default: return "other";
    }
}

static int check(const char *what, long result, const char *expect) {
    int err = result < 0 ? errno : 0;
    char cwd[4096] = "?";
    if (!getcwd(cwd, sizeof cwd))
        strcpy(cwd, "?");
    say("%s=%ld errno=%s cwd=%s", what, result, err ? err_name(err) : "0", cwd);
    if (strcmp(expect, "ok") == 0)
        return result == 0;
    return result == -1 && strcmp(err_name(err), expect) == 0;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 5) {
        say("usage: chdirs DIR EXPECT [fchdir EXPECT2]");
        return 2;
    }
    struct sigaction sa = {0};
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    int ok = check("chdir", chdir(argv[1]), argv[2]);
    if (argc == 5) {
        int root = open("/", O_RDONLY | O_DIRECTORY);
        if (root < 0)
            die("open /");
        ok &= check("fchdir", fchdir(root), argv[4]);
    }
    if (signals)
        say("signal=SIGUSR1 si_code=%s count=%d", code_name(last_code), (int)signals);
    return ok ? 0 : 1;
}
