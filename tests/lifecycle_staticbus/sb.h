/*
 * The recorder pair of tests/test_lifecycle_staticbus.c (docs/LIFECYCLE.md
 * rules 140-149): a bus with static children (sbbus.c: WdfFdoAddStaticChild,
 * the static child list iterated under its lock, WdfPdoMarkMissing, eject)
 * and their function driver (sbchild.c: device properties, device state, a
 * slow EvtDriverUnload). Every callback logs one line (DbgPrint),
 * "child<n> <PDO|FDO> <what>", "sbbus <what>" or "sbchild <what>". Test-only.
 */
#ifndef TDF_TEST_SB_H
#define TDF_TEST_SB_H

#include <tdf/harness.h>

#define SB_BUS_HARDWARE_ID L"TDF\\SbBus"
#define SB_CHILD_HARDWARE_ID L"TDF\\SbChild"
#define SB_FAMILY_HARDWARE_ID L"TDF\\SbFamily"
#define SB_COMPATIBLE_ID L"TDF\\SbCompatible"
#if defined(TDF_DRIVER_IMAGE) && !defined(SB_BUS_NUMBER)
#error "SB_BUS_NUMBER comes from tdf_add_image(... DEFINES SB_BUS_NUMBER=7) (tests/CMakeLists.txt)"
#endif

/* The bus's PDO context, shared by the image's two sources. */
typedef struct _SBBUS_CONTEXT {
    BOOLEAN IsPdo;
    ULONG Serial; /* PDO */
} SBBUS_CONTEXT, *PSBBUS_CONTEXT;
WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(SBBUS_CONTEXT, SbBusGetContext)
NTSTATUS SbBus_CreatePdo(WDFDEVICE Device, ULONG Serial);
EVT_TDF_STIMULUS SbBus_StimulusPlug;
EVT_TDF_STIMULUS SbBus_StimulusUnplug;
EVT_TDF_STIMULUS SbBus_StimulusEject;
EVT_TDF_STIMULUS SbBus_StimulusIterate;
EVT_TDF_STIMULUS SbBus_StimulusPlugUnplug;

enum sb_variant {
    SB_VARIANT_CORRECT = 0,
    SB_VARIANT_UNLOCKED_RETRIEVE, /* the bus walks its static children without the lock */
    SB_VARIANT_COUNT
};

#endif
