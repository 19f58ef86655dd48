; Retpoline thunks. Root mode is built with -mindirect-branch=thunk-extern
; -mindirect-branch-register (Makefile): every indirect call or jump the
; compiler would emit becomes a call or jump to __x86_indirect_thunk_REG,
; which reaches the target through a RET whose prediction comes from the
; RSB entry it just made (pointing at a PAUSE/LFENCE trap), never from the
; branch target buffer a guest can train (Intel, "Retpoline: A Branch
; Target Injection Mitigation"). scripts/check-indirect.sh fails the build
; if an indirect JMP or CALL exists anywhere else in the image.

bits 64
section .text

%macro THUNK 1
global __x86_indirect_thunk_%1
align 16
__x86_indirect_thunk_%1:
    call %%set_target
%%trap:
    pause                       ; speculation lands here and stays
    lfence
    jmp %%trap
%%set_target:
    mov [rsp], %1               ; the RET below goes to the real target
    ret
%endmacro

THUNK rax
THUNK rbx
THUNK rcx
THUNK rdx
THUNK rsi
THUNK rdi
THUNK rbp
THUNK r8
THUNK r9
THUNK r10
THUNK r11
THUNK r12
THUNK r13
THUNK r14
THUNK r15
