/*
 * fuzz_power_policy: what the target description and the driver share.
 */
#ifndef POWER_POLICY_IF_H
#define POWER_POLICY_IF_H

#include <tdf/harness.h>

#define PPDEV_HARDWARE_ID L"TDF\\PowerPolicyDevice"

/* To the default queue (not power-managed): a status query the driver
 * answers from its registers, in any power state, under its own power
 * reference. */
#define IOCTL_PPDEV_READ_STATUS CTL_CODE(FILE_DEVICE_UNKNOWN, 0x941, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Forwarded by the default queue to the power-managed data queue, whose
 * power reference wakes an idle device before the request is dispatched. */
#define IOCTL_PPDEV_TRANSFER CTL_CODE(FILE_DEVICE_UNKNOWN, 0x942, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* Registers (ULONG offsets in the device's block). */
#define PPDEV_REG_CONTROL 0
#define PPDEV_REG_STATUS 1
#define PPDEV_REG_WAKE_STATUS 2
#define PPDEV_REG_DATA 3

#endif
