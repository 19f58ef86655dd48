/* ELF validation for guest kernels (a hostile file must not make us copy
 * outside the guest's RAM or read past the module). */
#include "loader/loader.h"

#include "lib/format.h"
#include "lib/string.h"

#define PT_LOAD    1
#define HOLE_START 0xa0000ULL
#define HOLE_END   0x100000ULL

struct elf32_ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version, entry, phoff, shoff, flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf32_phdr {
    uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};
struct elf64_ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

int elf_parse(const void *image, uint64_t size, uint64_t ram_size, struct elf_image *out, char *err,
              unsigned errlen)
{
    const uint8_t *p = image;
    memset(out, 0, sizeof(*out));
    if (size < sizeof(struct elf32_ehdr) || memcmp(p, "\177ELF", 4)) {
        fmt_snprintf(err, errlen, "not an ELF file");
        return -1;
    }
    bool is64 = p[4] == 2;
    if ((p[4] != 1 && p[4] != 2) || p[5] != 1) {
        fmt_snprintf(err, errlen, "unsupported ELF class or byte order");
        return -1;
    }
    uint64_t phoff, entry;
    unsigned phnum, phentsize, machine, type;
    if (is64) {
        struct elf64_ehdr h;
        if (size < sizeof(h)) {
            fmt_snprintf(err, errlen, "truncated ELF header");
            return -1;
        }
        memcpy(&h, p, sizeof(h));
        phoff = h.phoff, entry = h.entry, phnum = h.phnum, phentsize = h.phentsize;
        machine = h.machine, type = h.type;
        if (phentsize < sizeof(struct elf64_phdr))
            goto bad_ph;
    } else {
        struct elf32_ehdr h;
        memcpy(&h, p, sizeof(h));
        phoff = h.phoff, entry = h.entry, phnum = h.phnum, phentsize = h.phentsize;
        machine = h.machine, type = h.type;
        if (phentsize < sizeof(struct elf32_phdr))
            goto bad_ph;
    }
    if (type != 2 || machine != (is64 ? 62U : 3U)) {
        fmt_snprintf(err, errlen, "not an x86 executable (type %u, machine %u)", type, machine);
        return -1;
    }
    if (!phnum || phoff > size || (uint64_t)phnum * phentsize > size - phoff)
        goto bad_ph;
    bool entry_ok = false;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = p + phoff + (uint64_t)i * phentsize;
        struct elf_segment s;
        uint32_t ptype;
        if (is64) {
            struct elf64_phdr h;
            memcpy(&h, ph, sizeof(h));
            ptype = h.type;
            s = (struct elf_segment){h.offset, h.filesz, h.paddr, h.memsz};
        } else {
            struct elf32_phdr h;
            memcpy(&h, ph, sizeof(h));
            ptype = h.type;
            s = (struct elf_segment){h.offset, h.filesz, h.paddr, h.memsz};
        }
        if (ptype != PT_LOAD || !s.memsz)
            continue;
        if (out->nr_segments >= ELF_MAX_SEGMENTS) {
            fmt_snprintf(err, errlen, "more than %d loadable segments", ELF_MAX_SEGMENTS);
            return -1;
        }
        if (s.filesz > s.memsz || s.offset > size || s.filesz > size - s.offset) {
            fmt_snprintf(err, errlen, "segment %u lies outside the file", i);
            return -1;
        }
        if (s.paddr + s.memsz < s.paddr || s.paddr + s.memsz > ram_size) {
            fmt_snprintf(err, errlen,
                         "segment %u at 0x%llx-0x%llx does not fit in the VM's %llu MiB", i,
                         (unsigned long long)s.paddr, (unsigned long long)(s.paddr + s.memsz),
                         (unsigned long long)(ram_size >> 20));
            return -1;
        }
        if (s.paddr < HOLE_END && s.paddr + s.memsz > HOLE_START) {
            fmt_snprintf(err, errlen, "segment %u overlaps the legacy hole 0xa0000-0xfffff", i);
            return -1;
        }
        if (entry >= s.paddr && entry < s.paddr + s.memsz)
            entry_ok = true;
        out->seg[out->nr_segments++] = s;
    }
    if (!out->nr_segments) {
        fmt_snprintf(err, errlen, "no loadable segments");
        return -1;
    }
    if (!entry_ok || (!is64 && entry > 0xffffffffULL)) {
        fmt_snprintf(err, errlen, "entry point 0x%llx is not inside a loaded segment",
                     (unsigned long long)entry);
        return -1;
    }
    out->entry = entry;
    return 0;
bad_ph:
    fmt_snprintf(err, errlen, "bad program header table");
    return -1;
}
