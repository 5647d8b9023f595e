/*
 * The recorder pair of tests/test_lifecycle.c: what the bus (recbus.c), the
 * child (recchild.c) and the test share. The drivers do nothing but append
 * one line per KMDF callback to the run's trace (DbgPrint), so the test can
 * assert the exact order the model calls them in:
 *
 *     "<device> <FDO|PDO> <Callback>[(<argument>)]"    e.g. "child0 FDO D0Exit(D3)"
 *     "<image> <DriverEntry|EvtDriverDeviceAdd|EvtDriverUnload>"
 *
 * <device> is "bus" for the root FDO and "child<i>" for the i-th static child
 * (its PDO, created by the bus, and its FDO, created by the child driver).
 * Test-only: never a fuzz target (not in tdf_targets.txt).
 */
#ifndef TDF_TEST_REC_H
#define TDF_TEST_REC_H

#include <tdf/harness.h>

#define REC_BUS_HARDWARE_ID L"TDF\\RecBus"
#define REC_CHILD_HARDWARE_ID_TEXT L"TDF\\RecChild"

/* The bus exports this on every child PDO (copied, no import): it tells the
 * child FDO which child it is, for its trace lines. */
DEFINE_GUID(GUID_REC_IDENTITY_INTERFACE, 0x6c1f3a52, 0x0d8e, 0x4b7a, 0x9e, 0x21, 0x5a, 0x44, 0x3b, 0x7c, 0x10, 0x02);
#define REC_IDENTITY_INTERFACE_VERSION 1
typedef struct _REC_IDENTITY_INTERFACE {
    INTERFACE InterfaceHeader;
    ULONG Index; /* the child's index on the bus: "child<Index>" */
} REC_IDENTITY_INTERFACE, *PREC_IDENTITY_INTERFACE;

/* I/O requests the child FDO's power-managed default queue understands. */
#define IOCTL_REC_COMPLETE CTL_CODE(FILE_DEVICE_UNKNOWN, 0x901, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Kept by the driver (marked cancelable) until canceled: an owned request
 * across power transitions, for EvtIoStop/EvtIoResume and the purge. */
#define IOCTL_REC_HOLD CTL_CODE(FILE_DEVICE_UNKNOWN, 0x902, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* The knobs (TdfVariant()). Index 0 is the well-behaved recorder. */
enum rec_variant {
    REC_VARIANT_CORRECT = 0,
    REC_VARIANT_VETO_QUERY_REMOVE, /* child0's FDO fails EvtDeviceQueryRemove */
    REC_VARIANT_VETO_QUERY_STOP,   /* child0's FDO fails EvtDeviceQueryStop */
    REC_VARIANT_NEVER_ACK_STOP,    /* EvtIoStop neither completes nor acknowledges a held request */
    REC_VARIANT_TOUCH_AFTER_RELEASE, /* child FDO keeps its unmapped register pointer, reads it in Flush */
    REC_VARIANT_MARK_CANCELABLE_LATE, /* a held request is marked cancelable only once ReleaseHardware ran */
    REC_VARIANT_COUNT
};

static inline const char *Rec_PowerStateName(WDF_POWER_DEVICE_STATE State)
{
    switch (State) {
    case WdfPowerDeviceD0: return "D0";
    case WdfPowerDeviceD1: return "D1";
    case WdfPowerDeviceD2: return "D2";
    case WdfPowerDeviceD3: return "D3";
    case WdfPowerDeviceD3Final: return "D3Final";
    case WdfPowerDevicePrepareForHibernation: return "PrepareForHibernation";
    default: return "Invalid";
    }
}

#endif
