/*
 * Variants of the poll-timer / DPC / watchdog driver (fuzz_deferred). Index 0
 * is correct; each mutant is one bug real drivers have (one-line docs in
 * target.c's table and docs/targets/fuzz_deferred.md).
 */
#ifndef DEFERRED_VARIANTS_H
#define DEFERRED_VARIANTS_H

#include <tdf/harness.h>

enum deferred_variant {
    VARIANT_CORRECT = 0,
    VARIANT_TIMER_IN_DX,         /* D0Exit does not stop the poll timer */
    VARIANT_STOP_NO_WAIT,        /* D0Exit stops the poll timer with Wait=FALSE */
    VARIANT_WATCHDOG_NO_FLUSH,   /* device cleanup cancels the watchdog KTIMER but does not flush its KDPC */
    VARIANT_DPC_WAITS,           /* EvtDpcFunc takes a WDFWAITLOCK (a wait at DISPATCH_LEVEL) */
    VARIANT_UNLOAD_TIMER_SET,    /* EvtDriverUnload does not cancel the driver's periodic KTIMER */
    VARIANT_UNLOAD_NO_FLUSH,     /* EvtDriverUnload cancels the KTIMER but does not flush its KDPC */
    VARIANT_WATCHDOG_NOT_CANCELLED, /* device cleanup frees the context with its watchdog KTIMER still set */
    VARIANT_COUNT
};

#define IS_VARIANT(v) (TdfVariant() == (v))

#endif
