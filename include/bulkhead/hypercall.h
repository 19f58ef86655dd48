/* Bulkhead hypercall ABI, shared by the hypervisor and guests.
 *
 * A guest issues VMCALL at CPL 0 with the call number in RAX and up to four
 * arguments in RBX, RCX, RDX, RSI (EAX/EBX/ECX/EDX/ESI in 32-bit guests;
 * upper halves ignored there). The result comes back in RAX: >= 0 on
 * success, a negative HC_E* value on failure. Buffer arguments are
 * guest-physical addresses; they must lie entirely inside the VM's RAM.
 * VMCALL from CPL > 0 is refused with #UD, like an unknown instruction. */
#ifndef BULKHEAD_HYPERCALL_H
#define BULKHEAD_HYPERCALL_H

#define HC_VERSION            0 /* -> (major << 16) | minor */
#define HC_CONSOLE_WRITE      1 /* RBX = gpa, RCX = length (<= 4096) -> bytes written */
#define HC_YIELD              2 /* give up the rest of the time slice -> 0 */
#define HC_STOP_SELF          3 /* RBX = exit code; the VM goes to "shut off" */
#define HC_GET_TSC_KHZ        4 /* -> the guest TSC frequency in kHz */
#define HC_SHUTDOWN_REQUESTED 5 /* -> 1 when the console asked this VM to shut down */
#define HC_COUNT              6

#define HC_EINVAL (-22) /* bad argument */
#define HC_EFAULT (-14) /* buffer outside the VM's RAM */
#define HC_ENOSYS (-38) /* unknown call number */
#define HC_EPERM  (-1)

/* CPUID leaf 0x40000000: EAX = max leaf, EBX/ECX/EDX = "BulkheadHV\0\0". */
#define BULKHEAD_CPUID_BASE      0x40000000
#define BULKHEAD_CPUID_SIGNATURE "BulkheadHV\0\0"
/* CPUID leaf 0x40000010: EAX = TSC kHz, EBX = LAPIC bus kHz (VMware's
 * timing leaf layout, which Linux reads). */
#define BULKHEAD_CPUID_TIMING 0x40000010

#endif
