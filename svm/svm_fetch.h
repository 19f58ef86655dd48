/* The bytes of the instruction that caused an exit, for the vendor-neutral
 * decoder: SVM without NRIPS gives no instruction length and without
 * DecodeAssists no instruction bytes, so they are fetched from guest memory
 * at CS:RIP through the guest's own page tables (ept/gwalk.c) and then
 * guest-physical memory (the VM's nested page tables). QEMU TCG offers
 * neither assist. A pure function over the VMCB and two callbacks. */
#ifndef SVM_SVM_FETCH_H
#define SVM_SVM_FETCH_H

#include <stdint.h>

#include "ept/gwalk.h"
#include "svm/vmcb.h"

#define SVM_MAX_INSN_LEN 15

enum svm_fetch_status {
    SVM_FETCH_OK,         /* *len bytes in buf (fewer than asked at a CS limit or an
                           * unmapped second page: the decoder decides if that is enough) */
    SVM_FETCH_PAGE_FAULT, /* the first byte's page is not there: fault holds the #PF */
    SVM_FETCH_BAD_MEMORY, /* a page table or the code lies outside guest RAM */
    SVM_FETCH_RETRY,      /* the guest's tables changed under the walk */
};

struct svm_fetch_result {
    enum svm_fetch_status status;
    unsigned len;
    uint64_t la;               /* the linear address of the first byte */
    struct gwalk_result fault; /* for SVM_FETCH_PAGE_FAULT */
    int from_decode_assists;   /* 1: the bytes came from the VMCB */
};

/* Fetches up to want (<= 15) bytes at the guest's CS:RIP. With
 * DecodeAssists (VMCB insn_len nonzero, on #NPF and #PF intercepts) the
 * VMCB's bytes are used. mem->read reads 4 or 8 bytes of guest-physical
 * memory (the gwalk contract); maxphyaddr is the guest's width. */
void svm_fetch_insn(const struct vmcb *v, const struct gwalk_mem *mem, unsigned maxphyaddr,
                    uint8_t *buf, unsigned want, struct svm_fetch_result *out);

#endif
