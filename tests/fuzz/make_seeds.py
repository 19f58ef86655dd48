#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz targets whose inputs have a
format to get past: fuzz_elf, fuzz_bzimage, fuzz_mb2info, fuzz_acpi,
fuzz_cmdline, fuzz_console, fuzz_cr_rules and fuzz_tcp_syn
(tests/fuzz/corpus/NAME/seed-*).

Each seed is a well-formed input of the kind the target's comment
describes, so fuzzing starts past the magic numbers and checksums; the
variants cover the branches a fuzzer finds slowly (ELF32 and ELF64, old
and new boot protocols, the EFI memory map, an XSDT with a DMAR). Run from
the repository root after changing an input format:

    python3 tests/fuzz/make_seeds.py

It writes only files named seed-*; what `make fuzz-merge` adds stays.
"""
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---- ELF (fuzz_elf: 12 bytes of VM, then the file) ----

def elf_vm(mem_mib, module_kib):
    mods = (module_kib + [0, 0, 0, 0])[:4]
    return struct.pack("<HBB4H", mem_mib // 2 - 1, len(module_kib), 0, *mods)


def elf(is64, entry, segments, mb2=True):
    """segments: (type, paddr, filesz, memsz); the data follows the headers."""
    ehsize, phsize = (64, 56) if is64 else (52, 32)
    data_off = ehsize + phsize * len(segments)
    body = b""
    if mb2:  # a multiboot2 header: magic, arch 0, length 16, checksum
        body += struct.pack("<IIII", 0xE85250D6, 0, 16, (-(0xE85250D6 + 16)) & 0xFFFFFFFF)
    phdrs = b""
    off = data_off
    for ptype, paddr, filesz, memsz in segments:
        if is64:
            phdrs += struct.pack("<IIQQQQQQ", ptype, 5, off, paddr, paddr, filesz, memsz, 0x1000)
        else:
            phdrs += struct.pack("<IIIIIIII", ptype, off, paddr, paddr, filesz, memsz, 5, 0x1000)
        off += filesz
    ident = b"\x7fELF" + bytes([2 if is64 else 1, 1, 1]) + bytes(9)
    if is64:
        eh = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, ehsize, 0, 0, ehsize, phsize,
                                 len(segments), 0, 0, 0)
    else:
        eh = ident + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, entry, ehsize, 0, 0, ehsize, phsize,
                                 len(segments), 0, 0, 0)
    data = bytearray(eh + phdrs)
    total = sum(s[2] for s in segments)
    payload = (body + bytes(range(256)) * 16)[:total]
    return bytes(data) + payload


def elf_seeds():
    write("elf", "elf32-one-segment",
          elf_vm(32, [4, 100]) + elf(False, 0x100010, [(1, 0x100000, 0x200, 0x1000)]))
    write("elf", "elf64-two-segments-note",
          elf_vm(64, [1]) + elf(True, 0x200000,
                                [(1, 0x200000, 0x300, 0x300), (4, 0, 0x20, 0x20),
                                 (1, 0x400000, 0x100, 0x8000), (0x6474E551, 0, 0, 0)]))
    # A kernel over the information block's preferred place (0x8000).
    write("elf", "elf32-low-kernel",
          elf_vm(16, [64, 64, 64]) + elf(False, 0x8000, [(1, 0x7000, 0x100, 0x2000)], mb2=False))
    write("elf", "elf64-above-3g",
          elf_vm(4096, [2048]) + elf(True, 0x1000000, [(1, 0x1000000, 0x80, 0x100000)]))


# ---- bzImage (fuzz_bzimage: 16 bytes of VM, then the file) ----

def bz_vm(mem_mib, initrd, cmdline_len, acpi_base=0xE0000, acpi_size=0x1000):
    return struct.pack("<HIHIH", mem_mib - 1, initrd, cmdline_len, acpi_base >> 4, acpi_size)


def bzimage(proto, setup_sects=1, relocatable=True, payload=512, pref=0x1000000,
            init_size=0x2000000, xload=3):
    setup = (setup_sects or 4) + 1
    img = bytearray(setup * 512 + payload)
    end = 0x268 + 4 if proto >= 0x20A else 0x23C
    struct.pack_into("<B", img, 0x1F1, setup_sects)
    struct.pack_into("<I", img, 0x1F4, payload // 16)
    struct.pack_into("<H", img, 0x1FE, 0xAA55)
    img[0x200] = 0xEB
    img[0x201] = end - 0x202
    img[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", img, 0x206, proto)
    img[0x211] = 0x01  # LOADED_HIGH
    struct.pack_into("<I", img, 0x22C, 0x7FFFFFFF)
    struct.pack_into("<I", img, 0x230, 0x200000)
    img[0x234] = 1 if relocatable else 0
    if proto >= 0x20C:
        struct.pack_into("<H", img, 0x236, xload)
    struct.pack_into("<I", img, 0x238, 2047)
    if proto >= 0x20A:
        struct.pack_into("<Q", img, 0x258, pref)
        struct.pack_into("<I", img, 0x260, init_size)
        struct.pack_into("<I", img, 0x264, 0x190)
    for i in range(payload):
        img[setup * 512 + i] = i & 0xFF
    return bytes(img)


def bzimage_seeds():
    write("bzimage", "proto-2.15", bz_vm(256, 1 << 20, 40) + bzimage(0x20F))
    write("bzimage", "proto-2.06-fixed", bz_vm(64, 0, 300) + bzimage(0x206, 2, False))
    write("bzimage", "proto-2.10-four-sects",
          bz_vm(4096, 64 << 20, 2047, 0x7FFE0000, 0xF000) + bzimage(0x20A, 0, True, 1024))
    write("bzimage", "tight-memory", bz_vm(40, 5 << 20, 10) + bzimage(0x20F, init_size=0x2000000))


# ---- multiboot2 information (fuzz_mb2info: the block itself) ----

def tag(t, body):
    b = struct.pack("<II", t, 8 + len(body)) + body
    return b + bytes(-len(b) % 8)


def mbi(tags):
    body = b"".join(tags) + struct.pack("<II", 0, 8)
    return struct.pack("<II", 8 + len(body), 0) + body


def rsdp_v2():
    r = bytearray(b"RSD PTR " + bytes(28))
    r[9:15] = b"FUZZED"
    r[15] = 2
    struct.pack_into("<IIQ", r, 16, 0x7FE00200, 36, 0x7FE00000)
    r[8] = -sum(r[:20]) & 0xFF
    r[32] = -sum(r) & 0xFF
    return bytes(r)


def mb2_seeds():
    e820 = [(0, 0x9FC00, 1), (0x9FC00, 0x400, 2), (0xF0000, 0x10000, 2),
            (0x100000, 0x7FE00000 - 0x100000, 1), (0x7FE00000, 0x200000, 3),
            (0xFEC00000, 0x1000, 2)]
    mmap = struct.pack("<II", 24, 0) + b"".join(struct.pack("<QQII", b, l, t, 0)
                                                 for b, l, t in e820)
    fb = struct.pack("<QIIIBBH", 0xFD000000, 4096, 1024, 768, 32, 1, 0) + bytes([16, 8, 8, 8, 0,
                                                                                8])
    write("mb2info", "bios-grub", mbi([
        tag(1, b"console=serial,vga loglevel=info\0"),
        tag(2, b"GRUB 2.06\0"),
        tag(3, struct.pack("<II", 0x200000, 0x201000) + b"hello.elf\0"),
        tag(3, struct.pack("<II", 0x201000, 0x201000) + b"empty\0"),
        tag(4, struct.pack("<II", 639, 0x7FD00)),
        tag(6, mmap),
        tag(8, fb),
        tag(15, rsdp_v2()),
        tag(21, struct.pack("<I", 0x100000)),
    ]))
    # UEFI: the EFI memory map (40-byte descriptors), boot services active.
    descs = [(7, 0, 0x9F), (2, 0x100000, 0x100), (4, 0x200000, 0x300), (3, 0x500000, 0x10),
             (7, 0x600000, 0x7F000), (9, 0x7FE00000, 0x20), (11, 0xFEC00000, 1)]
    efi = struct.pack("<II", 48, 1) + b"".join(
        struct.pack("<IIQQQQ", t, 0, b, 0, n, 0xF) + bytes(8) for t, b, n in descs)
    write("mb2info", "uefi-grub", mbi([
        tag(1, b"\0"),
        tag(12, struct.pack("<Q", 0x7F000000)),
        tag(14, rsdp_v2()[:20]),
        tag(17, efi),
        tag(18, b""),
        tag(6, mmap),
    ]))


# ---- ACPI (fuzz_acpi: flags, then 16-bit length + table) ----

def table(sig, body, rev=1):
    t = bytearray(sig + struct.pack("<IB", 36 + len(body), rev) + b"\0FUZZEDTABLE001"
                  + struct.pack("<I", 1) + b"BULK" + struct.pack("<I", 1) + body)
    t[9] = -sum(t) & 0xFF
    return bytes(t)


def acpi_input(flags, tables):
    return bytes([flags]) + b"".join(struct.pack("<H", len(t)) + t for t in tables)


def madt():
    body = struct.pack("<II", 0xFEE00000, 1)
    body += struct.pack("<BBBBI", 0, 8, 0, 0, 1) + struct.pack("<BBBBI", 0, 8, 1, 1, 1)
    body += struct.pack("<BBBBI", 0, 8, 2, 2, 2)  # online-capable only
    body += struct.pack("<BBHIII", 9, 16, 0, 3, 1, 3)  # x2APIC
    body += struct.pack("<BBBBII", 1, 12, 2, 0, 0xFEC00000, 0)
    body += struct.pack("<BBBBIH", 2, 10, 0, 0, 2, 0)
    body += struct.pack("<BBBBIH", 2, 10, 0, 9, 9, 0xD)
    body += struct.pack("<BBBHB", 4, 6, 0xFF, 5, 1)  # LAPIC NMI
    return table(b"APIC", body, 4)


def fadt():
    body = bytearray(276 - 36)

    def put(off, fmt, *v):
        struct.pack_into(fmt, body, off - 36, *v)
    put(36, "<I", 0)
    put(40, "<I", 0)
    put(46, "<H", 9)
    put(48, "<I", 0xB2)
    put(52, "<B", 0xF1)
    put(56, "<I", 0x600)
    put(64, "<I", 0x604)
    put(76, "<I", 0x608)
    put(88, "<BBBB", 4, 2, 0, 4)
    put(108, "<B", 0x32)
    put(109, "<H", 3)
    put(112, "<I", (1 << 8) | (1 << 10))
    put(116, "<BBBBQ", 1, 8, 0, 1, 0xCF9)
    put(128, "<B", 6)
    return table(b"FACP", bytes(body), 6)


def dsdt():
    # Scope(\) { Name(_S5, Package(4) {5, 5, 0, 0}) }, as firmware writes it.
    aml = b"\x08_S5_\x12\x08\x04\x0a\x05\x0a\x05\x00\x00"
    scope = b"\x10" + bytes([len(aml) + 2]) + b"\\" + aml
    return table(b"DSDT", b"\x14\x06_PTS\x00" + scope, 2)


def facs():
    f = bytearray(64)
    f[0:4] = b"FACS"
    struct.pack_into("<I", f, 4, 64)
    return bytes(f)


def dmar():
    drhd_scope = struct.pack("<BBHBB", 3, 8, 0, 2, 0xF0) + bytes([0x1F, 0])  # I/O APIC 2
    drhd_scope2 = struct.pack("<BBHBB", 1, 8, 0, 0, 0) + bytes([2, 0])  # endpoint 00:02.0
    drhd1 = struct.pack("<HHBBHQ", 0, 16 + len(drhd_scope2), 0, 0, 0, 0xFED90000) + drhd_scope2
    drhd2 = struct.pack("<HHBBHQ", 0, 16 + len(drhd_scope), 1, 0, 0, 0xFED91000) + drhd_scope
    bridge = struct.pack("<BBHBB", 2, 10, 0, 0, 0) + bytes([0x1C, 0, 0, 0])  # 00:1c.0 -> 01:00.0
    rmrr = struct.pack("<HHHHQQ", 1, 24 + len(bridge), 0, 0, 0x7F000000, 0x7F0FFFFF) + bridge
    return table(b"DMAR", struct.pack("<BB10x", 38, 3) + drhd1 + drhd2 + rmrr)


def acpi_seeds():
    hpet = table(b"HPET", struct.pack("<IBBBBQBHB", 0x8086A201, 0, 0, 0, 0, 0xFED00000, 0,
                                      0x80, 0))
    mcfg = table(b"MCFG", bytes(8) + struct.pack("<QHBBI", 0xB0000000, 0, 0, 255, 0))
    ssdt = table(b"SSDT", b"\x08_S5_\x12\x06\x04\x00\x00\x00\x00", 2)
    every = [madt(), fadt(), dsdt(), facs(), hpet, mcfg, dmar(), ssdt]
    write("acpi", "xsdt-linked", acpi_input(0x01 | 0x04 | 0x08, every))
    write("acpi", "rsdt-scan", acpi_input(0x01 | 0x02 | 0x08 | (3 << 5), every[:4]))
    write("acpi", "both-roots-unfixed", acpi_input(0x04 | 0x10 | 0x08, every))
    write("acpi", "dmar-only", acpi_input(0x01 | 0x04, [dmar()]))


# ---- the hypervisor's command line (fuzz_cmdline: the line itself) ----

def cmdline_seeds():
    write("cmdline", "serial-and-vms",
          b"console=serial,vga loglevel=debug iommu=on vm=demo,hello.elf,mem=16M,cpu=1 "
          b"vm=rt,spin.elf,mem=32M,cpu=1,realtime=1,slice=500,platform=pc,on_crash=restart,"
          b"cmdline=name=rt a,b")
    # GRUB moves the quotes to the front and escapes inner ones.
    write("cmdline", "grub-quotes", b'"exec=stats; list" config=demo.cfg "x=\\"a b\\"" flag')
    write("cmdline", "bad-vm", b"vm=,x vm=a vm=a,b,mem=3M vm=a,b,cpu=0,realtime=1 vm=a,b,zz=1")


# ---- console keystrokes (fuzz_console: mode byte, then the bytes) ----

def console_seeds():
    keys = (b"help\r\nlist\r\n\x1b[A\x1b[A\r\nsta\x1b[D\x1b[Dx\x1b[3~ts\r"
            b"\x01\x05\x15stop a; start \"b;c\"\r\n\x03" + b"y" * 300 + b"\r\n")
    write("console", "serial-keys", bytes([0 << 1]) + keys)
    # telnet: DO ECHO, WILL SGA, a window-size subnegotiation, an escaped 255.
    tel = (b"\xff\xfd\x01\xff\xfb\x03\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0"
           b"stats\r\x00vm\xff\xff\r\n\xff\xf4")
    write("console", "telnet-session", bytes([1 | (7 << 1)]) + tel + keys)


# ---- CR0/CR4/EFER writes (fuzz_cr_rules: CPUID words, then operations) ----

def cr_seeds():
    bit = lambda *b: sum(1 << x for x in b)
    cpuid = struct.pack("<5I", bit(17, 26), bit(1, 2, 3, 4, 6, 7, 13, 24, 25),
                        bit(0, 7, 20), bit(2, 3, 7, 16), bit(11, 20, 29))

    def full(op, value):  # "how" 0x80: a whole 64-bit value
        return bytes([op, 0x80]) + struct.pack("<Q", value)
    pe, wp, pg, pae, pcide, cet = 1, 1 << 16, 1 << 31, 1 << 5, 1 << 17, 1 << 23
    long_mode = (full(0, pe | 0x10) + full(3, pae) + full(4, (1 << 8) | 1 | (1 << 11))
                 + bytes([5]) + struct.pack("<Q", 0x100000) + full(0, pe | pg | wp | 0x10)
                 + bytes([6, 1]) + full(3, pae | pcide | cet) + bytes([2]))
    leave = (full(3, pae) + bytes([6, 0]) + full(0, pe | 0x10) + full(4, 0) + bytes([1, 0x0e, 0]))
    write("cr_rules", "long-mode-and-back", cpuid + long_mode + leave)
    # PAE paging in 32-bit mode, then refused writes of every kind.
    pae32 = (full(0, pe | 0x10) + full(3, pae) + full(0, pe | pg | 0x10) + full(4, 1 << 8)
             + full(3, pcide) + full(0, pg) + full(0, (1 << 29) | pe) + full(0, 1 << 40))
    write("cr_rules", "pae-and-refusals", cpuid + pae32)
    write("cr_rules", "no-features", bytes(20) + long_mode)


# ---- network frames and logins (fuzz_tcp_syn) ----

def tcp_syn_seeds():
    def csum(b):
        b += bytes(len(b) % 2)
        s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        return ~s & 0xFFFF

    def frame(flags, opts=b"", frag=0):
        src, dst = bytes([10, 0, 2, 2]), bytes([10, 0, 2, 15])
        tcp = bytearray(struct.pack(">HHIIBBHHH", 40000, 23, 0x12345678, 0,
                                    (5 + len(opts) // 4) << 4, flags, 64240, 0, 0) + opts)
        struct.pack_into(">H", tcp, 16, csum(src + dst + struct.pack(">HH", 6, len(tcp))
                                             + bytes(tcp)))
        ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, frag, 64, 6, 0,
                                   src, dst))
        struct.pack_into(">H", ip, 10, csum(bytes(ip)))
        return b"\xff" * 6 + b"\x52\x54\x00\x12\x34\x56" + b"\x08\x00" + bytes(ip + tcp)

    # Failures from a few addresses and many, some time apart, one success.
    logins = b"".join(bytes([0x40 | (i % 5)]) + struct.pack("<H", 500) for i in range(12))
    logins += b"".join(bytes([0xC0]) + struct.pack("<IH", 0x0B000000 + i, 10) for i in range(40))
    logins += bytes([0x01]) + struct.pack("<H", 0xFFFF)
    for name, f in (("syn", frame(0x02, b"\x02\x04\x05\xb4")), ("syn-ack", frame(0x12)),
                    ("fragment", frame(0x02, frag=0x2000))):
        write("tcp_syn", name, bytes([3]) + struct.pack("<H", len(f)) + f + logins)


def main():
    tcp_syn_seeds()
    cr_seeds()
    elf_seeds()
    bzimage_seeds()
    mb2_seeds()
    acpi_seeds()
    cmdline_seeds()
    console_seeds()
    return 0


if __name__ == "__main__":
    sys.exit(main())
