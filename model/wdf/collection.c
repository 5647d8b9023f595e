/*
 * WDFCOLLECTION (KERNEL-SEMANTICS §9 "Collections"; KMDF fxcollection.cpp,
 * fxcollectionapi.cpp): an ordered list of object handles, each referenced
 * by the collection while it is in it. The items' references go when the
 * collection is destroyed.
 */
#include "wdf_internal.h"

typedef struct wdf_collection {
    wdf_object_t obj;
    wdf_object_t **items; /* model pool, grows */
    ULONG count, cap;
} wdf_collection_t;

static wdf_collection_t *coll_checked(WDFCOLLECTION h, const char *routine)
{
    return (wdf_collection_t *)wdf_object_checked((WDFOBJECT)h, OBJ_COLLECTION, routine);
}

static void remove_at(wdf_collection_t *c, ULONG index)
{
    wdf_object_t *item = c->items[index];
    for (ULONG i = index + 1; i < c->count; i++)
        c->items[i - 1] = c->items[i];
    c->count--;
    wdf_object_release(item); /* may destroy it */
}

static void finalize(wdf_object_t *o)
{
    wdf_collection_t *c = (wdf_collection_t *)o;
    while (c->count > 0)
        remove_at(c, c->count - 1);
}

NTSTATUS WdfCollectionCreate(PWDF_OBJECT_ATTRIBUTES CollectionAttributes, WDFCOLLECTION *Collection)
{
    ke_yield();
    wdf_collection_t *c = pool_alloc_model(sizeof *c);
    wdf_object_init(&c->obj, OBJ_COLLECTION, CollectionAttributes);
    wdf_object_set_parent(&c->obj, CollectionAttributes ? wdf_object_from_handle(CollectionAttributes->ParentObject) : NULL);
    c->obj.finalize = finalize;
    *Collection = (WDFCOLLECTION)c;
    return STATUS_SUCCESS;
}

ULONG WdfCollectionGetCount(WDFCOLLECTION Collection)
{
    ke_yield();
    wdf_collection_t *c = coll_checked(Collection, "WdfCollectionGetCount");
    return c ? c->count : 0;
}

NTSTATUS WdfCollectionAdd(WDFCOLLECTION Collection, WDFOBJECT Object)
{
    ke_yield();
    wdf_collection_t *c = coll_checked(Collection, "WdfCollectionAdd");
    wdf_object_t *o = wdf_object_checked_any(Object, "WdfCollectionAdd");
    if (!c || !o)
        return STATUS_INVALID_PARAMETER;
    if (c->count == c->cap) {
        ULONG cap = c->cap ? 2 * c->cap : 8;
        wdf_object_t **items = pool_alloc_model(cap * sizeof *items);
        for (ULONG i = 0; i < c->count; i++)
            items[i] = c->items[i];
        c->items = items; /* the old array is model pool, freed with the run */
        c->cap = cap;
    }
    o->refs++;
    c->items[c->count++] = o;
    return STATUS_SUCCESS;
}

VOID WdfCollectionRemove(WDFCOLLECTION Collection, WDFOBJECT Item)
{
    ke_yield();
    wdf_collection_t *c = coll_checked(Collection, "WdfCollectionRemove");
    if (!c)
        return;
    for (ULONG i = 0; i < c->count; i++) {
        if (c->items[i] == wdf_object_from_handle(Item)) {
            remove_at(c, i);
            return;
        }
    }
    TDF_MISUSE("WdfCollectionRemove", "WdfCollectionRemove of an object that is not in the collection");
}

VOID WdfCollectionRemoveItem(WDFCOLLECTION Collection, ULONG Index)
{
    ke_yield();
    wdf_collection_t *c = coll_checked(Collection, "WdfCollectionRemoveItem");
    if (!c)
        return;
    if (Index >= c->count) {
        TDF_MISUSE("WdfCollectionRemoveItem", "WdfCollectionRemoveItem index %lu of a collection of %lu items",
                   (unsigned long)Index, (unsigned long)c->count);
        return;
    }
    remove_at(c, Index);
}

WDFOBJECT WdfCollectionGetItem(WDFCOLLECTION Collection, ULONG Index)
{
    ke_yield();
    wdf_collection_t *c = coll_checked(Collection, "WdfCollectionGetItem");
    return c && Index < c->count ? (WDFOBJECT)c->items[Index] : NULL;
}

WDFOBJECT WdfCollectionGetFirstItem(WDFCOLLECTION Collection)
{
    ke_yield();
    wdf_collection_t *c = coll_checked(Collection, "WdfCollectionGetFirstItem");
    return c && c->count ? (WDFOBJECT)c->items[0] : NULL;
}

WDFOBJECT WdfCollectionGetLastItem(WDFCOLLECTION Collection)
{
    ke_yield();
    wdf_collection_t *c = coll_checked(Collection, "WdfCollectionGetLastItem");
    return c && c->count ? (WDFOBJECT)c->items[c->count - 1] : NULL;
}
