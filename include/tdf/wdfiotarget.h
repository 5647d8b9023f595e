/*
 * teardown-fuzz KMDF shim, the local-target and IOCTL part of wdfiotarget.h:
 * the state of a target, formatting a request for a (non-internal) IOCTL and
 * the synchronous IOCTL send. Included by wdf.h after the remote-target
 * declarations; not for inclusion on its own. Semantics: docs/KERNEL-SEMANTICS.md
 * §15 (the local I/O target, the inverted call); WdfDeviceGetIoTarget is in
 * wdfdevice.h.
 */
#ifndef TDF_WDFIOTARGET_H
#define TDF_WDFIOTARGET_H

#ifndef TDF_WDF_H
#error "include <tdf/wdf.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum _WDF_IO_TARGET_STATE {
    WdfIoTargetStateUndefined = 0,
    WdfIoTargetStarted,
    WdfIoTargetStopped,
    WdfIoTargetClosedForQueryRemove,
    WdfIoTargetClosed,
    WdfIoTargetDeleted,
    WdfIoTargetPurged,
} WDF_IO_TARGET_STATE, *PWDF_IO_TARGET_STATE;

WDF_IO_TARGET_STATE WdfIoTargetGetState(_In_ WDFIOTARGET IoTarget);

/* IRP_MJ_DEVICE_CONTROL, to be sent with WdfRequestSend. The request must not
 * be pending (0x10D); a buffer offset is not modelled (TdfUnmodelled). */
NTSTATUS WdfIoTargetFormatRequestForIoctl(_In_ WDFIOTARGET IoTarget, _In_ WDFREQUEST Request, _In_ ULONG IoctlCode,
                                          _In_opt_ WDFMEMORY InputBuffer, _In_opt_ PWDFMEMORY_OFFSET InputBufferOffset,
                                          _In_opt_ WDFMEMORY OutputBuffer,
                                          _In_opt_ PWDFMEMORY_OFFSET OutputBufferOffset);

/* Sends an IOCTL and waits for its completion (PASSIVE_LEVEL only: MISUSE
 * above). Request NULL: the framework uses a request of its own. Returns the
 * completion status, or the send's failure (a stopped, purged or closed
 * target: STATUS_INVALID_DEVICE_STATE); BytesReturned gets the information.
 * A timeout in RequestOptions is not modelled (TdfUnmodelled). */
NTSTATUS WdfIoTargetSendIoctlSynchronously(_In_ WDFIOTARGET IoTarget, _In_opt_ WDFREQUEST Request,
                                           _In_ ULONG IoctlCode, _In_opt_ PWDF_MEMORY_DESCRIPTOR InputBuffer,
                                           _In_opt_ PWDF_MEMORY_DESCRIPTOR OutputBuffer,
                                           _In_opt_ PWDF_REQUEST_SEND_OPTIONS RequestOptions,
                                           _Out_opt_ PULONG_PTR BytesReturned);

#ifdef __cplusplus
}
#endif
#endif
