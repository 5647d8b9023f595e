/*
 * What the dynamic bus and its children share. The bus enumerates children
 * through its default child list (identification description: slot and
 * generation) and exports GUID_TDF_DYNBUS_SLOT_INTERFACE on each child PDO;
 * the child's I/O path reads its slot's state through it. The interface's
 * context is the child's PDO: its per-child state is the PDO's (the bus frees
 * it in the PDO's EvtCleanupCallback).
 */
#ifndef DYNAMIC_BUS_IF_H
#define DYNAMIC_BUS_IF_H

#include <tdf/wdf.h>

// {0F3D6A21-7C4B-4E19-A0D2-5B8E91C3F7A4}
DEFINE_GUID(GUID_TDF_DYNBUS_SLOT_INTERFACE, 0x0f3d6a21, 0x7c4b, 0x4e19, 0xa0, 0xd2, 0x5b, 0x8e, 0x91, 0xc3, 0xf7,
            0xa4);
#define DYNBUS_SLOT_INTERFACE_VERSION 1

typedef ULONG DYNBUS_READ_SLOT(_In_ PVOID Context);

typedef struct _DYNBUS_SLOT_INTERFACE {
    INTERFACE InterfaceHeader;
    DYNBUS_READ_SLOT *ReadSlot;
} DYNBUS_SLOT_INTERFACE, *PDYNBUS_SLOT_INTERFACE;

#define DYNBUS_HARDWARE_ID L"ROOT\\TdfDynBus"
#define DYNBUS_CHILD_DEVICE_ID_TEXT L"DYNBUS\\Slot"
#define DYNBUS_CHILD_COMPATIBLE_ID_TEXT L"DYNBUS\\AnySlot"
#define DYNBUS_SLOTS 4

#endif
