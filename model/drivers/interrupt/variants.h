/*
 * Variants of the interrupt-driven device (fuzz_interrupt). Index 0 is
 * correct; each mutant is one bug real KMDF drivers have (one-line docs in
 * target.c's table and docs/targets/fuzz_interrupt.md).
 */
#ifndef INTERRUPT_VARIANTS_H
#define INTERRUPT_VARIANTS_H

#include <tdf/harness.h>

enum interrupt_variant {
    VARIANT_CORRECT = 0,
    VARIANT_WORKER_NOT_DRAINED, /* D0Exit does not wait for the worker the interrupt DPC fed */
    VARIANT_UNMAP_IN_SURPRISE,  /* unmaps the registers in EvtDeviceSurpriseRemoval: the power-down still touches them */
    VARIANT_NONPM_STATUS_QUEUE, /* status queue not power-managed: WdfInterruptSynchronize while disconnected */
    VARIANT_SYNC_IN_D0ENTRY,    /* programs the device with WdfInterruptSynchronize in D0Entry, before the connect */
    VARIANT_COUNT
};

#define IS_VARIANT(v) (TdfVariant() == (v))

#endif
