/*
 * KTIMER and the model's clock (KERNEL-SEMANTICS §8).
 *
 * Expiry is a scheduler choice, not a clock: a set timer is "due" at once,
 * and the clock, a daemon model thread, expires due timers whenever the
 * schedule runs it (at any yield point of the others). Expiry signals the
 * timer and queues its DPC (dpc.c). A periodic timer is not due again until
 * something else happened, so that a correct driver with a periodic timer
 * never spins the run to the step cap while the schedule bytes, which never
 * preempt once exhausted, leave the clock runnable:
 *   - PERIOD_STEPS yield points of ordinary (non-daemon) threads since it
 *     fired (counted in ke_yield through ke_clock_step), or
 *   - virtual time passing: nothing else can run while an ordinary thread
 *     waits (the clock's timed wait expires as other timeouts do), at most
 *     IDLE_PERIODS times in a row with no ordinary step in between, after
 *     which a thread waiting forever for the timer is a DEADLOCK, not a HANG.
 * The clock thread is spawned on the first KeSetTimer(Ex), so targets without
 * timers keep their schedules.
 */
#include "kernel.h"
#include "tsan_sync.h"

#include <stdio.h>
#include <string.h>

#define MAX_SET_TIMERS 32 /* timers set at once */
#define PERIOD_STEPS 16   /* ordinary yield points before a periodic timer is due again */
#define IDLE_PERIODS 4    /* periods virtual time may add with no ordinary step between */
#define KTIMER_MAGIC 0x4B544D52u

typedef struct set_timer {
    PKTIMER timer;
    int due; /* 0: periodic, waiting for its next period */
} set_timer_t;

static struct {
    set_timer_t set[MAX_SET_TIMERS];
    unsigned n;
    int clock_fiber; /* SCHED_NO_FIBER until the first set */
    int clock_token;
    unsigned idle_periods;
} T;

/* Read by ke_yield: nonzero while a periodic timer waits for its next period. */
unsigned g_clock_waiting;
static unsigned g_clock_steps;

void ke_timer_reset(void)
{
    memset(&T, 0, sizeof T);
    T.clock_fiber = SCHED_NO_FIBER;
    g_clock_waiting = 0;
    g_clock_steps = 0;
}

void ke_clock_step(void)
{
    if (sched_fiber_is_daemon(sched_current()))
        return; /* DPCs and the clock itself do not make time pass */
    T.idle_periods = 0;
    if (++g_clock_steps >= PERIOD_STEPS) {
        g_clock_waiting = 0;
        sched_wake(&T.clock_token);
    }
}

static int set_index(PKTIMER t)
{
    for (unsigned i = 0; i < T.n; i++)
        if (T.set[i].timer == t)
            return (int)i;
    return -1;
}

static void remove_at(unsigned i)
{
    T.set[i].timer->TdfInserted = 0;
    memmove(&T.set[i], &T.set[i + 1], (T.n - i - 1) * sizeof T.set[0]);
    T.n--;
}

static const char *timer_routine(PKTIMER t)
{
    return t->Dpc ? symbol_name((const void *)t->Dpc->DeferredRoutine) : "(no DPC)";
}

static void expire(unsigned i)
{
    PKTIMER t = T.set[i].timer;
    SCHED_TRACE1("timer expires (DPC %s)", timer_routine(t));
    feedback_pair(t, FB_TIMER_EXPIRE);
    TDF_HB_ACQUIRE(t); /* the set happens-before the expiry (and so its DPC) */
    if (t->Period > 0)
        T.set[i].due = 0; /* stays in the queue: set until cancelled */
    else
        remove_at(i);
    /* Signalled as an event of the same kind (Header.Type is the TIMER_TYPE,
     * which the dispatcher reads as Notification/SynchronizationEvent). */
    TDF_HB_RELEASE(&t->Header);
    t->Header.SignalState = 1;
    sched_wake(&t->Header);
    ke_wake_any_waiter();
    if (t->Dpc)
        (void)ke_dpc_insert(t->Dpc, NULL, NULL);
}

static void clock_main(void *arg)
{
    (void)arg;
    for (;;) {
        unsigned due = 0, waiting = 0;
        for (unsigned i = 0; i < T.n; i++) {
            due += T.set[i].due;
            waiting += !T.set[i].due;
        }
        if (due > 0) {
            /* Several due at once: which expires first is a data choice. */
            unsigned pick = sched_choose(due), k = 0;
            for (unsigned i = 0; i < T.n; i++) {
                if (T.set[i].due && k++ == pick) {
                    expire(i);
                    break;
                }
            }
            ke_yield();
            continue;
        }
        if (waiting > 0 && T.idle_periods < IDLE_PERIODS) {
            g_clock_steps = 0;
            g_clock_waiting = 1;
            int timed_out = ke_block_timed(&T.clock_token, "clock: next period");
            g_clock_waiting = 0;
            if (timed_out)
                T.idle_periods++;
            for (unsigned i = 0; i < T.n; i++)
                T.set[i].due = 1;
        } else {
            /* Nothing set (or the idle bound reached): wait for a set, or for
             * an ordinary step to start the periods again. */
            g_clock_steps = 0;
            g_clock_waiting = waiting > 0;
            ke_block(&T.clock_token, "clock idle");
            g_clock_waiting = 0;
            for (unsigned i = 0; i < T.n; i++)
                T.set[i].due = 1;
        }
    }
}

static void start_clock(void)
{
    if (T.clock_fiber != SCHED_NO_FIBER) {
        sched_wake(&T.clock_token);
        return;
    }
    int f = sched_spawn("clock", "kernel", clock_main, NULL);
    if (f == SCHED_NO_FIBER) {
        TDF_LIMIT(SCHED_MAX_FIBERS, "model/sched/sched.h", "more model threads (the clock)");
        return;
    }
    T.clock_fiber = f;
    sched_set_daemon(f);
}

VOID KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type)
{
    /* Not a yield point: it only fills the caller's structure. */
    if (Timer->TdfMagic == KTIMER_MAGIC && Timer->TdfInserted && set_index(Timer) >= 0)
        TDF_MISUSE("KeInitializeTimerEx", "KeInitializeTimer(Ex) on a KTIMER that is set: the timer queue would be corrupted");
    memset(Timer, 0, sizeof *Timer);
    Timer->Header.Type = (UCHAR)(Type == SynchronizationTimer ? SynchronizationEvent : NotificationEvent);
    Timer->TdfImage = image_current();
    Timer->TdfMagic = KTIMER_MAGIC;
}

VOID KeInitializeTimer(PKTIMER Timer) { KeInitializeTimerEx(Timer, NotificationTimer); }

static void check_timer(PKTIMER t, const char *routine)
{
    if (!t || t->TdfMagic != KTIMER_MAGIC)
        TDF_MISUSE(routine, "%s on a KTIMER that KeInitializeTimer(Ex) did not initialise", routine);
}

BOOLEAN ke_timer_set(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc)
{
    int i = set_index(Timer);
    BOOLEAN was = i >= 0;
    if (i < 0) {
        if (T.n == MAX_SET_TIMERS) {
            TDF_LIMIT(MAX_SET_TIMERS, "model/kernel/ke_timer.c", "more KTIMERs set at once");
            return FALSE;
        }
        i = (int)T.n++;
    }
    Timer->DueTime = DueTime;
    Timer->Period = Period > 0 ? Period : 0;
    Timer->Dpc = Dpc;
    Timer->Header.SignalState = 0; /* setting a timer clears its signal */
    Timer->TdfInserted = 1;
    T.set[i] = (set_timer_t){.timer = Timer, .due = 1};
    feedback_pair(Timer, FB_TIMER_SET);
    TDF_HB_RELEASE(Timer);
    SCHED_TRACE3("KeSetTimer%s (DPC %s)%s", Period > 0 ? "Ex periodic" : "", timer_routine(Timer),
                 was ? ": was set, set again" : "");
    start_clock();
    return was;
}

BOOLEAN KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc)
{
    ke_yield();
    check_timer(Timer, "KeSetTimerEx");
    if (Period < 0)
        TDF_MISUSE("KeSetTimerEx", "KeSetTimerEx with a negative Period (%ld)", (long)Period);
    return ke_timer_set(Timer, DueTime, Period, Dpc);
}

BOOLEAN KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc)
{
    ke_yield();
    check_timer(Timer, "KeSetTimer");
    return ke_timer_set(Timer, DueTime, 0, Dpc);
}

BOOLEAN ke_timer_cancel(PKTIMER Timer)
{
    int i = set_index(Timer);
    if (i < 0)
        return FALSE;
    remove_at((unsigned)i);
    feedback_pair(Timer, FB_TIMER_CANCEL);
    SCHED_TRACE1("KeCancelTimer (DPC %s): was set", timer_routine(Timer));
    return TRUE;
}

BOOLEAN KeCancelTimer(PKTIMER Timer)
{
    ke_yield();
    check_timer(Timer, "KeCancelTimer");
    return ke_timer_cancel(Timer);
}

BOOLEAN KeReadStateTimer(PKTIMER Timer)
{
    ke_yield();
    check_timer(Timer, "KeReadStateTimer");
    return Timer->Header.SignalState > 0;
}

void ke_timer_unload_check(struct tdf_image *img)
{
    for (unsigned i = 0; i < T.n; i++) {
        PKTIMER t = T.set[i].timer;
        if (t->TdfImage != img && !(t->Dpc && t->Dpc->TdfImage == img))
            continue;
        char where[96], routine[96];
        snprintf(where, sizeof where, "%s!unload", img->name);
        snprintf(routine, sizeof routine, "%s!%s", img->name, timer_routine(t));
        /* The fatal pair: the timer's DPC routine would run in the unloaded image. */
        tdf_dead_t dead = {TDF_OBJ_IMAGE, img->name, &img->unloaded_by, "image %s (a KTIMER of it still set)",
                           {(uintptr_t)img->name}, .access_frame = routine, .key_teardown = "unload"};
        tdf_fail_dead(&dead, "KTIMER set", TDF_CLASS_BUGCHECK, 0xCE, 0,
                 "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", where, "KTIMER",
                 "image '%s' unloaded with a KTIMER still set%s: at expiry its DPC routine %s would run in the "
                 "unloaded image", img->name, t->Period > 0 ? " (periodic)" : "", timer_routine(t));
        return;
    }
}

void ke_timer_check_free(const void *p, size_t size, int driver_free)
{
    const char *lo = p, *hi = lo + size;
    for (unsigned i = 0; i < T.n; i++) {
        PKTIMER t = T.set[i].timer;
        const char *q = (const char *)t;
        if (q < lo || q >= hi)
            continue;
        const struct tdf_image *img = t->Dpc && t->Dpc->TdfImage ? t->Dpc->TdfImage : t->TdfImage;
        const char *owner = img ? img->name : "model";
        char routine[96];
        snprintf(routine, sizeof routine, "%s!%s", owner, timer_routine(t));
        /* The fatal pair: the timer's DPC routine is the access (at expiry
         * it would run from the freed block), the free its teardown. The
         * same DPC found already queued (dpc_check_free) is the same key. */
        tdf_dead_t dead = {TDF_OBJ_POOL, owner, pool_note_free(driver_free), "pool of %s freed with a KTIMER set in it",
                           {(uintptr_t)owner}, .access_frame = routine};
        tdf_fail_dead(&dead, "KTIMER set", TDF_CLASS_BUGCHECK, 0xC7, 0x0, "TIMER_OR_DPC_INVALID", NULL, NULL,
                      "pool freed while it holds a KTIMER that is still set (DPC %s)", timer_routine(t));
        return;
    }
}
