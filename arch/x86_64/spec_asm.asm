; Speculation-barrier sequences shared by the vendor entry stubs
; (vmx/vmx_entry.asm, svm/svm_entry.asm): the branch-history clearing loop
; and the selector VERW takes. See docs/security.md.
bits 64
section .text

global clear_bhb_loop
global verw_selector

; The branch-history clearing sequence (Intel's "BHI_DIS_S software
; alternative", as Linux's clear_bhb_loop): 5 x 5 taken branches from
; 64-byte aligned blocks, enough to displace the branch history a guest
; can control. Clobbers RCX and the flags; keeps RAX (the VMX stub's exit TSC).
clear_bhb_loop:
    push rbp
    mov rbp, rsp
    push rax
    mov ecx, 5
    call .outer
    jmp .done
    align 64, db 0xcc
.outer:
    call .inner
    ret
    align 64, db 0xcc
.inner:
    mov eax, 5
.branch:
    jmp .next
    nop
.next:
    sub eax, 1
    jnz .branch
    sub ecx, 1
    jnz .outer
    ret
.done:
    lfence
    pop rax
    pop rbp
    ret

section .rodata
verw_selector: dw 0x10          ; KERNEL_DS (arch/x86_64/gdt.h)
