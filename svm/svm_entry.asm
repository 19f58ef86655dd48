; The SVM world switch (AMD64 APM vol. 2, 15.5 "VMRUN Instruction" and
; 15.5.2 "VMSAVE and VMLOAD").
;
; uint64_t svm_enter(uint64_t *gprs, uint64_t vmcb_pa, uint64_t host_vmcb_pa,
;                    int host_interrupts)
;
; gprs: the guest's general registers in x86 encoding order, as the VMX stub
; (rax rcx rdx rbx rsp rbp rsi rdi r8-r15). The rax and rsp slots are not
; touched: RAX and RSP live in the VMCB (save.rax, save.rsp), the caller
; copies them. host_vmcb_pa: the page svm_cpu_enable VMSAVEd the host's
; FS/GS/TR/LDTR/KernelGsBase/syscall MSRs into.
;
; The sequence: CLGI (no interrupt, NMI or SMI until the host state is
; back), VMLOAD guest, guest GPRs, VMRUN, VMSAVE guest, store guest GPRs,
; VMLOAD host, mitigations, STGI. Returns the TSC read right after the
; exit. Callee-saved registers are kept.
;
; Call with interrupts disabled. With V_INTR_MASKING the host's RFLAGS.IF
; at VMRUN decides whether host interrupts reach the CPU (and so exit the
; guest, VMEXIT_INTR) while the guest runs: host_interrupts nonzero sets
; IF between CLGI and VMRUN (GIF=0 still holds them off until VMRUN), and
; IF is cleared again before STGI, so the interrupt that made the guest
; exit is taken when the caller enables interrupts. The run loop needs
; that for its time slices; the boot self-test passes 0.
;
; Speculation mitigations as in vmx/vmx_entry.asm (docs/security.md; the
; flags come from arch/x86_64/spec_ctrl.c): L1D flush before the guest's
; registers are loaded, VERW as the last instruction before VMRUN, the
; branch-history clearing loop where needed and the RSB fill after the
; exit, before the first RET. The RSB fill is 32 deep here: AMD Zen cores
; have 32-entry return stack buffers.

bits 64
section .text

%include "hvm/guest_gprs.inc"

; Stack after the pushes below.
%define S_GPRS      0
%define S_VMCB      8
%define S_HOST_VMCB 16

%define RSB_FILL 32
%define MSR_IA32_FLUSH_CMD 0x10b

extern spec_entry_flags          ; bit 6: no VERW, bit 7: L1D flush
extern spec_bhb_clear
extern clear_bhb_loop          ; arch/x86_64/spec_asm.asm
extern verw_selector

global svm_enter

svm_enter:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    push rdx                    ; host_vmcb_pa
    push rsi                    ; vmcb_pa
    push rdi                    ; gprs

    clgi
    test ecx, ecx
    jz .host_if_done
    sti                         ; pending host interrupts wait for GIF
.host_if_done:
    mov rax, rsi
    vmload                      ; guest FS/GS/TR/LDTR/KernelGsBase/STAR...

    movzx eax, byte [rel spec_entry_flags]
    test al, al
    js .l1d_flush
.l1d_flushed:
    ; ZF survives the register loads (MOVs keep flags): ZF=1 means VERW.
    test al, 0x40

    mov rax, [rsp + S_GPRS]
    GUEST_GPRS_LOAD
    mov rax, [rsp + S_VMCB]
    jnz .no_verw
    verw [rel verw_selector]    ; MDS/TAA/RFDS: clear the CPU buffers
.no_verw:
    vmrun                       ; RAX: the VMCB
    ; #VMEXIT (or a failed VMRUN, EXITCODE = VMEXIT_INVALID): RAX and RSP
    ; are the host's again, every other GPR still holds the guest's value.
    vmsave                      ; RAX: the VMCB
    mov rax, [rsp + S_GPRS]
    GUEST_GPRS_SAVE
    mov rax, [rsp + S_HOST_VMCB]
    vmload                      ; the host's GS base (percpu), TR, ...

    rdtsc                       ; the exit's TSC, returned in RAX
    shl rdx, 32
    or rax, rdx

    cmp byte [rel spec_bhb_clear], 0
    je .bhb_done
    call clear_bhb_loop
.bhb_done:

    ; Overwrite the return stack buffer before the first RET, so entries
    ; the guest planted cannot steer host returns.
%assign i 0
%rep RSB_FILL
    call .rsb_ %+ i
    int3
.rsb_ %+ i:
%assign i i+1
%endrep
    add rsp, RSB_FILL * 8 + 24  ; the return addresses and the three arguments

    cli                         ; the exit's interrupt waits for the caller
    stgi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

.l1d_flush:                      ; L1TF: nothing of the host's stays in L1D
    mov ecx, MSR_IA32_FLUSH_CMD
    mov eax, 1                  ; L1D_FLUSH
    xor edx, edx
    wrmsr
    movzx eax, byte [rel spec_entry_flags]
    jmp .l1d_flushed
