/*
 * The interrupt recorder's hardware ID and variants (tests/test_lifecycle_interrupt.c).
 */
#ifndef RECINT_H
#define RECINT_H

#include <tdf/wdf.h>

#define REC_INT_HARDWARE_ID L"ROOT\\TdfRecInt"

enum rec_int_variant {
    REC_INT_VARIANT_CORRECT = 0,
    REC_INT_VARIANT_SYNC_IN_D0ENTRY, /* WdfInterruptSynchronize in EvtDeviceD0Entry */
    REC_INT_VARIANT_CREATE_LATE,     /* WdfInterruptCreate in EvtDeviceSelfManagedIoInit */
    REC_INT_VARIANT_COUNT
};

#endif
