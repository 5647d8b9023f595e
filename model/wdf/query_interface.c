/*
 * Driver-defined interfaces (KERNEL-SEMANTICS §3, FxPkgPnp::HandleQueryInterface):
 * the producer registers an INTERFACE (copied, unless ImportInterface), the
 * consumer queries its own stack from the top; the first device with the GUID
 * answers: size/version check, copy, EvtDeviceProcessQueryInterfaceRequest
 * (STATUS_NOT_SUPPORTED passes the query down), then InterfaceReference.
 */
#include "wdf_internal.h"

#include <string.h>

VOID WdfDeviceInterfaceReferenceNoOp(PVOID Context)
{
    (void)Context;
    ke_yield();
}

VOID WdfDeviceInterfaceDereferenceNoOp(PVOID Context)
{
    (void)Context;
    ke_yield();
}

NTSTATUS WdfDeviceAddQueryInterface(WDFDEVICE Device, PWDF_QUERY_INTERFACE_CONFIG cfg)
{
    ke_yield();
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceAddQueryInterface");
    if (cfg->ImportInterface && !cfg->EvtDeviceProcessQueryInterfaceRequest)
        return STATUS_INVALID_PARAMETER; /* import needs the callback (§3) */
    if (cfg->SendQueryToParentStack && !d->is_pdo)
        return STATUS_INVALID_PARAMETER;
    if (!cfg->Interface || cfg->Interface->Size < sizeof(INTERFACE))
        return STATUS_INVALID_PARAMETER;
    if (d->qi_count >= MAX_QUERY_INTERFACES) {
        TDF_LIMIT(MAX_QUERY_INTERFACES, "model/wdf/wdf_internal.h", "%s adds more query interfaces", d->name);
        return STATUS_INSUFFICIENT_RESOURCES; /* only from main, which stops the run */
    }
    query_interface_t *q = &d->qi[d->qi_count++];
    q->type = *cfg->InterfaceType;
    q->import = cfg->ImportInterface;
    q->evt = cfg->EvtDeviceProcessQueryInterfaceRequest;
    q->copy = pool_alloc_model(cfg->Interface->Size);
    memcpy(q->copy, cfg->Interface, cfg->Interface->Size);
    /* NULL reference/dereference become the framework's no-ops. */
    if (!q->copy->InterfaceReference)
        q->copy->InterfaceReference = WdfDeviceInterfaceReferenceNoOp;
    if (!q->copy->InterfaceDereference)
        q->copy->InterfaceDereference = WdfDeviceInterfaceDereferenceNoOp;
    return STATUS_SUCCESS;
}

/* One device's answer: STATUS_NOT_SUPPORTED means "not mine, pass down". */
static NTSTATUS answer(wdf_device_t *d, LPCGUID type, PINTERFACE iface, USHORT size, USHORT version, PVOID specific)
{
    for (unsigned i = 0; i < d->qi_count; i++) {
        query_interface_t *q = &d->qi[i];
        if (!IsEqualGUID(&q->type, type))
            continue;
        if (q->copy->Size > size || q->copy->Version > version)
            return STATUS_INVALID_BUFFER_SIZE;
        if (!q->import)
            memcpy(iface, q->copy, q->copy->Size);
        if (q->evt) {
            NTSTATUS st = q->evt((WDFDEVICE)d, (LPGUID)type, iface, specific);
            if (st == STATUS_NOT_SUPPORTED)
                continue;
            if (!NT_SUCCESS(st))
                return st;
        }
        if (iface->InterfaceReference)
            iface->InterfaceReference(iface->Context);
        SCHED_TRACE1("query interface answered by %s", d->name);
        return STATUS_SUCCESS;
    }
    return STATUS_NOT_SUPPORTED;
}

NTSTATUS WdfFdoQueryForInterface(WDFDEVICE Fdo, LPCGUID InterfaceType, PINTERFACE Interface, USHORT Size,
                                 USHORT Version, PVOID InterfaceSpecificData)
{
    ke_yield();
    if (ke_irql() != PASSIVE_LEVEL)
        TDF_MISUSE("WdfFdoQueryForInterface", "WdfFdoQueryForInterface above PASSIVE_LEVEL");
    wdf_device_t *fdo = wdf_device_checked(Fdo, "WdfFdoQueryForInterface");
    if (fdo->is_pdo)
        TdfUnmodelled("WdfFdoQueryForInterface", "called with a PDO handle");
    Interface->Size = Size;
    Interface->Version = Version;
    NTSTATUS st = wdf_query_stack(fdo, InterfaceType, Interface, Size, Version, InterfaceSpecificData);
    SCHED_TRACE1("WdfFdoQueryForInterface -> 0x%lx", (unsigned long)(uint32_t)st);
    return st;
}

NTSTATUS wdf_query_stack(wdf_device_t *top, LPCGUID type, PINTERFACE iface, USHORT size, USHORT version,
                         PVOID specific)
{
    /* IRP_MN_QUERY_INTERFACE goes to the top of the stack: FDO, then PDO. */
    NTSTATUS st = answer(top, type, iface, size, version, specific);
    if (st == STATUS_NOT_SUPPORTED && top->lower)
        st = answer(top->lower, type, iface, size, version, specific);
    return st;
}
