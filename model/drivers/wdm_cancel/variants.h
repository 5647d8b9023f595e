/*
 * Variants of fuzz_wdm_cancel. Index 0 is correct; each mutant is one bug
 * real WDM code has (one-line docs in target.c and
 * docs/targets/fuzz_wdm_cancel.md).
 */
#ifndef WDM_CANCEL_VARIANTS_H
#define WDM_CANCEL_VARIANTS_H

#include <tdf/harness.h>

enum wdm_cancel_variant {
    WC_CORRECT = 0,
    WC_UNCHECKED_CLEAR,     /* B: completes although IoSetCancelRoutine(NULL) said the cancel routine has it */
    WC_CANCEL_KEEPS_ENTRY,  /* B: the cancel routine completes the IRP but leaves it on B's list */
    WC_NO_PROPAGATE,        /* A: the forwarding completion routine does not propagate PendingReturned */
    WC_FREE_AND_CONTINUE,   /* A: its completion routine frees its IRP and returns STATUS_SUCCESS */
    WC_FREE_UNREFERENCED,   /* A: its completion routine frees the IRP while A's canceller may still use it */
    WC_NO_REFERENCE,        /* A: drops its file object on B at once and keeps the raw device pointer */
    WC_NO_CANCEL,           /* A: its teardown neither cancels nor waits for its IRPs (plain completion routine) */
    WC_VARIANT_COUNT
};

#define WC_IS(v) (TdfVariant() == (v))

#endif
