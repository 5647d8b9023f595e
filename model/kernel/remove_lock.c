/*
 * IO_REMOVE_LOCK with the kernel's counting and Driver Verifier's checks
 * (KERNEL-SEMANTICS §2, §5). IoCount = 1 (bias) + acquisitions while in use;
 * IoReleaseRemoveLockAndWait sets Removed, drops the caller's acquisition and
 * the bias, and blocks until the last holder's release brings IoCount to 0.
 * Each routine is a yield point before it touches the lock, where a real CPU
 * could be preempted; the rest of a routine is atomic (the kernel's
 * interlocked operations).
 *
 * Tags are tracked per lock in a fixed table (wdk.h: IO_REMOVE_LOCK_DBG_BLOCK),
 * as the checked build and Driver Verifier do with tracking blocks, so the
 * misuse they bugcheck on is a bugcheck here, with an exact message naming
 * the routine, the caller and the step:
 *   0xC4/0xD5  IoReleaseRemoveLock with a tag that holds no acquisition
 *   0xC4/0xD6  IoReleaseRemoveLockAndWait with a tag that holds no acquisition
 *   0xC4/0xD7  a second IoReleaseRemoveLockAndWait, or IoInitializeRemoveLock
 *              on a lock already initialised (even after the wait)
 * IRQL violations, an uninitialised lock and a lock whose counts were
 * overwritten are MISUSE: no count ever underflows or wraps silently.
 */
#include "kernel.h"
#include "tsan_sync.h"

#include <string.h>

#define RL_SIGNATURE 0x6B636C52u /* 'Rlck' */
enum { RL_IN_USE = 0, RL_WAITING = 1, RL_REMOVED = 2 };
enum { RL_UNTRACKED = -1, RL_NOT_HELD = -2 };

_Static_assert(IO_REMOVE_LOCK_TAG_SLOTS == 16, "k_tag_names lists 16 slots");

/* Tags are addresses: the trace names them by slot, which depends only on the
 * order of the calls, so a schedule always gives the same text. */
static const char *const k_tag_names[IO_REMOVE_LOCK_TAG_SLOTS] = {
    "tag#0", "tag#1", "tag#2",  "tag#3",  "tag#4",  "tag#5",  "tag#6",  "tag#7",
    "tag#8", "tag#9", "tag#10", "tag#11", "tag#12", "tag#13", "tag#14", "tag#15",
};

static const char *tag_name(int slot) { return slot >= 0 ? k_tag_names[slot] : "tag#untracked"; }

static void misuse(const char *routine, const char *what)
{
    char here[96];
    image_current_frame(here, sizeof here);
    tdf_fail(TDF_CLASS_MISUSE, 0, 0, routine, here, NULL, "%s %s (%s, step %lu)", routine, what, here,
             (unsigned long)sched_steps());
}

static void bugcheck(uint32_t subcode, const char *routine, const char *what)
{
    char here[96];
    image_current_frame(here, sizeof here);
    TDF_BUGCHECK(0xC4, subcode, "DRIVER_VERIFIER_DETECTED_VIOLATION", "%s %s (%s, step %lu)", routine, what, here,
                 (unsigned long)sched_steps());
}

/* IoCount == bias + tagged + untracked acquisitions, every count >= 0. */
static int consistent(const IO_REMOVE_LOCK *l)
{
    long sum = l->Common.Removed ? 0 : 1;
    if (l->Dbg.UntrackedCount < 0 || l->Dbg.State > RL_REMOVED || (l->Dbg.State != RL_IN_USE) != !!l->Common.Removed)
        return 0;
    sum += l->Dbg.UntrackedCount;
    for (int i = 0; i < IO_REMOVE_LOCK_TAG_SLOTS; i++) {
        if (l->Dbg.Tags[i].Count < 0)
            return 0;
        sum += l->Dbg.Tags[i].Count;
    }
    return sum == l->Common.IoCount;
}

/* The entry checks shared by every routine but Initialize; 0: reported. */
static int usable(PIO_REMOVE_LOCK l, const char *routine)
{
    if (l->Dbg.Signature != RL_SIGNATURE) {
        misuse(routine, "on a remove lock that IoInitializeRemoveLock never initialised");
        return 0;
    }
    if (!consistent(l)) {
        misuse(routine, "on a remove lock whose counts were overwritten since IoInitializeRemoveLock");
        return 0;
    }
    return 1;
}

static int tag_find(const IO_REMOVE_LOCK *l, PVOID tag)
{
    for (int i = 0; i < IO_REMOVE_LOCK_TAG_SLOTS; i++)
        if (l->Dbg.Tags[i].Count > 0 && l->Dbg.Tags[i].Tag == tag)
            return i;
    return RL_NOT_HELD;
}

/* Records one acquisition under `tag`: its slot, or RL_UNTRACKED when the
 * table is full (counted without its tag). */
static int tag_add(PIO_REMOVE_LOCK l, PVOID tag)
{
    int slot = tag_find(l, tag);
    for (int i = 0; slot < 0 && i < IO_REMOVE_LOCK_TAG_SLOTS; i++)
        if (l->Dbg.Tags[i].Count == 0)
            slot = i;
    if (slot < 0) {
        l->Dbg.UntrackedCount++;
        return RL_UNTRACKED;
    }
    l->Dbg.Tags[slot].Tag = tag;
    l->Dbg.Tags[slot].Count++;
    return slot;
}

/* Drops one acquisition under `tag`: its slot, RL_UNTRACKED if the tag is
 * unknown but untagged acquisitions exist (unchecked), else RL_NOT_HELD and
 * nothing changes. */
static int tag_drop(PIO_REMOVE_LOCK l, PVOID tag)
{
    int slot = tag_find(l, tag);
    if (slot >= 0) {
        if (--l->Dbg.Tags[slot].Count == 0)
            l->Dbg.Tags[slot].Tag = NULL;
        return slot;
    }
    if (l->Dbg.UntrackedCount > 0) {
        l->Dbg.UntrackedCount--;
        return RL_UNTRACKED;
    }
    return RL_NOT_HELD;
}

VOID IoInitializeRemoveLock(PIO_REMOVE_LOCK Lock, ULONG AllocateTag, ULONG MaxLockedMinutes, ULONG HighWatermark)
{
    /* A yield point too: re-initialising a lock other threads may be using is
     * the race 0xD7 is about. */
    ke_yield();
    if (ke_irql() != PASSIVE_LEVEL) {
        misuse("IoInitializeRemoveLock", "above PASSIVE_LEVEL");
        return;
    }
    if (Lock->Dbg.Signature == RL_SIGNATURE) {
        if (Lock->Dbg.State != RL_IN_USE)
            bugcheck(0xD7, "IoInitializeRemoveLock",
                     "on a remove lock after IoReleaseRemoveLockAndWait (a remove lock is initialised once, in "
                     "AddDevice, and is deleted with the device extension)");
        else
            bugcheck(0xD7, "IoInitializeRemoveLock",
                     "on a remove lock that is already initialised (other threads may be using it)");
        return;
    }
    if (HighWatermark > 0x7FFFFFFFu) {
        misuse("IoInitializeRemoveLock", "with HighWatermark above 0x7FFFFFFF");
        return;
    }
    memset(Lock, 0, sizeof *Lock);
    Lock->Common.Removed = FALSE;
    Lock->Common.IoCount = 1; /* the bias, dropped by IoReleaseRemoveLockAndWait */
    KeInitializeEvent(&Lock->Common.RemoveEvent, SynchronizationEvent, FALSE);
    Lock->Dbg.Signature = RL_SIGNATURE;
    Lock->Dbg.State = RL_IN_USE;
    Lock->Dbg.AllocateTag = AllocateTag;
    Lock->Dbg.MaxLockedMinutes = MaxLockedMinutes;
    Lock->Dbg.HighWatermark = HighWatermark;
    SCHED_TRACE0("IoInitializeRemoveLock (count 1)");
}

NTSTATUS IoAcquireRemoveLock(PIO_REMOVE_LOCK RemoveLock, PVOID Tag)
{
    ke_yield();
    if (ke_irql() > DISPATCH_LEVEL) {
        misuse("IoAcquireRemoveLock", "above DISPATCH_LEVEL");
        return STATUS_DELETE_PENDING;
    }
    if (!usable(RemoveLock, "IoAcquireRemoveLock"))
        return STATUS_DELETE_PENDING;
    /* The kernel increments, then looks at Removed and undoes the increment.
     * Atomic here; the undo cannot reach 0 before the wait ended (the waiter
     * holds IoCount above 0 until the last real release), so it sets no event
     * the waiter could miss. */
    if (RemoveLock->Common.Removed) {
        SCHED_TRACE0("IoAcquireRemoveLock -> STATUS_DELETE_PENDING (removed)");
        return STATUS_DELETE_PENDING;
    }
    int slot = tag_add(RemoveLock, Tag);
    RemoveLock->Common.IoCount++;
    TDF_HB_ACQUIRE(RemoveLock);
    SCHED_TRACE2("IoAcquireRemoveLock %s -> STATUS_SUCCESS (count %lu)", tag_name(slot),
                 (unsigned long)RemoveLock->Common.IoCount);
    return STATUS_SUCCESS;
}

VOID IoReleaseRemoveLock(PIO_REMOVE_LOCK RemoveLock, PVOID Tag)
{
    ke_yield();
    if (ke_irql() > DISPATCH_LEVEL) {
        misuse("IoReleaseRemoveLock", "above DISPATCH_LEVEL");
        return;
    }
    if (!usable(RemoveLock, "IoReleaseRemoveLock"))
        return;
    int slot = tag_drop(RemoveLock, Tag);
    if (slot == RL_NOT_HELD) {
        bugcheck(0xD5, "IoReleaseRemoveLock",
                 "with a tag that holds no acquisition of this lock (never acquired with this tag, or released "
                 "more often than acquired)");
        return;
    }
    TDF_HB_RELEASE(RemoveLock);
    LONG count = --RemoveLock->Common.IoCount; /* >= 0: consistent() and tag_drop() above */
    if (count > 0) {
        SCHED_TRACE2("IoReleaseRemoveLock %s (count %lu)", tag_name(slot), (unsigned long)count);
        return;
    }
    /* 0 only after removal: the bias is gone, this was the last holder. */
    SCHED_TRACE1("IoReleaseRemoveLock %s (count 0: last holder after removal, sets the remove event)",
                 tag_name(slot));
    KeSetEvent(&RemoveLock->Common.RemoveEvent, IO_NO_INCREMENT, FALSE);
    sched_step_touch(NULL, SCHED_FP_GLOBAL); /* the caller may be model code (footprints, sched.h) */
}

VOID IoReleaseRemoveLockAndWait(PIO_REMOVE_LOCK RemoveLock, PVOID Tag)
{
    ke_yield();
    if (ke_irql() != PASSIVE_LEVEL) {
        misuse("IoReleaseRemoveLockAndWait",
               "above PASSIVE_LEVEL (it blocks; it belongs in IRP_MN_REMOVE_DEVICE, at PASSIVE_LEVEL)");
        return;
    }
    if (!usable(RemoveLock, "IoReleaseRemoveLockAndWait"))
        return;
    if (RemoveLock->Dbg.State == RL_WAITING) {
        bugcheck(0xD7, "IoReleaseRemoveLockAndWait",
                 "while another IoReleaseRemoveLockAndWait on the same lock is still waiting (a remove lock is "
                 "one-shot)");
        return;
    }
    if (RemoveLock->Dbg.State == RL_REMOVED) {
        bugcheck(0xD7, "IoReleaseRemoveLockAndWait",
                 "a second time on the same lock (a remove lock is one-shot)");
        return;
    }
    if (tag_find(RemoveLock, Tag) == RL_NOT_HELD && RemoveLock->Dbg.UntrackedCount == 0) {
        bugcheck(0xD6, "IoReleaseRemoveLockAndWait",
                 "with a tag that holds no acquisition of this lock (the caller must hold one, acquired with "
                 "this tag)");
        return;
    }
    if (RemoveLock->Common.IoCount > 2 && sched_current() == SCHED_NO_FIBER) {
        misuse("IoReleaseRemoveLockAndWait", "has to block but runs outside a model thread");
        return;
    }
    int slot = tag_drop(RemoveLock, Tag); /* held: checked above */
    TDF_HB_RELEASE(RemoveLock);
    RemoveLock->Common.Removed = TRUE;
    RemoveLock->Dbg.State = RL_WAITING;
    RemoveLock->Common.IoCount -= 2; /* the caller's acquisition and the bias; >= 0 (consistent) */
    if (RemoveLock->Common.IoCount == 0) {
        SCHED_TRACE1("IoReleaseRemoveLockAndWait %s: removed, no other holder", tag_name(slot));
    } else {
        SCHED_TRACE2("IoReleaseRemoveLockAndWait %s: removed, %lu acquisition(s) to drain", tag_name(slot),
                     (unsigned long)RemoveLock->Common.IoCount);
        /* Blocks on the remove event's header, which KeSetEvent wakes, under
         * this routine's name (a deadlock report names it). */
        while (RemoveLock->Common.IoCount > 0)
            ke_block(&RemoveLock->Common.RemoveEvent.Header, "IoReleaseRemoveLockAndWait");
        RemoveLock->Common.RemoveEvent.Header.SignalState = 0; /* consumed (synchronization event) */
    }
    RemoveLock->Dbg.State = RL_REMOVED;
    TDF_HB_ACQUIRE(RemoveLock);
    SCHED_TRACE0("IoReleaseRemoveLockAndWait: drained, lock removed");
}
