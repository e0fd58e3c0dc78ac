/* strace parity for the launch: nothing before the command's own first
 * execve counts. Run without arguments it execs itself once ("again") and
 * reports what that execve did:
 *   exec_self        -> "launched", then "again ran" (exit 0) or
 *                       "execve=-1 errno=EACCES" (exit 3)                  */
#include "fi_test.h"

int main(int argc, char **argv) {
    (void)argc;
    if (argv[1] && strcmp(argv[1], "again") == 0) {
        say("again ran");
        return 0;
    }
    say("launched");
    char *again[] = {argv[0], "again", NULL};
    extern char **environ;
    execve("/proc/self/exe", again, environ);
    say("execve=-1 errno=%s", err_name(errno));
    return 3;
}
