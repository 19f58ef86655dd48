; Leaves UEFI's long mode and enters the hypervisor's 32-bit multiboot2
; entry as GRUB does: protected mode, paging off, flat segments,
; EAX = multiboot2 magic, EBX = the information structure.
;
; The hypervisor runs at a fixed physical address that firmware may still
; use for boot-services data (OVMF does at 16 MiB) until ExitBootServices.
; So the loader stages the image elsewhere and this code copies it into
; place once paging is off: nothing here depends on the firmware's page
; tables or stack, which may lie in that very range.
;
; The loader copies this code to a page below 4 GiB, fills struct
; handoff_params (efi_loader.h) at handoff_params, and calls the copy as
; handoff(base) with the SysV ABI, so every address is computed from base.

%define MB2_LOADER_MAGIC 0x36d76289
%define SEL_CODE32       0x08
%define SEL_DATA32       0x10

section .text
bits 64
global handoff_start, handoff_end, handoff_params
handoff_start:
    cli
    cld
    mov rax, cr4
    and rax, ~(1 << 17)             ; PCIDE: clearing CR0.PG with it set is #GP
    mov cr4, rax
    lea rax, [rdi + (gdt - handoff_start)]
    mov [rdi + (gdtr_base - handoff_start)], eax
    lgdt [rdi + (gdtr - handoff_start)]
    mov ebp, edi                    ; base, below 4 GiB
    lea rax, [rdi + (compat - handoff_start)]
    push SEL_CODE32
    push rax
    o64 retf                        ; to compatibility mode

bits 32
compat:
    mov eax, SEL_DATA32
    mov ds, eax
    mov es, eax
    mov fs, eax
    mov gs, eax
    mov ss, eax
    mov eax, cr0
    and eax, ~(1 << 31)             ; paging off: the CPU leaves long mode
    mov cr0, eax
    mov ecx, 0xC0000080             ; IA32_EFER
    rdmsr
    and eax, ~(1 << 8)              ; LME
    wrmsr
    mov eax, cr4
    and eax, ~(1 << 5)              ; PAE: the hypervisor sets up its own paging
    mov cr4, eax

    mov edi, [ebp + (handoff_params - handoff_start) + 8]    ; dst
    mov esi, [ebp + (handoff_params - handoff_start) + 12]   ; src
    mov ecx, [ebp + (handoff_params - handoff_start) + 16]   ; len
    rep movsb
    mov ebx, [ebp + (handoff_params - handoff_start) + 4]    ; the MBI
    mov esi, [ebp + (handoff_params - handoff_start)]        ; entry
    mov eax, MB2_LOADER_MAGIC
    jmp esi

align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff           ; 0x08: 32-bit code, flat
    dq 0x00cf92000000ffff           ; 0x10: data, flat
gdt_end:
gdtr:
    dw gdt_end - gdt - 1
gdtr_base:
    dq 0
align 8
handoff_params:                     ; struct handoff_params
    times 5 dd 0
handoff_end:
