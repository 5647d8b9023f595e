/*
 * The WDM-escape recorder pair of tests/test_lifecycle_wdm_escape.c
 * (docs/LIFECYCLE.md rules 150-155): "wdm", a WDM function driver with a
 * named device object that holds or completes internal IOCTLs
 * (escwdm.c), and "kmdf", a KMDF function driver with a preprocess callback
 * for IRP_MJ_DEVICE_CONTROL, a default queue, and an I/O target opened on
 * wdm's device object with WDF_IO_TARGET_OPEN_PARAMS_INIT_EXISTING_DEVICE
 * (esckmdf.c). Two root stacks, wdm first. Each variant is one driver
 * mistake a rule's test needs; every step logs one DbgPrint line. Not a
 * fuzz target.
 */
#ifndef TDF_TESTS_RECESC_H
#define TDF_TESTS_RECESC_H

#include <tdf/harness.h>

#define RECESC_WDM_ID L"ROOT\\TdfEscWdm"
#define RECESC_KMDF_ID L"ROOT\\TdfEscKmdf"
#define RECESC_WDM_NAME L"\\Device\\TdfEscWdm"
/* Internal IOCTLs kmdf sends wdm through its target: held until wdm_complete
 * (or canceled), or completed at once with Information 5. */
#define IOCTL_ESC_HOLD CTL_CODE(FILE_DEVICE_UNKNOWN, 0x831, METHOD_NEITHER, FILE_ANY_ACCESS)
#define IOCTL_ESC_NOW CTL_CODE(FILE_DEVICE_UNKNOWN, 0x832, METHOD_NEITHER, FILE_ANY_ACCESS)
/* Clients' IOCTLs to kmdf: its preprocess callback hands the first to the
 * framework (the default queue completes it, Information 9) and completes
 * the second itself (Information 3). */
#define IOCTL_ESC_DISPATCH CTL_CODE(FILE_DEVICE_UNKNOWN, 0x833, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_ESC_SELF CTL_CODE(FILE_DEVICE_UNKNOWN, 0x834, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* ... and this one it marks pending and keeps, until RecEscKmdf_StimulusFinish
 * (Information 4) or ReleaseHardware (STATUS_DELETE_PENDING) completes it. */
#define IOCTL_ESC_PEND CTL_CODE(FILE_DEVICE_UNKNOWN, 0x835, METHOD_BUFFERED, FILE_ANY_ACCESS)

enum recesc_variant {
    RECESC_CORRECT = 0,
    RECESC_TOUCH_AFTER_COMPLETE, /* EvtIoDeviceControl reads its IRP's stack location after WdfRequestComplete */
    RECESC_GET_IRP_AFTER_COMPLETE, /* EvtIoDeviceControl asks for its request's IRP after WdfRequestComplete */
    RECESC_COMPLETE_AND_DISPATCH, /* the preprocess callback completes IOCTL_ESC_SELF, then dispatches it too */
    RECESC_DISPATCH_AND_COMPLETE, /* the preprocess callback dispatches IOCTL_ESC_DISPATCH, then completes it too */
    RECESC_NO_SKIP,              /* the preprocess callback dispatches without skipping its stack location */
    RECESC_COPY_NEXT,            /* it copies its location to the next instead of skipping (legal too) */
    RECESC_NO_REFERENCE,         /* kmdf drops its file object: the target's device object is unreferenced */
    RECESC_KEEP_TOP_REFERENCE,   /* kmdf keeps the reference IoGetAttachedDeviceReference returned */
    RECESC_RETURN_SUCCESS,       /* the preprocess callback hands an IRP on and returns STATUS_SUCCESS */
    RECESC_SELF_PENDING,         /* it completes IOCTL_ESC_SELF itself and returns STATUS_PENDING */
    RECESC_POSTPROCESS,          /* it copies its location, sets a completion routine, hands the IRP on */
    RECESC_POSTPROCESS_NO_PROPAGATE, /* ... and that routine does not propagate PendingReturned */
    RECESC_VARIANT_COUNT
};

#define RECESC_IS(v) (TdfVariant() == (v))

#endif
