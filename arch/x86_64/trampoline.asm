; AP start-up code. smp.c copies it to a page below 1 MiB and patches the
; header; a SIPI enters it in real mode with CS = page >> 4, IP = 0. It goes
; 16-bit -> 32-bit protected mode -> long mode on the kernel's page tables,
; then jumps to the C entry named in struct ap_boot (smp.c) on the AP's own
; stack. Position independent: 16-bit code addresses through CS, 32- and
; 64-bit code through EBX = the page's physical address.

%define KERNEL_CS  0x08
%define KERNEL_DS  0x10
%define TRAMP_CS32 0x18

; struct ap_boot in smp.c
%define AP_BOOT_STACK   0
%define AP_BOOT_PC      8
%define AP_BOOT_ENTRY   16
%define AP_BOOT_STARTED 24

%define OFF(x) ((x) - trampoline_start)

; Only copied, never executed in place: read-only data in the image.
section .rodata progbits alloc noexec nowrite align=16
global trampoline_start, trampoline_end

bits 16
trampoline_start:
    cli
    cld
    jmp short real16

; Header at offset 8, mirrored by struct trampoline_hdr in smp.c. Offsets
; marked (+page) are relative here and get the page address added.
    align 8, db 0
hdr_gdtr:   dw gdt_end - gdt - 1
            dd OFF(gdt)             ; (+page)
            dw 0
hdr_ljmp32: dd OFF(pm32)            ; (+page)
            dw TRAMP_CS32
            dw 0
hdr_ljmp64: dd OFF(lm64)            ; (+page)
            dw KERNEL_CS
            dw 0
hdr_cr3:    dd 0                    ; kernel PML4, below 4 GiB
hdr_efer:   dd 0                    ; EFER bits to set: LME, NXE
hdr_boot:   dq 0                    ; &ap_boot (kernel address)

real16:
    mov ax, cs
    mov ds, ax
    xor ebx, ebx
    mov bx, ax
    shl ebx, 4
    o32 lgdt [OFF(hdr_gdtr)]
    mov eax, cr0
    or eax, 1                       ; PE
    mov cr0, eax
    jmp dword far [OFF(hdr_ljmp32)]

bits 32
pm32:
    mov ax, KERNEL_DS
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr4
    or eax, 1 << 5                  ; PAE
    mov cr4, eax
    mov eax, [ebx + OFF(hdr_cr3)]
    mov cr3, eax
    mov ecx, 0xc0000080             ; EFER: NXE before paging, or NX PTEs fault
    rdmsr
    or eax, [ebx + OFF(hdr_efer)]
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | 1           ; PG, PE
    mov cr0, eax
    jmp far [ebx + OFF(hdr_ljmp64)]

bits 64
lm64:
    mov ax, KERNEL_DS
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov ebx, ebx                    ; upper halves are undefined after the switch
    mov rax, [rbx + OFF(hdr_boot)]
    mov dword [rax + AP_BOOT_STARTED], 1
    mov rsp, [rax + AP_BOOT_STACK]
    mov rdi, [rax + AP_BOOT_PC]
    xor ebp, ebp
    push rbp                        ; as if called: keeps the ABI stack alignment
    jmp [rax + AP_BOOT_ENTRY]

    align 8, db 0
gdt:
    dq 0
    dq 0x00af9a000000ffff           ; 0x08 64-bit code
    dq 0x00cf92000000ffff           ; 0x10 data
    dq 0x00cf9a000000ffff           ; 0x18 32-bit code
gdt_end:
trampoline_end:
