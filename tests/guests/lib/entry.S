/* Multiboot2 header and 32-bit entry for the test guests.
 * Entered in flat protected mode, paging and interrupts off, with
 * EAX = multiboot2 magic and EBX = multiboot2 info address. */

#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH  0 /* i386 protected mode */

    .section .multiboot, "a"
    .balign 8
mb2_header:
    .long MB2_MAGIC
    .long MB2_ARCH
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + MB2_ARCH + (mb2_header_end - mb2_header))
    /* end tag */
    .balign 8
    .short 0
    .short 0
    .long 8
mb2_header_end:

    .text
    .code32
    .globl _start
    .type _start, @function
_start:
    cli
    cld
    movl %eax, %ebp              /* magic */
    movl %ebx, %esi              /* mbi */

    /* The initial GDTR may be empty: load ours before touching segments. */
    lgdt guest_gdt_desc
    ljmp $0x08, $1f
1:  movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $guest_stack_top, %esp

    /* Zero .bss (the stack lives there, but nothing is on it yet). */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb

    pushl $0                     /* EFLAGS: IF, DF, AC, TF all clear */
    popfl
    pushl %esi
    pushl %ebp
    call guest_lib_start
2:  cli
    hlt
    jmp 2b
    .size _start, . - _start

    .data
    .balign 16
    .globl guest_gdt
guest_gdt:
    .quad 0                      /* 0x00 null */
    .quad 0x00cf9a000000ffff     /* 0x08 ring-0 code, flat 4 GiB */
    .quad 0x00cf92000000ffff     /* 0x10 ring-0 data */
    .quad 0x00cffa000000ffff     /* 0x18 ring-3 code (selector 0x1b) */
    .quad 0x00cff2000000ffff     /* 0x20 ring-3 data (selector 0x23) */
    .quad 0                      /* 0x28 TSS, filled in by desc_init() */
guest_gdt_end:

    .balign 4
    .short 0
    .globl guest_gdt_desc
guest_gdt_desc:
    .short guest_gdt_end - guest_gdt - 1
    .long guest_gdt

    .bss
    .balign 16
    .globl guest_stack_top
guest_stack:
    .skip 16384
guest_stack_top:

    .section .note.GNU-stack, "", @progbits
