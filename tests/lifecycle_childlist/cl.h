/*
 * The recorder pair of tests/test_lifecycle_childlist.c (docs/LIFECYCLE.md
 * rules 70-79): a bus (clbus.c) whose children come from its default child
 * list, and their function driver (clchild.c). Every callback logs one line
 * (DbgPrint), "child<id> <PDO|FDO> <Callback>" or "clbus <what>", so the test
 * can assert the order in which the model calls them. Test-only.
 */
#ifndef TDF_TEST_CL_H
#define TDF_TEST_CL_H

#include <tdf/harness.h>

#define CL_BUS_HARDWARE_ID L"TDF\\ClBus"
#define CL_CHILD_HARDWARE_ID_TEXT L"TDF\\ClChild"

/* The bus exports this on every child PDO (copied): the child's id, for the
 * FDO's trace lines. */
DEFINE_GUID(GUID_CL_IDENTITY_INTERFACE, 0x7d2e4b63, 0x1e9f, 0x4c8b, 0xaf, 0x32, 0x6b, 0x55, 0x4c, 0x8d, 0x21, 0x13);
typedef struct _CL_IDENTITY_INTERFACE {
    INTERFACE InterfaceHeader;
    ULONG Id;
} CL_IDENTITY_INTERFACE, *PCL_IDENTITY_INTERFACE;

typedef struct _CL_CHILD_ID {
    WDF_CHILD_IDENTIFICATION_DESCRIPTION_HEADER Header;
    ULONG Id;
} CL_CHILD_ID, *PCL_CHILD_ID;

enum cl_variant {
    CL_VARIANT_CORRECT = 0,
    CL_VARIANT_VETO_QUERY_REMOVE, /* the child FDO fails EvtDeviceQueryRemove */
    CL_VARIANT_NO_EJECT_CAPABILITY, /* the PDOs do not set EjectSupported */
    CL_VARIANT_SLOW_CREATE, /* EvtChildListCreateDevice waits until every other thread is blocked */
    CL_VARIANT_COUNT
};

#endif
