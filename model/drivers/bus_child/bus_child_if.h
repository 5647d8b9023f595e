/*
 * The header of the bus<->child pair: what the two drivers share.
 * The bus exports GUID_TDF_BUS_CHILD_INTERFACE on each child PDO with
 * ImportInterface = TRUE: the child's query hands its own callback
 * (OnBusEvent + its context) to the bus in the same buffer in which the bus
 * hands out its routines (a two-way interface, seed forum-bidirectional).
 */
#ifndef BUS_CHILD_IF_H
#define BUS_CHILD_IF_H

#include <tdf/wdf.h>

// {6B1C3E0A-58F1-4A57-9F2B-3D7C1E5A9B10}
DEFINE_GUID(GUID_TDF_BUS_CHILD_INTERFACE, 0x6b1c3e0a, 0x58f1, 0x4a57, 0x9f, 0x2b, 0x3d, 0x7c, 0x1e, 0x5a, 0x9b,
            0x10);
#define BUS_CHILD_INTERFACE_VERSION 1

/* child -> bus */
typedef ULONG BUS_READ_STATUS(_In_ PVOID Context);
/* Arms / disarms the bus's calls into the child. Disable returns only once no
 * bus call into the child is in flight. */
typedef VOID BUS_ENABLE_CALLBACKS(_In_ PVOID Context);
typedef VOID BUS_DISABLE_CALLBACKS(_In_ PVOID Context);
/* bus -> child (imported from the child at query time) */
typedef VOID CHILD_ON_BUS_EVENT(_In_ PVOID ChildContext, _In_ ULONG Event);

typedef struct _BUS_CHILD_INTERFACE {
    INTERFACE InterfaceHeader;
    /* filled by the bus */
    BUS_READ_STATUS *ReadBusStatus;
    BUS_ENABLE_CALLBACKS *EnableCallbacks;
    BUS_DISABLE_CALLBACKS *DisableCallbacks;
    /* filled by the child before the query (imported by the bus) */
    CHILD_ON_BUS_EVENT *OnBusEvent;
    PVOID ChildContext;
} BUS_CHILD_INTERFACE, *PBUS_CHILD_INTERFACE;

#define BUS_HARDWARE_ID L"ROOT\\TdfBus"
#define BUS_CHILD_HARDWARE_ID_TEXT L"TDFBUS\\Child"

#endif
