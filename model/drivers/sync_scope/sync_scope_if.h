/*
 * What the two drivers of fuzz_sync_scope share: hardware IDs, the lower
 * device's name, the I/O control codes.
 */
#ifndef SYNC_SCOPE_IF_H
#define SYNC_SCOPE_IF_H

#include <tdf/wdf.h>

#define SS_LOWER_HARDWARE_ID L"ROOT\\TdfSyncScopeLower"
#define SS_DEV_HARDWARE_ID L"ROOT\\TdfSyncScopeDevice"
#define SS_LOWER_SYMBOLIC_LINK_NAME L"\\DosDevices\\TdfSyncScopeLower"

/* Client IOCTLs of the device (its default queue, Device scope). */
#define IOCTL_SS_START CTL_CODE(FILE_DEVICE_UNKNOWN, 0x810, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_SS_ABORT CTL_CODE(FILE_DEVICE_UNKNOWN, 0x811, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_SS_SEND CTL_CODE(FILE_DEVICE_UNKNOWN, 0x812, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Internal IOCTL the device sends to the lower device: held until the lower
 * device's hardware finishes (stimulus lower_complete) or it is canceled. */
#define IOCTL_SS_LOWER_WORK CTL_CODE(FILE_DEVICE_UNKNOWN, 0x813, METHOD_NEITHER, FILE_ANY_ACCESS)

#define SS_LOWER_MAX_HELD 4

#endif
