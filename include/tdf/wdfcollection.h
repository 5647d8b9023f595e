/*
 * KMDF collections (wdfcollection.h). Included by wdf.h. A collection holds
 * a reference on each item it contains (taken by Add, released by Remove /
 * RemoveItem and when the collection is destroyed); default parent: the
 * driver (KERNEL-SEMANTICS §9).
 */
#ifndef TDF_WDFCOLLECTION_H
#define TDF_WDFCOLLECTION_H

typedef struct WDFCOLLECTION__ *WDFCOLLECTION;

NTSTATUS WdfCollectionCreate(_In_opt_ PWDF_OBJECT_ATTRIBUTES CollectionAttributes, _Out_ WDFCOLLECTION *Collection);
ULONG WdfCollectionGetCount(_In_ WDFCOLLECTION Collection);
NTSTATUS WdfCollectionAdd(_In_ WDFCOLLECTION Collection, _In_ WDFOBJECT Object);
/* An item that is not in the collection: MISUSE (KMDF's verifier breaks in). */
VOID WdfCollectionRemove(_In_ WDFCOLLECTION Collection, _In_ WDFOBJECT Item);
/* Index out of range: MISUSE (KMDF's verifier breaks in). */
VOID WdfCollectionRemoveItem(_In_ WDFCOLLECTION Collection, _In_ ULONG Index);
WDFOBJECT WdfCollectionGetItem(_In_ WDFCOLLECTION Collection, _In_ ULONG Index); /* NULL out of range */
WDFOBJECT WdfCollectionGetFirstItem(_In_ WDFCOLLECTION Collection);
WDFOBJECT WdfCollectionGetLastItem(_In_ WDFCOLLECTION Collection);

#endif
