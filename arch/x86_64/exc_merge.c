/* Exception classes and the double-fault rules (see exc_merge.h). */
#include "arch/x86_64/exc_merge.h"

enum exc_class x86_exception_class(uint8_t vector)
{
    switch (vector) {
    case 0:  /* #DE */
    case 10: /* #TS */
    case 11: /* #NP */
    case 12: /* #SS */
    case 13: /* #GP */
        return EXC_CLASS_CONTRIBUTORY;
    case 14: /* #PF */
    case 20: /* #VE */
        return EXC_CLASS_PAGE_FAULT;
    case 8:
        return EXC_CLASS_DOUBLE_FAULT;
    default:
        return EXC_CLASS_BENIGN;
    }
}

enum exc_merge x86_merge_exceptions(uint8_t first, uint8_t second)
{
    enum exc_class a = x86_exception_class(first), b = x86_exception_class(second);
    /* A second #DF counts as contributory: it can only come from a fault. */
    bool harmful =
        b == EXC_CLASS_CONTRIBUTORY || b == EXC_CLASS_PAGE_FAULT || b == EXC_CLASS_DOUBLE_FAULT;
    switch (a) {
    case EXC_CLASS_DOUBLE_FAULT:
        return harmful ? EXC_MERGE_TRIPLE_FAULT : EXC_MERGE_SECOND;
    case EXC_CLASS_CONTRIBUTORY:
        /* Contributory then #PF: the #PF is handled serially. */
        return b == EXC_CLASS_CONTRIBUTORY || b == EXC_CLASS_DOUBLE_FAULT ? EXC_MERGE_DOUBLE_FAULT
                                                                          : EXC_MERGE_SECOND;
    case EXC_CLASS_PAGE_FAULT:
        return harmful ? EXC_MERGE_DOUBLE_FAULT : EXC_MERGE_SECOND;
    case EXC_CLASS_BENIGN:
    default:
        return EXC_MERGE_SECOND;
    }
}
