/*
 * model/wdf power policy (KERNEL-SEMANTICS §13): the per-device state the
 * power-policy owner keeps (idle and wake settings, the power reference count
 * that I/O and WdfDeviceStopIdle take, wake arming) and the hooks the power
 * sequences of device.c and the PnP manager's idle/wake call. Included by
 * wdf_internal.h before wdf_device_t, which embeds wdf_power_policy_t.
 */
#ifndef TDF_WDF_POWER_POLICY_H
#define TDF_WDF_POWER_POLICY_H

#include "tdf/wdf.h"

struct wdf_device;
struct devnode;

/* Why a device leaves D0: decides which wake arming happens before D0Exit. */
typedef enum pp_dx_reason {
    PP_DX_NONE = 0, /* stop, remove, surprise removal: no arming */
    PP_DX_IDLE,     /* S0 idle timeout: ArmWakeFromS0 if the idle settings can wake */
    PP_DX_SX,       /* system sleep/hibernate: ArmWakeFromSx if the wake settings are enabled */
} pp_dx_reason_t;

typedef struct wdf_power_policy {
    int owner;                    /* the power-policy owner of its stack (the FDO; PDOs are not) */
    int idle_assigned;            /* WdfDeviceAssignS0IdleSettings succeeded with Enabled != WdfFalse */
    WDF_DEVICE_POWER_POLICY_IDLE_SETTINGS idle;
    int wake_assigned;            /* WdfDeviceAssignSxWakeSettings with Enabled != WdfFalse */
    WDF_DEVICE_POWER_POLICY_WAKE_SETTINGS wake;
    WDF_POWER_POLICY_EVENT_CALLBACKS cb;
    LONG refs;                    /* power references: the driver's StopIdle + one per non-empty power-managed queue */
    LONG driver_refs;             /* of which WdfDeviceStopIdle's (for the report of an unmatched ResumeIdle) */
    int in_d0;                    /* the idle machine's "in D0" event: set after a complete power-up, cleared at the idle decision */
    int idle_dx;                  /* in Dx (or on the way) because it idled: a power reference wakes it */
    int wake_posted;              /* a power-policy thread is on its way to bring the device to D0 */
    int armed_s0, armed_sx;       /* ArmWakeFromS0/Sx succeeded, Disarm not yet called */
    int power_failed;             /* a power-up failed (D0Entry, SelfManagedIoInit/Restart): the device is being torn down */
    uint32_t fail_step;
} wdf_power_policy_t;

/* WdfDeviceCreate: ownership and callbacks from the init structure. */
void pp_device_created(struct wdf_device *d, const WDF_POWER_POLICY_EVENT_CALLBACKS *cb);
/* The idle timer of the power-policy owner may fire now: settings assigned
 * and enabled, no power reference held. (The PnP manager checks the stack.) */
int pp_idle_allowed(const struct wdf_device *d);
/* The D0Exit target of an idle power-down: the settings' DxState (D3 for
 * PowerDeviceMaximum, which asks for the deepest state the device can wake from). */
WDF_POWER_DEVICE_STATE pp_idle_target(const struct wdf_device *d);
/* In the power-down, I/O stopped, before D0Exit: arming per reason. Returns 0
 * if an S0 arming failed: the idle power-down is undone (KMDF reverts to D0). */
int pp_arm_before_dx(struct wdf_device *d, pp_dx_reason_t reason);
/* In the power-up, after D0Entry, before the queues are released: disarm what was armed. */
void pp_disarm_after_d0(struct wdf_device *d);
/* The `wake` event on an armed device: the device signalled wake (before its power-up). */
void pp_wake_triggered(struct wdf_device *d);
/* The power-up finished (in_d0 = 1, or failed), or the device went down. */
void pp_power_state_changed(struct wdf_device *d);
/* A power-managed queue went from empty to non-empty / back to empty
 * (FxIoQueue::SetTransitionFromEmpty / its PowerDereference). Never blocks. */
int pp_queue_reference(struct wdf_device *d); /* 1 if a reference was taken */
void pp_queue_dereference(struct wdf_device *d);
/* The power-policy owner of d's stack (d itself for an FDO, NULL if none). */
struct wdf_device *pp_owner_of(struct wdf_device *d);

/* Provided by the PnP manager: bring n's stack (and its parents) to D0 on a
 * power-policy thread of its own, if `owner` is still its started FDO then;
 * does not wait. Clears owner->pp.wake_posted when done. Returns 0 if no
 * model thread could be had. */
int pnp_post_wake_for_power_reference(struct devnode *n, struct wdf_device *owner);

#endif
