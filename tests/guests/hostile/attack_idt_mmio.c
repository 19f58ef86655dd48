/* attack=idt-mmio: an exception whose delivery reads the IDT from MMIO.
 * The IDT is loaded at 0xfee00000 (the LAPIC window, emulated MMIO in a VM
 * without the PC platform); ring 3 then makes a misaligned store with
 * EFLAGS.AC, a `mov %eax,(%ebx)` that raises #AC. Delivering #AC reads the
 * gate from MMIO: the access belongs to the event delivery, not to the
 * instruction at EIP, so the hypervisor must not emulate that instruction
 * (a store into the IDT's page, and the #AC lost). Expected: the VM is
 * stopped with "event delivery (vector 17) touched MMIO". */
#include "tests/guests/lib/guest.h"

#include "tests/guests/hostile/attacks.h"

void idt_mmio_user(void);

__asm__(".text\n"
        ".globl idt_mmio_user\n"
        "idt_mmio_user:\n"
        "    movl $idt_mmio_buf + 1, %ebx\n"
        "    movl $0x41414141, %eax\n"
        "    movl %eax, (%ebx)\n"
        "    int $0x80\n"
        "1:  jmp 1b\n"
        ".data\n"
        ".balign 8\n"
        "idt_mmio_buf: .quad 0\n"
        ".text\n");

static uint8_t g_idt_mmio_stack[4096] __attribute__((aligned(16)));

void attack_idt_mmio(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } idtr = {0x7ff, 0xfee00000u};

    desc_init(); /* the TSS for the way back from ring 3 */
    write_cr0(read_cr0() | CR0_AM);
    printf("hostile: idt-mmio IDT at 0xfee00000, #AC from ring 3\n");
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
    enter_ring3(idt_mmio_user, g_idt_mmio_stack + sizeof(g_idt_mmio_stack), 0x2 | EFLAGS_AC);
}
