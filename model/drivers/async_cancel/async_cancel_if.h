/*
 * The header of the sender/receiver pair (seed forum-cancel-pending-async-requests):
 * what the two drivers share. They sit in two different root stacks; the
 * receiver creates a symbolic link, the sender opens it as a remote I/O target
 * and sends it asynchronous internal IOCTLs that the receiver keeps pending
 * until its event source fires ("inverted call": each pending request is a
 * waiting notification).
 */
#ifndef ASYNC_CANCEL_IF_H
#define ASYNC_CANCEL_IF_H

#include <tdf/wdf.h>

#define RCV_HARDWARE_ID L"ROOT\\TdfAsyncReceiver"
#define SND_HARDWARE_ID L"ROOT\\TdfAsyncSender"

/* The name the receiver publishes (WdfDeviceCreateSymbolicLink) and the
 * sender opens (WdfIoTargetOpen, WdfIoTargetOpenByName). */
#define RCV_SYMBOLIC_LINK_NAME L"\\DosDevices\\TdfAsyncReceiver"

/* Internal IOCTL: "complete me when your next event happens". No buffers; the
 * receiver completes it with STATUS_SUCCESS and Information = the event's
 * sequence number, or with STATUS_CANCELLED when it is canceled or the
 * receiver goes away. */
#define IOCTL_RCV_WAIT_EVENT CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_NEITHER, FILE_ANY_ACCESS)

/* How many requests the receiver keeps pending at most; beyond that it fails
 * new ones at once (STATUS_INSUFFICIENT_RESOURCES). Well under what one KMDF
 * queue tracks in the model (16 owned requests). */
#define RCV_MAX_HELD 8

#endif
