/* A multiboot v1 header (flags 0: page-aligned modules and memory
 * information need no flags from Bulkhead, which always gives both). In
 * platform.elf it sits next to lib/entry.S's multiboot2 header (the loader
 * then speaks v2); platform-mb1.elf drops that one (guests.mk) and is a
 * v1-only kernel. */
#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS 0

    .section .multiboot, "a"
    .balign 4
mb1_header:
    .long MB1_MAGIC
    .long MB1_FLAGS
    .long -(MB1_MAGIC + MB1_FLAGS)

    .text
    .code32
/* The LAPIC timer's interrupt: count it and EOI. */
    .globl platform_timer_isr
platform_timer_isr:
    incl platform_ticks
    movl $0, 0xfee000b0
    iret

    .section .note.GNU-stack, "", @progbits
