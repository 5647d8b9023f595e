/*
 * Variants of the cross-stack interface protocol. Index 0 is correct; each
 * mutant is one bug that real driver code has (one-line docs in target.c's
 * table, details in docs/targets/fuzz_cross_stack.md).
 */
#ifndef CROSS_STACK_VARIANTS_H
#define CROSS_STACK_VARIANTS_H

#include <tdf/harness.h>

enum cross_stack_variant {
    VARIANT_CORRECT = 0,
    VARIANT_NOOP_REFS,         /* producer */
    VARIANT_SELF_UNLOAD,       /* producer */
    VARIANT_REVOKE_NO_WAIT,    /* producer */
    VARIANT_DEREF_IN_USE,      /* consumer */
    VARIANT_NO_CLOSE_ON_QR,    /* consumer */
    VARIANT_ACCEPT_V1,         /* consumer */
    VARIANT_COUNT
};

#define IS_VARIANT(v) (TdfVariant() == (v))

#endif
