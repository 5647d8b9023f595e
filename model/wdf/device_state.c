/*
 * WdfDeviceSetDeviceState / WdfDeviceGetDeviceState (KERNEL-SEMANTICS §11
 * "Device state"): the PNP_DEVICE_* bits a driver reports for
 * IRP_MN_QUERY_PNP_DEVICE_STATE. KMDF (fxdeviceapi.cpp) merges the tri-states
 * into its bits and calls IoInvalidateDeviceState; the PnP manager
 * then queries them and acts: a started device reported failed or removed is
 * surprise-removed and removed (pnp_manager.c remove_failed_devices, at the
 * PnP thread's next event boundary), a not-disableable one cannot be
 * disabled (the `remove` event leaves it alone).
 */
#include "wdf_internal.h"

static void merge(WDF_TRI_STATE *bit, WDF_TRI_STATE asked)
{
    if (asked == WdfTrue || asked == WdfFalse)
        *bit = asked;
}

VOID WdfDeviceSetDeviceState(WDFDEVICE Device, PWDF_DEVICE_STATE DeviceState)
{
    ke_yield();
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceSetDeviceState");
    if (!DeviceState || DeviceState->Size != sizeof(WDF_DEVICE_STATE))
        TdfUnmodelled("WdfDeviceSetDeviceState", "a WDF_DEVICE_STATE without WDF_DEVICE_STATE_INIT (KMDF: 0x10D)");
    if (DeviceState->Disabled == WdfTrue)
        TdfUnmodelled("WdfDeviceSetDeviceState", "Disabled = WdfTrue (PNP_DEVICE_DISABLED: a hardware disable)");
    if (DeviceState->ResourcesChanged == WdfTrue)
        TdfUnmodelled("WdfDeviceSetDeviceState",
                      "ResourcesChanged = WdfTrue (PNP_DEVICE_RESOURCE_REQUIREMENTS_CHANGED: a rebalance)");
    WDF_DEVICE_STATE *s = &d->pnp_device_state;
    if (s->Size == 0)
        WDF_DEVICE_STATE_INIT(s);
    merge(&s->Disabled, DeviceState->Disabled);
    merge(&s->DontDisplayInUI, DeviceState->DontDisplayInUI);
    merge(&s->Failed, DeviceState->Failed);
    merge(&s->NotDisableable, DeviceState->NotDisableable);
    merge(&s->Removed, DeviceState->Removed);
    merge(&s->ResourcesChanged, DeviceState->ResourcesChanged);
    SCHED_TRACE3("%s: device state failed=%d removed=%d", d->name, s->Failed == WdfTrue, s->Removed == WdfTrue);
    /* Only a device whose stack runs is acted on: before its start the PnP
     * manager has not queried it yet, and after its removal nobody does. */
    if ((s->Failed == WdfTrue || s->Removed == WdfTrue) && d->pnp == PNP_STARTED)
        d->state_removal_asked = 1;
}

VOID WdfDeviceGetDeviceState(WDFDEVICE Device, PWDF_DEVICE_STATE DeviceState)
{
    ke_yield();
    wdf_device_t *d = wdf_device_checked(Device, "WdfDeviceGetDeviceState");
    if (!DeviceState || DeviceState->Size != sizeof(WDF_DEVICE_STATE))
        TdfUnmodelled("WdfDeviceGetDeviceState", "a WDF_DEVICE_STATE without WDF_DEVICE_STATE_INIT (KMDF: 0x10D)");
    if (d->pnp_device_state.Size == 0) {
        WDF_DEVICE_STATE_INIT(DeviceState);
        return;
    }
    *DeviceState = d->pnp_device_state;
}

int wdf_device_not_disableable(const wdf_device_t *d)
{
    return d && d->pnp_device_state.Size && d->pnp_device_state.NotDisableable == WdfTrue;
}
