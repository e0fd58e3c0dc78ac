/* strace parity, retval= in the error range: geteuid never fails, so the
 * raw 64-bit value the kernel hands back must be exactly the injected one.
 * Calls geteuid without libc (whose wrapper would turn -1..-4095 into -1
 * and errno) and compares with argv[1] (strtoull notation).
 *   raw_geteuid EXPECTED  ->  "geteuid=0x..." and exit 0 iff equal        */
#include "fi_test.h"
#include <sys/syscall.h>

static unsigned long raw_syscall0(long nr) {
    unsigned long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
    return ret;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        say("usage: raw_geteuid EXPECTED");
        return 2;
    }
    unsigned long expected = strtoull(argv[1], NULL, 0);
    unsigned long got = raw_syscall0(SYS_geteuid);
    say("geteuid=%#lx", got);
    return got == expected ? 0 : 1;
}
