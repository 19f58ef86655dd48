/* XCR0 set by the guest without an exit (hvm/exit.h, vcpu_xcr0_seen).
 * QEMU TCG does not check the XSETBV intercept under SVM: the guest's
 * XSETBV loads the CPU's XCR0 directly (QEMU's own checks against the
 * emulated CPU's CPUID still apply). The vCPU switch restores v->xcr0, so
 * a value the neutral layer did not see would be lost at the next switch
 * (the guest's AVX registers then raise #UD), and one outside what the
 * switch saves could carry state from one VM to another. */
#include "arch/x86_64/cpu.h"
#include "hvm/exit.h"
#include "vcpu/cpuid.h"
#include "vcpu/vm.h"

/* The XCR0 rules XSETBV is held to (vcpu/exit.c): x87 always on, AVX
 * needs SSE, AVX-512 parts all or none and only with AVX. */
static bool xcr0_valid(uint64_t val, uint64_t allowed)
{
    return !(val & ~allowed) && (val & 1) && !((val & 4) && !(val & 2)) &&
           !((val & 0xe0) && (val & 0xe0) != 0xe0) && !((val & 0xe0) && !(val & 4));
}

bool vcpu_xcr0_seen(struct vcpu *v, uint64_t xcr0)
{
    if (xcr0 == v->xcr0)
        return true;
    if (!xcr0_valid(xcr0, guest_xcr0_allowed())) {
        xsetbv(0, v->xcr0);
        vm_crash(v, "XCR0 set to 0x%llx without an XSETBV exit, outside what the vCPU may enable",
                 (unsigned long long)xcr0);
        return false;
    }
    v->xcr0 = xcr0;
    return true;
}
