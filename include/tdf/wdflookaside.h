/*
 * KMDF lookaside lists (declared in wdfmemory.h in the WDK; their own header
 * here, beside the WDFMEMORY routines). Included by wdf.h.
 * KERNEL-SEMANTICS §9: a WDFLOOKASIDE is a child of its parent (default: the
 * driver) and deleted with it; each WDFMEMORY made from it holds a reference
 * on the list until it is destroyed, when its buffer goes back to the list.
 */
#ifndef TDF_WDFLOOKASIDE_H
#define TDF_WDFLOOKASIDE_H

typedef struct WDFLOOKASIDE__ *WDFLOOKASIDE;

/* MemoryAttributes: the attributes (parent, context, callbacks) of every
 * memory object made from the list. */
NTSTATUS WdfLookasideListCreate(_In_opt_ PWDF_OBJECT_ATTRIBUTES LookasideAttributes, _In_ size_t BufferSize,
                                _In_ POOL_TYPE PoolType, _In_opt_ PWDF_OBJECT_ATTRIBUTES MemoryAttributes,
                                _In_opt_ ULONG PoolTag, _Out_ WDFLOOKASIDE *Lookaside);
NTSTATUS WdfMemoryCreateFromLookaside(_In_ WDFLOOKASIDE Lookaside, _Out_ WDFMEMORY *Memory);

#endif
