/*
 * The header of the producer<->consumer pair (seed article-bus-interfaces-driver-to-driver):
 * what the two drivers share. They sit in two different device stacks (two
 * root-enumerated devices), so nothing in PnP orders their teardown: the
 * producer can be removed while the consumer still holds its interface, and
 * the consumer can unload while the producer still holds its callback.
 *
 * The producer FDO creates the symbolic link PRODUCER_LINK_NAME and exports
 * GUID_TDF_PRODUCER_INTERFACE with WdfDeviceAddQueryInterface. The consumer
 * opens a remote I/O target by that name and calls WdfIoTargetQueryForInterface
 * (KERNEL-SEMANTICS §3, §5).
 *
 * Versions (KERNEL-SEMANTICS §3: the framework answers when the stored
 * Size/Version are <= the requested ones, so a consumer asking for V2 can be
 * handed a V1 structure by an older producer and must look at what it got):
 *   V1  the OSR article's sample: copied interface, Write only, no-op
 *       Reference/Dereference. It makes no promise about the producer's
 *       lifetime: a cross-stack consumer must protect itself.
 *   V2  two-way and reference counted. The consumer's buffer carries its
 *       OnProducerEvent callback in (ImportInterface = TRUE). The producer
 *         - fails QUERY_REMOVE while any reference is out (KERNEL-SEMANTICS §3:
 *           "A driver must fail QUERY_REMOVE while a handed-out interface is
 *           referenced"), and
 *         - calls the imported callback only while referenced: the Dereference
 *           that drops the last reference returns only once no call into the
 *           consumer is in flight.
 *       Reference and Dereference are callable at IRQL <= APC_LEVEL (the last
 *       Dereference may wait).
 *
 * The contract on the consumer side (V2):
 *   - keep the target open while it holds the interface, except between
 *     EvtIoTargetQueryRemove and the outcome of that removal (KERNEL-SEMANTICS
 *     §5: close for query-remove); then only the producer's veto protects it;
 *   - on QUERY_REMOVE dereference (KERNEL-SEMANTICS §3) unless one of its
 *     threads is still calling through the interface: then keep the reference,
 *     which makes the producer veto, and use it again after REMOVE_CANCELLED;
 *   - before the handle is closed for good (REMOVE_COMPLETE, its own
 *     teardown) wait for its calls, then dereference: a surprise removal
 *     cannot be vetoed, and the handle is all that keeps the producer's image
 *     loaded until then;
 *   - never let a reference be dropped by a thread that is about to go on
 *     running in the producer's image: a count that the producer's
 *     InterfaceDereference drops *inside the producer* can let a removal
 *     proceed while that thread is still returning from it (KERNEL-SEMANTICS
 *     §3, last line). Calls are counted in the consumer's own code instead.
 */
#ifndef CROSS_STACK_IF_H
#define CROSS_STACK_IF_H

#include <tdf/wdf.h>

// {3D5E8A17-2C4B-4F0E-B6A1-7F92C0D4E815}
DEFINE_GUID(GUID_TDF_PRODUCER_INTERFACE, 0x3d5e8a17, 0x2c4b, 0x4f0e, 0xb6, 0xa1, 0x7f, 0x92, 0xc0, 0xd4, 0xe8,
            0x15);

#define PRODUCER_INTERFACE_VERSION_1 1
#define PRODUCER_INTERFACE_VERSION_2 2
#define PRODUCER_INTERFACE_VERSION PRODUCER_INTERFACE_VERSION_2

/* consumer -> producer: writes Value to the producer's device. Fails with
 * STATUS_DEVICE_NOT_READY while the producer is not in D0. PASSIVE_LEVEL. */
typedef NTSTATUS PRODUCER_WRITE(_In_ PVOID Context, _In_ ULONG Value);
/* producer -> consumer (V2, imported at query time). */
typedef VOID CONSUMER_ON_PRODUCER_EVENT(_In_ PVOID ConsumerContext, _In_ ULONG Event);

typedef struct _PRODUCER_INTERFACE_V1 {
    INTERFACE InterfaceHeader;
    PRODUCER_WRITE *Write;
} PRODUCER_INTERFACE_V1, *PPRODUCER_INTERFACE_V1;

/* V2 starts with the V1 layout. */
typedef struct _PRODUCER_INTERFACE {
    INTERFACE InterfaceHeader;
    /* filled by the producer */
    PRODUCER_WRITE *Write;
    /* filled by the consumer before the query, imported by the producer */
    CONSUMER_ON_PRODUCER_EVENT *OnProducerEvent;
    PVOID ConsumerContext;
} PRODUCER_INTERFACE, *PPRODUCER_INTERFACE;

#define PRODUCER_HARDWARE_ID L"ROOT\\TdfProducer"
#define CONSUMER_HARDWARE_ID L"ROOT\\TdfConsumer"
#define PRODUCER_LINK_NAME_TEXT L"\\DosDevices\\TdfProducer"

#endif
