/*
 * WDFFILEOBJECT (wdffileobject.h / wdfdevice.h in the WDK): the framework's
 * object for one open handle on a device, and the device's file callbacks
 * (KERNEL-SEMANTICS §12). Included by wdf.h; not for inclusion on its own.
 *
 * Order the framework guarantees: EvtDeviceFileCreate (the driver completes
 * the create request), then the handle's I/O, then EvtFileCleanup when the
 * last handle is closed (IRP_MJ_CLEANUP; requests of the handle may still be
 * in flight), then EvtFileClose once the last reference on the file object is
 * gone (IRP_MJ_CLOSE: every request of the handle completed), then the file
 * object's own EvtCleanupCallback / EvtDestroyCallback. All at PASSIVE_LEVEL.
 */
#ifndef TDF_WDFFILEOBJECT_H
#define TDF_WDFFILEOBJECT_H

typedef struct WDFFILEOBJECT__ *WDFFILEOBJECT;

typedef VOID EVT_WDF_DEVICE_FILE_CREATE(_In_ WDFDEVICE Device, _In_ WDFREQUEST Request,
                                        _In_ WDFFILEOBJECT FileObject);
typedef EVT_WDF_DEVICE_FILE_CREATE *PFN_WDF_DEVICE_FILE_CREATE;
typedef VOID EVT_WDF_FILE_CLEANUP(_In_ WDFFILEOBJECT FileObject);
typedef EVT_WDF_FILE_CLEANUP *PFN_WDF_FILE_CLEANUP;
typedef VOID EVT_WDF_FILE_CLOSE(_In_ WDFFILEOBJECT FileObject);
typedef EVT_WDF_FILE_CLOSE *PFN_WDF_FILE_CLOSE;

typedef enum _WDF_FILEOBJECT_CLASS {
    WdfFileObjectInvalid = 0,
    WdfFileObjectNotRequired = 1,
    WdfFileObjectWdfCanUseFsContext = 2,
    WdfFileObjectWdfCanUseFsContext2 = 3,
    WdfFileObjectWdfCannotUseFsContexts = 4,
    WdfFileObjectCanBeOptional = 0x80000000,
} WDF_FILEOBJECT_CLASS, *PWDF_FILEOBJECT_CLASS;

typedef struct _WDF_FILEOBJECT_CONFIG {
    ULONG Size;
    PFN_WDF_DEVICE_FILE_CREATE EvtDeviceFileCreate;
    PFN_WDF_FILE_CLOSE EvtFileClose;
    PFN_WDF_FILE_CLEANUP EvtFileCleanup;
    WDF_TRI_STATE AutoForwardCleanupClose; /* only WdfUseDefault / WdfFalse are modelled (no filters) */
    WDF_FILEOBJECT_CLASS FileObjectClass;
} WDF_FILEOBJECT_CONFIG, *PWDF_FILEOBJECT_CONFIG;

static inline VOID WDF_FILEOBJECT_CONFIG_INIT(PWDF_FILEOBJECT_CONFIG c, PFN_WDF_DEVICE_FILE_CREATE EvtDeviceFileCreate,
                                              PFN_WDF_FILE_CLOSE EvtFileClose, PFN_WDF_FILE_CLEANUP EvtFileCleanup)
{
    RtlZeroMemory(c, sizeof(*c));
    c->Size = sizeof(*c);
    c->EvtDeviceFileCreate = EvtDeviceFileCreate;
    c->EvtFileClose = EvtFileClose;
    c->EvtFileCleanup = EvtFileCleanup;
    c->FileObjectClass = WdfFileObjectWdfCannotUseFsContexts;
    c->AutoForwardCleanupClose = WdfUseDefault;
}

/* Before WdfDeviceCreate. FileObjectAttributes: the context type (and
 * cleanup/destroy callbacks) of every WDFFILEOBJECT of the device. */
VOID WdfDeviceInitSetFileObjectConfig(_In_ PWDFDEVICE_INIT DeviceInit, _In_ PWDF_FILEOBJECT_CONFIG FileObjectConfig,
                                      _In_opt_ PWDF_OBJECT_ATTRIBUTES FileObjectAttributes);
/* The file object the request was sent on; NULL when the device's
 * FileObjectClass does not require one and the request has none. */
WDFFILEOBJECT WdfRequestGetFileObject(_In_ WDFREQUEST Request);
WDFDEVICE WdfFileObjectGetDevice(_In_ WDFFILEOBJECT FileObject);

#endif
