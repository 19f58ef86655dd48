/* PCI passthrough for one VM (`pci = [...]` in its section): the glue
 * between the virtual bus (vdev/vpci_bridge.h), the VM's EPT, the IOMMU
 * (drivers/vtd.h) and the host's interrupts.
 *
 * At VM start: the devices are claimed (one VM each), put in a VT-d
 * domain that maps exactly the VM's RAM (or, with `iommu = off-unsafe` on
 * a machine without an IOMMU, left able to DMA anywhere, said in the log),
 * shown on the VM's bus at 00:01.0 upwards with BARs in the guest window,
 * their INTx routed from the host I/O APIC pin to vIOAPIC pin
 * VPT_GUEST_GSI_BASE + slot - 1 (level, active low, as the DSDT's _PRT
 * says), MSI/MSI-X through interrupt remapping entries on demand.
 * At VM stop (before its memory is scrubbed): BARs unmapped, vectors
 * released, the device quiesced (FLR or bus mastering off), then its
 * domain torn down.
 *
 * Guest-physical layout (inside the 32-bit hole, above any guest RAM):
 * BAR window VPT_MMIO_BASE (512 MiB), ECAM at VPT_ECAM_BASE (bus 0),
 * I/O BARs in VPT_IO_BASE..+VPT_IO_SIZE. */
#ifndef VDEV_VPCI_PT_H
#define VDEV_VPCI_PT_H

#include <stdbool.h>
#include <stdint.h>

#define VPT_MMIO_BASE      0xc0000000ULL
#define VPT_MMIO_SIZE      0x20000000ULL
#define VPT_ECAM_BASE      0xe0000000ULL
#define VPT_IO_BASE        0xc000u
#define VPT_IO_SIZE        0x1000u
#define VPT_GUEST_GSI_BASE 16

struct vm;
struct vpt;

/* Console CPU, at VM start after the platform exists: 0, or -1 with a
 * reason (the VM does not start). Nothing to do without `pci`. */
int vpt_attach(struct vm *vm, char *err, unsigned errlen);
/* Console CPU, once the VM's vCPUs are out: quiesce, release, tear down. */
void vpt_detach(struct vm *vm);
/* Ports 0xCF8-0xCFF of a VM with devices; false when not handled (0xCF9
 * byte: reset control). Platform lock held. */
bool vpt_config_io(struct vm *vm, uint16_t port, unsigned size, bool in, uint32_t *val);
/* Right after a configuration access (port or ECAM), with the platform
 * lock released: when it moved or closed a BAR (EPT mapping, I/O ports),
 * every vCPU of the VM is brought out of the guest and drops what it
 * cached before the access completes (vcpu/vm_sync.h). Cheap otherwise. */
void vpt_sync(struct vm *vm);
/* Before each entry (platform lock held): deliver interrupts the host
 * received for the VM's devices; act on a DMA fault with on_dma_fault. */
void vpt_poll(struct vm *vm);
/* The guest EOIed vector on its vLAPIC (platform lock held): lower the
 * INTx lines it served and unmask their host pins. */
void vpt_eoi(struct vm *vm, uint8_t vector);
/* True when [hpa, hpa+size) lies in a BAR of a device the VM owns (for
 * the EPT isolation check). */
bool vpt_owns_hpa(const struct vm *vm, uint64_t hpa, uint64_t size);

/* The name of the running VM that owns seg:sid, or NULL (the console's
 * `pci`). */
const char *vpt_owner(uint16_t seg, uint16_t sid);

#endif
