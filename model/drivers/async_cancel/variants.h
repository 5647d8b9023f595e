/*
 * Variants of the sender/receiver cancellation protocol. Index 0 is correct;
 * each mutant is one bug that real driver code has (one-line docs in
 * target.c's table and docs/targets/fuzz_async_cancel.md).
 */
#ifndef ASYNC_CANCEL_VARIANTS_H
#define ASYNC_CANCEL_VARIANTS_H

#include <tdf/harness.h>

enum async_cancel_variant {
    VARIANT_CORRECT = 0,
    VARIANT_CANCEL_KEEPS_ENTRY, /* receiver: cancel routine completes, leaves the request on its list */
    VARIANT_NO_UNMARK,          /* receiver: completes a held request without WdfRequestUnmarkCancelable */
    VARIANT_WORKER_NOT_JOINED,  /* receiver: unloads without waiting for its completion worker */
    VARIANT_NO_PURGE,           /* sender: query-remove waits for its sent requests instead of purging */
    VARIANT_UNMARK_IGNORED,     /* receiver: completes even when UnmarkCancelable says STATUS_CANCELLED */
    VARIANT_NOT_CANCELABLE,     /* receiver: holds requests without marking them cancelable */
    VARIANT_COUNT
};

#define IS_VARIANT(v) (TdfVariant() == (v))

#endif
