/*
 * teardown-fuzz KMDF shim: the WDF subset a driver includes, with KMDF's names,
 * structures and callback roles. The framework side (callback order, query
 * interface, PDO lifetime) follows KERNEL-SEMANTICS.md §3-§4.
 */
#ifndef TDF_WDF_H
#define TDF_WDF_H

#include "wdk.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef PVOID WDFOBJECT; /* as wdftypes.h: every handle converts to it */
typedef struct WDFDRIVER__ *WDFDRIVER;
typedef struct WDFDEVICE__ *WDFDEVICE;
typedef struct WDFCMRESLIST__ *WDFCMRESLIST;
typedef struct WDFDEVICE_INIT *PWDFDEVICE_INIT;

#define WDF_NO_OBJECT_ATTRIBUTES NULL
#define WDF_NO_HANDLE NULL
#define WDF_NO_EVENT_CALLBACK NULL

/* ---- object attributes and typed contexts ---------------------------------- */
typedef VOID EVT_WDF_OBJECT_CONTEXT_CLEANUP(_In_ WDFOBJECT Object);
typedef EVT_WDF_OBJECT_CONTEXT_CLEANUP *PFN_WDF_OBJECT_CONTEXT_CLEANUP;
/* The per-object-type names the WDK gives the same callback types. */
typedef EVT_WDF_OBJECT_CONTEXT_CLEANUP EVT_WDF_DEVICE_CONTEXT_CLEANUP, EVT_WDF_DRIVER_CONTEXT_CLEANUP,
    EVT_WDF_IO_QUEUE_CONTEXT_CLEANUP_CALLBACK, EVT_WDF_FILE_CONTEXT_CLEANUP_CALLBACK;
typedef VOID EVT_WDF_OBJECT_CONTEXT_DESTROY(_In_ WDFOBJECT Object);
typedef EVT_WDF_OBJECT_CONTEXT_DESTROY *PFN_WDF_OBJECT_CONTEXT_DESTROY;

typedef struct _WDF_OBJECT_CONTEXT_TYPE_INFO {
    ULONG Size;
    PCSTR ContextName; /* contexts match by name: every TU has its own copy */
    size_t ContextSize;
} WDF_OBJECT_CONTEXT_TYPE_INFO, *PWDF_OBJECT_CONTEXT_TYPE_INFO;
typedef const WDF_OBJECT_CONTEXT_TYPE_INFO *PCWDF_OBJECT_CONTEXT_TYPE_INFO;

/* Which IRQL the framework calls an object's callbacks at, and which of them
 * it serializes under one presentation lock (KERNEL-SEMANTICS §14). */
typedef enum _WDF_EXECUTION_LEVEL {
    WdfExecutionLevelInvalid = 0,
    WdfExecutionLevelInheritFromParent,
    WdfExecutionLevelPassive,
    WdfExecutionLevelDispatch,
} WDF_EXECUTION_LEVEL;
typedef enum _WDF_SYNCHRONIZATION_SCOPE {
    WdfSynchronizationScopeInvalid = 0,
    WdfSynchronizationScopeInheritFromParent,
    WdfSynchronizationScopeDevice,
    WdfSynchronizationScopeQueue,
    WdfSynchronizationScopeNone,
} WDF_SYNCHRONIZATION_SCOPE;

typedef struct _WDF_OBJECT_ATTRIBUTES {
    ULONG Size;
    PFN_WDF_OBJECT_CONTEXT_CLEANUP EvtCleanupCallback;
    PFN_WDF_OBJECT_CONTEXT_DESTROY EvtDestroyCallback;
    WDF_EXECUTION_LEVEL ExecutionLevel;
    WDF_SYNCHRONIZATION_SCOPE SynchronizationScope;
    WDFOBJECT ParentObject;
    size_t ContextSizeOverride;
    PCWDF_OBJECT_CONTEXT_TYPE_INFO ContextTypeInfo;
} WDF_OBJECT_ATTRIBUTES, *PWDF_OBJECT_ATTRIBUTES;

static inline VOID WDF_OBJECT_ATTRIBUTES_INIT(PWDF_OBJECT_ATTRIBUTES a)
{
    RtlZeroMemory(a, sizeof(*a));
    a->Size = sizeof(*a);
    a->ExecutionLevel = WdfExecutionLevelInheritFromParent;
    a->SynchronizationScope = WdfSynchronizationScopeInheritFromParent;
}

#define WDF_TYPE_NAME_TO_TYPE_INFO(_contexttype) _WDF_##_contexttype##_TYPE_INFO
#define WDF_GET_CONTEXT_TYPE_INFO(_contexttype) (&WDF_TYPE_NAME_TO_TYPE_INFO(_contexttype))
#define WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(_contexttype, _castingfunction)                                   \
    static const WDF_OBJECT_CONTEXT_TYPE_INFO WDF_TYPE_NAME_TO_TYPE_INFO(_contexttype)                        \
        __attribute__((unused)) = {sizeof(WDF_OBJECT_CONTEXT_TYPE_INFO), #_contexttype, sizeof(_contexttype)}; \
    static inline _contexttype *_castingfunction(WDFOBJECT Handle) __attribute__((unused));                   \
    static inline _contexttype *_castingfunction(WDFOBJECT Handle)                                            \
    {                                                                                                         \
        return (_contexttype *)WdfObjectGetTypedContextWorker(Handle, WDF_GET_CONTEXT_TYPE_INFO(_contexttype)); \
    }
#define WDF_DECLARE_CONTEXT_TYPE(_contexttype) \
    WDF_DECLARE_CONTEXT_TYPE_WITH_NAME(_contexttype, WdfObjectGet_##_contexttype)
#define WDF_OBJECT_ATTRIBUTES_INIT_CONTEXT_TYPE(_attributes, _contexttype) \
    (WDF_OBJECT_ATTRIBUTES_INIT(_attributes), (_attributes)->ContextTypeInfo = WDF_GET_CONTEXT_TYPE_INFO(_contexttype))
#define WdfObjectGetTypedContext(handle, type) \
    ((type *)WdfObjectGetTypedContextWorker((WDFOBJECT)(handle), WDF_GET_CONTEXT_TYPE_INFO(type)))

/* Handle of a deleted object, or a context type the object does not have:
 * BUGCHECK 0x10D (WDF_VIOLATION), as KMDF's verifier does. */
PVOID WdfObjectGetTypedContextWorker(_In_ WDFOBJECT Handle, _In_ PCWDF_OBJECT_CONTEXT_TYPE_INFO TypeInfo);
VOID WdfObjectDelete(_In_ WDFOBJECT Object);
/* WdfObjectReference / WdfObjectDereference (and ...WithTag): wdfobject.h. */

/* ---- driver ------------------------------------------------------------------- */
typedef NTSTATUS EVT_WDF_DRIVER_DEVICE_ADD(_In_ WDFDRIVER Driver, _Inout_ PWDFDEVICE_INIT DeviceInit);
typedef EVT_WDF_DRIVER_DEVICE_ADD *PFN_WDF_DRIVER_DEVICE_ADD;
typedef VOID EVT_WDF_DRIVER_UNLOAD(_In_ WDFDRIVER Driver);
typedef EVT_WDF_DRIVER_UNLOAD *PFN_WDF_DRIVER_UNLOAD;

typedef struct _WDF_DRIVER_CONFIG {
    ULONG Size;
    PFN_WDF_DRIVER_DEVICE_ADD EvtDriverDeviceAdd;
    PFN_WDF_DRIVER_UNLOAD EvtDriverUnload;
    ULONG DriverInitFlags;
    ULONG DriverPoolTag;
} WDF_DRIVER_CONFIG, *PWDF_DRIVER_CONFIG;

static inline VOID WDF_DRIVER_CONFIG_INIT(PWDF_DRIVER_CONFIG c, PFN_WDF_DRIVER_DEVICE_ADD add)
{
    RtlZeroMemory(c, sizeof(*c));
    c->Size = sizeof(*c);
    c->EvtDriverDeviceAdd = add;
}

NTSTATUS WdfDriverCreate(_In_ PDRIVER_OBJECT DriverObject, _In_ PCUNICODE_STRING RegistryPath,
                         _In_opt_ PWDF_OBJECT_ATTRIBUTES DriverAttributes, _In_ PWDF_DRIVER_CONFIG DriverConfig,
                         _Out_opt_ WDFDRIVER *Driver);
WDFDRIVER WdfGetDriver(void);
WDFDRIVER WdfDeviceGetDriver(_In_ WDFDEVICE Device);

/* ---- PnP and power callbacks ---------------------------------------------------- */
typedef enum _WDF_POWER_DEVICE_STATE {
    WdfPowerDeviceInvalid = 0,
    WdfPowerDeviceD0,
    WdfPowerDeviceD1,
    WdfPowerDeviceD2,
    WdfPowerDeviceD3,
    WdfPowerDeviceD3Final,
    WdfPowerDevicePrepareForHibernation,
    WdfPowerDeviceMaximum,
} WDF_POWER_DEVICE_STATE;

typedef NTSTATUS EVT_WDF_DEVICE_D0_ENTRY(_In_ WDFDEVICE Device, _In_ WDF_POWER_DEVICE_STATE PreviousState);
typedef NTSTATUS EVT_WDF_DEVICE_D0_EXIT(_In_ WDFDEVICE Device, _In_ WDF_POWER_DEVICE_STATE TargetState);
/* After EvtDeviceD0Entry and the interrupts' EvtInterruptEnable / before their
 * EvtInterruptDisable and EvtDeviceD0Exit, at PASSIVE_LEVEL (KERNEL-SEMANTICS §10). */
typedef NTSTATUS EVT_WDF_DEVICE_D0_ENTRY_POST_INTERRUPTS_ENABLED(_In_ WDFDEVICE Device,
                                                                _In_ WDF_POWER_DEVICE_STATE PreviousState);
typedef NTSTATUS EVT_WDF_DEVICE_D0_EXIT_PRE_INTERRUPTS_DISABLED(_In_ WDFDEVICE Device,
                                                               _In_ WDF_POWER_DEVICE_STATE TargetState);
typedef NTSTATUS EVT_WDF_DEVICE_PREPARE_HARDWARE(_In_ WDFDEVICE Device, _In_ WDFCMRESLIST ResourcesRaw,
                                                 _In_ WDFCMRESLIST ResourcesTranslated);
typedef NTSTATUS EVT_WDF_DEVICE_RELEASE_HARDWARE(_In_ WDFDEVICE Device, _In_ WDFCMRESLIST ResourcesTranslated);
typedef NTSTATUS EVT_WDF_DEVICE_SELF_MANAGED_IO_INIT(_In_ WDFDEVICE Device);
typedef NTSTATUS EVT_WDF_DEVICE_SELF_MANAGED_IO_SUSPEND(_In_ WDFDEVICE Device);
typedef NTSTATUS EVT_WDF_DEVICE_SELF_MANAGED_IO_RESTART(_In_ WDFDEVICE Device);
typedef VOID EVT_WDF_DEVICE_SELF_MANAGED_IO_FLUSH(_In_ WDFDEVICE Device);
typedef VOID EVT_WDF_DEVICE_SELF_MANAGED_IO_CLEANUP(_In_ WDFDEVICE Device);
typedef VOID EVT_WDF_DEVICE_SURPRISE_REMOVAL(_In_ WDFDEVICE Device);
typedef NTSTATUS EVT_WDF_DEVICE_QUERY_REMOVE(_In_ WDFDEVICE Device);
typedef NTSTATUS EVT_WDF_DEVICE_QUERY_STOP(_In_ WDFDEVICE Device);

typedef EVT_WDF_DEVICE_D0_ENTRY *PFN_WDF_DEVICE_D0_ENTRY;
typedef EVT_WDF_DEVICE_D0_EXIT *PFN_WDF_DEVICE_D0_EXIT;
typedef EVT_WDF_DEVICE_D0_ENTRY_POST_INTERRUPTS_ENABLED *PFN_WDF_DEVICE_D0_ENTRY_POST_INTERRUPTS_ENABLED;
typedef EVT_WDF_DEVICE_D0_EXIT_PRE_INTERRUPTS_DISABLED *PFN_WDF_DEVICE_D0_EXIT_PRE_INTERRUPTS_DISABLED;
typedef EVT_WDF_DEVICE_PREPARE_HARDWARE *PFN_WDF_DEVICE_PREPARE_HARDWARE;
typedef EVT_WDF_DEVICE_RELEASE_HARDWARE *PFN_WDF_DEVICE_RELEASE_HARDWARE;
typedef EVT_WDF_DEVICE_SELF_MANAGED_IO_INIT *PFN_WDF_DEVICE_SELF_MANAGED_IO_INIT;
typedef EVT_WDF_DEVICE_SELF_MANAGED_IO_SUSPEND *PFN_WDF_DEVICE_SELF_MANAGED_IO_SUSPEND;
typedef EVT_WDF_DEVICE_SELF_MANAGED_IO_RESTART *PFN_WDF_DEVICE_SELF_MANAGED_IO_RESTART;
typedef EVT_WDF_DEVICE_SELF_MANAGED_IO_FLUSH *PFN_WDF_DEVICE_SELF_MANAGED_IO_FLUSH;
typedef EVT_WDF_DEVICE_SELF_MANAGED_IO_CLEANUP *PFN_WDF_DEVICE_SELF_MANAGED_IO_CLEANUP;
typedef EVT_WDF_DEVICE_SURPRISE_REMOVAL *PFN_WDF_DEVICE_SURPRISE_REMOVAL;
typedef EVT_WDF_DEVICE_QUERY_REMOVE *PFN_WDF_DEVICE_QUERY_REMOVE;
typedef EVT_WDF_DEVICE_QUERY_STOP *PFN_WDF_DEVICE_QUERY_STOP;

typedef struct _WDF_PNPPOWER_EVENT_CALLBACKS {
    ULONG Size;
    PFN_WDF_DEVICE_D0_ENTRY EvtDeviceD0Entry;
    PFN_WDF_DEVICE_D0_ENTRY_POST_INTERRUPTS_ENABLED EvtDeviceD0EntryPostInterruptsEnabled;
    PFN_WDF_DEVICE_D0_EXIT EvtDeviceD0Exit;
    PFN_WDF_DEVICE_D0_EXIT_PRE_INTERRUPTS_DISABLED EvtDeviceD0ExitPreInterruptsDisabled;
    PFN_WDF_DEVICE_PREPARE_HARDWARE EvtDevicePrepareHardware;
    PFN_WDF_DEVICE_RELEASE_HARDWARE EvtDeviceReleaseHardware;
    PFN_WDF_DEVICE_SELF_MANAGED_IO_CLEANUP EvtDeviceSelfManagedIoCleanup;
    PFN_WDF_DEVICE_SELF_MANAGED_IO_FLUSH EvtDeviceSelfManagedIoFlush;
    PFN_WDF_DEVICE_SELF_MANAGED_IO_INIT EvtDeviceSelfManagedIoInit;
    PFN_WDF_DEVICE_SELF_MANAGED_IO_SUSPEND EvtDeviceSelfManagedIoSuspend;
    PFN_WDF_DEVICE_SELF_MANAGED_IO_RESTART EvtDeviceSelfManagedIoRestart;
    PFN_WDF_DEVICE_SURPRISE_REMOVAL EvtDeviceSurpriseRemoval;
    PFN_WDF_DEVICE_QUERY_REMOVE EvtDeviceQueryRemove;
    PFN_WDF_DEVICE_QUERY_STOP EvtDeviceQueryStop;
} WDF_PNPPOWER_EVENT_CALLBACKS, *PWDF_PNPPOWER_EVENT_CALLBACKS;

static inline VOID WDF_PNPPOWER_EVENT_CALLBACKS_INIT(PWDF_PNPPOWER_EVENT_CALLBACKS c)
{
    RtlZeroMemory(c, sizeof(*c));
    c->Size = sizeof(*c);
}

VOID WdfDeviceInitSetPnpPowerEventCallbacks(_In_ PWDFDEVICE_INIT DeviceInit,
                                            _In_ PWDF_PNPPOWER_EVENT_CALLBACKS PnpPowerEventCallbacks);
VOID WdfFdoInitSetFilter(_In_ PWDFDEVICE_INIT DeviceInit);
NTSTATUS WdfDeviceCreate(_Inout_ PWDFDEVICE_INIT *DeviceInit, _In_opt_ PWDF_OBJECT_ATTRIBUTES DeviceAttributes,
                         _Out_ WDFDEVICE *Device);
VOID WdfDeviceInitFree(_In_ PWDFDEVICE_INIT DeviceInit);

/* ---- bus side: PDOs ------------------------------------------------------------- */
PWDFDEVICE_INIT WdfPdoInitAllocate(_In_ WDFDEVICE ParentDevice);
/* The hardware ID picks the function driver from the target's image table. */
NTSTATUS WdfPdoInitAssignDeviceID(_In_ PWDFDEVICE_INIT DeviceInit, _In_ PCUNICODE_STRING DeviceID);
NTSTATUS WdfFdoAddStaticChild(_In_ WDFDEVICE Fdo, _In_ WDFDEVICE Child);
WDFDEVICE WdfPdoGetParent(_In_ WDFDEVICE Device);

/* ---- query interface (KERNEL-SEMANTICS §3) ------------------------------------- */
typedef NTSTATUS EVT_WDF_DEVICE_PROCESS_QUERY_INTERFACE_REQUEST(_In_ WDFDEVICE Device, _In_ LPGUID InterfaceType,
                                                                _Inout_ PINTERFACE ExposedInterface,
                                                                _Inout_opt_ PVOID ExposedInterfaceSpecificData);
typedef EVT_WDF_DEVICE_PROCESS_QUERY_INTERFACE_REQUEST *PFN_WDF_DEVICE_PROCESS_QUERY_INTERFACE_REQUEST;

typedef struct _WDF_QUERY_INTERFACE_CONFIG {
    ULONG Size;
    PINTERFACE Interface;
    const GUID *InterfaceType;
    BOOLEAN SendQueryToParentStack;
    PFN_WDF_DEVICE_PROCESS_QUERY_INTERFACE_REQUEST EvtDeviceProcessQueryInterfaceRequest;
    BOOLEAN ImportInterface;
} WDF_QUERY_INTERFACE_CONFIG, *PWDF_QUERY_INTERFACE_CONFIG;

static inline VOID WDF_QUERY_INTERFACE_CONFIG_INIT(PWDF_QUERY_INTERFACE_CONFIG c, PINTERFACE Interface,
                                                   const GUID *InterfaceType,
                                                   PFN_WDF_DEVICE_PROCESS_QUERY_INTERFACE_REQUEST Evt)
{
    RtlZeroMemory(c, sizeof(*c));
    c->Size = sizeof(*c);
    c->Interface = Interface;
    c->InterfaceType = InterfaceType;
    c->EvtDeviceProcessQueryInterfaceRequest = Evt;
}

NTSTATUS WdfDeviceAddQueryInterface(_In_ WDFDEVICE Device, _In_ PWDF_QUERY_INTERFACE_CONFIG InterfaceConfig);
NTSTATUS WdfFdoQueryForInterface(_In_ WDFDEVICE Fdo, _In_ LPCGUID InterfaceType, _Out_ PINTERFACE Interface,
                                 _In_ USHORT Size, _In_ USHORT Version, _In_opt_ PVOID InterfaceSpecificData);
VOID WdfDeviceInterfaceReferenceNoOp(_In_ PVOID Context);
VOID WdfDeviceInterfaceDereferenceNoOp(_In_ PVOID Context);

/* ---- wait locks (PASSIVE_LEVEL; a KMDF wrapper of a synchronization event) ---- */
typedef struct WDFWAITLOCK__ *WDFWAITLOCK;
NTSTATUS WdfWaitLockCreate(_In_opt_ PWDF_OBJECT_ATTRIBUTES LockAttributes, _Out_ WDFWAITLOCK *Lock);
/* Timeout NULL: wait forever (STATUS_SUCCESS); see KeWaitForSingleObject. */
NTSTATUS WdfWaitLockAcquire(_In_ WDFWAITLOCK Lock, _In_opt_ PLONGLONG Timeout);
VOID WdfWaitLockRelease(_In_ WDFWAITLOCK Lock);

/* ---- resources --------------------------------------------------------------------- */
/* The WDK's descriptor types (wdm.h). The model hands each FDO one memory
 * range and, with a WDFINTERRUPT, one interrupt (KERNEL-SEMANTICS §10); a driver
 * that walks its list for ports, DMA or bus numbers finds none, as on a device
 * that has none. */
#define CmResourceTypeNull 0
#define CmResourceTypePort 1
#define CmResourceTypeInterrupt 2
#define CmResourceTypeMemory 3
#define CmResourceTypeDma 4
#define CmResourceTypeDeviceSpecific 5
#define CmResourceTypeBusNumber 6
#define CmResourceTypeMemoryLarge 7
#define CmResourceTypeNonArbitrated 128
#define CmResourceTypeConfigData 128
#define CmResourceTypeDevicePrivate 129
#define CmResourceTypePcCardConfig 130
#define CmResourceTypeMfCardConfig 131
#define CmResourceTypeConnection 132
#define CM_RESOURCE_PORT_MEMORY 0x0000
#define CM_RESOURCE_PORT_IO 0x0001
#define CM_RESOURCE_MEMORY_READ_WRITE 0x0000
#define CM_RESOURCE_MEMORY_READ_ONLY 0x0001
#define CM_RESOURCE_MEMORY_WRITE_ONLY 0x0002
#define CmResourceShareUndetermined 0
#define CmResourceShareDeviceExclusive 1
#define CmResourceShareShared 3
#define CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE 0
#define CM_RESOURCE_INTERRUPT_LATCHED 1
typedef ULONG_PTR KAFFINITY;
typedef struct _CM_PARTIAL_RESOURCE_DESCRIPTOR {
    UCHAR Type;
    UCHAR ShareDisposition;
    USHORT Flags;
    union { /* the WDK's members; the model fills Memory and Interrupt */
        struct {
            PHYSICAL_ADDRESS Start;
            ULONG Length;
        } Generic;
        struct {
            PHYSICAL_ADDRESS Start;
            ULONG Length;
        } Port;
        struct {
            PHYSICAL_ADDRESS Start;
            ULONG Length;
        } Memory;
        struct { /* translated: Level is the DIRQL */
            ULONG Level;
            ULONG Vector;
            KAFFINITY Affinity;
        } Interrupt;
        struct {
            ULONG Channel;
            ULONG Port;
            ULONG Reserved1;
        } Dma;
        struct {
            ULONG Data[3];
        } DevicePrivate;
        struct {
            ULONG Start;
            ULONG Length;
            ULONG Reserved;
        } BusNumber;
        struct {
            ULONG DataSize;
            ULONG Reserved1;
            ULONG Reserved2;
        } DeviceSpecificData;
        struct {
            UCHAR Class;
            UCHAR Type;
            UCHAR Reserved1;
            UCHAR Reserved2;
            ULONG IdLowPart;
            ULONG IdHighPart;
        } Connection;
    } u;
} CM_PARTIAL_RESOURCE_DESCRIPTOR, *PCM_PARTIAL_RESOURCE_DESCRIPTOR;
ULONG WdfCmResourceListGetCount(_In_ WDFCMRESLIST List);
PCM_PARTIAL_RESOURCE_DESCRIPTOR WdfCmResourceListGetDescriptor(_In_ WDFCMRESLIST List, _In_ ULONG Index);


/* ---- I/O: memory, queues, requests, I/O targets (KERNEL-SEMANTICS §4-§5) ---- */
typedef struct WDFQUEUE__ *WDFQUEUE;
typedef struct WDFREQUEST__ *WDFREQUEST;
typedef struct WDFIOTARGET__ *WDFIOTARGET;
typedef struct WDFMEMORY__ *WDFMEMORY;
typedef PVOID WDFCONTEXT;

typedef enum _WDF_TRI_STATE { WdfFalse = 0, WdfTrue = 1, WdfUseDefault = 2 } WDF_TRI_STATE;
typedef enum _WDF_IO_QUEUE_DISPATCH_TYPE {
    WdfIoQueueDispatchInvalid = 0,
    WdfIoQueueDispatchSequential,
    WdfIoQueueDispatchParallel,
    WdfIoQueueDispatchManual,
} WDF_IO_QUEUE_DISPATCH_TYPE;
typedef enum _WDF_REQUEST_TYPE {
    WdfRequestTypeCreate = 0, /* IRP_MJ_CREATE: EvtDeviceFileCreate's request (wdffileobject.h) */
    WdfRequestTypeClose = 2,
    WdfRequestTypeRead = 3,
    WdfRequestTypeWrite = 4,
    WdfRequestTypeDeviceControl = 14,
    WdfRequestTypeDeviceControlInternal = 15,
} WDF_REQUEST_TYPE;
typedef enum _WDF_REQUEST_STOP_ACTION_FLAGS {
    WdfRequestStopActionInvalid = 0,
    WdfRequestStopActionSuspend = 0x01,
    WdfRequestStopActionPurge = 0x2,
    WdfRequestStopRequestCancelable = 0x10000000,
} WDF_REQUEST_STOP_ACTION_FLAGS;

typedef VOID EVT_WDF_IO_QUEUE_IO_DEFAULT(_In_ WDFQUEUE Queue, _In_ WDFREQUEST Request);
typedef VOID EVT_WDF_IO_QUEUE_IO_DEVICE_CONTROL(_In_ WDFQUEUE Queue, _In_ WDFREQUEST Request,
                                               _In_ size_t OutputBufferLength, _In_ size_t InputBufferLength,
                                               _In_ ULONG IoControlCode);
typedef EVT_WDF_IO_QUEUE_IO_DEVICE_CONTROL EVT_WDF_IO_QUEUE_IO_INTERNAL_DEVICE_CONTROL;
typedef VOID EVT_WDF_IO_QUEUE_IO_READ(_In_ WDFQUEUE Queue, _In_ WDFREQUEST Request, _In_ size_t Length);
typedef VOID EVT_WDF_IO_QUEUE_IO_WRITE(_In_ WDFQUEUE Queue, _In_ WDFREQUEST Request, _In_ size_t Length);
typedef EVT_WDF_IO_QUEUE_IO_READ *PFN_WDF_IO_QUEUE_IO_READ;
typedef EVT_WDF_IO_QUEUE_IO_WRITE *PFN_WDF_IO_QUEUE_IO_WRITE;
typedef VOID EVT_WDF_IO_QUEUE_IO_STOP(_In_ WDFQUEUE Queue, _In_ WDFREQUEST Request, _In_ ULONG ActionFlags);
typedef VOID EVT_WDF_IO_QUEUE_IO_RESUME(_In_ WDFQUEUE Queue, _In_ WDFREQUEST Request);
typedef VOID EVT_WDF_IO_QUEUE_IO_CANCELED_ON_QUEUE(_In_ WDFQUEUE Queue, _In_ WDFREQUEST Request);
typedef VOID EVT_WDF_REQUEST_CANCEL(_In_ WDFREQUEST Request);
typedef EVT_WDF_IO_QUEUE_IO_DEFAULT *PFN_WDF_IO_QUEUE_IO_DEFAULT;
typedef EVT_WDF_IO_QUEUE_IO_DEVICE_CONTROL *PFN_WDF_IO_QUEUE_IO_DEVICE_CONTROL;
typedef EVT_WDF_IO_QUEUE_IO_INTERNAL_DEVICE_CONTROL *PFN_WDF_IO_QUEUE_IO_INTERNAL_DEVICE_CONTROL;
typedef EVT_WDF_IO_QUEUE_IO_STOP *PFN_WDF_IO_QUEUE_IO_STOP;
typedef EVT_WDF_IO_QUEUE_IO_RESUME *PFN_WDF_IO_QUEUE_IO_RESUME;
typedef EVT_WDF_IO_QUEUE_IO_CANCELED_ON_QUEUE *PFN_WDF_IO_QUEUE_IO_CANCELED_ON_QUEUE;
typedef EVT_WDF_REQUEST_CANCEL *PFN_WDF_REQUEST_CANCEL;

typedef struct _WDF_IO_QUEUE_CONFIG {
    ULONG Size;
    WDF_IO_QUEUE_DISPATCH_TYPE DispatchType;
    WDF_TRI_STATE PowerManaged; /* WdfUseDefault: TRUE for an FDO, FALSE for a PDO... as KMDF */
    BOOLEAN AllowZeroLengthRequests;
    BOOLEAN DefaultQueue;
    PFN_WDF_IO_QUEUE_IO_DEFAULT EvtIoDefault;
    PFN_WDF_IO_QUEUE_IO_READ EvtIoRead;   /* WdfRequestTypeRead: Length = the output buffer's */
    PFN_WDF_IO_QUEUE_IO_WRITE EvtIoWrite; /* WdfRequestTypeWrite: Length = the input buffer's */
    PFN_WDF_IO_QUEUE_IO_DEVICE_CONTROL EvtIoDeviceControl;
    PFN_WDF_IO_QUEUE_IO_INTERNAL_DEVICE_CONTROL EvtIoInternalDeviceControl;
    PFN_WDF_IO_QUEUE_IO_STOP EvtIoStop;
    PFN_WDF_IO_QUEUE_IO_RESUME EvtIoResume;
    PFN_WDF_IO_QUEUE_IO_CANCELED_ON_QUEUE EvtIoCanceledOnQueue;
} WDF_IO_QUEUE_CONFIG, *PWDF_IO_QUEUE_CONFIG;

static inline VOID WDF_IO_QUEUE_CONFIG_INIT(PWDF_IO_QUEUE_CONFIG c, WDF_IO_QUEUE_DISPATCH_TYPE dispatch)
{
    RtlZeroMemory(c, sizeof(*c));
    c->Size = sizeof(*c);
    c->DispatchType = dispatch;
    c->PowerManaged = WdfUseDefault;
}
static inline VOID WDF_IO_QUEUE_CONFIG_INIT_DEFAULT_QUEUE(PWDF_IO_QUEUE_CONFIG c, WDF_IO_QUEUE_DISPATCH_TYPE dispatch)
{
    WDF_IO_QUEUE_CONFIG_INIT(c, dispatch);
    c->DefaultQueue = TRUE;
}

NTSTATUS WdfIoQueueCreate(_In_ WDFDEVICE Device, _In_ PWDF_IO_QUEUE_CONFIG Config,
                          _In_opt_ PWDF_OBJECT_ATTRIBUTES QueueAttributes, _Out_opt_ WDFQUEUE *Queue);
WDFDEVICE WdfIoQueueGetDevice(_In_ WDFQUEUE Queue);
/* Manual queues: STATUS_NO_MORE_ENTRIES when empty. */
NTSTATUS WdfIoQueueRetrieveNextRequest(_In_ WDFQUEUE Queue, _Out_ WDFREQUEST *OutRequest);
NTSTATUS WdfRequestForwardToIoQueue(_In_ WDFREQUEST Request, _In_ WDFQUEUE DestinationQueue);
#define STATUS_NO_MORE_ENTRIES ((NTSTATUS)0x8000001AL)

typedef struct _WDF_REQUEST_PARAMETERS {
    USHORT Size;
    UCHAR MinorFunction;
    WDF_REQUEST_TYPE Type;
    union {
        struct {
            size_t OutputBufferLength;
            size_t InputBufferLength;
            ULONG IoControlCode;
            PVOID Type3InputBuffer;
        } DeviceIoControl;
    } Parameters;
} WDF_REQUEST_PARAMETERS, *PWDF_REQUEST_PARAMETERS;
static inline VOID WDF_REQUEST_PARAMETERS_INIT(PWDF_REQUEST_PARAMETERS p)
{
    RtlZeroMemory(p, sizeof(*p));
    p->Size = sizeof(*p);
}

VOID WdfRequestComplete(_In_ WDFREQUEST Request, _In_ NTSTATUS Status);
VOID WdfRequestCompleteWithInformation(_In_ WDFREQUEST Request, _In_ NTSTATUS Status, _In_ ULONG_PTR Information);
VOID WdfRequestSetInformation(_In_ WDFREQUEST Request, _In_ ULONG_PTR Information);
VOID WdfRequestGetParameters(_In_ WDFREQUEST Request, _Out_ PWDF_REQUEST_PARAMETERS Parameters);
NTSTATUS WdfRequestRetrieveInputBuffer(_In_ WDFREQUEST Request, _In_ size_t MinimumRequiredLength,
                                       _Outptr_ PVOID *Buffer, _Out_opt_ size_t *Length);
NTSTATUS WdfRequestRetrieveOutputBuffer(_In_ WDFREQUEST Request, _In_ size_t MinimumRequiredSize,
                                        _Outptr_ PVOID *Buffer, _Out_opt_ size_t *Length);
WDFQUEUE WdfRequestGetIoQueue(_In_ WDFREQUEST Request);
/* STATUS_CANCELLED: the request was already canceled; the routine is not set
 * and the driver must complete it itself. */
NTSTATUS WdfRequestMarkCancelableEx(_In_ WDFREQUEST Request, _In_ PFN_WDF_REQUEST_CANCEL EvtRequestCancel);
/* STATUS_CANCELLED: the cancel routine runs or ran; the driver must NOT complete. */
NTSTATUS WdfRequestUnmarkCancelable(_In_ WDFREQUEST Request);
BOOLEAN WdfRequestIsCanceled(_In_ WDFREQUEST Request);
VOID WdfRequestStopAcknowledge(_In_ WDFREQUEST Request, _In_ BOOLEAN Requeue);
NTSTATUS WdfRequestGetStatus(_In_ WDFREQUEST Request);
ULONG_PTR WdfRequestGetInformation(_In_ WDFREQUEST Request);

/* sender side */
NTSTATUS WdfRequestCreate(_In_opt_ PWDF_OBJECT_ATTRIBUTES RequestAttributes, _In_opt_ WDFIOTARGET IoTarget,
                          _Out_ WDFREQUEST *Request);
typedef struct _WDF_REQUEST_COMPLETION_PARAMS {
    ULONG Size;
    WDF_REQUEST_TYPE Type;
    NTSTATUS IoStatus_Status;
    ULONG_PTR IoStatus_Information;
} WDF_REQUEST_COMPLETION_PARAMS, *PWDF_REQUEST_COMPLETION_PARAMS;
typedef VOID EVT_WDF_REQUEST_COMPLETION_ROUTINE(_In_ WDFREQUEST Request, _In_ WDFIOTARGET Target,
                                                 _In_ PWDF_REQUEST_COMPLETION_PARAMS Params, _In_ WDFCONTEXT Context);
typedef EVT_WDF_REQUEST_COMPLETION_ROUTINE *PFN_WDF_REQUEST_COMPLETION_ROUTINE;
VOID WdfRequestSetCompletionRoutine(_In_ WDFREQUEST Request, _In_opt_ PFN_WDF_REQUEST_COMPLETION_ROUTINE CompletionRoutine,
                                    _In_opt_ WDFCONTEXT CompletionContext);
typedef enum _WDF_REQUEST_SEND_OPTIONS_FLAGS {
    WDF_REQUEST_SEND_OPTION_TIMEOUT = 0x1,
    WDF_REQUEST_SEND_OPTION_SYNCHRONOUS = 0x2,
    WDF_REQUEST_SEND_OPTION_IGNORE_TARGET_STATE = 0x4,
    WDF_REQUEST_SEND_OPTION_SEND_AND_FORGET = 0x8,
} WDF_REQUEST_SEND_OPTIONS_FLAGS;
typedef struct _WDF_REQUEST_SEND_OPTIONS {
    ULONG Size;
    ULONG Flags;
    LONGLONG Timeout;
} WDF_REQUEST_SEND_OPTIONS, *PWDF_REQUEST_SEND_OPTIONS;
static inline VOID WDF_REQUEST_SEND_OPTIONS_INIT(PWDF_REQUEST_SEND_OPTIONS o, ULONG Flags)
{
    RtlZeroMemory(o, sizeof(*o));
    o->Size = sizeof(*o);
    o->Flags = Flags;
}
#define WDF_NO_SEND_OPTIONS NULL
/* FALSE: not sent (target purged or closed, see WdfRequestGetStatus); the
 * completion routine is not called. A stopped target keeps the request (TRUE):
 * WdfIoTargetStart sends it; a purge or close completes it with
 * STATUS_WDF_DEVICE_REMOVED_NOT_SENT, WdfRequestCancelSentRequest with
 * STATUS_CANCELLED. */
#define STATUS_WDF_DEVICE_REMOVED_NOT_SENT ((NTSTATUS)0xC0200206L)
BOOLEAN WdfRequestSend(_In_ WDFREQUEST Request, _In_ WDFIOTARGET Target, _In_opt_ PWDF_REQUEST_SEND_OPTIONS Options);
/* The sender cancels a request it sent (KERNEL-SEMANTICS §14): FALSE if the
 * request is already being completed. The caller must keep the request
 * alive across the call (its own reference): its completion routine may run,
 * and delete it, on another processor at any time. */
BOOLEAN WdfRequestCancelSentRequest(_In_ WDFREQUEST Request);
/* Reuse a completed driver-created request for another send. */
typedef struct _WDF_REQUEST_REUSE_PARAMS {
    ULONG Size;
    ULONG Flags;
    NTSTATUS Status;
} WDF_REQUEST_REUSE_PARAMS, *PWDF_REQUEST_REUSE_PARAMS;
static inline VOID WDF_REQUEST_REUSE_PARAMS_INIT(PWDF_REQUEST_REUSE_PARAMS p, ULONG Flags, NTSTATUS Status)
{
    RtlZeroMemory(p, sizeof(*p));
    p->Size = sizeof(*p);
    p->Flags = Flags;
    p->Status = Status;
}
#define WDF_REQUEST_REUSE_NO_FLAGS 0
NTSTATUS WdfRequestReuse(_In_ WDFREQUEST Request, _In_ PWDF_REQUEST_REUSE_PARAMS ReuseParams);

/* remote I/O targets */
typedef NTSTATUS EVT_WDF_IO_TARGET_QUERY_REMOVE(_In_ WDFIOTARGET IoTarget);
typedef VOID EVT_WDF_IO_TARGET_REMOVE_CANCELED(_In_ WDFIOTARGET IoTarget);
typedef VOID EVT_WDF_IO_TARGET_REMOVE_COMPLETE(_In_ WDFIOTARGET IoTarget);
typedef EVT_WDF_IO_TARGET_QUERY_REMOVE *PFN_WDF_IO_TARGET_QUERY_REMOVE;
typedef EVT_WDF_IO_TARGET_REMOVE_CANCELED *PFN_WDF_IO_TARGET_REMOVE_CANCELED;
typedef EVT_WDF_IO_TARGET_REMOVE_COMPLETE *PFN_WDF_IO_TARGET_REMOVE_COMPLETE;
typedef enum _WDF_IO_TARGET_OPEN_TYPE {
    WdfIoTargetOpenUseExistingDevice = 1,
    WdfIoTargetOpenByName = 2,
    WdfIoTargetOpenReopen = 3,
} WDF_IO_TARGET_OPEN_TYPE;
typedef struct _WDF_IO_TARGET_OPEN_PARAMS {
    ULONG Size;
    WDF_IO_TARGET_OPEN_TYPE Type;
    PFN_WDF_IO_TARGET_QUERY_REMOVE EvtIoTargetQueryRemove;
    PFN_WDF_IO_TARGET_REMOVE_CANCELED EvtIoTargetRemoveCanceled;
    PFN_WDF_IO_TARGET_REMOVE_COMPLETE EvtIoTargetRemoveComplete;
    PDEVICE_OBJECT TargetDeviceObject; /* WdfIoTargetOpenUseExistingDevice */
    PFILE_OBJECT TargetFileObject;     /* stored, not used */
    UNICODE_STRING TargetDeviceName;
    ACCESS_MASK DesiredAccess;
} WDF_IO_TARGET_OPEN_PARAMS, *PWDF_IO_TARGET_OPEN_PARAMS;
static inline VOID WDF_IO_TARGET_OPEN_PARAMS_INIT_OPEN_BY_NAME(PWDF_IO_TARGET_OPEN_PARAMS p,
                                                              PCUNICODE_STRING TargetDeviceName,
                                                              ACCESS_MASK DesiredAccess)
{
    RtlZeroMemory(p, sizeof(*p));
    p->Size = sizeof(*p);
    p->Type = WdfIoTargetOpenByName;
    p->TargetDeviceName = *TargetDeviceName;
    p->DesiredAccess = DesiredAccess;
}
/* A target on a device object the driver has (a WDM driver's, from
 * IoGetDeviceObjectPointer or WdfDeviceWdmGetAttachedDevice): sends become
 * IRPs to it (KERNEL-SEMANTICS §16 "KMDF's WDM escapes"); no PnP
 * notifications, as KMDF registers none for an existing device. */
static inline VOID WDF_IO_TARGET_OPEN_PARAMS_INIT_EXISTING_DEVICE(PWDF_IO_TARGET_OPEN_PARAMS p,
                                                                 PDEVICE_OBJECT DeviceObject)
{
    RtlZeroMemory(p, sizeof(*p));
    p->Size = sizeof(*p);
    p->Type = WdfIoTargetOpenUseExistingDevice;
    p->TargetDeviceObject = DeviceObject;
}
static inline VOID WDF_IO_TARGET_OPEN_PARAMS_INIT_REOPEN(PWDF_IO_TARGET_OPEN_PARAMS p)
{
    RtlZeroMemory(p, sizeof(*p));
    p->Size = sizeof(*p);
    p->Type = WdfIoTargetOpenReopen;
}
#define FILE_ANY_ACCESS 0
typedef enum _WDF_IO_TARGET_SENT_IO_ACTION {
    WdfIoTargetSentIoUndefined = 0,
    WdfIoTargetCancelSentIo,
    WdfIoTargetWaitForSentIoToComplete,
    WdfIoTargetLeaveSentIoPending,
} WDF_IO_TARGET_SENT_IO_ACTION;
typedef enum _WDF_IO_TARGET_PURGE_IO_ACTION {
    WdfIoTargetPurgeIoUndefined = 0,
    WdfIoTargetPurgeIoAndWait,
    WdfIoTargetPurgeIo,
} WDF_IO_TARGET_PURGE_IO_ACTION;

/* A device is found by name once it created a symbolic link (in D0 or not). */
NTSTATUS WdfDeviceCreateSymbolicLink(_In_ WDFDEVICE Device, _In_ PCUNICODE_STRING SymbolicLinkName);
NTSTATUS WdfIoTargetCreate(_In_ WDFDEVICE Device, _In_opt_ PWDF_OBJECT_ATTRIBUTES IoTargetAttributes,
                           _Out_ WDFIOTARGET *IoTarget);
/* STATUS_NO_SUCH_DEVICE if no started device has that name. */
NTSTATUS WdfIoTargetOpen(_In_ WDFIOTARGET IoTarget, _In_ PWDF_IO_TARGET_OPEN_PARAMS OpenParams);
VOID WdfIoTargetCloseForQueryRemove(_In_ WDFIOTARGET IoTarget);
VOID WdfIoTargetClose(_In_ WDFIOTARGET IoTarget);
NTSTATUS WdfIoTargetStart(_In_ WDFIOTARGET IoTarget);
VOID WdfIoTargetStop(_In_ WDFIOTARGET IoTarget, _In_ WDF_IO_TARGET_SENT_IO_ACTION Action);
VOID WdfIoTargetPurge(_In_ WDFIOTARGET IoTarget, _In_ WDF_IO_TARGET_PURGE_IO_ACTION Action);
WDFDEVICE WdfIoTargetGetDevice(_In_ WDFIOTARGET IoTarget);
NTSTATUS WdfIoTargetFormatRequestForInternalIoctl(_In_ WDFIOTARGET IoTarget, _In_ WDFREQUEST Request,
                                                  _In_ ULONG IoctlCode, _In_opt_ WDFMEMORY InputBuffer,
                                                  _In_opt_ PVOID InputBufferOffset, _In_opt_ WDFMEMORY OutputBuffer,
                                                  _In_opt_ PVOID OutputBufferOffset);
NTSTATUS WdfIoTargetQueryForInterface(_In_ WDFIOTARGET IoTarget, _In_ LPCGUID InterfaceType,
                                      _Out_ PINTERFACE Interface, _In_ USHORT Size, _In_ USHORT Version,
                                      _In_opt_ PVOID InterfaceSpecificData);
/* Internal IOCTL codes (CTL_CODE as in the WDK). */
#define FILE_DEVICE_UNKNOWN 0x00000022
/* METHOD_BUFFERED, METHOD_NEITHER, CTL_CODE: include/tdf/irp.h (wdk.h). */

#include "wdfcore.h"   /* WDF_PTR_ADD_OFFSET, WDF_ALIGN_SIZE_* */
#include "wdfassert.h" /* WDFVERIFY: the verifier is always on */
#include "wdfmemory.h"
#include "wdfiotarget.h" /* local targets, IOCTL formatting and synchronous sends (KERNEL-SEMANTICS §15) */
#include "wdffileobject.h"
#include "wdfsync.h" /* WDFSPINLOCK, WdfObjectAcquireLock (KERNEL-SEMANTICS §14) */
/* ---- object references, work items, collections, lookaside lists (KERNEL-SEMANTICS §9) ---- */
#include "wdfobject.h"
#include "wdfworkitem.h"
#include "wdfcollection.h"
#include "wdflookaside.h"
#include "wdfpdo.h"       /* PDO identifiers and callbacks, missing, eject */
#include "wdfchildlist.h" /* dynamic enumeration: child lists */
#include "wdffdo.h"       /* iterating the static children */
#include "wdfinterrupt.h" /* WDFINTERRUPT (KERNEL-SEMANTICS §10) */
#include "wdfdpc.h"   /* WDFDPC (KERNEL-SEMANTICS §8) */
#include "wdftimer.h" /* WDFTIMER (KERNEL-SEMANTICS §8) */

#ifdef __cplusplus
}
#endif

#include "wdfdevice.h"
#include "wmi.h" /* WMI: accepted and ignored */
#include "wdfdeviceinit.h" /* device type, exclusive, I/O type, device interfaces: recorded */
#include "wdfregistry.h" /* registry values from the target's parameters */
#include "wdm_bridge.h" /* WdfDeviceWdmGetDeviceObject, WdfDriverWdmGetDriverObject */
#endif
