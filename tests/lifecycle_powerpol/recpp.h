/*
 * The power-policy recorder of tests/test_lifecycle_powerpol.c (recpp.c):
 * what the driver and the test share. Lines: "pp FDO <Callback>[(<arg>)]".
 * Test-only: never a fuzz target (not in tdf_targets.txt).
 */
#ifndef TDF_TEST_RECPP_H
#define TDF_TEST_RECPP_H

#include <tdf/harness.h>

#define RECPP_HARDWARE_ID L"TDF\\RecPowerPolicy"
#define IOCTL_RECPP_TOUCH CTL_CODE(FILE_DEVICE_UNKNOWN, 0x931, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* The knobs (TdfVariant()). Index 0: S0 idle settings (cannot wake), all callbacks succeed. */
enum rec_pp_variant {
    RECPP_CORRECT = 0,
    RECPP_NO_IDLE_SETTINGS,   /* never calls WdfDeviceAssignS0IdleSettings */
    RECPP_WAKE_S0,            /* idle settings IdleCanWakeFromS0 */
    RECPP_ARM_FAILS,          /* IdleCanWakeFromS0, EvtDeviceArmWakeFromS0 fails */
    RECPP_WAKE_SX,            /* Sx wake settings assigned */
    RECPP_FAIL_PREPARE,       /* EvtDevicePrepareHardware fails (after mapping its registers) */
    RECPP_FAIL_D0ENTRY_START, /* every EvtDeviceD0Entry fails */
    RECPP_FAIL_D0ENTRY_RESUME, /* the second EvtDeviceD0Entry (the first resume) fails */
    RECPP_FAIL_SMIO_INIT,     /* EvtDeviceSelfManagedIoInit fails */
    RECPP_FAIL_D0EXIT,        /* EvtDeviceD0Exit fails unless the target is D3Final */
    RECPP_VARIANT_COUNT
};

static inline const char *Rec_PpPowerStateName(WDF_POWER_DEVICE_STATE State)
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
