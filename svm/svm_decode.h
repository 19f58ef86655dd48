/* What an exit's VMCB fields mean, as pure functions: the pieces the SVM
 * backend's exit translation (into hvm/exit.h's struct exit_record) and
 * its event injection are made of. Event types use the numbering of the
 * vendor-neutral layer (VMX's interruption types: 0 external interrupt,
 * 2 NMI, 3 hardware exception, 4 software interrupt, 5 privileged software
 * exception (ICEBP), 6 software exception (INT3, INTO)). */
#ifndef SVM_SVM_DECODE_H
#define SVM_SVM_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "svm/vmcb.h"

#define SVM_EV_EXT_INTR       0
#define SVM_EV_NMI            2
#define SVM_EV_HW_EXCEPTION   3
#define SVM_EV_SW_INTR        4
#define SVM_EV_PRIV_SW_EXCEPT 5
#define SVM_EV_SW_EXCEPTION   6

/* VMEXIT_IOIO's EXITINFO1 (APM 15.10.2). */
struct svm_ioio {
    uint16_t port;
    uint8_t size;      /* 1, 2 or 4 */
    uint8_t addr_size; /* string: 2, 4 or 8 */
    bool in, string, rep;
    uint8_t seg; /* string OUTS segment (DecodeAssists), 3 = DS by default */
};
/* False for a malformed EXITINFO1 (no size bit, or several). */
bool svm_ioio_decode(uint64_t exit_info_1, bool decode_assists, struct svm_ioio *out);

/* VMEXIT_NPF (APM 15.25.6). */
struct svm_npf {
    uint64_t gpa;
    bool read, write, fetch;
    bool not_permitted; /* the page is mapped, the access is not allowed */
    bool misconfig;     /* a reserved bit in a nested entry: a hypervisor bug */
    bool guest_walk;    /* the access was the guest's own page-table walk */
};
void svm_npf_decode(uint64_t exit_info_1, uint64_t exit_info_2, struct svm_npf *out);

/* VMEXIT_CRn_READ / VMEXIT_CRn_WRITE (APM 15.8.1; operand with
 * DecodeAssists, 15.33.1). */
struct svm_cr {
    uint8_t cr;
    bool write;
    bool decoded; /* gpr is the MOV's operand; false: decode the instruction
                   * (no DecodeAssists, or LMSW/CLTS on CR0) */
    uint8_t gpr;  /* enum gpr */
};
/* False when code is not a CR access exit. */
bool svm_cr_decode(uint64_t code, uint64_t exit_info_1, bool decode_assists, struct svm_cr *out);

/* Without DecodeAssists a CR exit says which CR but not how: the
 * instruction at CS:RIP (svm_fetch_insn) decoded. Covers what CR
 * intercepts catch: MOV to/from CRn (0F 22 / 0F 20, REX.R for CR8-15,
 * REX.B for R8-R15 in 64-bit mode, and AMD's LOCK MOV CR0 alias of CR8),
 * CLTS (0F 06) and LMSW from a register (0F 01 /6, mod 3). */
enum svm_cr_insn_type { SVM_CR_MOV_TO, SVM_CR_MOV_FROM, SVM_CR_CLTS, SVM_CR_LMSW };
struct svm_cr_insn {
    enum svm_cr_insn_type type;
    uint8_t cr;
    uint8_t gpr; /* MOV: the GPR operand; LMSW: the source register */
    uint8_t len;
};
/* False for anything else, a truncated instruction, or LMSW from memory
 * (the caller stops the VM or decodes it another way). long_mode: 64-bit
 * code (REX prefixes exist). */
bool svm_decode_cr_insn(const uint8_t *b, unsigned n, bool long_mode, struct svm_cr_insn *out);

/* The exiting instruction's length from nRIP (NRIPS), 0 = unknown (no
 * NRIPS, or an exit that writes no nRIP): the neutral layer decodes. */
uint8_t svm_insn_len(const struct vmcb *v, bool nrips);

/* EVENTINJ for an event. Software interrupts and exceptions (types 4, 5, 6)
 * are delivered with the return address the VMCB's RIP holds, so the
 * caller first advances RIP by *rip_advance (their instruction length).
 * has_error is dropped in real mode (pe false), where no error code is
 * pushed. */
uint64_t svm_eventinj(uint8_t type, uint8_t vector, bool has_error, uint32_t error,
                      uint8_t insn_len, bool pe, uint8_t *rip_advance);

/* EXITINTINFO: the event being delivered when the exit hit, to deliver
 * again first. False when none is pending (or its type is reserved). */
struct svm_event {
    uint8_t type; /* SVM_EV_* */
    uint8_t vector;
    bool has_error;
    uint32_t error;
};
bool svm_exitintinfo_decode(uint64_t exit_int_info, struct svm_event *out);

/* Segment attributes: the VMCB's packed form (access byte in 7:0, AVL/L/
 * D/G in 11:8) to and from VMX's access-rights layout (AVL/L/D/G in 15:12,
 * bit 16 "unusable"), which hvm/backend.h's struct hvm_segment uses. A
 * segment without P reads as unusable. */
uint32_t svm_attrib_to_ar(uint16_t attrib);
uint16_t svm_ar_to_attrib(uint32_t ar);

/* Interrupt window: a virtual interrupt (V_IRQ, ignoring V_TPR) whose
 * acceptance exits with VMEXIT_VINTR as soon as the guest can take one. */
void svm_set_irq_window(struct vmcb *v, bool on);
/* NMI window without vNMI: the guest's IRET (which ends NMI blocking)
 * exits with VMEXIT_IRET. */
void svm_set_nmi_window(struct vmcb *v, bool on);

#endif
