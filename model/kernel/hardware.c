/*
 * Memory-mapped registers. A device's register block has a physical range
 * (handed to PrepareHardware as a CmResourceTypeMemory descriptor); a driver
 * maps it with MmMapIoSpaceEx and touches it with READ/WRITE_REGISTER_ULONG.
 * Every access asks the owner (the wdf layer) whether the device may be
 * touched now: in D0, not released, not surprise-removed (invariant 10).
 */
#include "kernel.h"

#include <stdio.h>
#include <string.h>

#define MAX_BLOCKS 16
#define MAX_MAPPINGS 256

typedef struct hw_range {
    tdf_hw_block_t *block;
    ULONGLONG phys;
    size_t length;
    tdf_hw_check_fn *check;
    const char *owner_name;
} hw_range_t;

typedef struct mapping {
    uint8_t *va;
    size_t length;
    hw_range_t range; /* copy: the range may be re-owned by a restarted device */
    int unmapped;
    uint32_t unmapped_at;
    int unmapped_in_down; /* unmapped inside its device's down phase (its ReleaseHardware after D0Exit) */
    const struct tdf_image *mapper; /* the image that mapped it (a 0x50 of its code is put down to it) */
    tdf_teardown_t unmapped_by;
} mapping_t;

static hw_range_t g_ranges[MAX_BLOCKS];
static tdf_hw_down_fn *g_down_hook;
static unsigned g_nranges;
static mapping_t g_maps[MAX_MAPPINGS];
static unsigned g_nmaps;

void hw_reset(void)
{
    g_nranges = 0;
    g_nmaps = 0; /* the mapped memory is model pool: freed by pool_reset */
}

void hw_set_down_hook(tdf_hw_down_fn *fn) { g_down_hook = fn; }

void hw_register_block(tdf_hw_block_t *block, ULONGLONG phys, size_t length, tdf_hw_check_fn *check,
                       const char *owner_name)
{
    /* A restarted device gets the same physical range again: the new device
     * object owns it from now on (mappings made before keep their owner). */
    for (unsigned i = 0; i < g_nranges; i++) {
        if (g_ranges[i].phys == phys) {
            g_ranges[i] = (hw_range_t){block, phys, length, check, owner_name};
            return;
        }
    }
    if (g_nranges < MAX_BLOCKS)
        g_ranges[g_nranges++] = (hw_range_t){block, phys, length, check, owner_name};
    else /* an unregistered block could not be mapped: its accesses unchecked */
        TDF_LIMIT(MAX_BLOCKS, "model/kernel/hardware.c", "more register blocks (devices with hardware), at %s",
                  owner_name);
}

PVOID MmMapIoSpaceEx(PHYSICAL_ADDRESS PhysicalAddress, SIZE_T NumberOfBytes, ULONG Protect)
{
    (void)Protect;
    ke_yield();
    for (unsigned i = 0; i < g_nranges; i++) {
        hw_range_t *r = &g_ranges[i];
        ULONGLONG pa = (ULONGLONG)PhysicalAddress.QuadPart;
        if (pa < r->phys || pa + NumberOfBytes > r->phys + r->length)
            continue;
        /* Unmapped entries stay: a stale pointer is recognised (AFTER_UNMAP)
         * however old, so a full table stops the run instead of reusing one. */
        if (g_nmaps >= MAX_MAPPINGS) {
            TDF_LIMIT(MAX_MAPPINGS, "model/kernel/hardware.c", "more MmMapIoSpaceEx mappings in one run, at %s",
                      r->owner_name);
            return NULL; /* only from main, which stops the run */
        }
        mapping_t *m = &g_maps[g_nmaps++];
        /* Registers are model memory: zero at power-on, same in every run. */
        m->va = pool_alloc_model_kept(NumberOfBytes); /* MmUnmapIoSpace keeps it: stale pointers are recognised */
        m->length = NumberOfBytes;
        m->range = *r;
        m->unmapped = 0;
        m->unmapped_in_down = 0;
        const void *fn;
        m->mapper = image_current_fn(&fn);
        tdf_teardown_clear(&m->unmapped_by);
        SCHED_TRACE1("MmMapIoSpaceEx %s registers", r->owner_name);
        return m->va;
    }
    return NULL;
}

VOID MmUnmapIoSpace(PVOID BaseAddress, SIZE_T NumberOfBytes)
{
    (void)NumberOfBytes;
    ke_yield();
    for (unsigned i = 0; i < g_nmaps; i++) {
        if (g_maps[i].va == BaseAddress && !g_maps[i].unmapped) {
            g_maps[i].unmapped = 1;
            g_maps[i].unmapped_at = sched_steps();
            /* Whether the unmap belongs to a power-down (the key's
             * "power-down", docs/REPORTS.md "Signatures"): a stale pointer
             * used after the restart is the same race with that power-down
             * as one used during it. */
            const char *role;
            const tdf_teardown_t *down = g_down_hook ? g_down_hook(g_maps[i].range.block, &role) : NULL;
            g_maps[i].unmapped_in_down = down && down->event;
            SCHED_TRACE1("MmUnmapIoSpace %s registers", g_maps[i].range.owner_name);
            tdf_teardown_note(&g_maps[i].unmapped_by, "MmUnmapIoSpace");
            return;
        }
    }
    TDF_BUGCHECK(0x50, 0, "PAGE_FAULT_IN_NONPAGED_AREA", "MmUnmapIoSpace of an address that is not mapped I/O space");
}

/* The fatal pair of a register access (docs/REPORTS.md "Fatal pair"): the
 * registers of the mapping's device, torn down by the first step that made
 * them unusable in the device's current down phase (its D0Exit, or its
 * ReleaseHardware: the owner's hook), else by the unmap itself. */
static void fail_registers(const mapping_t *m, const char *op, const char *bad, const char *detail, uint32_t code,
                           const char *name)
{
    const char *role = m->range.owner_name;
    const tdf_teardown_t *down = g_down_hook ? g_down_hook(m->range.block, &role) : NULL;
    /* A mapping unmapped while the device was usable was dead before any
     * down phase began: that unmap is the first step that made it unusable. */
    int early_unmap = m->unmapped && !m->unmapped_in_down && m->unmapped_by.event;
    const tdf_teardown_t *td = early_unmap                  ? &m->unmapped_by
                               : down && down->event        ? down
                               : m->unmapped                ? &m->unmapped_by
                                                            : down;
    tdf_dead_t dead = {TDF_OBJ_REGISTERS, role, td, "registers of %s", {(uintptr_t)m->range.owner_name}};
    /* In the device's down phase the key says so, whichever callback began
     * it (D0Exit, or ReleaseHardware on a path without one): one race with
     * the power-down, one key. So does a mapping unmapped in a down phase
     * and used once the device is back in D0: the first step that made the
     * pointer stale was that power-down, however late the access came. Only
     * a mapping unmapped while the device was usable (in its
     * EvtDeviceSurpriseRemoval, say) keys by the routine that unmapped it. */
    if (td && (td == down || (td == &m->unmapped_by && m->unmapped_in_down)))
        dead.key_teardown = "power-down";
    /* The unmap while usable is the bug, not the routine that next touched
     * the registers (the device's state says they are live): every access
     * after it, in whichever routine (a D0Exit, the ISR, a status read), is
     * one key naming the unmapping routine, `early-unmap` as its last part. */
    char unmapper[96];
    if (early_unmap && m->unmapped_by.image) {
        snprintf(unmapper, sizeof unmapper, "%s!%s", m->unmapped_by.image->name, symbol_name(m->unmapped_by.fn));
        dead.key_access = unmapper;
        dead.key_teardown = "early-unmap";
    }
    if (bad)
        tdf_fail_dead(&dead, op, TDF_CLASS_HARDWARE, 0, 0, bad, NULL, NULL, "%s", detail);
    else
        tdf_fail_dead(&dead, op, TDF_CLASS_BUGCHECK, code, 0, name, NULL, NULL, "%s", detail);
}

static mapping_t *access_check(volatile ULONG *reg, const char *op)
{
    /* Footprint (sched.h): the register; the mapping and power state it
     * checks are written only by GLOBAL steps (unmap, power transitions). */
    ke_yield_on((const void *)reg, op[0] == 'R' ? SCHED_FP_READ : SCHED_FP_WRITE);
    for (unsigned i = 0; i < g_nmaps; i++) {
        mapping_t *m = &g_maps[i];
        if ((uint8_t *)reg < m->va || (uint8_t *)reg + sizeof(ULONG) > m->va + m->length)
            continue;
        char detail[200];
        const char *bad = NULL;
        if (m->unmapped) {
            bad = "AFTER_UNMAP";
            snprintf(detail, sizeof detail, "the mapping was unmapped at step %lu (ReleaseHardware)",
                     (unsigned long)m->unmapped_at);
        } else {
            bad = m->range.check(m->range.block, detail, sizeof detail);
        }
        if (bad) {
            char msg[300];
            snprintf(msg, sizeof msg, "%s of %s's register 0x%lx: %s", op, m->range.owner_name,
                     (unsigned long)((uint8_t *)reg - m->va), detail);
            fail_registers(m, op, bad, msg, 0, NULL);
        }
        return m;
    }
    /* No mapping holds the address: a pointer the driver kept or zeroed after
     * an unmap, or zeroed before it (ReleaseHardware clears its pointer, then
     * unmaps). Put down to the faulting image's mapping invalidated last:
     * unmapped (at its unmap's step) or of a device in its down phase (at
     * the down phase's first step); its pointer is what the code
     * dereferenced. No such mapping: no object. */
    const void *fn;
    const struct tdf_image *img = image_current_fn(&fn);
    const mapping_t *pick = NULL;
    uint32_t pick_at = 0;
    for (unsigned i = 0; img && i < g_nmaps; i++) {
        const mapping_t *m = &g_maps[i];
        if (m->mapper != img)
            continue;
        uint32_t at;
        if (m->unmapped) {
            at = m->unmapped_at;
        } else {
            const char *role;
            const tdf_teardown_t *down = g_down_hook ? g_down_hook(m->range.block, &role) : NULL;
            if (!down || !down->event)
                continue; /* mapped and usable: not the pointer that faulted */
            at = down->step;
        }
        if (!pick || at >= pick_at) {
            pick = m;
            pick_at = at;
        }
    }
    if (pick) {
        char detail[200];
        if (pick->unmapped)
            snprintf(detail, sizeof detail,
                     "%s of an address that is not mapped I/O space (%s's registers were unmapped at step %lu)", op,
                     pick->range.owner_name, (unsigned long)pick->unmapped_at);
        else
            snprintf(detail, sizeof detail,
                     "%s of an address that is not mapped I/O space (%s is powering down since step %lu)", op,
                     pick->range.owner_name, (unsigned long)pick_at);
        fail_registers(pick, op, NULL, detail, 0x50, "PAGE_FAULT_IN_NONPAGED_AREA");
        return NULL;
    }
    TDF_BUGCHECK(0x50, 0, "PAGE_FAULT_IN_NONPAGED_AREA", "%s of an address that is not mapped I/O space", op);
    return NULL;
}

ULONG READ_REGISTER_ULONG(volatile ULONG *Register)
{
    access_check(Register, "READ_REGISTER_ULONG");
    return *Register;
}

VOID WRITE_REGISTER_ULONG(volatile ULONG *Register, ULONG Value)
{
    access_check(Register, "WRITE_REGISTER_ULONG");
    *Register = Value;
}

int hw_image_down_before(const char *image, uint32_t before, int fiber, const char **role)
{
    /* Every device of the image, not one: the calling thread's own device is
     * not known, and one instance still usable may be the one it works for. */
    int found = 0;
    for (unsigned i = 0; g_down_hook && i < g_nmaps; i++) {
        const mapping_t *m = &g_maps[i];
        if (!m->mapper || strcmp(m->mapper->name, image) != 0)
            continue;
        const char *r = m->range.owner_name;
        const tdf_teardown_t *down = g_down_hook(m->range.block, &r);
        if (!(down && down->event && down->step < before && down->fiber != fiber))
            return 0;
        if (!found)
            *role = r;
        found = 1;
    }
    return found;
}
