/*
 * The local I/O target and IOCTL sends (KERNEL-SEMANTICS §15): an FDO's
 * default target is the next lower device of its stack -- for a child
 * enumerated by a bus, the PDO whose queues the bus driver owns. That is the
 * path of the IOCTL design of seed forum-bidirectional-bus-interface: the
 * child sends its data IOCTLs and keeps an inverted-call IOCTL pending in the
 * bus through this target, and the framework's state rules (stop, purge,
 * close at deletion) are what tear the connection down.
 *
 * The framework opens and starts the local target itself (KMDF's FxPkgFdo
 * allocates it when the FDO is created; the model makes it at the first
 * WdfDeviceGetIoTarget, which nothing can observe) and closes it when the
 * device is deleted (device.c: every target of the device is closed, its sent
 * I/O canceled and waited for). It is not a handle: it takes no reference on
 * the lower device and is not told of its query-remove (io_target.c attach).
 */
#include "wdf_internal.h"

WDFIOTARGET WdfDeviceGetIoTarget(WDFDEVICE Device)
{
    /* Not a yield point: KMDF returns a field of the device. */
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceGetIoTarget");
    if (!d || d->is_pdo)
        return NULL; /* FxDevice::GetDefaultIoTarget: FDOs only */
    if (d->local_target)
        return (WDFIOTARGET)d->local_target;
    if (!d->lower)
        TdfUnmodelled("WdfDeviceGetIoTarget", "the local target of a root-enumerated FDO (the root PDO)");
    if (d->ntargets >= MAX_TARGETS) {
        TDF_LIMIT(MAX_TARGETS, "model/wdf/wdf_internal.h", "%s has more I/O targets", d->name);
        return NULL;
    }
    wdf_io_target_t *t = pool_alloc_model(sizeof *t);
    wdf_object_init(&t->obj, OBJ_IOTARGET, NULL);
    t->owner = d;
    t->local = 1;
    t->remote = d->lower;
    t->open = 1; /* opened and started by the framework */
    d->targets[d->ntargets++] = t;
    d->local_target = t;
    return (WDFIOTARGET)t;
}

WDF_IO_TARGET_STATE WdfIoTargetGetState(WDFIOTARGET IoTarget)
{
    wdf_io_target_t *t = (wdf_io_target_t *)wdf_object_checked((WDFOBJECT)IoTarget, OBJ_IOTARGET, "WdfIoTargetGetState");
    if (!t)
        return WdfIoTargetStateUndefined;
    if (!t->open)
        return t->closed_for_query_remove ? WdfIoTargetClosedForQueryRemove : WdfIoTargetClosed;
    if (t->purged)
        return WdfIoTargetPurged;
    return t->stopped ? WdfIoTargetStopped : WdfIoTargetStarted;
}

static NTSTATUS memory_of(WDFMEMORY h, PWDFMEMORY_OFFSET offset, void **buf, size_t *len, const char *routine)
{
    *buf = NULL;
    *len = 0;
    if (!h)
        return STATUS_SUCCESS;
    if (offset)
        TdfUnmodelled(routine, "buffer offsets");
    wdf_memory_t *m = (wdf_memory_t *)wdf_object_checked((WDFOBJECT)h, OBJ_MEMORY, routine);
    if (!m)
        return STATUS_INVALID_PARAMETER;
    *buf = m->buffer;
    *len = m->size;
    return STATUS_SUCCESS;
}

NTSTATUS WdfIoTargetFormatRequestForIoctl(WDFIOTARGET IoTarget, WDFREQUEST Request, ULONG IoctlCode,
                                          WDFMEMORY InputBuffer, PWDFMEMORY_OFFSET InputBufferOffset,
                                          WDFMEMORY OutputBuffer, PWDFMEMORY_OFFSET OutputBufferOffset)
{
    ke_yield();
    (void)wdf_object_checked((WDFOBJECT)IoTarget, OBJ_IOTARGET, "WdfIoTargetFormatRequestForIoctl");
    wdf_request_t *r = wdf_request_checked(Request, "WdfIoTargetFormatRequestForIoctl");
    if (!r)
        return STATUS_INVALID_PARAMETER;
    if (r->state != REQ_IDLE && r->state != REQ_COMPLETED) {
        wdf_request_fail_pending(r, "WdfIoTargetFormatRequestForIoctl on a request that is still pending");
        return STATUS_INVALID_DEVICE_STATE;
    }
    void *in, *out;
    size_t in_len, out_len;
    NTSTATUS st = memory_of(InputBuffer, InputBufferOffset, &in, &in_len, "WdfIoTargetFormatRequestForIoctl");
    if (NT_SUCCESS(st))
        st = memory_of(OutputBuffer, OutputBufferOffset, &out, &out_len, "WdfIoTargetFormatRequestForIoctl");
    if (!NT_SUCCESS(st))
        return st;
    r->type = WdfRequestTypeDeviceControl;
    r->ioctl = IoctlCode;
    r->in = in;
    r->in_len = in_len;
    r->out = out;
    r->out_len = out_len;
    return STATUS_SUCCESS;
}

static NTSTATUS descriptor(PWDF_MEMORY_DESCRIPTOR desc, void **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    if (!desc)
        return STATUS_SUCCESS;
    switch (desc->Type) {
    case WdfMemoryDescriptorTypeBuffer:
        *buf = desc->u.BufferType.Buffer;
        *len = desc->u.BufferType.Length;
        return STATUS_SUCCESS;
    case WdfMemoryDescriptorTypeHandle:
        return memory_of(desc->u.HandleType.Memory, desc->u.HandleType.Offsets, buf, len,
                         "WdfIoTargetSendIoctlSynchronously");
    case WdfMemoryDescriptorTypeMdl:
        TdfUnmodelled("WdfIoTargetSendIoctlSynchronously", "MDL memory descriptors");
    default:
        return STATUS_INVALID_PARAMETER;
    }
}

NTSTATUS WdfIoTargetSendIoctlSynchronously(WDFIOTARGET IoTarget, WDFREQUEST Request, ULONG IoctlCode,
                                           PWDF_MEMORY_DESCRIPTOR InputBuffer, PWDF_MEMORY_DESCRIPTOR OutputBuffer,
                                           PWDF_REQUEST_SEND_OPTIONS RequestOptions, PULONG_PTR BytesReturned)
{
    ke_yield();
    if (BytesReturned)
        *BytesReturned = 0;
    /* A synchronous send waits: KMDF's FxIoTarget::SubmitSync checks
     * PASSIVE_LEVEL (as WdfIoTargetQueryForInterface in io_target.c). */
    if (ke_irql() != PASSIVE_LEVEL)
        TDF_MISUSE("WdfIoTargetSendIoctlSynchronously", "WdfIoTargetSendIoctlSynchronously above PASSIVE_LEVEL");
    wdf_io_target_t *t =
        (wdf_io_target_t *)wdf_object_checked((WDFOBJECT)IoTarget, OBJ_IOTARGET, "WdfIoTargetSendIoctlSynchronously");
    if (!t)
        return STATUS_INVALID_PARAMETER;
    ULONG flags = RequestOptions ? RequestOptions->Flags : 0;
    if (flags & WDF_REQUEST_SEND_OPTION_TIMEOUT)
        TdfUnmodelled("WdfIoTargetSendIoctlSynchronously", "WDF_REQUEST_SEND_OPTION_TIMEOUT");
    void *in, *out;
    size_t in_len, out_len;
    NTSTATUS st = descriptor(InputBuffer, &in, &in_len);
    if (NT_SUCCESS(st))
        st = descriptor(OutputBuffer, &out, &out_len);
    if (!NT_SUCCESS(st))
        return st;
    wdf_request_t *r;
    if (Request) {
        r = wdf_request_checked(Request, "WdfIoTargetSendIoctlSynchronously");
        if (!r)
            return STATUS_INVALID_PARAMETER;
        if (r->state != REQ_IDLE && r->state != REQ_COMPLETED)
            TdfUnmodelled("WdfIoTargetSendIoctlSynchronously", "sending a request the driver received");
    } else {
        /* The framework's own request for this send (FxSyncRequest). */
        r = pool_alloc_model(sizeof *r);
        wdf_object_init(&r->obj, OBJ_REQUEST, NULL);
        r->state = REQ_IDLE;
    }
    r->type = WdfRequestTypeDeviceControl;
    r->ioctl = IoctlCode;
    r->in = in;
    r->in_len = in_len;
    r->out = out;
    r->out_len = out_len;
    r->completion = NULL; /* a synchronous send has no completion routine */
    WDF_REQUEST_SEND_OPTIONS options;
    WDF_REQUEST_SEND_OPTIONS_INIT(&options, (flags & ~WDF_REQUEST_SEND_OPTION_TIMEOUT) | WDF_REQUEST_SEND_OPTION_SYNCHRONOUS);
    if (!WdfRequestSend((WDFREQUEST)r, IoTarget, &options))
        return r->status; /* not sent: the target's state (STATUS_INVALID_DEVICE_STATE) */
    if (BytesReturned)
        *BytesReturned = r->information;
    return r->status;
}
