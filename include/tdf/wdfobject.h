/*
 * KMDF object references (wdfobject.h). Included by wdf.h. As in the WDK,
 * WdfObjectReference / WdfObjectDereference and the ...WithTag forms are
 * macros over the ...Actual routines; Tag, Line and File feed KMDF's
 * optional reference tracker and change nothing (KERNEL-SEMANTICS §9).
 * A dereference that drops the reference WdfObjectDelete owns (one too many)
 * is BUGCHECK 0x10D WDF_VIOLATION/0x7 (WDF_OBJECT_ERROR), as KMDF's object
 * destructor does; any call on a destroyed handle is 0x10D/0x5.
 */
#ifndef TDF_WDFOBJECT_H
#define TDF_WDFOBJECT_H

VOID WdfObjectReferenceActual(_In_ WDFOBJECT Handle, _In_opt_ PVOID Tag, _In_ LONG Line, _In_z_ PCSTR File);
VOID WdfObjectDereferenceActual(_In_ WDFOBJECT Handle, _In_opt_ PVOID Tag, _In_ LONG Line, _In_z_ PCSTR File);
#define WdfObjectReferenceWithTag(Handle, Tag) WdfObjectReferenceActual((Handle), (Tag), __LINE__, __FILE__)
#define WdfObjectDereferenceWithTag(Handle, Tag) WdfObjectDereferenceActual((Handle), (Tag), __LINE__, __FILE__)
#define WdfObjectReference(Handle) WdfObjectReferenceWithTag((Handle), NULL)
#define WdfObjectDereference(Handle) WdfObjectDereferenceWithTag((Handle), NULL)

#endif
