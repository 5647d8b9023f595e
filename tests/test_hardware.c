/*
 * Memory-mapped registers (model/kernel/hardware.c): a register access asks
 * the block's owner whether the device may be touched (HARDWARE <name>), an
 * access through an unmapped mapping is AFTER_UNMAP however old, an address
 * that is no mapped I/O space is 0x50, and the block and mapping tables stop
 * the run as a LIMIT when full instead of dropping or reusing entries.
 */
#include "../model/kernel/kernel.h"
#include "fiber_harness.h"
#include "tdf_test.h"

#include <stdio.h>

#define PHYS 0xF0000000ull

static struct owner {
    int in_d3; /* the owner's answer: 0 = fine */
    char name[16];
} g_owner[2];

static ULONG g_value;
static volatile ULONG *g_va[2];
static int g_reached_end;

static const char *check(tdf_hw_block_t *block, char *detail, size_t size)
{
    struct owner *o = (struct owner *)block;
    if (!o->in_d3)
        return NULL;
    snprintf(detail, size, "%s is in D3", o->name);
    return "NOT_IN_D0";
}

static void reset_globals(void)
{
    memset(g_owner, 0, sizeof g_owner);
    snprintf(g_owner[0].name, sizeof g_owner[0].name, "dev0");
    snprintf(g_owner[1].name, sizeof g_owner[1].name, "dev1");
    g_value = 0;
    g_va[0] = g_va[1] = NULL;
    g_reached_end = 0;
}

static sched_outcome_t run1(sched_fiber_fn *fn)
{
    return fh_run(&fn, 1, (sched_source_t){.kind = SCHED_SOURCE_BYTES}, reset_globals);
}

static volatile ULONG *map(ULONGLONG phys, SIZE_T bytes)
{
    PHYSICAL_ADDRESS pa;
    pa.QuadPart = (LONGLONG)phys;
    return MmMapIoSpaceEx(pa, bytes, PAGE_READWRITE | PAGE_NOCACHE);
}

static void check_failure(sched_outcome_t outcome, tdf_class_t cls, uint32_t code, uint32_t subcode,
                          const char *name, const char *detail, int line)
{
    fh_check_failure(outcome, cls, code, subcode, name, NULL, detail, __FILE__, line);
    tdf_check(!g_reached_end, __FILE__, line, "the fiber stopped at the failure");
}

/* ---- accesses ------------------------------------------------------------------------ */
static void access_in_d0(void *arg)
{
    (void)arg;
    hw_register_block((tdf_hw_block_t *)&g_owner[0], PHYS, 0x1000, check, g_owner[0].name);
    g_va[0] = map(PHYS, 0x1000);
    if (!g_va[0])
        return;
    WRITE_REGISTER_ULONG(g_va[0] + 3, 0x1234);
    g_value = READ_REGISTER_ULONG(g_va[0] + 3);
    MmUnmapIoSpace((PVOID)g_va[0], 0x1000);
    g_reached_end = 1;
}

TEST(access_while_the_owner_allows_it_is_clean)
{
    CHECK_EQ(run1(access_in_d0), SCHED_OUTCOME_DONE);
    CHECK(tdf_failure() == NULL);
    CHECK(g_reached_end);
    CHECK_EQ(g_value, 0x1234);
}

static void access_in_d3(void *arg)
{
    (void)arg;
    hw_register_block((tdf_hw_block_t *)&g_owner[0], PHYS, 0x1000, check, g_owner[0].name);
    g_va[0] = map(PHYS, 0x1000);
    g_owner[0].in_d3 = 1;
    READ_REGISTER_ULONG(g_va[0] + 1);
    g_reached_end = 1;
}

TEST(access_the_owner_refuses_is_hardware_with_its_name)
{
    check_failure(run1(access_in_d3), TDF_CLASS_HARDWARE, 0, 0, "NOT_IN_D0",
                  "READ_REGISTER_ULONG of dev0's register 0x4: dev0 is in D3", __LINE__);
    if (tdf_failure()) {
        char sig[320];
        tdf_failure_signature(tdf_failure(), sig, sizeof sig);
        /* The fatal-pair key names the dead object by its owner (docs/REPORTS.md "Signatures"); with no
         * down record (the test's owner has no hook) the teardown part is "none". */
        CHECK_STR_CONTAINS(sig, "registers(dev0):harness:none");
        CHECK_EQ(tdf_failure()->obj_kind, TDF_OBJ_REGISTERS);
    }
}

static void access_after_unmap(void *arg)
{
    (void)arg;
    hw_register_block((tdf_hw_block_t *)&g_owner[0], PHYS, 0x1000, check, g_owner[0].name);
    g_va[0] = map(PHYS, 0x1000);
    MmUnmapIoSpace((PVOID)g_va[0], 0x1000);
    for (unsigned i = 0; i < 200; i++) /* many later mappings do not hide the stale one */
        MmUnmapIoSpace((PVOID)map(PHYS, 0x1000), 0x1000);
    WRITE_REGISTER_ULONG(g_va[0], 1);
    g_reached_end = 1;
}

TEST(access_through_an_unmapped_mapping_is_after_unmap)
{
    check_failure(run1(access_after_unmap), TDF_CLASS_HARDWARE, 0, 0, "AFTER_UNMAP",
                  "WRITE_REGISTER_ULONG of dev0's register 0x0: the mapping was unmapped at step", __LINE__);
}

static ULONG g_not_io[4];

static void access_not_io_space(void *arg)
{
    (void)arg;
    READ_REGISTER_ULONG(&g_not_io[1]);
    g_reached_end = 1;
}

TEST(access_outside_every_mapping_is_0x50)
{
    check_failure(run1(access_not_io_space), TDF_CLASS_BUGCHECK, 0x50, 0, "PAGE_FAULT_IN_NONPAGED_AREA",
                  "READ_REGISTER_ULONG of an address that is not mapped I/O space", __LINE__);
}

static void unmap_twice(void *arg)
{
    (void)arg;
    hw_register_block((tdf_hw_block_t *)&g_owner[0], PHYS, 0x1000, check, g_owner[0].name);
    g_va[0] = map(PHYS, 0x1000);
    MmUnmapIoSpace((PVOID)g_va[0], 0x1000);
    MmUnmapIoSpace((PVOID)g_va[0], 0x1000);
    g_reached_end = 1;
}

TEST(unmapping_twice_is_0x50)
{
    check_failure(run1(unmap_twice), TDF_CLASS_BUGCHECK, 0x50, 0, "PAGE_FAULT_IN_NONPAGED_AREA",
                  "MmUnmapIoSpace of an address that is not mapped I/O space", __LINE__);
}

static void map_outside_ranges(void *arg)
{
    (void)arg;
    hw_register_block((tdf_hw_block_t *)&g_owner[0], PHYS, 0x1000, check, g_owner[0].name);
    g_va[0] = map(PHYS + 0x800, 0x1000); /* runs past the block's end */
    g_va[1] = map(PHYS + 0x10000, 4);    /* no block there */
    g_reached_end = 1;
}

TEST(mapping_outside_every_registered_block_returns_null)
{
    CHECK_EQ(run1(map_outside_ranges), SCHED_OUTCOME_DONE);
    CHECK(tdf_failure() == NULL);
    CHECK(g_va[0] == NULL);
    CHECK(g_va[1] == NULL);
}

/* A restarted device registers the same range: new mappings ask the new
 * owner, older mappings keep asking the old one. */
static void reowned_range(void *arg)
{
    (void)arg;
    hw_register_block((tdf_hw_block_t *)&g_owner[0], PHYS, 0x1000, check, g_owner[0].name);
    g_va[0] = map(PHYS, 0x1000);
    hw_register_block((tdf_hw_block_t *)&g_owner[1], PHYS, 0x1000, check, g_owner[1].name);
    g_va[1] = map(PHYS, 0x1000);
    g_owner[0].in_d3 = 1;     /* the old device object is gone to D3 */
    READ_REGISTER_ULONG(g_va[1]); /* the new owner allows it */
    READ_REGISTER_ULONG(g_va[0]); /* the old mapping still belongs to the old owner */
    g_reached_end = 1;
}

TEST(a_reregistered_range_belongs_to_the_new_owner_for_new_mappings_only)
{
    check_failure(run1(reowned_range), TDF_CLASS_HARDWARE, 0, 0, "NOT_IN_D0",
                  "READ_REGISTER_ULONG of dev0's register 0x0: dev0 is in D3", __LINE__);
}

/* ---- table capacities (LIMIT) ----------------------------------------------------------- */
static struct owner g_many[17];
static unsigned g_nblocks;

static void many_blocks(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < g_nblocks; i++) {
        snprintf(g_many[i].name, sizeof g_many[i].name, "blk%u", i);
        hw_register_block((tdf_hw_block_t *)&g_many[i], PHYS + 0x1000ull * i, 0x1000, check, g_many[i].name);
    }
    /* every registered block is mappable */
    for (unsigned i = 0; i < g_nblocks; i++)
        if (!map(PHYS + 0x1000ull * i, 0x1000))
            return;
    g_reached_end = 1;
}

TEST(sixteen_register_blocks_work_a_seventeenth_is_a_limit)
{
    g_nblocks = 16;
    CHECK_EQ(run1(many_blocks), SCHED_OUTCOME_DONE);
    CHECK(tdf_failure() == NULL);
    CHECK(g_reached_end);
    g_nblocks = 17;
    check_failure(run1(many_blocks), TDF_CLASS_LIMIT, 0, 16, "MAX_BLOCKS",
                  "more register blocks (devices with hardware), at blk16; MAX_BLOCKS is 16 (model/kernel/hardware.c)",
                  __LINE__);
}

static unsigned g_nmaps;

static void many_mappings(void *arg)
{
    (void)arg;
    hw_register_block((tdf_hw_block_t *)&g_owner[0], PHYS, 0x1000, check, g_owner[0].name);
    for (unsigned i = 0; i < g_nmaps; i++) {
        volatile ULONG *va = map(PHYS, 0x1000);
        if (!va)
            return;
        MmUnmapIoSpace((PVOID)va, 0x1000);
    }
    g_reached_end = 1;
}

TEST(mappings_up_to_the_table_size_work_one_more_is_a_limit)
{
    g_nmaps = 256;
    CHECK_EQ(run1(many_mappings), SCHED_OUTCOME_DONE);
    CHECK(tdf_failure() == NULL);
    CHECK(g_reached_end);
    g_nmaps = 257;
    check_failure(run1(many_mappings), TDF_CLASS_LIMIT, 0, 256, "MAX_MAPPINGS",
                  "more MmMapIoSpaceEx mappings in one run, at dev0; MAX_MAPPINGS is 256", __LINE__);
}

int main(void) { return tdf_test_main(); }
