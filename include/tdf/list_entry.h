/*
 * Doubly linked lists (LIST_ENTRY and the WDK's inline routines). Plain
 * memory operations, not yield points: a driver's list shared between threads
 * is protected by the driver's own lock, whose acquire and release are.
 * RemoveEntryList on an entry whose neighbours do not point back at it is
 * the kernel's fast-fail (bug check 0x139 KERNEL_SECURITY_CHECK_FAILURE,
 * LIST_ENTRY corruption, parameter 3): reported as such.
 */
#ifndef TDF_LIST_ENTRY_H
#define TDF_LIST_ENTRY_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY;
typedef struct _SINGLE_LIST_ENTRY {
    struct _SINGLE_LIST_ENTRY *Next;
} SINGLE_LIST_ENTRY, *PSINGLE_LIST_ENTRY;

__attribute__((noreturn)) void TdfListCorrupted(const char *routine);

static inline void InitializeListHead(PLIST_ENTRY ListHead) { ListHead->Flink = ListHead->Blink = ListHead; }
static inline BOOLEAN IsListEmpty(const LIST_ENTRY *ListHead) { return (BOOLEAN)(ListHead->Flink == ListHead); }
static inline BOOLEAN RemoveEntryList(PLIST_ENTRY Entry)
{
    PLIST_ENTRY next = Entry->Flink, prev = Entry->Blink;
    if (next->Blink != Entry || prev->Flink != Entry)
        TdfListCorrupted("RemoveEntryList");
    prev->Flink = next;
    next->Blink = prev;
    return (BOOLEAN)(next == prev);
}
static inline PLIST_ENTRY RemoveHeadList(PLIST_ENTRY ListHead)
{
    PLIST_ENTRY entry = ListHead->Flink;
    if (entry->Blink != ListHead || entry->Flink->Blink != entry)
        TdfListCorrupted("RemoveHeadList");
    ListHead->Flink = entry->Flink;
    entry->Flink->Blink = ListHead;
    return entry;
}
static inline PLIST_ENTRY RemoveTailList(PLIST_ENTRY ListHead)
{
    PLIST_ENTRY entry = ListHead->Blink;
    if (entry->Flink != ListHead || entry->Blink->Flink != entry)
        TdfListCorrupted("RemoveTailList");
    ListHead->Blink = entry->Blink;
    entry->Blink->Flink = ListHead;
    return entry;
}
static inline void InsertTailList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry)
{
    PLIST_ENTRY last = ListHead->Blink;
    if (last->Flink != ListHead)
        TdfListCorrupted("InsertTailList");
    Entry->Flink = ListHead;
    Entry->Blink = last;
    last->Flink = Entry;
    ListHead->Blink = Entry;
}
static inline void InsertHeadList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry)
{
    PLIST_ENTRY first = ListHead->Flink;
    if (first->Blink != ListHead)
        TdfListCorrupted("InsertHeadList");
    Entry->Flink = first;
    Entry->Blink = ListHead;
    first->Blink = Entry;
    ListHead->Flink = Entry;
}
static inline void PushEntryList(PSINGLE_LIST_ENTRY ListHead, PSINGLE_LIST_ENTRY Entry)
{
    Entry->Next = ListHead->Next;
    ListHead->Next = Entry;
}
static inline PSINGLE_LIST_ENTRY PopEntryList(PSINGLE_LIST_ENTRY ListHead)
{
    PSINGLE_LIST_ENTRY first = ListHead->Next;
    if (first)
        ListHead->Next = first->Next;
    return first;
}

#ifdef __cplusplus
}
#endif
#endif
