/* Start-up code of the application processors. The BSP copies
 * lib64_tramp_start..lib64_tramp_end to LIB64_TRAMP_BASE (a page below
 * 1 MiB) and sends INIT-SIPI-SIPI with vector LIB64_TRAMP_BASE >> 12; the
 * AP starts there in real mode, loads the runtime's GDT, goes through
 * protected mode into long mode on the shared page tables and calls
 * lib64_ap_main() on the stack in lib64_ap_stack. */

#define TRAMP_BASE 0x7000

    .section .rodata
    .code16
    .globl lib64_tramp_start, lib64_tramp_end
lib64_tramp_start:
    cli
    cld
    /* Linear addresses with DS = 0: right whether the SIPI gave CS 0x0700
     * and IP 0 (as hardware does) or CS 0 and IP 0x7000. */
    .set GDTR_LIN, TRAMP_BASE + tramp_gdtr - lib64_tramp_start
    .set T32, TRAMP_BASE + tramp32 - lib64_tramp_start
    xorw %ax, %ax
    movw %ax, %ds
    lgdtl GDTR_LIN
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $T32

    .code32
tramp32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl lib64_ap_stack, %esp    /* below 4 GiB: the image is at 1 MiB */
    movl $lib64_enter_long_mode, %eax
    call *%eax
    ljmp $0x18, $ap_entry64

    .balign 4
tramp_gdtr:
    .short 8 * 8 - 1             /* entry64.S: 8 descriptors (the TSS takes 2) */
    .long lib64_gdt
lib64_tramp_end:

    .text
    .code64
ap_entry64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movq lib64_ap_stack(%rip), %rsp
    pushq $0
    popfq
    call lib64_ap_main
1:  cli
    hlt
    jmp 1b

    .section .note.GNU-stack, "", @progbits
