/*
 * model/wdf internals of WDFINTERRUPT (interrupt.c; KERNEL-SEMANTICS §10):
 * what the device's power sequences, the PnP manager's `interrupt` event and
 * the unload checks ask of a device's interrupts.
 */
#ifndef TDF_WDF_INTERRUPT_H
#define TDF_WDF_INTERRUPT_H

#include "wdf_internal.h"

/* The IRQL a device's interrupt resource is translated to (its DIRQL). Any
 * value above DISPATCH_LEVEL behaves the same in the model. */
#define TDF_INTERRUPT_DIRQL 5

/* Power-up, after EvtDeviceD0Entry succeeded: connect each interrupt that has
 * a resource and call its EvtInterruptEnable at DIRQL under its lock. No yield
 * and no trace for a device without interrupts. Returns the first failure. */
NTSTATUS wdf_interrupts_connect(wdf_device_t *d);
/* Power-down, after EvtDeviceD0ExitPreInterruptsDisabled: per interrupt, in
 * reverse creation order, EvtInterruptDisable at DIRQL under its lock, then
 * the flush of queued DPCs, then the disconnect. */
void wdf_interrupts_disconnect(wdf_device_t *d);
/* The device's deletion deletes its interrupts (child objects). */
void wdf_interrupts_delete(wdf_device_t *d);
/* The `interrupt` event: the device raises its line. Returns 0 when it has
 * no connected interrupt (nothing happens), 1 when an interrupt model thread
 * was started that delivers it. */
int wdf_interrupt_raise(wdf_device_t *d);
/* Unload check: an interrupt of `img` still connected is 0xCE. */
void wdf_interrupts_unload_check(struct tdf_image *img);
void wdf_interrupts_reset(void);

#endif
