; Multiboot2 header and the 32-bit entry point: GRUB (BIOS or UEFI) hands
; over in 32-bit protected mode with paging off; we build temporary page
; tables for the first 4 GiB, enter long mode and call kernel_main.

%define MB2_MAGIC        0xE85250D6
%define MB2_ARCH_I386    0
%define MB2_LOADER_MAGIC 0x36d76289

%define KERNEL_CS 0x08
%define KERNEL_DS 0x10

section .multiboot2 progbits alloc noexec nowrite align=8
mb2_header:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

    ; Information request (optional, so a loader lacking a tag still boots):
    ; command line, modules, memory map, ACPI old/new RSDP, EFI memory map,
    ; EFI 64-bit system table, loader name.
    align 8
.info_req:
    dw 1, 1
    dd .info_req_end - .info_req
    dd 1, 3, 6, 14, 15, 17, 12, 2
.info_req_end:

    ; Page-align modules: they are copied into guests page by page.
    align 8
    dw 6, 0
    dd 8

    ; A linear framebuffer for console=fb, any mode (width, height, depth 0).
    ; Optional: a loader without one still boots us. mkiso.sh's grub.cfg keeps
    ; BIOS GRUB in VGA text unless the command line asks for the screen.
    align 8
    dw 5, 1
    dd 20
    dd 0, 0, 0

    align 8
    dw 0, 0
    dd 8
mb2_header_end:

extern __bss_start, __bss_end

section .boot.text progbits alloc exec nowrite align=16
bits 32
global _start32
_start32:
    cli
    cld
    mov esp, boot_stack32_top
    mov edi, eax                ; keep the loader magic and MBI pointer
    mov esi, ebx

    ; Zero .bss (the loader should, but a stale byte here is a hard bug).
    push edi
    mov edi, __bss_start
    mov ecx, __bss_end
    sub ecx, edi
    xor eax, eax
    rep stosb
    pop edi
    mov [boot_magic], edi
    mov [boot_mbi], esi

    ; Long mode present?
    pushfd
    pop eax
    mov ecx, eax
    xor eax, 1 << 21            ; CPUID available if ID flag toggles
    push eax
    popfd
    pushfd
    pop eax
    push ecx
    popfd
    cmp eax, ecx
    je .no_long_mode
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz .no_long_mode
    mov [boot_ext_edx], edx

    ; Identity-map 0-4 GiB with 2 MiB pages: PML4[0] -> PDPT -> 4 PDs.
    mov eax, boot_pdpt
    or eax, 0x3
    mov [boot_pml4], eax
    mov ecx, 0
.fill_pdpt:
    mov eax, ecx
    shl eax, 12
    add eax, boot_pd
    or eax, 0x3
    mov [boot_pdpt + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jne .fill_pdpt
    xor ecx, ecx
.fill_pd:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83                ; present, writable, 2 MiB page
    mov [boot_pd + ecx * 8], eax
    mov eax, ecx
    shr eax, 11                 ; high dword: bits 32+ of the address
    mov [boot_pd + ecx * 8 + 4], eax
    inc ecx
    cmp ecx, 2048
    jne .fill_pd

    mov eax, cr4
    or eax, 1 << 5              ; PAE
    mov cr4, eax
    mov eax, boot_pml4
    mov cr3, eax
    mov ecx, 0xC0000080         ; EFER
    rdmsr
    or eax, 1 << 8              ; LME
    test dword [boot_ext_edx], 1 << 20
    jz .no_nx
    or eax, 1 << 11             ; NXE
.no_nx:
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | (1 << 16) | 1 ; PG, WP, PE
    mov cr0, eax

    lgdt [boot_gdt_ptr]
    jmp KERNEL_CS:long_entry

.no_long_mode:
    mov esi, msg_no_long_mode
.print:
    lodsb
    test al, al
    jz .halt
    mov dx, 0x3f8
    out dx, al
    jmp .print
.halt:
    hlt
    jmp .halt

bits 64
long_entry:
    mov ax, KERNEL_DS
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rsp, bsp_stack_top
    xor ebp, ebp
    mov edi, [boot_magic]
    mov esi, [boot_mbi]
    extern kernel_main
    call kernel_main
.hang:
    cli
    hlt
    jmp .hang

section .rodata
msg_no_long_mode: db "bulkhead: panic: this CPU has no long mode (x86-64); cannot boot", 13, 10, 0

align 16
boot_gdt:
    dq 0
    dq 0x00af9a000000ffff       ; 64-bit code
    dq 0x00cf92000000ffff       ; data
boot_gdt_ptr:
    dw boot_gdt_ptr - boot_gdt - 1
    dq boot_gdt

section .data
global boot_magic, boot_mbi
boot_magic:   dd 0
boot_mbi:     dd 0
boot_ext_edx: dd 0
; Outside .bss, which the entry code zeroes while using this stack.
align 16
boot_stack32:    times 256 db 0
boot_stack32_top:

section .bss.pagetables nobits alloc noexec write align=4096
boot_pml4: resb 4096
boot_pdpt: resb 4096
boot_pd:   resb 4096 * 4

; The BSP stack, with a guard page below it that paging_init unmaps.
section .bss.stack nobits alloc noexec write align=4096
global bsp_stack_guard, bsp_stack_top
bsp_stack_guard: resb 4096
bsp_stack:       resb 16384
bsp_stack_top:
