/*
 * WMI, accepted and ignored: the KMDF WMI objects (WdfWmiProviderCreate,
 * WdfWmiInstanceCreate ...), WNODE structures and IoWMIWriteEvent. Creation
 * succeeds and gives real objects (a context of the declared type, readable
 * by the driver, freed with the run), registration is accepted, and no WMI
 * request ever arrives: no Evt*Query/Set/Execute callback runs, and a fired
 * event goes nowhere (IoWMIWriteEvent frees the WNODE, as WMI does on
 * success). Teardown bugs in WMI callbacks are therefore out of reach
 * (docs/WRITING-A-TARGET.md, "What the model cannot find").
 * Not yield points.
 */
#ifndef TDF_WMI_H
#define TDF_WMI_H

#include "wdf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct WDFWMIPROVIDER__ *WDFWMIPROVIDER;
typedef struct WDFWMIINSTANCE__ *WDFWMIINSTANCE;

/* ---- WNODE (wmistr.h) ---- */
typedef struct _WNODE_HEADER {
    ULONG BufferSize;
    ULONG ProviderId;
    union {
        ULONG64 HistoricalContext;
        struct {
            ULONG Version;
            ULONG Linkage;
        };
    };
    union {
        HANDLE KernelHandle;
        LARGE_INTEGER TimeStamp;
    };
    GUID Guid;
    ULONG ClientContext;
    ULONG Flags;
} WNODE_HEADER, *PWNODE_HEADER;
typedef struct tagWNODE_SINGLE_INSTANCE {
    struct _WNODE_HEADER WnodeHeader;
    ULONG OffsetInstanceName;
    ULONG InstanceIndex;
    ULONG DataBlockOffset;
    ULONG SizeDataBlock;
    UCHAR VariableData[1];
} WNODE_SINGLE_INSTANCE, *PWNODE_SINGLE_INSTANCE;
#define WNODE_FLAG_ALL_DATA 0x00000001
#define WNODE_FLAG_SINGLE_INSTANCE 0x00000002
#define WNODE_FLAG_SINGLE_ITEM 0x00000004
#define WNODE_FLAG_EVENT_ITEM 0x00000008
#define WNODE_FLAG_FIXED_INSTANCE_SIZE 0x00000010
#define WNODE_FLAG_TOO_SMALL 0x00000020
#define WNODE_FLAG_INSTANCES_SAME 0x00000040
#define WNODE_FLAG_STATIC_INSTANCE_NAMES 0x00000080
#define WNODE_FLAG_INTERNAL 0x00000100
#define WNODE_FLAG_USE_TIMESTAMP 0x00000200
#define WNODE_FLAG_PERSIST_EVENT 0x00000400
#define WNODE_FLAG_EVENT_REFERENCE 0x00002000
#define WNODE_FLAG_ANSI_INSTANCENAMES 0x00004000
#define WNODE_FLAG_METHOD_ITEM 0x00008000
#define WNODE_FLAG_PDO_INSTANCE_NAMES 0x00010000

/* The event's WNODE is WMI's on success (freed); the caller frees it on failure. */
NTSTATUS IoWMIWriteEvent(_Inout_ PVOID WnodeEventItem);
ULONG IoWMIDeviceObjectToProviderId(_In_ PDEVICE_OBJECT DeviceObject);

/* ---- KMDF WMI (wdfwmi.h) ---- */
typedef enum _WDF_WMI_PROVIDER_CONTROL { WdfWmiEventControl = 0, WdfWmiInstanceControl } WDF_WMI_PROVIDER_CONTROL;
typedef enum _WDF_WMI_PROVIDER_FLAGS {
    WdfWmiProviderEventOnly = 0x0001,
    WdfWmiProviderExpensive = 0x0002,
    WdfWmiProviderTracing = 0x0004,
    WdfWmiProviderValidFlags = 0x0007,
} WDF_WMI_PROVIDER_FLAGS;

typedef NTSTATUS EVT_WDF_WMI_PROVIDER_FUNCTION_CONTROL(_In_ WDFWMIPROVIDER WmiProvider,
                                                       _In_ WDF_WMI_PROVIDER_CONTROL Control, _In_ BOOLEAN Enable);
typedef EVT_WDF_WMI_PROVIDER_FUNCTION_CONTROL *PFN_WDF_WMI_PROVIDER_FUNCTION_CONTROL;
typedef NTSTATUS EVT_WDF_WMI_INSTANCE_QUERY_INSTANCE(_In_ WDFWMIINSTANCE WmiInstance, _In_ ULONG OutBufferSize,
                                                     _Out_writes_bytes_to_(OutBufferSize, *BufferUsed) PVOID OutBuffer,
                                                     _Out_ PULONG BufferUsed);
typedef EVT_WDF_WMI_INSTANCE_QUERY_INSTANCE *PFN_WDF_WMI_INSTANCE_QUERY_INSTANCE;
typedef NTSTATUS EVT_WDF_WMI_INSTANCE_SET_INSTANCE(_In_ WDFWMIINSTANCE WmiInstance, _In_ ULONG InBufferSize,
                                                   _In_reads_bytes_(InBufferSize) PVOID InBuffer);
typedef EVT_WDF_WMI_INSTANCE_SET_INSTANCE *PFN_WDF_WMI_INSTANCE_SET_INSTANCE;
typedef NTSTATUS EVT_WDF_WMI_INSTANCE_SET_ITEM(_In_ WDFWMIINSTANCE WmiInstance, _In_ ULONG DataItemId,
                                               _In_ ULONG InBufferSize, _In_reads_bytes_(InBufferSize) PVOID InBuffer);
typedef EVT_WDF_WMI_INSTANCE_SET_ITEM *PFN_WDF_WMI_INSTANCE_SET_ITEM;
typedef NTSTATUS EVT_WDF_WMI_INSTANCE_EXECUTE_METHOD(_In_ WDFWMIINSTANCE WmiInstance, _In_ ULONG MethodId,
                                                     _In_ ULONG InBufferSize, _In_ ULONG OutBufferSize,
                                                     _When_(InBufferSize >= OutBufferSize, _Inout_updates_bytes_(InBufferSize))
                                                         _When_(InBufferSize < OutBufferSize, _Inout_updates_bytes_(OutBufferSize))
                                                             PVOID Buffer,
                                                     _Out_ PULONG BufferUsed);
typedef EVT_WDF_WMI_INSTANCE_EXECUTE_METHOD *PFN_WDF_WMI_INSTANCE_EXECUTE_METHOD;

typedef struct _WDF_WMI_PROVIDER_CONFIG {
    ULONG Size;
    GUID Guid;
    ULONG Flags;
    ULONG MinInstanceBufferSize;
    PFN_WDF_WMI_PROVIDER_FUNCTION_CONTROL EvtWmiProviderFunctionControl;
} WDF_WMI_PROVIDER_CONFIG, *PWDF_WMI_PROVIDER_CONFIG;

static inline void WDF_WMI_PROVIDER_CONFIG_INIT(PWDF_WMI_PROVIDER_CONFIG Config, const GUID *Guid)
{
    RtlZeroMemory(Config, sizeof(*Config));
    Config->Size = sizeof(*Config);
    RtlCopyMemory(&Config->Guid, Guid, sizeof(GUID));
}

typedef struct _WDF_WMI_INSTANCE_CONFIG {
    ULONG Size;
    WDFWMIPROVIDER Provider;
    PWDF_WMI_PROVIDER_CONFIG ProviderConfig;
    BOOLEAN UseContextForQuery;
    BOOLEAN Register;
    PFN_WDF_WMI_INSTANCE_QUERY_INSTANCE EvtWmiInstanceQueryInstance;
    PFN_WDF_WMI_INSTANCE_SET_INSTANCE EvtWmiInstanceSetInstance;
    PFN_WDF_WMI_INSTANCE_SET_ITEM EvtWmiInstanceSetItem;
    PFN_WDF_WMI_INSTANCE_EXECUTE_METHOD EvtWmiInstanceExecuteMethod;
} WDF_WMI_INSTANCE_CONFIG, *PWDF_WMI_INSTANCE_CONFIG;

static inline void WDF_WMI_INSTANCE_CONFIG_INIT_PROVIDER(PWDF_WMI_INSTANCE_CONFIG Config, WDFWMIPROVIDER Provider)
{
    RtlZeroMemory(Config, sizeof(*Config));
    Config->Size = sizeof(*Config);
    Config->Provider = Provider;
}

static inline void WDF_WMI_INSTANCE_CONFIG_INIT_PROVIDER_CONFIG(PWDF_WMI_INSTANCE_CONFIG Config,
                                                                PWDF_WMI_PROVIDER_CONFIG ProviderConfig)
{
    RtlZeroMemory(Config, sizeof(*Config));
    Config->Size = sizeof(*Config);
    Config->ProviderConfig = ProviderConfig;
}

/* The kernel's counted string in a WMI buffer: a USHORT byte count, then the
 * characters. STATUS_BUFFER_TOO_SMALL (and the size needed) if it does not fit. */
NTSTATUS WDF_WMI_BUFFER_APPEND_STRING(_Out_writes_bytes_(BufferLength) PVOID Buffer, _In_ ULONG BufferLength,
                                      _In_ PCUNICODE_STRING String, _Out_ PULONG RequiredSize);

NTSTATUS WdfWmiProviderCreate(_In_ WDFDEVICE Device, _In_ PWDF_WMI_PROVIDER_CONFIG WmiProviderConfig,
                              _In_opt_ PWDF_OBJECT_ATTRIBUTES ProviderAttributes, _Out_ WDFWMIPROVIDER *WmiProvider);
WDFDEVICE WdfWmiProviderGetDevice(_In_ WDFWMIPROVIDER WmiProvider);
BOOLEAN WdfWmiProviderIsEnabled(_In_ WDFWMIPROVIDER WmiProvider, _In_ WDF_WMI_PROVIDER_CONTROL ProviderControl);
NTSTATUS WdfWmiInstanceCreate(_In_ WDFDEVICE Device, _In_ PWDF_WMI_INSTANCE_CONFIG InstanceConfig,
                              _In_opt_ PWDF_OBJECT_ATTRIBUTES InstanceAttributes,
                              _Out_opt_ WDFWMIINSTANCE *Instance);
NTSTATUS WdfWmiInstanceRegister(_In_ WDFWMIINSTANCE WmiInstance);
VOID WdfWmiInstanceDeregister(_In_ WDFWMIINSTANCE WmiInstance);
WDFDEVICE WdfWmiInstanceGetDevice(_In_ WDFWMIINSTANCE WmiInstance);
WDFWMIPROVIDER WdfWmiInstanceGetProvider(_In_ WDFWMIINSTANCE WmiInstance);
NTSTATUS WdfWmiInstanceFireEvent(_In_ WDFWMIINSTANCE WmiInstance, _In_opt_ ULONG EventDataSize,
                                 _In_reads_bytes_opt_(EventDataSize) PVOID EventData);
NTSTATUS WdfDeviceAssignMofResourceName(_In_ WDFDEVICE Device, _In_ PCUNICODE_STRING MofResourceName);

#ifdef __cplusplus
}
#endif
#endif
