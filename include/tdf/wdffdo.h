/*
 * teardown-fuzz KMDF shim, the static child list part of wdffdo.h (KMDF's
 * FxChildList m_StaticList; KERNEL-SEMANTICS §11): iterating the children a
 * bus added with WdfFdoAddStaticChild. WdfFdoAddStaticChild itself and
 * WdfPdoGetParent are in wdf.h.
 */
#ifndef TDF_WDFFDO_H
#define TDF_WDFFDO_H

#ifndef TDF_WDF_H
#error "include <tdf/wdf.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Holds the list for iteration (nests). Children added meanwhile are
 * returned as pending; a PDO the PnP manager removed is not returned. */
VOID WdfFdoLockStaticChildListForIteration(_In_ WDFDEVICE Fdo);
/* The child after PreviousChild (NULL: the first) whose state is in Flags
 * (WDF_RETRIEVE_CHILD_FLAGS: present = reported to PnP, pending = added, not
 * yet reported, missing = marked missing); NULL when there is none. Outside
 * a lock: a verifier break in KMDF, MISUSE here. The handle is the bus's
 * only as long as the PDO lives: the lock does not keep a PDO from being
 * removed (take WdfObjectReference to keep it). */
WDFDEVICE WdfFdoRetrieveNextStaticChild(_In_ WDFDEVICE Fdo, _In_opt_ WDFDEVICE PreviousChild, _In_ ULONG Flags);
VOID WdfFdoUnlockStaticChildListFromIteration(_In_ WDFDEVICE Fdo);

#ifdef __cplusplus
}
#endif
#endif
