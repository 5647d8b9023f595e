/*
 * The header devices A and B share (seed blog-sharing-hw-resources-power-callbacks).
 *
 * Device A (share_a) owns a register block; device B (share_b), in another PnP
 * stack, uses part of it. B opens A by the symbolic link A creates (a remote
 * WDFIOTARGET) and sends IOCTL_INTERNAL_GET_RESOURCES: the input buffer carries
 * B's power-up / power-down callbacks and their context, the output buffer
 * returns A's resources. Registering the callbacks in the same request that
 * hands out the resources leaves no window in which B holds the resources and
 * A can lose power without a callback to call (the seed; KERNEL-SEMANTICS §6).
 *
 * Power protocol (KERNEL-SEMANTICS §6 "Fix"):
 *  - A calls PowerDown from EvtDeviceSelfManagedIoSuspend, the first callback of
 *    every power-down path (idle, Sx, stop, remove, surprise removal, §4), and
 *    PowerUp from EvtDeviceSelfManagedIoRestart, plus once right after it
 *    completes IOCTL_INTERNAL_GET_RESOURCES if it is in D0 at that moment;
 *  - B assumes A is in low power until its first PowerUp;
 *  - B brackets every register access with BeginAccess/EndAccess; A, after
 *    PowerDown returned, waits until no access is in flight before its
 *    power-down goes on (run-down protection, §1).
 * PowerUp passes the register mapping as it is now: a rebalance (STOP, restart)
 * unmaps and remaps A's registers, and B must never keep the old pointer.
 *
 * B gives the resources back with IOCTL_INTERNAL_RELEASE_RESOURCES before it
 * closes its handle (query-remove, remove-complete, its own removal): from
 * then on A calls nothing in B, whose image may unload.
 */
#ifndef POWER_SHARE_IF_H
#define POWER_SHARE_IF_H

#include <tdf/wdf.h>

#define SHARE_A_HARDWARE_ID L"ROOT\\TdfShareA"
#define SHARE_B_HARDWARE_ID L"ROOT\\TdfShareB"
/* A creates it in AddDevice; B opens A by it (WdfIoTargetOpenByName). */
#define SHARE_A_DEVICE_NAME L"\\DosDevices\\TdfShareA"

#define IOCTL_INTERNAL_GET_RESOURCES CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_NEITHER, FILE_ANY_ACCESS)
#define IOCTL_INTERNAL_RELEASE_RESOURCES CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_NEITHER, FILE_ANY_ACCESS)
/* B started a command through the registers; A owns the interrupt and
 * completes this request when the command is done (power-managed queue). */
#define IOCTL_INTERNAL_WAIT_COMMAND CTL_CODE(FILE_DEVICE_UNKNOWN, 0x802, METHOD_NEITHER, FILE_ANY_ACCESS)
/* Legacy two-step registration (resources first, callbacks later): kept by A
 * for old clients; the callbacks_late mutant of B uses it. */
#define IOCTL_INTERNAL_REGISTER_POWER_CALLBACKS CTL_CODE(FILE_DEVICE_UNKNOWN, 0x803, METHOD_NEITHER, FILE_ANY_ACCESS)

/* A's register block (ULONG index). */
#define SHARE_REG_STATUS 0  /* read by both */
#define SHARE_REG_COMMAND 1 /* B's command register */
#define SHARE_REG_CONTROL 2 /* A's own: saved in D0Exit, restored in D0Entry */
#define SHARE_REG_RESULT 3  /* command result */
#define SHARE_REG_BLOCK_SIZE 0x1000

/* A -> B. Called at PASSIVE/APC with A's client lock held: must not block on
 * anything A's power path waits for, and must not call back into A. */
typedef VOID SHARE_POWER_UP(_In_ PVOID ClientContext, _In_ volatile ULONG *Registers);
typedef VOID SHARE_POWER_DOWN(_In_ PVOID ClientContext);
/* B -> A, around each register access (any IRQL <= DISPATCH). FALSE: A is
 * powering down right now; do not touch the registers. */
typedef BOOLEAN SHARE_BEGIN_ACCESS(_In_ PVOID OwnerContext);
typedef VOID SHARE_END_ACCESS(_In_ PVOID OwnerContext);

/* Input buffer of IOCTL_INTERNAL_GET_RESOURCES (optional: a client without
 * callbacks gets the resources but no power notifications). */
typedef struct _SHARE_POWER_CALLBACKS {
    ULONG Size;
    SHARE_POWER_UP *PowerUp;
    SHARE_POWER_DOWN *PowerDown;
    PVOID ClientContext;
} SHARE_POWER_CALLBACKS, *PSHARE_POWER_CALLBACKS;

/* Output buffer of IOCTL_INTERNAL_GET_RESOURCES. */
typedef struct _SHARE_RESOURCES {
    ULONG Size;
    volatile ULONG *Registers; /* the mapping at hand-out time; PowerUp passes the current one */
    ULONG RegisterCount;
    SHARE_BEGIN_ACCESS *BeginAccess;
    SHARE_END_ACCESS *EndAccess;
    PVOID OwnerContext;
    BOOLEAN PoweredAtHandout; /* informational, for legacy clients: A's state when it completed the request */
} SHARE_RESOURCES, *PSHARE_RESOURCES;

#endif
