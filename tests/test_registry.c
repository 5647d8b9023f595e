/*
 * The registry shim (model/wdf/device_init.c, include/tdf/wdfregistry.h):
 * outside a target run no parameter exists, so a value is absent until the
 * driver assigns it; assigned values read back; a closed key is 0x10D; the
 * device-init settings are kept on the created device.
 */
#include "fiber_harness.h"
#include "../model/wdf/wdf_internal.h"
#include "tdf/wdfregistry.h"

static wdf_device_t g_device;

static void reset(void)
{
    memset(&g_device, 0, sizeof g_device);
    g_device.obj.kind = OBJ_DEVICE;
    wdf_registry_reset();
}

static NTSTATUS g_first, g_after_assign, g_other;
static ULONG g_value;

static void query_assign_query(void *arg)
{
    WDFKEY key;
    DECLARE_CONST_UNICODE_STRING(name, L"PollMs");
    DECLARE_CONST_UNICODE_STRING(other, L"Other");
    WdfDeviceOpenRegistryKey((WDFDEVICE)&g_device, PLUGPLAY_REGKEY_DEVICE, KEY_READ, NULL, &key);
    g_first = WdfRegistryQueryULong(key, &name, &g_value);
    WdfRegistryAssignULong(key, &name, 250);
    g_after_assign = WdfRegistryQueryULong(key, &name, &g_value);
    ULONG unused;
    g_other = WdfRegistryQueryULong(key, &other, &unused);
    WdfRegistryClose(key);
}

TEST(a_value_is_absent_until_assigned_then_reads_back)
{
    sched_fiber_fn *fns[] = {query_assign_query};
    CHECK(fh_run(fns, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset) == SCHED_OUTCOME_DONE);
    CHECK(g_first == STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK(g_after_assign == STATUS_SUCCESS && g_value == 250);
    CHECK(g_other == STATUS_OBJECT_NAME_NOT_FOUND);
}

static void use_after_close(void *arg)
{
    WDFKEY key;
    ULONG v;
    DECLARE_CONST_UNICODE_STRING(name, L"PollMs");
    WdfDeviceOpenRegistryKey((WDFDEVICE)&g_device, PLUGPLAY_REGKEY_DEVICE, KEY_READ, NULL, &key);
    WdfRegistryClose(key);
    WdfRegistryQueryULong(key, &name, &v);
}

TEST(a_closed_key_is_0x10d)
{
    sched_fiber_fn *fns[] = {use_after_close};
    sched_outcome_t o = fh_run(fns, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset);
    fh_check_failure(o, TDF_CLASS_BUGCHECK, 0x10D, 0x5, "WDF_VIOLATION", NULL,
                     "WdfRegistryQueryULong called with a registry key already closed", __FILE__, __LINE__);
}

int main(void) { return tdf_test_main(); }
