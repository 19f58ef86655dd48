/* Ring-3 code for the hostile guest (entered through enter_ring3). It has
 * no I/O rights; it reports back to ring 0 with INT 0x80. */

    .text
    .code32

/* VMCALL at CPL 3: must be refused with #UD. If it returns, hand the
 * result to ring 0 in EAX through INT 0x80. */
    .globl user_vmcall, user_vmcall_insn
user_vmcall:
    movl $0, %eax                /* HC_VERSION: harmless if wrongly honoured */
    xorl %ebx, %ebx
user_vmcall_insn:
    vmcall
    int $0x80
1:  jmp 1b

/* Misaligned loads with EFLAGS.AC set and CR0.AM on: #AC at CPL 3. The
 * handler either retries the load (a pure #AC storm) or resumes at
 * user_ac_after (interleaved with single-step #DB when TF is set). */
    .globl user_ac_loop, user_ac_insn, user_ac_after
user_ac_loop:
    movl $user_ac_buf + 1, %ebx
1:
user_ac_insn:
    movl (%ebx), %eax
user_ac_after:
    incl %ecx
    jmp 1b

/* Plain single-step target: TF is set on entry, every instruction traps. */
    .globl user_spin
user_spin:
1:  incl %eax
    jmp 1b

    .data
    .balign 8
user_ac_buf:
    .quad 0x1122334455667788

    .section .note.GNU-stack, "", @progbits
