/*
 * Variants of fuzz_sync_scope. Index 0 is correct; each mutant is one bug of
 * real drivers that rely on the framework's synchronization scope (one-line
 * docs in target.c and docs/targets/fuzz_sync_scope.md).
 */
#ifndef SYNC_SCOPE_VARIANTS_H
#define SYNC_SCOPE_VARIANTS_H

#include <tdf/harness.h>

enum sync_scope_variant {
    VARIANT_CORRECT = 0,
    VARIANT_TIMEOUT_UNLOCKED,       /* the timeout routine takes the pending request without WdfObjectAcquireLock */
    VARIANT_CANCEL_UNREFERENCED,    /* cancels its sent request without a reference of its own */
    VARIANT_CANCEL_UNDER_SPINLOCK,  /* cancels its sent request holding the lock its completion routine takes */
    VARIANT_COMPLETION_AT_DPC_LEVEL, /* the completion routine uses the AtDpcLevel lock form */
    VARIANT_COUNT
};

#define IS_VARIANT(v) (TdfVariant() == (v))

#endif
