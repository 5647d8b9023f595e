/*
 * The WDM I/O path (wdm.h): DRIVER_OBJECT and DEVICE_OBJECT with the fields
 * drivers use, IRPs and their stack locations, IoCallDriver/IoCompleteRequest
 * with completion routines, cancellation (cancel routines, the cancel spin
 * lock, cancel-safe queues), device objects and stacks, PoCallDriver.
 * Included by wdk.h. KERNEL-SEMANTICS §16 for what the model does.
 *
 * Field layout follows the WDK where drivers touch the fields; the model
 * keeps its own bookkeeping apart (TdfModel words), so a driver never sees
 * it. IoGetCurrentIrpStackLocation & co. are functions here, not the WDK's
 * inline macros, so that the model can check the stack walk; they are not
 * yield points. IoCallDriver, IoCompleteRequest, IoCancelIrp and the routines
 * that take locks are yield points.
 */
#ifndef TDF_IRP_H
#define TDF_IRP_H

#include "list_entry.h"

typedef int16_t CSHORT;
typedef char CCHAR;
#define IO_TYPE_DEVICE 3
#define IO_TYPE_DRIVER 4
#define IO_TYPE_FILE 5
#define IO_TYPE_IRP 6

#ifndef STATUS_MORE_PROCESSING_REQUIRED
#define STATUS_MORE_PROCESSING_REQUIRED ((NTSTATUS)0xC0000016L)
#endif
#define STATUS_CONTINUE_COMPLETION STATUS_SUCCESS
#ifndef STATUS_OBJECT_NAME_NOT_FOUND
#define STATUS_OBJECT_NAME_NOT_FOUND ((NTSTATUS)0xC0000034L)
#endif
#ifndef STATUS_OBJECT_NAME_COLLISION
#define STATUS_OBJECT_NAME_COLLISION ((NTSTATUS)0xC0000035L)
#endif

#ifndef CTL_CODE
#define CTL_CODE(DeviceType, Function, Method, Access) \
    (((DeviceType) << 16) | ((Access) << 14) | ((Function) << 2) | (Method))
#endif
#ifndef METHOD_BUFFERED
#define METHOD_BUFFERED 0
#endif
#ifndef METHOD_NEITHER
#define METHOD_NEITHER 3
#endif
#define FILE_ANY_ACCESS 0
#define FILE_READ_DATA 0x0001
#define FILE_ALL_ACCESS 0x001F01FFu

/* ---- major and minor function codes ---- */
#define IRP_MJ_CREATE 0x00
#define IRP_MJ_CLOSE 0x02
#define IRP_MJ_READ 0x03
#define IRP_MJ_WRITE 0x04
#define IRP_MJ_FLUSH_BUFFERS 0x09
#define IRP_MJ_DEVICE_CONTROL 0x0e
#define IRP_MJ_INTERNAL_DEVICE_CONTROL 0x0f
#define IRP_MJ_SHUTDOWN 0x10
#define IRP_MJ_CLEANUP 0x12
#define IRP_MJ_POWER 0x16
#define IRP_MJ_SYSTEM_CONTROL 0x17
#define IRP_MJ_PNP 0x1b
#define IRP_MJ_MAXIMUM_FUNCTION 0x1b

#define IRP_MN_START_DEVICE 0x00
#define IRP_MN_QUERY_REMOVE_DEVICE 0x01
#define IRP_MN_REMOVE_DEVICE 0x02
#define IRP_MN_CANCEL_REMOVE_DEVICE 0x03
#define IRP_MN_STOP_DEVICE 0x04
#define IRP_MN_QUERY_STOP_DEVICE 0x05
#define IRP_MN_CANCEL_STOP_DEVICE 0x06
#define IRP_MN_QUERY_DEVICE_RELATIONS 0x07
#define IRP_MN_QUERY_INTERFACE 0x08
#define IRP_MN_QUERY_CAPABILITIES 0x09
#define IRP_MN_SURPRISE_REMOVAL 0x17

#define IRP_MN_WAIT_WAKE 0x00
#define IRP_MN_POWER_SEQUENCE 0x01
#define IRP_MN_SET_POWER 0x02
#define IRP_MN_QUERY_POWER 0x03

/* IO_STACK_LOCATION.Control */
#define SL_PENDING_RETURNED 0x01
#define SL_INVOKE_ON_CANCEL 0x20
#define SL_INVOKE_ON_SUCCESS 0x40
#define SL_INVOKE_ON_ERROR 0x80

/* DEVICE_OBJECT.Flags */
#define DO_BUFFERED_IO 0x00000004
#define DO_DIRECT_IO 0x00000010
#define DO_DEVICE_INITIALIZING 0x00000080
#define DO_POWER_PAGABLE 0x00002000
#define FILE_DEVICE_SECURE_OPEN 0x00000100

#define IO_NO_INCREMENT 0
#define IO_SERIAL_INCREMENT 6

/* ---- forward types ---- */
typedef struct _IRP IRP, *PIRP;
typedef struct _IO_STACK_LOCATION IO_STACK_LOCATION, *PIO_STACK_LOCATION;
typedef struct _FILE_OBJECT FILE_OBJECT, *PFILE_OBJECT;
typedef struct _MDL *PMDL; /* no MDLs in the model: always NULL */

typedef struct _IO_STATUS_BLOCK {
    union {
        NTSTATUS Status;
        PVOID Pointer;
    };
    ULONG_PTR Information;
} IO_STATUS_BLOCK, *PIO_STATUS_BLOCK;

typedef NTSTATUS DRIVER_DISPATCH(_In_ PDEVICE_OBJECT DeviceObject, _Inout_ PIRP Irp);
typedef DRIVER_DISPATCH *PDRIVER_DISPATCH;
typedef NTSTATUS DRIVER_ADD_DEVICE(_In_ PDRIVER_OBJECT DriverObject, _In_ PDEVICE_OBJECT PhysicalDeviceObject);
typedef DRIVER_ADD_DEVICE *PDRIVER_ADD_DEVICE;
typedef VOID DRIVER_UNLOAD(_In_ PDRIVER_OBJECT DriverObject);
typedef DRIVER_UNLOAD *PDRIVER_UNLOAD;
typedef VOID DRIVER_STARTIO(_Inout_ PDEVICE_OBJECT DeviceObject, _Inout_ PIRP Irp);
typedef DRIVER_STARTIO *PDRIVER_STARTIO;
typedef VOID DRIVER_CANCEL(_Inout_ PDEVICE_OBJECT DeviceObject, _Inout_ PIRP Irp);
typedef DRIVER_CANCEL *PDRIVER_CANCEL;
typedef NTSTATUS IO_COMPLETION_ROUTINE(_In_ PDEVICE_OBJECT DeviceObject, _In_ PIRP Irp, _In_opt_ PVOID Context);
typedef IO_COMPLETION_ROUTINE *PIO_COMPLETION_ROUTINE;

/* ---- driver and device objects ---- */
typedef struct _DRIVER_EXTENSION {
    struct _DRIVER_OBJECT *DriverObject;
    PDRIVER_ADD_DEVICE AddDevice; /* set in DriverEntry: the PnP manager calls it per device */
    ULONG Count;
    UNICODE_STRING ServiceKeyName;
} DRIVER_EXTENSION, *PDRIVER_EXTENSION;

struct _DRIVER_OBJECT {
    CSHORT Type; /* IO_TYPE_DRIVER */
    CSHORT Size;
    PDEVICE_OBJECT DeviceObject; /* the driver's device objects, newest first (NextDevice) */
    ULONG Flags;
    PVOID DriverStart;
    ULONG DriverSize;
    PVOID DriverSection;
    PDRIVER_EXTENSION DriverExtension;
    UNICODE_STRING DriverName;
    PUNICODE_STRING HardwareDatabase;
    PVOID FastIoDispatch; /* not modelled: stays NULL */
    PDRIVER_INITIALIZE DriverInit;
    PDRIVER_STARTIO DriverStartIo; /* not modelled: stays NULL */
    PDRIVER_UNLOAD DriverUnload;
    PDRIVER_DISPATCH MajorFunction[IRP_MJ_MAXIMUM_FUNCTION + 1];
    DRIVER_EXTENSION TdfExtension; /* model: what DriverExtension points to */
};

struct _DEVICE_OBJECT {
    CSHORT Type; /* IO_TYPE_DEVICE */
    USHORT Size;
    LONG ReferenceCount; /* model: references that keep the object (and its driver) alive */
    struct _DRIVER_OBJECT *DriverObject;
    struct _DEVICE_OBJECT *NextDevice;
    struct _DEVICE_OBJECT *AttachedDevice; /* the device attached above this one */
    PIRP CurrentIrp;
    PVOID Timer;
    ULONG Flags;
    ULONG Characteristics;
    PVOID Vpb;
    PVOID DeviceExtension;
    DEVICE_TYPE DeviceType;
    CCHAR StackSize; /* stack locations an IRP sent to this device needs */
    ULONG AlignmentRequirement;
    PVOID DeviceObjectExtension;
    /* model fields */
    ULONG TdfMagic;
    struct _DEVICE_OBJECT *TdfLower; /* the device this one is attached to (IoAttachDeviceToDeviceStack) */
    PVOID TdfModel;                  /* the model's device record */
    UNICODE_STRING TdfName;          /* IoCreateDevice's DeviceName, for IoGetDeviceObjectPointer */
    UCHAR TdfDeletePending;          /* IoDeleteDevice ran; freed with the last reference */
};

struct _FILE_OBJECT {
    CSHORT Type; /* IO_TYPE_FILE */
    CSHORT Size;
    PDEVICE_OBJECT DeviceObject;
    PVOID FsContext;
    PVOID FsContext2;
    ULONG TdfMagic;
    LONG TdfReferences;
};

/* ---- IRPs ---- */
typedef enum _DEVICE_RELATION_TYPE {
    BusRelations,
    EjectionRelations,
    PowerRelations,
    RemovalRelations,
    TargetDeviceRelation,
} DEVICE_RELATION_TYPE;
typedef enum _POWER_STATE_TYPE { SystemPowerState = 0, DevicePowerState } POWER_STATE_TYPE;
typedef union _POWER_STATE {
    SYSTEM_POWER_STATE SystemState;
    DEVICE_POWER_STATE DeviceState;
} POWER_STATE;
typedef enum _POWER_ACTION { PowerActionNone = 0, PowerActionSleep = 2, PowerActionHibernate = 3,
                             PowerActionShutdown = 4 } POWER_ACTION;

struct _IO_STACK_LOCATION {
    UCHAR MajorFunction;
    UCHAR MinorFunction;
    UCHAR Flags;
    UCHAR Control;
    union {
        struct {
            ULONG OutputBufferLength;
            ULONG InputBufferLength;
            ULONG IoControlCode;
            PVOID Type3InputBuffer;
        } DeviceIoControl;
        struct {
            ULONG Length;
            ULONG Key;
            LARGE_INTEGER ByteOffset;
        } Read;
        struct {
            ULONG Length;
            ULONG Key;
            LARGE_INTEGER ByteOffset;
        } Write;
        struct {
            DEVICE_RELATION_TYPE Type;
        } QueryDeviceRelations;
        struct {
            const GUID *InterfaceType;
            USHORT Size;
            USHORT Version;
            PINTERFACE Interface;
            PVOID InterfaceSpecificData;
        } QueryInterface;
        struct {
            ULONG SystemContext;
            POWER_STATE_TYPE Type;
            POWER_STATE State;
            POWER_ACTION ShutdownType;
        } Power;
        struct {
            PVOID AllocatedResources;
            PVOID AllocatedResourcesTranslated;
        } StartDevice;
        struct {
            PVOID Argument1;
            PVOID Argument2;
            PVOID Argument3;
            PVOID Argument4;
        } Others;
    } Parameters;
    PDEVICE_OBJECT DeviceObject;
    PFILE_OBJECT FileObject;
    PIO_COMPLETION_ROUTINE CompletionRoutine;
    PVOID Context;
};

struct _IRP {
    CSHORT Type; /* IO_TYPE_IRP */
    USHORT Size;
    PMDL MdlAddress;
    ULONG Flags;
    union {
        struct _IRP *MasterIrp;
        LONG IrpCount;
        PVOID SystemBuffer; /* METHOD_BUFFERED: the input/output buffer */
    } AssociatedIrp;
    LIST_ENTRY ThreadListEntry;
    IO_STATUS_BLOCK IoStatus;
    KPROCESSOR_MODE RequestorMode;
    BOOLEAN PendingReturned; /* in a completion routine: the lower driver returned STATUS_PENDING */
    CCHAR StackCount;
    CCHAR CurrentLocation; /* StackCount + 1 before the first IoCallDriver */
    BOOLEAN Cancel;        /* IoCancelIrp ran */
    KIRQL CancelIrql;      /* the IRQL IoAcquireCancelSpinLock saved, for the cancel routine's release */
    CCHAR ApcEnvironment;
    UCHAR AllocationFlags;
    PIO_STATUS_BLOCK UserIosb;
    PKEVENT UserEvent;
    union {
        struct {
            PVOID UserApcRoutine;
            PVOID UserApcContext;
        } AsynchronousParameters;
        LARGE_INTEGER AllocationSize;
    } Overlay;
    PDRIVER_CANCEL volatile CancelRoutine;
    PVOID UserBuffer;
    union {
        struct {
            struct {
                PVOID DriverContext[4]; /* the current owner's to use */
            };
            PETHREAD Thread;
            PCHAR AuxiliaryBuffer;
            struct {
                LIST_ENTRY ListEntry; /* the current owner's queue link */
                struct _IO_STACK_LOCATION *CurrentStackLocation; /* internal: use the routines below */
            };
            PFILE_OBJECT OriginalFileObject;
        } Overlay;
    } Tail;
};

/* Stack locations. Not yield points. */
PIO_STACK_LOCATION IoGetCurrentIrpStackLocation(_In_ PIRP Irp);
PIO_STACK_LOCATION IoGetNextIrpStackLocation(_In_ PIRP Irp);
VOID IoCopyCurrentIrpStackLocationToNext(_Inout_ PIRP Irp);
VOID IoSkipCurrentIrpStackLocation(_Inout_ PIRP Irp);
VOID IoSetNextIrpStackLocation(_Inout_ PIRP Irp);
VOID IoMarkIrpPending(_Inout_ PIRP Irp);
VOID IoSetCompletionRoutine(_In_ PIRP Irp, _In_opt_ PIO_COMPLETION_ROUTINE CompletionRoutine,
                            _In_opt_ PVOID Context, _In_ BOOLEAN InvokeOnSuccess, _In_ BOOLEAN InvokeOnError,
                            _In_ BOOLEAN InvokeOnCancel);
/* The Ex form also keeps DeviceObject referenced until the routine has run
 * (so its driver cannot unload under it); STATUS_INSUFFICIENT_RESOURCES never
 * happens in the model. */
NTSTATUS IoSetCompletionRoutineEx(_In_ PDEVICE_OBJECT DeviceObject, _In_ PIRP Irp,
                                  _In_ PIO_COMPLETION_ROUTINE CompletionRoutine, _In_opt_ PVOID Context,
                                  _In_ BOOLEAN InvokeOnSuccess, _In_ BOOLEAN InvokeOnError,
                                  _In_ BOOLEAN InvokeOnCancel);

/* Allocation. */
PIRP IoAllocateIrp(_In_ CCHAR StackSize, _In_ BOOLEAN ChargeQuota);
VOID IoFreeIrp(_In_ PIRP Irp);
VOID IoReuseIrp(_Inout_ PIRP Irp, _In_ NTSTATUS Iostatus);
USHORT IoSizeOfIrp(_In_ CCHAR StackSize);
/* Threaded IRPs: the I/O manager frees them after their last completion
 * routine, copying IoStatus to IoStatusBlock and setting Event. */
PIRP IoBuildDeviceIoControlRequest(_In_ ULONG IoControlCode, _In_ PDEVICE_OBJECT DeviceObject,
                                   _In_opt_ PVOID InputBuffer, _In_ ULONG InputBufferLength,
                                   _Out_opt_ PVOID OutputBuffer, _In_ ULONG OutputBufferLength,
                                   _In_ BOOLEAN InternalDeviceIoControl, _In_opt_ PKEVENT Event,
                                   _Out_ PIO_STATUS_BLOCK IoStatusBlock);
PIRP IoBuildSynchronousFsdRequest(_In_ ULONG MajorFunction, _In_ PDEVICE_OBJECT DeviceObject,
                                  _Inout_opt_ PVOID Buffer, _In_opt_ ULONG Length,
                                  _In_opt_ PLARGE_INTEGER StartingOffset, _In_ PKEVENT Event,
                                  _Out_ PIO_STATUS_BLOCK IoStatusBlock);

/* Sending and completing. */
NTSTATUS IoCallDriver(_In_ PDEVICE_OBJECT DeviceObject, _Inout_ PIRP Irp);
VOID IoCompleteRequest(_In_ PIRP Irp, _In_ CCHAR PriorityBoost);
NTSTATUS PoCallDriver(_In_ PDEVICE_OBJECT DeviceObject, _Inout_ PIRP Irp);
VOID PoStartNextPowerIrp(_Inout_ PIRP Irp); /* recorded only: no effect since Windows Vista */

/* Cancellation. */
PDRIVER_CANCEL IoSetCancelRoutine(_Inout_ PIRP Irp, _In_opt_ PDRIVER_CANCEL CancelRoutine);
BOOLEAN IoCancelIrp(_In_ PIRP Irp);
VOID IoAcquireCancelSpinLock(_Out_ PKIRQL Irql);
VOID IoReleaseCancelSpinLock(_In_ KIRQL Irql);

/* Cancel-safe queues (IoCsq*). */
typedef struct _IO_CSQ IO_CSQ, *PIO_CSQ;
typedef struct _IO_CSQ_IRP_CONTEXT {
    ULONG Type;
    PIRP Irp;
    PIO_CSQ Csq;
} IO_CSQ_IRP_CONTEXT, *PIO_CSQ_IRP_CONTEXT;
typedef VOID IO_CSQ_INSERT_IRP(_In_ PIO_CSQ Csq, _In_ PIRP Irp);
typedef IO_CSQ_INSERT_IRP *PIO_CSQ_INSERT_IRP;
typedef VOID IO_CSQ_REMOVE_IRP(_In_ PIO_CSQ Csq, _In_ PIRP Irp);
typedef IO_CSQ_REMOVE_IRP *PIO_CSQ_REMOVE_IRP;
typedef PIRP IO_CSQ_PEEK_NEXT_IRP(_In_ PIO_CSQ Csq, _In_opt_ PIRP Irp, _In_opt_ PVOID PeekContext);
typedef IO_CSQ_PEEK_NEXT_IRP *PIO_CSQ_PEEK_NEXT_IRP;
typedef VOID IO_CSQ_ACQUIRE_LOCK(_In_ PIO_CSQ Csq, _Out_ PKIRQL Irql);
typedef IO_CSQ_ACQUIRE_LOCK *PIO_CSQ_ACQUIRE_LOCK;
typedef VOID IO_CSQ_RELEASE_LOCK(_In_ PIO_CSQ Csq, _In_ KIRQL Irql);
typedef IO_CSQ_RELEASE_LOCK *PIO_CSQ_RELEASE_LOCK;
typedef VOID IO_CSQ_COMPLETE_CANCELED_IRP(_In_ PIO_CSQ Csq, _In_ PIRP Irp);
typedef IO_CSQ_COMPLETE_CANCELED_IRP *PIO_CSQ_COMPLETE_CANCELED_IRP;
struct _IO_CSQ {
    ULONG Type;
    PIO_CSQ_INSERT_IRP CsqInsertIrp;
    PIO_CSQ_REMOVE_IRP CsqRemoveIrp;
    PIO_CSQ_PEEK_NEXT_IRP CsqPeekNextIrp;
    PIO_CSQ_ACQUIRE_LOCK CsqAcquireLock;
    PIO_CSQ_RELEASE_LOCK CsqReleaseLock;
    PIO_CSQ_COMPLETE_CANCELED_IRP CsqCompleteCanceledIrp;
    PVOID ReservePointer;
};
NTSTATUS IoCsqInitialize(_Out_ PIO_CSQ Csq, _In_ PIO_CSQ_INSERT_IRP CsqInsertIrp,
                         _In_ PIO_CSQ_REMOVE_IRP CsqRemoveIrp, _In_ PIO_CSQ_PEEK_NEXT_IRP CsqPeekNextIrp,
                         _In_ PIO_CSQ_ACQUIRE_LOCK CsqAcquireLock, _In_ PIO_CSQ_RELEASE_LOCK CsqReleaseLock,
                         _In_ PIO_CSQ_COMPLETE_CANCELED_IRP CsqCompleteCanceledIrp);
VOID IoCsqInsertIrp(_Inout_ PIO_CSQ Csq, _Inout_ PIRP Irp, _Out_opt_ PIO_CSQ_IRP_CONTEXT Context);
PIRP IoCsqRemoveNextIrp(_Inout_ PIO_CSQ Csq, _In_opt_ PVOID PeekContext);
PIRP IoCsqRemoveIrp(_Inout_ PIO_CSQ Csq, _Inout_ PIO_CSQ_IRP_CONTEXT Context);

/* Device objects and stacks (the PnP manager drives WDM stacks with
 * IRP_MJ_PNP / IRP_MJ_POWER IRPs: KERNEL-SEMANTICS §16). */
NTSTATUS IoCreateDevice(_In_ PDRIVER_OBJECT DriverObject, _In_ ULONG DeviceExtensionSize,
                        _In_opt_ PUNICODE_STRING DeviceName, _In_ DEVICE_TYPE DeviceType,
                        _In_ ULONG DeviceCharacteristics, _In_ BOOLEAN Exclusive,
                        _Out_ PDEVICE_OBJECT *DeviceObject);
VOID IoDeleteDevice(_In_ PDEVICE_OBJECT DeviceObject);
PDEVICE_OBJECT IoAttachDeviceToDeviceStack(_In_ PDEVICE_OBJECT SourceDevice, _In_ PDEVICE_OBJECT TargetDevice);
VOID IoDetachDevice(_Inout_ PDEVICE_OBJECT TargetDevice);
PDEVICE_OBJECT IoGetAttachedDeviceReference(_In_ PDEVICE_OBJECT DeviceObject);
/* The top of the named device's stack, with a file object that references
 * it until ObDereferenceObject(FileObject). No handle: the file object does
 * not veto a query-remove (LIFECYCLE.md "Not modelled"). */
NTSTATUS IoGetDeviceObjectPointer(_In_ PUNICODE_STRING ObjectName, _In_ ACCESS_MASK DesiredAccess,
                                  _Out_ PFILE_OBJECT *FileObject, _Out_ PDEVICE_OBJECT *DeviceObject);
/* ObReferenceObject / ObDereferenceObject (wdk.h) take device and file
 * objects too. */
VOID ObReferenceObject(_In_ PVOID Object);

#endif
