/*
 * What the bus and the child of fuzz_bus_ioctl share: no interface, two
 * IOCTLs (seed forum-bidirectional-bus-interface: "a pending IOCTL for
 * reading from child to bus, and one for sending data to the bus"). The child
 * sends both to its PDO through its local I/O target (WdfDeviceGetIoTarget);
 * the bus driver owns the PDO's queues.
 */
#ifndef BUS_IOCTL_IF_H
#define BUS_IOCTL_IF_H

#include <tdf/wdf.h>

#define IOBUS_HARDWARE_ID L"ROOT\\TdfIoBus"
#define IOBUS_CHILD_HARDWARE_ID_TEXT L"TDFIOBUS\\Child"

/* child -> bus data: the bus returns its status register (one ULONG). */
#define IOCTL_IOBUS_READ_STATUS CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* The inverted call: kept pending by the bus, completed with one IOBUS_EVENT
 * when the bus hardware signals; the child sends it again after each one. */
#define IOCTL_IOBUS_WAIT_EVENT CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* A client's request on a child (the child_io event): the child reads the
 * bus status with IOCTL_IOBUS_READ_STATUS and writes it to its register. */
#define IOCTL_IOCHILD_IO CTL_CODE(FILE_DEVICE_UNKNOWN, 0x810, METHOD_BUFFERED, FILE_ANY_ACCESS)

typedef struct _IOBUS_EVENT {
    ULONG Event;
} IOBUS_EVENT, *PIOBUS_EVENT;

#endif
