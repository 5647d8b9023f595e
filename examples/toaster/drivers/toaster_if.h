/* The interface the toaster bus exports to each toaster (like the toaster
 * sample's shared header): the function driver registers a heat-status callback. */
#ifndef TOASTER_IF_H
#define TOASTER_IF_H

#include <tdf/wdf.h>

// {2F6E2C55-0F0B-4E8D-9C65-1A7D3B0E6C21}
DEFINE_GUID(GUID_TOASTER_STATUS_INTERFACE, 0x2f6e2c55, 0x0f0b, 0x4e8d, 0x9c, 0x65, 0x1a, 0x7d, 0x3b, 0x0e, 0x6c,
            0x21);
#define TOASTER_STATUS_INTERFACE_VERSION 1

typedef VOID TOASTER_HEAT_CALLBACK(_In_ PVOID CallbackContext, _In_ ULONG Temperature);
typedef NTSTATUS TOASTBUS_REGISTER_HEAT_CALLBACK(_In_ PVOID Context, _In_ TOASTER_HEAT_CALLBACK *Callback,
                                                _In_ PVOID CallbackContext);
/* Returns only once no call of the callback is in flight (that is the contract). */
typedef VOID TOASTBUS_UNREGISTER_HEAT_CALLBACK(_In_ PVOID Context);

typedef struct _TOASTER_STATUS_INTERFACE {
    INTERFACE InterfaceHeader;
    TOASTBUS_REGISTER_HEAT_CALLBACK *RegisterHeatCallback;
    TOASTBUS_UNREGISTER_HEAT_CALLBACK *UnregisterHeatCallback;
} TOASTER_STATUS_INTERFACE, *PTOASTER_STATUS_INTERFACE;

#define TOASTBUS_HARDWARE_ID L"ROOT\\ToastBus"
#define TOASTER_HARDWARE_ID L"TOASTBUS\\Toaster"

/* Variants of this example: 0 is the fix, 1 the planted bug. */
enum { TOASTER_VARIANT_FIXED = 0, TOASTER_VARIANT_PLANTED = 1 };

#endif
