/*
 * Feedback beyond code coverage (docs/ARCHITECTURE.md "Feedback"): libFuzzer extra
 * counters that light up for
 *   - lifecycle transitions of a device: (driver image state, PnP state,
 *     power state, self-managed I/O state, queues held) before -> after, per
 *     device role, so reaching a new corner of the lifecycle is progress even
 *     when it runs no new driver code;
 *   - ordered pairs of operations on the same synchronisation object from two
 *     different model threads (e.g. a rundown release by one thread right
 *     after a wait by another), the interleavings where teardown races live.
 * libFuzzer finds the array through the __libfuzzer_extra_counters section
 * and clears it before every input. TDF_STATE_FEEDBACK=0 turns it off (for
 * measuring what it is worth: bench/time_to_kill.sh, docs/BENCHMARKS.md).
 */
#include "kernel.h"

#include <stdlib.h>
#include <string.h>

#define COUNTERS 8192
#define PAIR_SLOTS 256

__attribute__((section("__libfuzzer_extra_counters"), used)) uint8_t tdf_extra_counters[COUNTERS];

int tdf_feedback_on; /* 0 until the first feedback_reset reads the environment */
static int g_configured;
static struct {
    const void *object;
    int fiber;
    uint8_t op;
} g_last[PAIR_SLOTS];

static void bump(uint32_t key)
{
    key ^= key >> 16;
    key *= 0x7feb352dU;
    key ^= key >> 15;
    uint8_t *c = &tdf_extra_counters[key % COUNTERS];
    if (*c < 255)
        (*c)++;
}

void feedback_transition_hit(uint32_t role, uint32_t from, uint32_t to) { bump((role << 24) ^ (from << 12) ^ to); }

void feedback_pair_hit(const void *object, uint8_t op)
{
    size_t slot = ((uintptr_t)object >> 3) % PAIR_SLOTS;
    int fiber = sched_current();
    if (g_last[slot].object == object && g_last[slot].fiber != fiber)
        bump(0x5A000000u ^ ((uint32_t)g_last[slot].op << 8) ^ op);
    g_last[slot].object = object;
    g_last[slot].fiber = fiber;
    g_last[slot].op = op;
}

void feedback_disable(void)
{
    g_configured = 1;
    tdf_feedback_on = 0;
}

/* Before every run (kernel_reset). */
void feedback_reset(void)
{
    if (!g_configured) {
        const char *v = getenv("TDF_STATE_FEEDBACK");
        tdf_feedback_on = !(v && strcmp(v, "0") == 0);
        g_configured = 1;
    }
    if (tdf_feedback_on)
        memset(g_last, 0, sizeof g_last);
}
