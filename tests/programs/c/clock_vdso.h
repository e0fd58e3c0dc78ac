/* Finding a symbol of the vDSO, for the clock_* programs: they look at, or
 * call, the vDSO's entries directly. */
#include <elf.h>
#include <string.h>
#include <sys/auxv.h>

/* The address of the vDSO's dynamic symbol `name`, read from the vDSO's
 * own section headers. */
static inline const unsigned char *vdso_symbol(const char *name) {
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
