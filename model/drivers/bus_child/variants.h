/*
 * Variants of the bus<->child protocol. Index 0 is correct; each mutant is one
 * bug that real driver code has (the docs are in target.c's table, one line
 * each, and in docs/TARGETS.md).
 */
#ifndef BUS_CHILD_VARIANTS_H
#define BUS_CHILD_VARIANTS_H

#include <tdf/harness.h>

enum bus_child_variant {
    VARIANT_CORRECT = 0,
    VARIANT_NO_RUNDOWN,        /* bus */
    VARIANT_FLAG_CHECK,        /* bus */
    VARIANT_RELEASE_EARLY,     /* bus */
    VARIANT_DISABLE_LATE,      /* child */
    VARIANT_THREAD_NOT_WAITED, /* child */
    VARIANT_CHILD_FLAG_D0,     /* child */
    VARIANT_HIBERNATE_ARMED,   /* child: only the Sx/hibernate path catches it */
    VARIANT_STALE_MAPPING,     /* child: only stop/rebalance catches it */
    VARIANT_THREAD_SIGNALS_DONE, /* child: needs a switch between a signal and the return (blind spot 1) */
    VARIANT_SR_DISARMS,          /* child: needs EvtDeviceSurpriseRemoval inside a power-down (blind spot 2) */
    VARIANT_STATUS_UNLOCKED,     /* bus: a data race on a plain counter that only TSan reports */
    VARIANT_COUNT
};

#define IS_VARIANT(v) (TdfVariant() == (v))

#endif
