/*
 * Code address -> function name, from the executable's own ELF symbol table
 * (static functions included, which dladdr cannot see). Read once, lazily, on
 * the first lookup; lookups are a binary search plus a small cache. Names make
 * reports and signatures stable across builds and address-space layouts.
 */
#define _GNU_SOURCE
#include "kernel.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct sym {
    uintptr_t addr;
    uintptr_t size;
    const char *name;
} sym_t;

static sym_t *g_syms;
static size_t g_nsyms;
static char *g_strtab;
static int g_loaded;

static int phdr_first(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    *(uintptr_t *)data = (uintptr_t)info->dlpi_addr; /* the executable comes first */
    return 1;
}

static int sym_cmp(const void *a, const void *b)
{
    const sym_t *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void load_symbols(void)
{
    g_loaded = 1;
    uintptr_t bias = 0;
    dl_iterate_phdr(phdr_first, &bias);
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64)
        goto out;
    Elf64_Shdr *sh = malloc((size_t)eh.e_shnum * sizeof *sh);
    if (!sh || pread(fd, sh, (size_t)eh.e_shnum * sizeof *sh, (off_t)eh.e_shoff) !=
                   (ssize_t)((size_t)eh.e_shnum * sizeof *sh))
        goto out_sh;
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh.e_shnum)
            continue;
        Elf64_Shdr *st = &sh[sh[i].sh_link];
        size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
        Elf64_Sym *raw = malloc(sh[i].sh_size);
        g_strtab = malloc(st->sh_size + 1);
        if (!raw || !g_strtab || pread(fd, raw, sh[i].sh_size, (off_t)sh[i].sh_offset) != (ssize_t)sh[i].sh_size ||
            pread(fd, g_strtab, st->sh_size, (off_t)st->sh_offset) != (ssize_t)st->sh_size) {
            free(raw);
            break;
        }
        g_strtab[st->sh_size] = 0;
        g_syms = malloc(n * sizeof *g_syms);
        for (size_t k = 0; g_syms && k < n; k++) {
            if (ELF64_ST_TYPE(raw[k].st_info) != STT_FUNC || raw[k].st_value == 0 || raw[k].st_name >= st->sh_size)
                continue;
            g_syms[g_nsyms++] = (sym_t){raw[k].st_value + bias, raw[k].st_size, g_strtab + raw[k].st_name};
        }
        free(raw);
        qsort(g_syms, g_nsyms, sizeof *g_syms, sym_cmp);
        break;
    }
out_sh:
    free(sh);
out:
    close(fd);
}

const char *symbol_name(const void *addr)
{
    enum { CACHE = 256 };
    static struct {
        const void *addr;
        const char *name;
    } cache[CACHE];
    uintptr_t a = (uintptr_t)addr;
    size_t slot = (a >> 4) % CACHE;
    if (cache[slot].addr == addr)
        return cache[slot].name;
    if (!g_loaded)
        load_symbols();
    const char *name = "?";
    size_t lo = 0, hi = g_nsyms;
    while (lo < hi) { /* last symbol with addr <= a */
        size_t mid = (lo + hi) / 2;
        if (g_syms[mid].addr <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && a < g_syms[lo - 1].addr + (g_syms[lo - 1].size ? g_syms[lo - 1].size : 1))
        name = g_syms[lo - 1].name;
    cache[slot].addr = addr;
    cache[slot].name = name;
    return name;
}
