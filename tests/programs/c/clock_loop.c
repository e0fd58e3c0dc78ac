/* clock_loop N: calls clock_gettime(CLOCK_MONOTONIC) N times through the C
 * library (which goes through the vDSO), then prints
 *   entry HEX          the first 12 bytes of the vDSO's __vdso_clock_gettime
 *   calls N
 *   ns_per_call X      the loop's cost per call
 * The entry's bytes tell whether fault rewrote the vDSO. */
#include "fi_test.h"
#include <elf.h>
#include <sys/auxv.h>
#include <time.h>

/* The address of the vDSO's dynamic symbol `name`, read from the vDSO's
 * own section headers. */
static const unsigned char *vdso_symbol(const char *name) {
    const unsigned char *image = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
    if (!image)
        return NULL;
    const Elf64_Ehdr *ehdr = (const Elf64_Ehdr *)image;
    const Elf64_Phdr *phdr = (const Elf64_Phdr *)(image + ehdr->e_phoff);
    Elf64_Addr base = 0;
    for (int i = 0; i < ehdr->e_phnum; i++)
        if (phdr[i].p_type == PT_LOAD) {
            base = phdr[i].p_vaddr;
            break;
        }
    const Elf64_Shdr *shdr = (const Elf64_Shdr *)(image + ehdr->e_shoff);
    for (int i = 0; i < ehdr->e_shnum; i++) {
        if (shdr[i].sh_type != SHT_DYNSYM)
            continue;
        const Elf64_Sym *syms = (const Elf64_Sym *)(image + shdr[i].sh_offset);
        const char *strings = (const char *)(image + shdr[shdr[i].sh_link].sh_offset);
        size_t count = shdr[i].sh_size / sizeof(Elf64_Sym);
        for (size_t s = 0; s < count; s++)
            if (strcmp(strings + syms[s].st_name, name) == 0)
                return image + (syms[s].st_value - base);
    }
    return NULL;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000;
    const unsigned char *entry = vdso_symbol("__vdso_clock_gettime");
    if (!entry)
        die("no __vdso_clock_gettime");
    char hex[64] = "";
    for (int i = 0; i < 12; i++)
        snprintf(hex + 2 * i, 3, "%02x", entry[i]);
    say("entry %s", hex);
    struct timespec start, end, t;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < n; i++)
        if (clock_gettime(CLOCK_MONOTONIC, &t) != 0)
            die("clock_gettime");
    clock_gettime(CLOCK_MONOTONIC, &end);
    long long ns = (end.tv_sec - start.tv_sec) * 1000000000LL + (end.tv_nsec - start.tv_nsec);
    say("calls %ld", n);
    say("ns_per_call %.1f", n ? (double)ns / n : 0.0);
    return 0;
}
