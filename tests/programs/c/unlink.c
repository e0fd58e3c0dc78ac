/* unlink FILE: prints "unlink: ok" or "unlink: ERRNO", then whether FILE
 * still exists: "exists: yes|no".                                          */
#include "fi_test.h"

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    if (unlink(argv[1]) == 0)
        say("unlink: ok");
    else
        say("unlink: %s", err_name(errno));
    say("exists: %s", access(argv[1], F_OK) == 0 ? "yes" : "no");
    return 0;
}
