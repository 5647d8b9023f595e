/*
 * WDFMEMORY (wdfmemory.h in the WDK) and the request-buffer routines of
 * wdfrequest.h that hand out buffers and WDFMEMORY objects
 * (KERNEL-SEMANTICS §12). Included by wdf.h; not for inclusion on its own.
 *
 * A request's buffers and its WDFMEMORY objects are valid only until the
 * request is completed: the model frees the buffers at completion (ASan
 * reports a later raw access in the asan build; the plain build fills them
 * with 0xDD) and a later call through a request's WDFMEMORY, or a retrieve
 * on the completed request, is BUGCHECK 0x10D in every build.
 */
#ifndef TDF_WDFMEMORY_H
#define TDF_WDFMEMORY_H

/* Buffer too small for the request's MinimumRequiredSize, or a copy longer
 * than the source (KMDF's _CopyPtrToPtr). */
#define STATUS_BUFFER_TOO_SMALL ((NTSTATUS)0xC0000023L)

/* PoolType is accepted as given (the model has one pool); PoolTag 0 means the
 * framework's tag. The buffer belongs to the object: it is freed when the
 * object is deleted, by WdfObjectDelete or with its parent (Attributes'
 * ParentObject; default the driver). */
NTSTATUS WdfMemoryCreate(_In_opt_ PWDF_OBJECT_ATTRIBUTES Attributes, _In_ POOL_TYPE PoolType, _In_opt_ ULONG PoolTag,
                         _In_ size_t BufferSize, _Out_ WDFMEMORY *Memory, _Out_opt_ PVOID *Buffer);
NTSTATUS WdfMemoryCreatePreallocated(_In_opt_ PWDF_OBJECT_ATTRIBUTES Attributes, _In_ PVOID Buffer,
                                     _In_ size_t BufferSize, _Out_ WDFMEMORY *Memory);
PVOID WdfMemoryGetBuffer(_In_ WDFMEMORY Memory, _Out_opt_ size_t *BufferSize);
/* NumBytesToCopyTo 0: STATUS_INVALID_PARAMETER; SourceOffset at or past the
 * end, or fewer bytes left than asked: STATUS_BUFFER_TOO_SMALL. */
NTSTATUS WdfMemoryCopyToBuffer(_In_ WDFMEMORY SourceMemory, _In_ size_t SourceOffset, _Out_ PVOID Buffer,
                               _In_ size_t NumBytesToCopyTo);
/* NumBytesToCopyFrom 0: STATUS_INVALID_PARAMETER; DestinationOffset at or
 * past the end, or too little room: STATUS_INVALID_BUFFER_SIZE. */
NTSTATUS WdfMemoryCopyFromBuffer(_In_ WDFMEMORY DestinationMemory, _In_ size_t DestinationOffset, _In_ PVOID Buffer,
                                 _In_ size_t NumBytesToCopyFrom);

/* wdfrequest.h: the request's buffers as WDFMEMORY objects owned by the
 * request (the driver must not delete them). */
NTSTATUS WdfRequestRetrieveInputMemory(_In_ WDFREQUEST Request, _Out_ WDFMEMORY *Memory);
NTSTATUS WdfRequestRetrieveOutputMemory(_In_ WDFREQUEST Request, _Out_ WDFMEMORY *Memory);

/* An offset and length into a WDFMEMORY (WdfIoTargetFormatRequestFor*). */
typedef struct _WDFMEMORY_OFFSET {
    size_t BufferOffset;
    size_t BufferLength;
} WDFMEMORY_OFFSET, *PWDFMEMORY_OFFSET;

/* A buffer for the synchronous sends (WdfIoTargetSendIoctlSynchronously):
 * a raw buffer or a WDFMEMORY; the MDL form is declared, not modelled. */
typedef enum _WDF_MEMORY_DESCRIPTOR_TYPE {
    WdfMemoryDescriptorTypeInvalid = 0,
    WdfMemoryDescriptorTypeBuffer,
    WdfMemoryDescriptorTypeMdl,
    WdfMemoryDescriptorTypeHandle,
} WDF_MEMORY_DESCRIPTOR_TYPE;
typedef struct _WDF_MEMORY_DESCRIPTOR {
    WDF_MEMORY_DESCRIPTOR_TYPE Type;
    union {
        struct {
            PVOID Buffer;
            ULONG Length;
        } BufferType;
        struct {
            PVOID Mdl;
            ULONG BufferLength;
        } MdlType;
        struct {
            WDFMEMORY Memory;
            PWDFMEMORY_OFFSET Offsets;
        } HandleType;
    } u;
} WDF_MEMORY_DESCRIPTOR, *PWDF_MEMORY_DESCRIPTOR;
static inline VOID WDF_MEMORY_DESCRIPTOR_INIT_BUFFER(PWDF_MEMORY_DESCRIPTOR Descriptor, PVOID Buffer, ULONG BufferLength)
{
    RtlZeroMemory(Descriptor, sizeof(*Descriptor));
    Descriptor->Type = WdfMemoryDescriptorTypeBuffer;
    Descriptor->u.BufferType.Buffer = Buffer;
    Descriptor->u.BufferType.Length = BufferLength;
}
static inline VOID WDF_MEMORY_DESCRIPTOR_INIT_HANDLE(PWDF_MEMORY_DESCRIPTOR Descriptor, WDFMEMORY Memory,
                                                     PWDFMEMORY_OFFSET Offsets)
{
    RtlZeroMemory(Descriptor, sizeof(*Descriptor));
    Descriptor->Type = WdfMemoryDescriptorTypeHandle;
    Descriptor->u.HandleType.Memory = Memory;
    Descriptor->u.HandleType.Offsets = Offsets;
}

#endif
