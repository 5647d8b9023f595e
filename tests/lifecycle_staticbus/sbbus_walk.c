/*
 * sbbus's stimuli (tests/lifecycle_staticbus/sbbus.c is the rest of the
 * image): walks of the static child list under its lock.
 */
#include <tdf/harness.h>

#include "sb.h"

/* The static child with this serial, the list locked by the caller; or NULL. */
static WDFDEVICE SbBus_Find(WDFDEVICE Device, ULONG Serial, ULONG Flags)
{
    WDFDEVICE child = NULL;
    while ((child = WdfFdoRetrieveNextStaticChild(Device, child, Flags)) != NULL)
        if (SbBusGetContext(child)->Serial == Serial)
            return child;
    return NULL;
}

VOID SbBus_StimulusPlug(WDFDEVICE Device, ULONG Argument)
{
    NTSTATUS status = SbBus_CreatePdo(Device, Argument % 4);
    DbgPrint("sbbus plug(%u) -> 0x%x", Argument % 4, (unsigned)status);
}

/* Marks the child missing under the lock and looks again before unlocking. */
VOID SbBus_StimulusUnplug(WDFDEVICE Device, ULONG Argument)
{
    ULONG serial = Argument % 4;
    WdfFdoLockStaticChildListForIteration(Device);
    WDFDEVICE child = SbBus_Find(Device, serial, WdfRetrieveAddedChildren);
    NTSTATUS status = child ? WdfPdoMarkMissing(child) : STATUS_NO_SUCH_DEVICE;
    DbgPrint("sbbus unplug(%u) -> 0x%x", serial, (unsigned)status);
    DbgPrint("sbbus child%u %s under the lock", serial,
             SbBus_Find(Device, serial, WdfRetrieveMissingChildren) ? "missing" : "not missing");
    WdfFdoUnlockStaticChildListFromIteration(Device);
    DbgPrint("sbbus unlocked");
}

/* Requests the eject under the lock and keeps the lock while the eject runs
 * (the delay ends once every other thread is blocked or done). */
VOID SbBus_StimulusEject(WDFDEVICE Device, ULONG Argument)
{
    ULONG serial = Argument % 4;
    LARGE_INTEGER delay;
    delay.QuadPart = -10000;
    WdfFdoLockStaticChildListForIteration(Device);
    WDFDEVICE child = SbBus_Find(Device, serial, WdfRetrievePresentChildren);
    if (child)
        WdfPdoRequestEject(child);
    DbgPrint("sbbus eject(%u) -> %s", serial, child ? "requested" : "no such child");
    (void)KeDelayExecutionThread(KernelMode, FALSE, &delay);
    DbgPrint("sbbus child%u %s after the eject, under the lock", serial,
             SbBus_Find(Device, serial, WdfRetrievePresentChildren) ? "present" : "not present");
    WdfFdoUnlockStaticChildListFromIteration(Device);
    DbgPrint("sbbus unlocked");
}

static VOID SbBus_Walk(WDFDEVICE Device, ULONG Flags, PCSTR Name)
{
    WDFDEVICE child = NULL;
    while ((child = WdfFdoRetrieveNextStaticChild(Device, child, Flags)) != NULL)
        DbgPrint("sbbus %s child%u", Name, SbBusGetContext(child)->Serial);
}

/* Each flag's walk; child Argument plugged during the iteration. */
VOID SbBus_StimulusIterate(WDFDEVICE Device, ULONG Argument)
{
    if (TdfVariant() == SB_VARIANT_UNLOCKED_RETRIEVE) {
        SbBus_Walk(Device, WdfRetrievePresentChildren, "present");
        return;
    }
    WdfFdoLockStaticChildListForIteration(Device);
    (void)SbBus_CreatePdo(Device, Argument % 4);
    SbBus_Walk(Device, WdfRetrievePresentChildren, "present");
    SbBus_Walk(Device, WdfRetrievePendingChildren, "pending");
    SbBus_Walk(Device, WdfRetrieveMissingChildren, "missing");
    WdfFdoUnlockStaticChildListFromIteration(Device);
    DbgPrint("sbbus unlocked");
}

/* A child plugged and marked missing before any relations query saw it. */
VOID SbBus_StimulusPlugUnplug(WDFDEVICE Device, ULONG Argument)
{
    ULONG serial = Argument % 4;
    (void)SbBus_CreatePdo(Device, serial);
    WdfFdoLockStaticChildListForIteration(Device);
    WDFDEVICE child = SbBus_Find(Device, serial, WdfRetrievePendingChildren);
    WdfFdoUnlockStaticChildListFromIteration(Device);
    NTSTATUS status = child ? WdfPdoMarkMissing(child) : STATUS_NO_SUCH_DEVICE;
    DbgPrint("sbbus plug_unplug(%u) -> 0x%x", serial, (unsigned)status);
}

