/*
 * Executive lookaside lists (wdm.h): NPAGED_LOOKASIDE_LIST and
 * PAGED_LOOKASIDE_LIST with their Initialize / Allocate / Free / Delete
 * routines. Included by wdk.h. KERNEL-SEMANTICS §9: entries are pool of the
 * driver that initialised the list (0xC4/0x62 at unload if one is still
 * allocated); a list still initialised when its image unloads is BUGCHECK
 * 0xCE; Delete frees the cached entries. Drivers use the routines only,
 * never the fields (model fields).
 */
#ifndef TDF_EX_LOOKASIDE_H
#define TDF_EX_LOOKASIDE_H

typedef PVOID ALLOCATE_FUNCTION(_In_ POOL_TYPE PoolType, _In_ SIZE_T NumberOfBytes, _In_ ULONG Tag);
typedef ALLOCATE_FUNCTION *PALLOCATE_FUNCTION;
typedef VOID FREE_FUNCTION(_In_ PVOID Buffer);
typedef FREE_FUNCTION *PFREE_FUNCTION;

#define TDF_LOOKASIDE_DEPTH 4 /* entries a list keeps for reuse (the kernel tunes its depth) */
typedef struct _TDF_LOOKASIDE_COMMON { /* model fields */
    ULONG Signature;  /* set while initialised */
    POOL_TYPE Type;
    SIZE_T Size;
    ULONG Tag;
    PALLOCATE_FUNCTION Allocate; /* NULL: the pool */
    PFREE_FUNCTION Free;
    PVOID Cached[TDF_LOOKASIDE_DEPTH];
    ULONG CachedCount;
} TDF_LOOKASIDE_COMMON;
typedef struct _NPAGED_LOOKASIDE_LIST {
    TDF_LOOKASIDE_COMMON L;
} NPAGED_LOOKASIDE_LIST, *PNPAGED_LOOKASIDE_LIST;
typedef struct _PAGED_LOOKASIDE_LIST {
    TDF_LOOKASIDE_COMMON L;
} PAGED_LOOKASIDE_LIST, *PPAGED_LOOKASIDE_LIST;

/* Initialising a list that is already initialised: 0xC4 (MISUSE here). */
VOID ExInitializeNPagedLookasideList(_Out_ PNPAGED_LOOKASIDE_LIST Lookaside, _In_opt_ PALLOCATE_FUNCTION Allocate,
                                     _In_opt_ PFREE_FUNCTION Free, _In_ ULONG Flags, _In_ SIZE_T Size,
                                     _In_ ULONG Tag, _In_ USHORT Depth);
PVOID ExAllocateFromNPagedLookasideList(_Inout_ PNPAGED_LOOKASIDE_LIST Lookaside);
VOID ExFreeToNPagedLookasideList(_Inout_ PNPAGED_LOOKASIDE_LIST Lookaside, _In_ PVOID Entry);
VOID ExDeleteNPagedLookasideList(_Inout_ PNPAGED_LOOKASIDE_LIST Lookaside);
VOID ExInitializePagedLookasideList(_Out_ PPAGED_LOOKASIDE_LIST Lookaside, _In_opt_ PALLOCATE_FUNCTION Allocate,
                                    _In_opt_ PFREE_FUNCTION Free, _In_ ULONG Flags, _In_ SIZE_T Size, _In_ ULONG Tag,
                                    _In_ USHORT Depth);
PVOID ExAllocateFromPagedLookasideList(_Inout_ PPAGED_LOOKASIDE_LIST Lookaside);
VOID ExFreeToPagedLookasideList(_Inout_ PPAGED_LOOKASIDE_LIST Lookaside, _In_ PVOID Entry);
VOID ExDeletePagedLookasideList(_Inout_ PPAGED_LOOKASIDE_LIST Lookaside);

#endif
