/*
 * Variants of the IOCTL design (fuzz_bus_ioctl). Index 0 is correct; each
 * mutant is one bug that real driver code of this design has (one-line docs
 * in target.c's table; docs/targets/fuzz_bus_ioctl.md).
 */
#ifndef BUS_IOCTL_VARIANTS_H
#define BUS_IOCTL_VARIANTS_H

#include <tdf/harness.h>

enum bus_ioctl_variant {
    VARIANT_CORRECT = 0,
    VARIANT_PURGE_NO_WAIT,       /* child */
    VARIANT_RESEND_IGNORE_STATE, /* child */
    VARIANT_CTX_FREED,           /* child */
    VARIANT_NONPM_CHILD_QUEUE,   /* child */
    VARIANT_UNMARK_IGNORED,      /* bus: keeps the inverted call itself, cancelable */
    VARIANT_CANCEL_KEEPS_POINTER, /* bus: the same design */
    VARIANT_HELD_REQUEST,        /* bus: keeps it itself, not cancelable */
    VARIANT_COUNT
};

#define IS_VARIANT(v) (TdfVariant() == (v))

#endif
