/*
 * Variants of the power-policy driver (ppdev.c). Index 0 is correct; each
 * mutant is one bug real driver code has (one-line docs in target.c's table
 * and docs/targets/fuzz_power_policy.md).
 */
#ifndef POWER_POLICY_VARIANTS_H
#define POWER_POLICY_VARIANTS_H

#include <tdf/harness.h>

enum power_policy_variant {
    VARIANT_CORRECT = 0,
    VARIANT_NO_POWER_REF,          /* the non-power-managed queue reads registers without WdfDeviceStopIdle */
    VARIANT_RESUME_AFTER_FAILED_STOP, /* WdfDeviceResumeIdle even when WdfDeviceStopIdle failed */
    VARIANT_D0ENTRY_FAIL_LEAK,     /* a failing D0Entry leaves its buffer for D0Exit to free (never called) */
    VARIANT_TRIGGERED_TOUCHES_HW,  /* EvtDeviceWakeFromS0Triggered reads the wake status register (still in Dx) */
    VARIANT_COUNT
};

#define IS_VARIANT(v) (TdfVariant() == (v))

#endif
