/* strace parity for poke_enter= and poke_exit=: what the program's buffers
 * hold after the call.
 *   poke enter    chdir("/nonexistent-fi-poke"): a poke of "/tmp" at entry
 *                 makes it chdir to /tmp   -> "chdir=0 cwd=/tmp"
 *   poke exit     getcwd into a buffer; a poke at exit rewrites it
 *                                          -> "getcwd buffer=poked"
 *   poke partial  write(-1, p, 8) where p is 4 bytes before an unmapped
 *                 page: the 4 mapped bytes are poked -> "mapped=ABCD"
 *   poke unmapped chdir at an unmapped address: nothing can be poked, the
 *                 call runs and fails  -> "chdir=-1 errno=EFAULT"
 * Exits 0 iff the poke landed as described.                                */
#include "fi_test.h"
#include <sys/mman.h>
#include <sys/syscall.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        say("usage: poke enter|exit|partial|unmapped");
        return 2;
    }
    if (strcmp(argv[1], "enter") == 0) {
        static char path[] = "/nonexistent-fi-poke";
        int r = chdir(path);
        char cwd[256] = "?";
        if (!getcwd(cwd, sizeof cwd))
            strcpy(cwd, "?");
        say("chdir=%d cwd=%s", r, cwd);
        return r == 0 && strcmp(cwd, "/tmp") == 0 ? 0 : 1;
    }
    if (strcmp(argv[1], "exit") == 0) {
        char buf[64];
        memset(buf, 0, sizeof buf);
        /* The raw call: glibc's getcwd may copy from a buffer of its own. */
        if (syscall(SYS_getcwd, buf, sizeof buf) < 0)
            die("getcwd");
        say("getcwd buffer=%s", buf);
        return strcmp(buf, "poked") == 0 ? 0 : 1;
    }
    if (strcmp(argv[1], "partial") == 0) {
        long page = sysconf(_SC_PAGESIZE);
        char *two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (two == MAP_FAILED)
            die("mmap");
        if (munmap(two + page, page))
            die("munmap");
        char *p = two + page - 4;
        memcpy(p, "wxyz", 4);
        long r = write(-1, p, 8);
        say("write=%ld errno=%s mapped=%.4s", r, r < 0 ? err_name(errno) : "0", p);
        return memcmp(p, "ABCD", 4) == 0 ? 0 : 1;
    }
    if (strcmp(argv[1], "unmapped") == 0) {
        int r = chdir((const char *)8);
        say("chdir=%d errno=%s", r, r < 0 ? err_name(errno) : "0");
        return r == -1 && errno == EFAULT ? 0 : 1;
    }
    say("unknown mode %s", argv[1]);
    return 2;
}
