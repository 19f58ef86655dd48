; VM entry and exit. vmx_enter loads the guest's general registers from
; an array in x86 encoding order (rax rcx rdx rbx rsp rbp rsi rdi r8-r15;
; the rsp slot is unused: RSP lives in the VMCS) and enters the guest.
; A VM exit lands at vmx_exit_entry (HOST_RIP) on the stack vmx_enter left
; (HOST_RSP), saves the guest registers back and returns 0 from vmx_enter.
; A failed VMLAUNCH/VMRESUME returns 1 (VMfailInvalid) or 2 (VMfailValid).
; vmx_enter_core, the form the run loop calls, returns that code in ECX and
; the TSC read just after the exit in RAX.
;
; Speculation mitigations (docs/security.md; arch/x86_64/spec_ctrl.c sets
; the flags once at boot): the L1D flush, then the guest's registers, then
; VERW as the last instruction before VMLAUNCH/VMRESUME; after an exit, the
; branch-history clearing loop where needed and the RSB fill, before the
; first RET.

bits 64
section .text

%define HOST_RSP 0x6c14

%include "hvm/guest_gprs.inc"

%define RSB_FILL 16               ; return stack buffer entries overwritten
%define MSR_IA32_FLUSH_CMD 0x10b

extern spec_entry_flags          ; uint8_t flags, arch/x86_64/spec_ctrl.c
extern spec_bhb_clear
extern clear_bhb_loop          ; arch/x86_64/spec_asm.asm
extern verw_selector

global vmx_enter
global vmx_enter_core
global vmx_exit_entry

; int vmx_enter(uint64_t *gprs, int launched, uint64_t *host_rsp_cache):
; the C-ABI form of vmx_enter_core.
vmx_enter:
    push r12
    push r13
    push r14
    push r15
    call vmx_enter_core
    mov eax, ecx
    pop r15
    pop r14
    pop r13
    pop r12
    ret

; vmx_enter_core: as vmx_enter, but preserves only RBP, RBX and RSP: the
; caller (vmx_enter_inline, vmx/vmx_exit.h) names the other registers
; clobbered, so the compiler saves only what it needs instead of six pushes
; and pops per round trip.
vmx_enter_core:
    push rbp
    push rbx
    push rdi                    ; the gprs array, found again on exit
    cmp rsp, [rdx]              ; HOST_RSP only changes with the call depth
    je .host_rsp_ok
    mov rax, HOST_RSP
    vmwrite rax, rsp
    jbe .fail_no_regs
    mov [rdx], rsp
.host_rsp_ok:
    ; Two decisions must survive the guest register loads: "launched" in
    ; CF and "no VERW" in ZF, loaded together by SAHF from AH (bit 0 CF,
    ; bit 6 ZF). MOVs keep the flags and VERW changes only ZF.
    movzx eax, byte [rel spec_entry_flags] ; bit 6: no VERW, bit 7: L1D flush
    test al, al
    js .l1d_flush
.l1d_flushed:
    test esi, esi
    setnz cl
    or al, cl
    mov ah, al
    sahf

    mov rax, rdi
    GUEST_GPRS_LOAD
    mov rax, [rax + G_RAX]
    jz .no_verw
    verw [rel verw_selector]    ; MDS/TAA/RFDS: clear the CPU buffers
.no_verw:
    jc .resume
    vmlaunch
    jmp .failed
.resume:
    vmresume
.failed:
    ; Still in root mode with guest values in the registers.
    mov ecx, 2                  ; VMfailValid (ZF)
    mov eax, 1
    cmovc ecx, eax              ; VMfailInvalid (CF)
    jmp .restore_host
.l1d_flush:                      ; L1TF: nothing of the host's stays in L1D
    mov ecx, MSR_IA32_FLUSH_CMD
    mov eax, 1                  ; L1D_FLUSH
    xor edx, edx
    wrmsr
    movzx eax, byte [rel spec_entry_flags]
    jmp .l1d_flushed
.fail_no_regs:
    mov ecx, 1
.restore_host:
    rdtsc                       ; RAX: the TSC, as after an exit
    shl rdx, 32
    or rax, rdx
    add rsp, 8
    pop rbx
    pop rbp
    ret

vmx_exit_entry:
    push rax                    ; guest rax
    mov rax, [rsp + 8]          ; gprs array
    GUEST_GPRS_SAVE
    pop qword [rax + G_RAX]
    rdtsc                       ; the exit's TSC, returned in RAX
    shl rdx, 32
    or rax, rdx

    ; Branch history injection on eIBRS parts without BHI_DIS_S: replace
    ; the history the guest left before any return can be predicted from it.
    cmp byte [rel spec_bhb_clear], 0
    je .bhb_done
    call clear_bhb_loop
.bhb_done:

    ; Overwrite the return stack buffer before the first RET, so entries
    ; the guest planted cannot steer host returns: RSB_FILL calls, each
    ; leaving a speculation trap behind (see docs/security.md).
%assign i 0
%rep RSB_FILL
    call .rsb_ %+ i
    int3
.rsb_ %+ i:
%assign i i+1
%endrep
    add rsp, RSB_FILL * 8 + 8   ; the return addresses and the gprs pointer

    pop rbx
    pop rbp
    xor ecx, ecx
    ret
