/*
 * What the two WDM drivers of fuzz_wdm_cancel share (seed
 * forum-cancel-pending-async-requests, WDM form): driver B names its device
 * object, driver A opens it (IoGetDeviceObjectPointer) and keeps IRPs pending
 * there ("complete me on your next event"); A also forwards its clients'
 * DeviceIoControl requests to B.
 */
#ifndef WDM_CANCEL_IF_H
#define WDM_CANCEL_IF_H

#include <tdf/wdk.h> /* a driver's <wdm.h> */

#define WC_B_HARDWARE_ID L"ROOT\\TdfWdmCancelB"
#define WC_A_HARDWARE_ID L"ROOT\\TdfWdmCancelA"
#define WC_B_DEVICE_NAME L"\\Device\\TdfWdmCancelB"

/* Internal IOCTL to B: pending until B's next event (STATUS_SUCCESS,
 * Information = the event's number), or canceled (STATUS_CANCELLED), or B
 * goes away (STATUS_DELETE_PENDING). */
#define IOCTL_WC_WAIT CTL_CODE(FILE_DEVICE_UNKNOWN, 0x811, METHOD_NEITHER, FILE_ANY_ACCESS)
/* A client's IOCTL to A, which A forwards to B as IOCTL_WC_WAIT. */
#define IOCTL_WA_FORWARD CTL_CODE(FILE_DEVICE_UNKNOWN, 0x812, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* Pool and remove-lock tags (multi-character constants warn in gcc):
 * 'WcqR' in a pool dump is A's IRP context. */
#define WC_A_POOL_TAG 0x52716357u
#define WC_A_LOCK_TAG 0x41636357u
#define WC_B_LOCK_TAG 0x42636357u

/* A's own IRPs in flight at most (a_send stops there). */
#define WA_MAX_IN_FLIGHT 8

#endif
