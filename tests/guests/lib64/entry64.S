/* Multiboot2 header and entry of the 64-bit test guests. Entered like the
 * 32-bit ones (flat protected mode, paging off, EAX = multiboot2 magic,
 * EBX = info address); builds identity page tables for the first 4 GiB
 * with 2 MiB pages, turns on long mode and calls lib64_start(magic, mbi)
 * on a 64-bit stack. Selectors: see SEL_* in lib64.h. */

#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH  0 /* i386 protected mode: the loader enters in 32-bit */

#define CR0_PG     0x80000000
#define CR4_PAE    0x20
#define MSR_EFER   0xc0000080
#define EFER_LME   0x100
#define EFER_NXE   0x800
#define PTE_PWU    0x7  /* present, writable, user: upper levels never restrict */
#define PDE_LARGE  0x83 /* present, writable, 2 MiB, supervisor */

    .section .multiboot, "a"
    .balign 8
mb2_header:
    .long MB2_MAGIC
    .long MB2_ARCH
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + MB2_ARCH + (mb2_header_end - mb2_header))
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
    lgdt gdt64_desc32
    ljmp $0x08, $1f
1:  movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $guest_stack_top, %esp

    /* Zero .bss: the page tables and the stack live there. */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb

    /* PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3; each PD maps 1 GiB. */
    movl $lib64_pdpt, %eax
    orl $PTE_PWU, %eax
    movl %eax, lib64_pml4
    xorl %ecx, %ecx
2:  movl %ecx, %eax
    shll $12, %eax
    addl $lib64_pd, %eax
    orl $PTE_PWU, %eax
    movl %eax, lib64_pdpt(,%ecx,8)
    incl %ecx
    cmpl $4, %ecx
    jb 2b
    xorl %ecx, %ecx              /* 2048 PDEs: 2 MiB each, 4 GiB in all */
3:  movl %ecx, %eax
    shll $21, %eax
    orl $PDE_LARGE, %eax
    movl %eax, lib64_pd(,%ecx,8)
    movl %ecx, %eax
    shrl $11, %eax               /* bits 32+ of the address: 0 below 4 GiB */
    movl %eax, lib64_pd+4(,%ecx,8)
    incl %ecx
    cmpl $2048, %ecx
    jb 3b

    call lib64_enter_long_mode   /* shared with the APs' trampoline */
    ljmp $0x18, $4f

    .code64
4:  movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $guest_stack_top, %rsp
    pushq $0
    popfq
    movl %ebp, %edi
    movl %esi, %esi
    call lib64_start
5:  cli
    hlt
    jmp 5b
    .size _start, . - _start

/* 32-bit: PAE, CR3 = the tables above, EFER.LME (and NXE when the CPU has
 * it), paging on. Returns in compatibility mode; the caller far-jumps. */
    .code32
    .globl lib64_enter_long_mode
lib64_enter_long_mode:
    movl %cr4, %eax
    orl $CR4_PAE, %eax
    movl %eax, %cr4
    movl $lib64_pml4, %eax
    movl %eax, %cr3
    movl $0x80000001, %eax
    pushl %ebx
    cpuid
    popl %ebx
    xorl %edi, %edi
    testl $0x100000, %edx        /* NX */
    jz 1f
    movl $EFER_NXE, %edi
1:  movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    orl %edi, %eax
    wrmsr
    movl %cr0, %eax
    orl $CR0_PG, %eax
    movl %eax, %cr0
    ret

    .data
    .balign 16
    .globl lib64_gdt
lib64_gdt:
    .quad 0                      /* 0x00 null */
    .quad 0x00cf9a000000ffff     /* 0x08 32-bit code (entry and AP start only) */
    .quad 0x00cf92000000ffff     /* 0x10 kernel data */
    .quad 0x00af9a000000ffff     /* 0x18 kernel code, 64-bit */
    .quad 0x00cff2000000ffff     /* 0x20 user data (selector 0x23) */
    .quad 0x00affa000000ffff     /* 0x28 user code, 64-bit (selector 0x2b) */
    .quad 0, 0                   /* 0x30 TSS (16 bytes), filled in by desc64.c */
    .globl lib64_gdt_end
lib64_gdt_end:

    .balign 4
    .short 0
gdt64_desc32:
    .short lib64_gdt_end - lib64_gdt - 1
    .long lib64_gdt

    .bss
    .balign 4096
    .globl lib64_pml4, lib64_pdpt, lib64_pd
lib64_pml4:
    .skip 4096
lib64_pdpt:
    .skip 4096
lib64_pd:
    .skip 4 * 4096
    .balign 16
    .globl guest_stack_top
guest_stack:
    .skip 16384
guest_stack_top:

    .section .note.GNU-stack, "", @progbits
