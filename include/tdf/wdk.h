/*
 * teardown-fuzz WDK shim: the NT kernel subset a driver includes, with the WDK's
 * names, types and signatures (docs/KERNEL-SEMANTICS.md for the semantics).
 * Every routine here is a yield point of the deterministic scheduler unless it
 * says otherwise, so a race between two model threads can open at any of them.
 *
 * Not modelled: anything not declared here. Calling an undeclared routine is a
 * compile error (-Werror=implicit-function-declaration is set on driver
 * images); TdfUnmodelled() is the run-time error for modelled-but-unsupported
 * arguments (docs/WRITING-A-TARGET.md).
 */
#ifndef TDF_WDK_H
#define TDF_WDK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- annotations and basic types (SAL is documentation only here) ------ */
#include "sal.h"
#define VOID void
#define UNREFERENCED_PARAMETER(p) ((void)(p))
#define CONTAINING_RECORD(address, type, field) ((type *)((char *)(address) - offsetof(type, field)))

typedef int32_t NTSTATUS;
typedef uint8_t BOOLEAN, *PBOOLEAN;
typedef uint8_t UCHAR, *PUCHAR;
typedef uint16_t USHORT, *PUSHORT;
typedef int32_t LONG, *PLONG;
typedef uint32_t ULONG, *PULONG;
typedef int64_t LONGLONG, LONG64, *PLONGLONG;
typedef uint64_t ULONGLONG, ULONG64, *PULONG64, *PULONGLONG;
typedef uintptr_t ULONG_PTR, *PULONG_PTR;
typedef intptr_t LONG_PTR;
typedef size_t SIZE_T;
typedef void *PVOID, *HANDLE, **PHANDLE;
typedef char CHAR, *PCHAR;
typedef const char *PCSTR;
/* WCHAR is two bytes, as on Windows: L"..." literals, UNICODE_STRING lengths
 * (bytes) and sizeof(WCHAR) must agree with the driver's expectations. Every
 * translation unit of the model, the drivers, the runners and the tests is
 * built with -fshort-wchar (cmake/TdfTarget.cmake); glibc's wide-character
 * routines assume four bytes, so neither the model nor a driver may call them
 * (the model's own are in model/kernel/strings.c). */
_Static_assert(sizeof(wchar_t) == 2, "teardown-fuzz code is built with -fshort-wchar (WCHAR is 2 bytes)");
typedef wchar_t WCHAR, *PWCH, *PWSTR, *PWCHAR;
typedef const wchar_t *PCWSTR, *PCWCH;
typedef UCHAR KIRQL, *PKIRQL;
typedef LONG KPRIORITY;
typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    struct {
        ULONG LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER, PHYSICAL_ADDRESS, *PPHYSICAL_ADDRESS;
typedef union _ULARGE_INTEGER {
    struct {
        ULONG LowPart;
        ULONG HighPart;
    };
    struct {
        ULONG LowPart;
        ULONG HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

#define TRUE 1
#define FALSE 0

#define NT_SUCCESS(s) (((NTSTATUS)(s)) >= 0)
#define STATUS_SUCCESS ((NTSTATUS)0x00000000L)
#define STATUS_PENDING ((NTSTATUS)0x00000103L)
#define STATUS_TIMEOUT ((NTSTATUS)0x00000102L)
#define STATUS_UNSUCCESSFUL ((NTSTATUS)0xC0000001L)
#define STATUS_NOT_IMPLEMENTED ((NTSTATUS)0xC0000002L)
#define STATUS_INVALID_PARAMETER ((NTSTATUS)0xC000000DL)
#define STATUS_INVALID_DEVICE_REQUEST ((NTSTATUS)0xC0000010L)
#define STATUS_IO_TIMEOUT ((NTSTATUS)0xC00000B5L)
#define STATUS_NO_SUCH_DEVICE ((NTSTATUS)0xC000000EL)
#define STATUS_DELETE_PENDING ((NTSTATUS)0xC0000056L)
#define STATUS_INSUFFICIENT_RESOURCES ((NTSTATUS)0xC000009AL)
#define STATUS_DEVICE_NOT_READY ((NTSTATUS)0xC00000A3L)
#define STATUS_DEVICE_BUSY ((NTSTATUS)0x80000011L)
#define STATUS_NOT_SUPPORTED ((NTSTATUS)0xC00000BBL)
#define STATUS_CANCELLED ((NTSTATUS)0xC0000120L)
#define STATUS_INVALID_DEVICE_STATE ((NTSTATUS)0xC0000184L)
#define STATUS_INVALID_BUFFER_SIZE ((NTSTATUS)0xC0000206L)
#define STATUS_DEVICE_REMOVED ((NTSTATUS)0xC00002B6L)

#define PASSIVE_LEVEL 0
#define APC_LEVEL 1
#define DISPATCH_LEVEL 2

/* ---- GUIDs and strings -------------------------------------------------- */
typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID, *LPGUID;
typedef const GUID *LPCGUID;
/* One definition per translation unit (no initguid.h dance needed here). */
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
    static const GUID name __attribute__((unused)) = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}
BOOLEAN IsEqualGUID(const GUID *a, const GUID *b); /* not a yield point */

typedef struct _UNICODE_STRING {
    USHORT Length;
    USHORT MaximumLength;
    PWCH Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;
#define DECLARE_CONST_UNICODE_STRING(name, text)                                                \
    const UNICODE_STRING name = {(USHORT)(sizeof(text) - sizeof(WCHAR)), (USHORT)sizeof(text), \
                                 (PWCH)(text)}
#define RTL_CONSTANT_STRING(s) {(USHORT)(sizeof(s) - sizeof((s)[0])), (USHORT)sizeof(s), (PWCH)(s)}

/* ---- driver objects ------------------------------------------------------ */
typedef struct _DRIVER_OBJECT DRIVER_OBJECT, *PDRIVER_OBJECT; /* include/tdf/irp.h */
typedef struct _DEVICE_OBJECT DEVICE_OBJECT, *PDEVICE_OBJECT; /* include/tdf/irp.h */
typedef NTSTATUS DRIVER_INITIALIZE(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath);
typedef DRIVER_INITIALIZE *PDRIVER_INITIALIZE;

/* ---- run-down protection (KERNEL-SEMANTICS §1) -------------------------- */
/*
 * Same encoding as the kernel: Count = 2 * holders while active; bit 0
 * (EX_RUNDOWN_ACTIVE) set once a wait started: then Count is the address of
 * the waiter's on-stack wait block | 1, or exactly 1 once run down.
 */
typedef struct _EX_RUNDOWN_REF {
    union {
        volatile ULONG_PTR Count;
        volatile PVOID Ptr;
    };
} EX_RUNDOWN_REF, *PEX_RUNDOWN_REF;

VOID ExInitializeRundownProtection(_Out_ PEX_RUNDOWN_REF RunRef);
VOID ExReInitializeRundownProtection(_Inout_ PEX_RUNDOWN_REF RunRef);
BOOLEAN ExAcquireRundownProtection(_Inout_ PEX_RUNDOWN_REF RunRef);
BOOLEAN ExAcquireRundownProtectionEx(_Inout_ PEX_RUNDOWN_REF RunRef, _In_ ULONG Count);
VOID ExReleaseRundownProtection(_Inout_ PEX_RUNDOWN_REF RunRef);
VOID ExReleaseRundownProtectionEx(_Inout_ PEX_RUNDOWN_REF RunRef, _In_ ULONG Count);
VOID ExWaitForRundownProtectionRelease(_Inout_ PEX_RUNDOWN_REF RunRef);
VOID ExRundownCompleted(_Out_ PEX_RUNDOWN_REF RunRef);

/* ---- interlocked operations and shared reads/writes (yield points) ------- */
LONG InterlockedIncrement(_Inout_ LONG volatile *Addend);
LONG InterlockedDecrement(_Inout_ LONG volatile *Addend);
LONG InterlockedExchange(_Inout_ LONG volatile *Target, _In_ LONG Value);
LONG InterlockedCompareExchange(_Inout_ LONG volatile *Destination, _In_ LONG Exchange, _In_ LONG Comparand);
PVOID InterlockedExchangePointer(_Inout_ PVOID volatile *Target, _In_opt_ PVOID Value);
PVOID InterlockedCompareExchangePointer(_Inout_ PVOID volatile *Destination, _In_opt_ PVOID Exchange,
                                        _In_opt_ PVOID Comparand);
/* Plain reads and writes of state shared between threads or drivers: each is
 * a yield point, so a check-then-act window has a switch point inside it. */
LONG ReadNoFence(_In_ LONG const volatile *Source);
VOID WriteNoFence(_Out_ LONG volatile *Destination, _In_ LONG Value);
ULONG ReadULongNoFence(_In_ ULONG const volatile *Source);
VOID WriteULongNoFence(_Out_ ULONG volatile *Destination, _In_ ULONG Value);
BOOLEAN ReadBooleanNoFence(_In_ BOOLEAN const volatile *Source);
VOID WriteBooleanNoFence(_Out_ BOOLEAN volatile *Destination, _In_ BOOLEAN Value);
PVOID ReadPointerNoFence(_In_ PVOID const volatile *Source);
VOID WritePointerNoFence(_Out_ PVOID volatile *Destination, _In_opt_ PVOID Value);

/* ---- dispatcher objects: events, threads, waits -------------------------- */
typedef struct _DISPATCHER_HEADER {
    UCHAR Type; /* model: EventNotification/EventSynchronization/thread */
    volatile LONG SignalState;
} DISPATCHER_HEADER;

typedef enum _EVENT_TYPE { NotificationEvent, SynchronizationEvent } EVENT_TYPE;
typedef struct _KEVENT {
    DISPATCHER_HEADER Header;
} KEVENT, *PKEVENT, *PRKEVENT;
typedef enum _KWAIT_REASON { Executive = 0, UserRequest = 13 } KWAIT_REASON;
typedef enum _MODE { KernelMode, UserMode } KPROCESSOR_MODE, MODE;
typedef enum _WAIT_TYPE { WaitAll, WaitAny } WAIT_TYPE;
#define IO_NO_INCREMENT 0
#define STATUS_WAIT_0 ((NTSTATUS)0x00000000L)

VOID KeInitializeEvent(_Out_ PRKEVENT Event, _In_ EVENT_TYPE Type, _In_ BOOLEAN State);
LONG KeSetEvent(_Inout_ PRKEVENT Event, _In_ KPRIORITY Increment, _In_ BOOLEAN Wait);
VOID KeClearEvent(_Inout_ PRKEVENT Event);
LONG KeResetEvent(_Inout_ PRKEVENT Event);
LONG KeReadStateEvent(_In_ PRKEVENT Event);
/* Timeout: NULL waits forever; a zero value polls; any other value expires in
 * virtual time, i.e. only when no other model thread can run. */
NTSTATUS KeWaitForSingleObject(_In_ PVOID Object, _In_ KWAIT_REASON WaitReason, _In_ KPROCESSOR_MODE WaitMode,
                               _In_ BOOLEAN Alertable, _In_opt_ PLARGE_INTEGER Timeout);
NTSTATUS KeWaitForMultipleObjects(_In_ ULONG Count, _In_ PVOID Object[], _In_ WAIT_TYPE WaitType,
                                  _In_ KWAIT_REASON WaitReason, _In_ KPROCESSOR_MODE WaitMode,
                                  _In_ BOOLEAN Alertable, _In_opt_ PLARGE_INTEGER Timeout,
                                  _In_opt_ PVOID WaitBlockArray);
NTSTATUS KeDelayExecutionThread(_In_ KPROCESSOR_MODE WaitMode, _In_ BOOLEAN Alertable,
                                _In_ PLARGE_INTEGER Interval);

typedef struct _KTHREAD *PKTHREAD, *PETHREAD;
typedef VOID KSTART_ROUTINE(_In_ PVOID StartContext);
typedef KSTART_ROUTINE *PKSTART_ROUTINE;
typedef struct _OBJECT_ATTRIBUTES *POBJECT_ATTRIBUTES;
typedef struct _CLIENT_ID *PCLIENT_ID;
typedef ULONG ACCESS_MASK;
typedef struct _OBJECT_TYPE *POBJECT_TYPE;
#define THREAD_ALL_ACCESS 0x1FFFFFu
extern POBJECT_TYPE *PsThreadType;
/* The thread is a model fiber that runs in the creating driver's image: it must
 * be gone before that image unloads (0xCE otherwise). */
NTSTATUS PsCreateSystemThread(_Out_ PHANDLE ThreadHandle, _In_ ULONG DesiredAccess,
                              _In_opt_ POBJECT_ATTRIBUTES ObjectAttributes, _In_opt_ HANDLE ProcessHandle,
                              _Out_opt_ PCLIENT_ID ClientId, _In_ PKSTART_ROUTINE StartRoutine,
                              _In_opt_ PVOID StartContext);
NTSTATUS PsTerminateSystemThread(_In_ NTSTATUS ExitStatus);
NTSTATUS ObReferenceObjectByHandle(_In_ HANDLE Handle, _In_ ACCESS_MASK DesiredAccess,
                                   _In_opt_ POBJECT_TYPE ObjectType, _In_ KPROCESSOR_MODE AccessMode,
                                   _Out_ PVOID *Object, _Out_opt_ PVOID HandleInformation);
VOID ObDereferenceObject(_In_ PVOID Object);
NTSTATUS ZwClose(_In_ HANDLE Handle);

/* ---- locks ----------------------------------------------------------------- */
typedef ULONG_PTR KSPIN_LOCK, *PKSPIN_LOCK;
VOID KeInitializeSpinLock(_Out_ PKSPIN_LOCK SpinLock);
VOID KeAcquireSpinLock(_Inout_ PKSPIN_LOCK SpinLock, _Out_ PKIRQL OldIrql);
VOID KeReleaseSpinLock(_Inout_ PKSPIN_LOCK SpinLock, _In_ KIRQL NewIrql);
KIRQL KeGetCurrentIrql(void);

typedef struct _FAST_MUTEX {
    volatile LONG Count; /* model: 1 free, 0 owned */
    PVOID Owner;
    ULONG OldIrql; /* the owner's IRQL before the acquire, restored by the release */
} FAST_MUTEX, *PFAST_MUTEX, KGUARDED_MUTEX, *PKGUARDED_MUTEX;
VOID ExInitializeFastMutex(_Out_ PFAST_MUTEX FastMutex);
VOID ExAcquireFastMutex(_Inout_ PFAST_MUTEX FastMutex);
VOID ExReleaseFastMutex(_Inout_ PFAST_MUTEX FastMutex);
#define KeInitializeGuardedMutex ExInitializeFastMutex
#define KeAcquireGuardedMutex ExAcquireFastMutex
#define KeReleaseGuardedMutex ExReleaseFastMutex

/* ---- DPCs and timers (KERNEL-SEMANTICS §8) ---------------------------------- */
#include "ke_dpc.h"
#include "ke_timer.h"
#include "ke_time.h" /* KeQuerySystemTime and friends: the step count, no clock */

/* ---- pool (tagged by the allocating driver; leak at unload = 0xC4/0x62) ---- */
typedef ULONG64 POOL_FLAGS;
#define POOL_FLAG_NON_PAGED 0x0000000000000040ULL
#define POOL_FLAG_PAGED 0x0000000000000100ULL
typedef enum _POOL_TYPE { NonPagedPool = 0, PagedPool = 1, NonPagedPoolNx = 512 } POOL_TYPE;
PVOID ExAllocatePool2(_In_ POOL_FLAGS Flags, _In_ SIZE_T NumberOfBytes, _In_ ULONG Tag); /* zeroed */
PVOID ExAllocatePoolWithTag(_In_ POOL_TYPE PoolType, _In_ SIZE_T NumberOfBytes, _In_ ULONG Tag);
VOID ExFreePoolWithTag(_In_ PVOID P, _In_ ULONG Tag);
VOID ExFreePool(_In_ PVOID P);
VOID RtlZeroMemory(PVOID Destination, SIZE_T Length); /* not a yield point */
VOID RtlCopyMemory(PVOID Destination, const void *Source, SIZE_T Length); /* not a yield point */

/* ---- INTERFACE (KERNEL-SEMANTICS §3) -------------------------------------- */
typedef VOID (*PINTERFACE_REFERENCE)(PVOID Context);
typedef VOID (*PINTERFACE_DEREFERENCE)(PVOID Context);
typedef struct _INTERFACE {
    USHORT Size;
    USHORT Version;
    PVOID Context;
    PINTERFACE_REFERENCE InterfaceReference;
    PINTERFACE_DEREFERENCE InterfaceDereference;
    /* interface specific entries go here */
} INTERFACE, *PINTERFACE;

/* ---- hardware: memory-mapped registers ------------------------------------ */
/* Register access is checked against the owning device's state: touching it
 * while the device is not in D0 or after ReleaseHardware unmapped it is the
 * failure class HARDWARE (KERNEL-SEMANTICS model spec, invariant 10). */
typedef enum _MEMORY_CACHING_TYPE { MmNonCached = 0, MmCached = 1 } MEMORY_CACHING_TYPE;
#define PAGE_READWRITE 0x04
#define PAGE_NOCACHE 0x200
PVOID MmMapIoSpaceEx(_In_ PHYSICAL_ADDRESS PhysicalAddress, _In_ SIZE_T NumberOfBytes, _In_ ULONG Protect);
VOID MmUnmapIoSpace(_In_ PVOID BaseAddress, _In_ SIZE_T NumberOfBytes);
ULONG READ_REGISTER_ULONG(_In_ volatile ULONG *Register);
VOID WRITE_REGISTER_ULONG(_In_ volatile ULONG *Register, _In_ ULONG Value);

/* ---- remove locks (KERNEL-SEMANTICS §2) ---------------------------------- */
/*
 * Embedded in the device context and initialised once, in AddDevice. Common
 * has the WDK's layout; Dbg is the model's stand-in for the checked build's /
 * Driver Verifier's tracking: a fixed table of (tag, count) per lock, so a
 * Release with a tag that holds nothing is 0xC4/0xD5 and a
 * ReleaseAndWait with one is 0xC4/0xD6. Acquisitions beyond the table are
 * counted without their tag (like the kernel's LowMemoryCount when a
 * tracking block cannot be allocated): a release of an unknown tag then
 * consumes one of them and is not checked. A lock is one-shot: a second
 * IoReleaseRemoveLockAndWait or any re-initialisation is 0xC4/0xD7.
 * Drivers use the routines only, never the fields.
 */
#define IO_REMOVE_LOCK_TAG_SLOTS 16
typedef struct _IO_REMOVE_LOCK_COMMON_BLOCK {
    BOOLEAN Removed;
    BOOLEAN Reserved[3];
    volatile LONG IoCount; /* 1 (bias) + acquisitions; the bias is dropped at removal */
    KEVENT RemoveEvent;    /* set by the release that brings IoCount to 0 after removal */
} IO_REMOVE_LOCK_COMMON_BLOCK;
typedef struct _IO_REMOVE_LOCK_TAG_SLOT {
    PVOID Tag;
    LONG Count; /* 0: free slot */
} IO_REMOVE_LOCK_TAG_SLOT;
typedef struct _IO_REMOVE_LOCK_DBG_BLOCK { /* model fields */
    ULONG Signature;      /* set by IoInitializeRemoveLock: a lock lives in fresh (zeroed) memory */
    UCHAR State;          /* 0 in use, 1 IoReleaseRemoveLockAndWait waiting, 2 removed */
    ULONG AllocateTag;    /* stored, not used */
    ULONG MaxLockedMinutes; /* stored, not checked (no wall time in the model) */
    ULONG HighWatermark;  /* stored, not checked beyond its range */
    LONG UntrackedCount;  /* acquisitions beyond the tag table */
    IO_REMOVE_LOCK_TAG_SLOT Tags[IO_REMOVE_LOCK_TAG_SLOTS];
} IO_REMOVE_LOCK_DBG_BLOCK;
typedef struct _IO_REMOVE_LOCK {
    IO_REMOVE_LOCK_COMMON_BLOCK Common;
    IO_REMOVE_LOCK_DBG_BLOCK Dbg;
} IO_REMOVE_LOCK, *PIO_REMOVE_LOCK;

/* In the WDK these are macros over the ...Ex routines; same calls here. */
VOID IoInitializeRemoveLock(_Out_ PIO_REMOVE_LOCK Lock, _In_ ULONG AllocateTag, _In_ ULONG MaxLockedMinutes,
                            _In_ ULONG HighWatermark);
NTSTATUS IoAcquireRemoveLock(_Inout_ PIO_REMOVE_LOCK RemoveLock, _In_opt_ PVOID Tag);
VOID IoReleaseRemoveLock(_Inout_ PIO_REMOVE_LOCK RemoveLock, _In_opt_ PVOID Tag);
VOID IoReleaseRemoveLockAndWait(_Inout_ PIO_REMOVE_LOCK RemoveLock, _In_opt_ PVOID Tag);

/* ---- debugging -------------------------------------------------------------- */
/* Goes to the trace (and the swimlanes), not to stdout: keeps runs quiet. */
/* The Windows kernel's conversions (%ws, %wZ, %I64x), so no GCC format check. */
ULONG DbgPrint(PCSTR Format, ...);
/* A driver's own assertion failing is a bugcheck in the checked sense:
 * reported as class BUGCHECK with code 0x0 and the expression. */
#define NT_ASSERT(e) ((e) ? (void)0 : TdfAssertFailed(#e, __FILE__, __LINE__))
#define ASSERT(e) NT_ASSERT(e)
__attribute__((noreturn)) void TdfAssertFailed(const char *expr, const char *file, int line);

#include "ke_spinlock.h" /* AtDpcLevel and in-stack queued spin locks (KERNEL-SEMANTICS §14) */
/* The rest of the WDK kernel headers' names, one concept a header. */
#include "list_entry.h"
#include "wdm_constants.h"
#include "kd_print.h"
#include "rtl_strings.h"
#include "intsafe.h"
/* ---- work items, lookaside lists (KERNEL-SEMANTICS §9) ------------------- */
#include "io_workitem.h"
#include "ex_lookaside.h"
/* ---- IRPs, WDM driver and device objects (KERNEL-SEMANTICS §16) ---------- */
#include "irp.h"

#ifdef __cplusplus
}
#endif
#endif
