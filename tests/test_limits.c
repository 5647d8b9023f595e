/*
 * Harness limits (class LIMIT, exit 17, docs/REPORTS.md): each fixed
 * capacity of the model works up to its value and stops the run one past it,
 * naming the constant and its value, instead of dropping the object or
 * returning a failure status the real framework would not return. Objects
 * are built by hand inside a model thread (no PnP manager, no driver image).
 */
#include "../model/pnp/pnp.h"
#include "../fuzz/report.h"
#include "fiber_harness.h"
#include "tdf_test.h"

#include <stdio.h>
#include <stdlib.h>

static struct tdf_image g_img = {.name = "limits"};
static wdf_driver_t *g_driver;
static unsigned g_count; /* how many objects the scenario makes */
static unsigned g_made;  /* how many it made before the run ended */
static int g_reached_end;
static KEVENT g_never;

static void reset_globals(void)
{
    g_driver = NULL;
    g_made = 0;
    g_reached_end = 0;
    KeInitializeEvent(&g_never, NotificationEvent, FALSE);
    wdf_reset();
}

static sched_outcome_t run1(sched_fiber_fn *fn)
{
    return fh_run(&fn, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset_globals);
}

/* A device as WdfDeviceCreate makes it, for a driver object of our own. */
static wdf_device_t *make_device(void)
{
    if (!g_driver) {
        g_driver = pool_alloc_model(sizeof *g_driver);
        wdf_object_init(&g_driver->obj, OBJ_DRIVER, NULL);
        g_driver->image = &g_img;
    }
    struct WDFDEVICE_INIT *init = pool_alloc_model(sizeof *init);
    init->driver = g_driver;
    WDFDEVICE h = NULL;
    if (WdfDeviceCreate(&init, NULL, &h) != STATUS_SUCCESS)
        return NULL;
    wdf_device_t *d = (wdf_device_t *)h;
    d->obj.refs = 1000; /* never destroyed in the run */
    d->pnp = PNP_STARTED;
    d->power = WdfPowerDeviceD0;
    return d;
}

/* One past `constant` (value `value`): LIMIT named so, and the scenario
 * stopped at the call that overflowed. */
static void check_limit(sched_outcome_t outcome, const char *constant, unsigned value, unsigned made, int line)
{
    const tdf_failure_t *f = tdf_failure();
    if (!tdf_check(outcome == SCHED_OUTCOME_ABORTED, __FILE__, line, "outcome == SCHED_OUTCOME_ABORTED"))
        printf("    outcome = %d\n", (int)outcome);
    if (!tdf_check(f != NULL, __FILE__, line, "tdf_failure() != NULL"))
        return;
    if (!tdf_check(f->cls == TDF_CLASS_LIMIT && strcmp(f->name, constant) == 0 && f->subcode == value, __FILE__,
                   line, "LIMIT of the constant with its value"))
        printf("    got %s %s=%u (%s)\n", tdf_class_name(f->cls), f->name, f->subcode, f->detail);
    char expect[96];
    snprintf(expect, sizeof expect, "%s is %u (", constant, value);
    if (!tdf_check(strstr(f->detail, expect) != NULL, __FILE__, line, "detail names the constant and value"))
        printf("    detail: \"%s\"\n    expected: \"%s\"\n", f->detail, expect);
    tdf_check(tdf_class_exit_code(f->cls) == 17, __FILE__, line, "exit code 17");
    tdf_check(g_made == made, __FILE__, line, "made exactly the capacity before stopping");
    tdf_check(!g_reached_end, __FILE__, line, "the scenario stopped at the overflow");
}

static void check_fits(sched_outcome_t outcome, unsigned value, int line)
{
    tdf_check(outcome == SCHED_OUTCOME_DONE, __FILE__, line, "outcome == SCHED_OUTCOME_DONE");
    if (!tdf_check(tdf_failure() == NULL, __FILE__, line, "no failure at the capacity"))
        printf("    %s %s\n", tdf_failure()->name, tdf_failure()->detail);
    tdf_check(g_made == value, __FILE__, line, "made them all");
    tdf_check(g_reached_end, __FILE__, line, "reached the end");
}

/* ---- one scenario per capacity --------------------------------------------------------- */
static void many_queues(void *arg)
{
    (void)arg;
    wdf_device_t *d = make_device();
    for (unsigned i = 0; i < g_count; i++) {
        WDF_IO_QUEUE_CONFIG cfg;
        WDF_IO_QUEUE_CONFIG_INIT(&cfg, WdfIoQueueDispatchManual);
        if (WdfIoQueueCreate((WDFDEVICE)d, &cfg, NULL, NULL) != STATUS_SUCCESS)
            return;
        g_made++;
    }
    g_reached_end = 1;
}

static void many_targets(void *arg)
{
    (void)arg;
    wdf_device_t *d = make_device();
    for (unsigned i = 0; i < g_count; i++) {
        WDFIOTARGET t;
        if (WdfIoTargetCreate((WDFDEVICE)d, NULL, &t) != STATUS_SUCCESS)
            return;
        g_made++;
    }
    g_reached_end = 1;
}

static const GUID k_guids[8] = {{1, 0, 0, {0}}, {2, 0, 0, {0}}, {3, 0, 0, {0}}, {4, 0, 0, {0}},
                                {5, 0, 0, {0}}, {6, 0, 0, {0}}, {7, 0, 0, {0}}, {8, 0, 0, {0}}};

static void many_query_interfaces(void *arg)
{
    (void)arg;
    wdf_device_t *d = make_device();
    for (unsigned i = 0; i < g_count; i++) {
        INTERFACE iface = {.Size = sizeof iface, .Version = 1};
        WDF_QUERY_INTERFACE_CONFIG cfg;
        WDF_QUERY_INTERFACE_CONFIG_INIT(&cfg, &iface, &k_guids[i], NULL);
        if (WdfDeviceAddQueryInterface((WDFDEVICE)d, &cfg) != STATUS_SUCCESS)
            return;
        g_made++;
    }
    g_reached_end = 1;
}

static void many_static_children(void *arg)
{
    (void)arg;
    wdf_device_t *bus = make_device();
    for (unsigned i = 0; i < g_count; i++) {
        wdf_device_t *child = make_device();
        if (WdfFdoAddStaticChild((WDFDEVICE)bus, (WDFDEVICE)child) != STATUS_SUCCESS)
            return;
        g_made++;
    }
    g_reached_end = 1;
}

static void many_devices(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < g_count; i++) {
        if (!make_device())
            return;
        g_made++;
    }
    g_reached_end = 1;
}

/* Handles on one device from targets of several owners (MAX_TARGETS each). */
static void many_handles(void *arg)
{
    (void)arg;
    static const WCHAR name[] = L"\\Device\\LimitsRemote";
    UNICODE_STRING link = {sizeof name - sizeof name[0], sizeof name, (PWCH)name};
    wdf_device_t *remote = make_device();
    WdfDeviceCreateSymbolicLink((WDFDEVICE)remote, &link);
    wdf_device_t *owner = NULL;
    for (unsigned i = 0; i < g_count; i++) {
        if (i % MAX_TARGETS == 0)
            owner = make_device();
        WDFIOTARGET t;
        if (WdfIoTargetCreate((WDFDEVICE)owner, NULL, &t) != STATUS_SUCCESS)
            return;
        WDF_IO_TARGET_OPEN_PARAMS p;
        WDF_IO_TARGET_OPEN_PARAMS_INIT_OPEN_BY_NAME(&p, &link, GENERIC_READ);
        if (WdfIoTargetOpen(t, &p) != STATUS_SUCCESS)
            return;
        g_made++;
    }
    g_reached_end = 1;
}

static VOID parked(PVOID ctx)
{
    (void)ctx;
    KeWaitForSingleObject(&g_never, Executive, KernelMode, FALSE, NULL);
}

static void many_threads(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < g_count; i++) {
        HANDLE h;
        if (PsCreateSystemThread(&h, THREAD_ALL_ACCESS, NULL, NULL, NULL, parked, NULL) != STATUS_SUCCESS)
            return;
        g_made++;
    }
    g_reached_end = 1;
    KeSetEvent(&g_never, IO_NO_INCREMENT, FALSE); /* let them all end */
}

typedef struct {
    const char *name;
    sched_fiber_fn *fn;
    const char *constant;
    unsigned value; /* the constant's value */
    unsigned fits;  /* objects the scenario can make: the value, less what the test itself takes */
} limit_case_t;

static const limit_case_t k_cases[] = {
    {"queues per device", many_queues, "MAX_QUEUES", MAX_QUEUES, MAX_QUEUES},
    {"I/O targets per device", many_targets, "MAX_TARGETS", MAX_TARGETS, MAX_TARGETS},
    {"query interfaces per device", many_query_interfaces, "MAX_QUERY_INTERFACES", MAX_QUERY_INTERFACES,
     MAX_QUERY_INTERFACES},
    {"static children per bus", many_static_children, "MAX_STATIC_CHILDREN", MAX_STATIC_CHILDREN,
     MAX_STATIC_CHILDREN},
    {"device objects per run", many_devices, "MAX_DEVICES", 64, 64},
    {"open handles per device", many_handles, "MAX_TARGETS", MAX_TARGETS, MAX_TARGETS},
    /* the test's own fiber is one of them */
    {"model threads", many_threads, "SCHED_MAX_FIBERS", SCHED_MAX_FIBERS, SCHED_MAX_FIBERS - 1},
};

TEST(each_capacity_works_up_to_its_value_and_one_more_is_a_limit)
{
    for (unsigned i = 0; i < TDF_ARRAY_SIZE(k_cases); i++) {
        const limit_case_t *c = &k_cases[i];
        printf("-- %s (%s)\n", c->name, c->constant);
        g_count = c->fits;
        check_fits(run1(c->fn), c->fits, __LINE__);
        g_count = c->fits + 1;
        check_limit(run1(c->fn), c->constant, c->value, c->fits, __LINE__);
    }
}

/* A target describing more parameters than an input script holds. */
TEST(a_target_with_too_many_parameters_is_a_limit)
{
    static tdf_param_desc_t params[TDF_MAX_PARAMS + 1];
    for (unsigned i = 0; i < TDF_ARRAY_SIZE(params); i++)
        params[i] = (tdf_param_desc_t){"p", 0, 1};
    static const tdf_variant_desc_t variants[] = {{"correct", "the protocol"}};
    tdf_target_desc_t t = {.name = "limits", .variants = variants, .variant_count = 1, .params = params,
                           .param_count = TDF_MAX_PARAMS + 1};
    tdf_script_t script;
    memset(&script, 0, sizeof script);
    script.schedule.kind = SCHED_SOURCE_BYTES;
    tdf_run_options_t opts = {.variant = 0, .step_cap = 1000};
    CHECK_EQ(tdf_run(&t, &script, &opts), TDF_CLASS_LIMIT);
    const tdf_failure_t *f = tdf_failure();
    if (CHECK(f != NULL)) {
        CHECK_STR_CONTAINS(f->name, "TDF_MAX_PARAMS");
        CHECK_STR_CONTAINS(f->detail, "target limits declares 9 parameters; TDF_MAX_PARAMS is 8 (model/pnp/pnp.h)");
    }
}

/* The report's headline names the constant and its value; the signature only
 * the constant (raising it keeps the dedupe key). */
TEST(the_report_headline_names_the_constant_and_its_value)
{
    g_count = MAX_QUEUES + 1;
    run1(many_queues);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    tdf_print_failure(out);
    fclose(out);
    CHECK_STR_CONTAINS(text, "==TDF== LIMIT MAX_QUEUES=4 harness step=");
    CHECK_STR_CONTAINS(text, "==TDF== SIGNATURE LIMIT/MAX_QUEUES:harness:thread\n");
    CHECK_STR_CONTAINS(text, "==TDF== DETAIL harness limit, not a driver finding: FDO creates more queues; "
                             "MAX_QUEUES is 4 (model/wdf/wdf_internal.h): raise it and rebuild\n");
    free(text);
}

int main(void) { return tdf_test_main(); }
