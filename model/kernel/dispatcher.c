/*
 * Dispatcher objects (events, threads), waits, system threads and the
 * per-thread IRQL. Waits block the fiber on the object's header; virtual time
 * makes timeouts expire only when nothing else can run.
 */
#include "kernel.h"
#include "tsan_sync.h"
#include "irp.h"

#include <string.h>

#define STATUS_INVALID_HANDLE ((NTSTATUS)0xC0000008L)

enum { OBJ_NOTIFICATION_EVENT = NotificationEvent, OBJ_SYNCHRONIZATION_EVENT = SynchronizationEvent, OBJ_THREAD = 6 };

struct _KTHREAD {
    DISPATCHER_HEADER Header; /* first: waits take it as the object */
    int fiber;
    PKSTART_ROUTINE start;
    PVOID context;
    struct tdf_image *image;
    LONG references; /* handle + ObReferenceObjectByHandle references */
    uint32_t magic;  /* THREAD_MAGIC: with Header.Type, tells a thread from other memory */
};

/* Threads are the only reference-counted kernel objects of the model. A
 * pointer is one only if its first byte (the header's Type, readable in any
 * object) says thread and the magic agrees; NULL otherwise. */
#define THREAD_MAGIC 0x54485244u
static struct _KTHREAD *as_thread(PVOID p)
{
    struct _KTHREAD *t = p;
    return t && t->Header.Type == OBJ_THREAD && t->magic == THREAD_MAGIC ? t : NULL;
}

/* Woken on every signal: multi-object waits block on it and re-check. */
static int g_any_signal;
static KIRQL g_irql[SCHED_SLOT_COUNT]; /* by slot (sched.h "Thread ids and slots") */
static POBJECT_TYPE g_thread_type_object;
POBJECT_TYPE *PsThreadType = &g_thread_type_object;

static KIRQL *irql_slot(void) { return &g_irql[sched_current_index()]; }
KIRQL ke_irql(void) { return *irql_slot(); }
void ke_set_irql(KIRQL irql) { *irql_slot() = irql; }
KIRQL KeGetCurrentIrql(void) { return ke_irql(); }

void thread_reset(void) { memset(g_irql, 0, sizeof g_irql); }

/* A slot's new thread starts at PASSIVE_LEVEL. (No thread ends above it
 * unreported: its outermost driver routine's return is checked, image.c
 * irql_return_fail, and so is PsTerminateSystemThread; a run that stops
 * leaves raised IRQLs, cleared by thread_reset.) */
void thread_slot_reset(int slot) { g_irql[slot] = PASSIVE_LEVEL; }

static void signal(DISPATCHER_HEADER *h)
{
    feedback_pair(h, FB_EVENT_SET);
    TDF_HB_RELEASE(h);
    h->SignalState = 1;
    sched_wake(h);
    sched_wake(&g_any_signal);
}

VOID KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State)
{
    Event->Header.Type = (UCHAR)Type;
    Event->Header.SignalState = State ? 1 : 0;
}

LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    (void)Increment, (void)Wait;
    /* The step up to the yield below only signals (its wakes add their objects). */
    ke_yield_on(Event, SCHED_FP_WRITE);
    LONG previous = Event->Header.SignalState;
    signal(&Event->Header);
    SCHED_TRACE0("KeSetEvent");
    /* A woken waiter may run on another processor at once, and the signalling
     * thread may be preempted at any instruction after the signal: what the
     * waiter does next (tear down, unload the signaller's image) can come
     * before this thread's next instruction or its return (ARCHITECTURE.md,
     * "Yield points"). The step after it is the caller's: driver code
     * (footprint NONE), or model code, which widens it to GLOBAL after the
     * call (rundown.c and wait_lock.c return to their driver caller). */
    ke_yield_on(NULL, SCHED_FP_NONE);
    return previous;
}

VOID KeClearEvent(PRKEVENT Event)
{
    ke_yield_on(Event, SCHED_FP_WRITE);
    Event->Header.SignalState = 0;
}

LONG KeResetEvent(PRKEVENT Event)
{
    ke_yield_on(Event, SCHED_FP_WRITE);
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 0;
    return previous;
}

LONG KeReadStateEvent(PRKEVENT Event)
{
    ke_yield_on(Event, SCHED_FP_READ);
    return Event->Header.SignalState;
}

/* Consumes the signal of a satisfied wait (auto-reset for synchronization
 * events) and returns 1, or returns 0 if the object is not signalled. */
static int try_satisfy(DISPATCHER_HEADER *h)
{
    sched_step_touch(h, SCHED_FP_WRITE); /* the wait's footprint (sched.h): each object it checks */
    feedback_pair(h, FB_EVENT_WAIT);
    if (h->SignalState <= 0)
        return 0;
    if (h->Type == OBJ_SYNCHRONIZATION_EVENT)
        h->SignalState = 0;
    TDF_HB_ACQUIRE(h);
    return 1;
}

void ke_wake_any_waiter(void) { sched_wake(&g_any_signal); }

/* A zero timeout polls and is allowed up to DISPATCH_LEVEL; any other wait
 * needs <= APC_LEVEL, and never inside a DPC routine (ke_check_may_wait). */
static void check_wait_irql(PLARGE_INTEGER timeout, const char *routine)
{
    if (!(timeout && timeout->QuadPart == 0))
        ke_check_may_wait(routine);
}

NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                               PLARGE_INTEGER Timeout)
{
    (void)WaitReason, (void)WaitMode, (void)Alertable;
    DISPATCHER_HEADER *h = Object;
    check_wait_irql(Timeout, "KeWaitForSingleObject");
    /* Footprints (sched.h): the steps from here and from each wake-up check
     * the object (try_satisfy touches it) and return to the caller: driver
     * code, or model code that widens the step itself (a wait inside the
     * model is followed by sched_step_touch GLOBAL). */
    ke_yield_on(NULL, SCHED_FP_NONE);
    for (;;) {
        if (try_satisfy(h)) {
            SCHED_TRACE1("KeWaitForSingleObject: %s signalled", h->Type == OBJ_THREAD ? "thread" : "event");
            return STATUS_SUCCESS;
        }
        if (Timeout && Timeout->QuadPart == 0)
            return STATUS_TIMEOUT;
        const char *what = h->Type == OBJ_THREAD ? "wait for thread" : "KeWaitForSingleObject";
        if (ke_block_on(h, what, Timeout != NULL, NULL, SCHED_FP_NONE)) {
            SCHED_TRACE0("wait timed out");
            return STATUS_TIMEOUT;
        }
    }
}

NTSTATUS KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType, KWAIT_REASON WaitReason,
                                  KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                  PVOID WaitBlockArray)
{
    (void)WaitReason, (void)WaitMode, (void)Alertable, (void)WaitBlockArray;
    check_wait_irql(Timeout, "KeWaitForMultipleObjects");
    ke_yield_on(NULL, SCHED_FP_NONE); /* as KeWaitForSingleObject: the objects it checks */
    for (;;) {
        for (ULONG i = 0; i < Count; i++)
            sched_step_touch(Object[i], SCHED_FP_WRITE);
        if (WaitType == WaitAny) {
            for (ULONG i = 0; i < Count; i++) {
                if (try_satisfy(Object[i])) {
                    SCHED_TRACE1("KeWaitForMultipleObjects: object %lu signalled", (unsigned long)i);
                    return STATUS_WAIT_0 + (NTSTATUS)i;
                }
            }
        } else {
            ULONG ready = 0;
            for (ULONG i = 0; i < Count; i++)
                ready += ((DISPATCHER_HEADER *)Object[i])->SignalState > 0;
            if (ready == Count) {
                for (ULONG i = 0; i < Count; i++)
                    try_satisfy(Object[i]);
                return STATUS_WAIT_0;
            }
        }
        if (Timeout && Timeout->QuadPart == 0)
            return STATUS_TIMEOUT;
        if (ke_block_on(&g_any_signal, "KeWaitForMultipleObjects", Timeout != NULL, NULL, SCHED_FP_NONE))
            return STATUS_TIMEOUT;
    }
}

NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval)
{
    (void)WaitMode, (void)Alertable;
    static int delay_token;
    check_wait_irql(Interval, "KeDelayExecutionThread");
    if (Interval && Interval->QuadPart == 0) {
        ke_yield();
        return STATUS_SUCCESS;
    }
    /* Virtual time: the delay ends once every other thread is blocked or done. */
    (void)ke_block_timed(&delay_token, "KeDelayExecutionThread");
    return STATUS_SUCCESS;
}

/* ---- system threads ------------------------------------------------------------ */
static void thread_main(void *arg)
{
    struct _KTHREAD *t = arg;
    *sched_fiber_slot(sched_current()) = t;
    TDF_HB_ACQUIRE(&t->Header); /* everything before PsCreateSystemThread is visible */
    /* After the routine returns: the trace, the signal of this thread object
     * (its wakes add their objects) and the end (footprints, sched.h). */
    image_set_return_footprint(&t->Header, SCHED_FP_WRITE);
    unsigned saved = image_irql_rule_begin(IRQL_RETURN_SYSTEM_THREAD); /* its return ends the thread: 0x20 */
    t->start(t->context); /* driver code: entered through the image hook */
    image_irql_rule_end(saved);
    SCHED_TRACE0("thread exits");
    signal(&t->Header);
}

NTSTATUS PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                              HANDLE ProcessHandle, PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                              PVOID StartContext)
{
    (void)DesiredAccess, (void)ObjectAttributes, (void)ProcessHandle, (void)ClientId;
    ke_yield();
    struct _KTHREAD *t = pool_alloc_model_kept(sizeof *t); /* a finished thread's object stays waitable */
    struct tdf_image *img = image_current();
    t->Header.Type = OBJ_THREAD;
    t->magic = THREAD_MAGIC;
    t->Header.SignalState = 0;
    t->start = StartRoutine;
    t->context = StartContext;
    t->image = img;
    t->references = 1; /* the handle */
    t->fiber = sched_spawn(symbol_name((const void *)StartRoutine), img ? img->name : "kernel", thread_main, t);
    if (t->fiber == SCHED_NO_FIBER) {
        /* the kernel would create it: a failure status would be the model's lie */
        TDF_LIMIT(SCHED_MAX_FIBERS, "model/sched/sched.h", "more model threads (PsCreateSystemThread %s)",
                  symbol_name((const void *)StartRoutine));
        return STATUS_INSUFFICIENT_RESOURCES; /* only from main, which stops the run */
    }
    /* Its first step (thread_main up to the driver routine's entry hook)
     * touches only this new thread's own state: footprint NONE (sched.h). */
    sched_set_start_footprint(t->fiber, NULL, SCHED_FP_NONE);
    TDF_HB_RELEASE(&t->Header); /* creation happens-before the thread's start */
    SCHED_TRACE1("PsCreateSystemThread %s", symbol_name((const void *)StartRoutine));
    *ThreadHandle = t;
    return STATUS_SUCCESS;
}

const struct tdf_image *ke_system_thread_image(int fiber)
{
    if (fiber < 0)
        return NULL;
    const struct _KTHREAD *t = *sched_fiber_slot(fiber);
    return t && t->magic == THREAD_MAGIC ? t->image : NULL;
}

NTSTATUS PsTerminateSystemThread(NTSTATUS ExitStatus)
{
    (void)ExitStatus;
    struct _KTHREAD *t = sched_current() >= 0 ? *sched_fiber_slot(sched_current()) : NULL;
    if (!t)
        TdfUnmodelled("PsTerminateSystemThread", "called outside a thread made by PsCreateSystemThread");
    if (ke_irql() != PASSIVE_LEVEL) /* the thread exits above PASSIVE_LEVEL, as a return would */
        TDF_BUGCHECK(0x20, 0, "KERNEL_APC_PENDING_DURING_EXIT",
                     "PsTerminateSystemThread at IRQL %u: the system thread exits above PASSIVE_LEVEL",
                     (unsigned)ke_irql());
    SCHED_TRACE0("PsTerminateSystemThread");
    signal(&t->Header);
    sched_exit_fiber();
}

NTSTATUS ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess, POBJECT_TYPE ObjectType,
                                   KPROCESSOR_MODE AccessMode, PVOID *Object, PVOID HandleInformation)
{
    (void)DesiredAccess, (void)ObjectType, (void)AccessMode, (void)HandleInformation;
    ke_yield();
    struct _KTHREAD *t = as_thread(Handle);
    *Object = NULL;
    if (!t)
        return STATUS_INVALID_HANDLE; /* only thread handles exist in the model */
    t->references++;
    *Object = t;
    return STATUS_SUCCESS;
}

VOID ObReferenceObject(PVOID Object)
{
    ke_yield();
    struct _KTHREAD *t = as_thread(Object);
    if (t)
        t->references++;
    else if (!io_ob_reference(Object, +1) && /* device and file objects (wdm_device.c) */
             !io_device_fail_stale(Object, "ObReferenceObject", 0x18, 0, "REFERENCE_BY_POINTER"))
        TDF_BUGCHECK(0x18, 0, "REFERENCE_BY_POINTER",
                     "ObReferenceObject on %s, which is not a reference-counted object (no object header)",
                     Object ? "a pointer" : "NULL");
}

VOID ObDereferenceObject(PVOID Object)
{
    ke_yield();
    if (!as_thread(Object) && io_ob_reference(Object, -1))
        return; /* a device or file object (wdm_device.c) */
    struct _KTHREAD *t = as_thread(Object);
    if (!t) {
        /* The kernel would decrement a pointer count in an object header that
         * is not there (a KEVENT, driver memory): 0x18 at best, corruption
         * otherwise; the model stops at the call. */
        TDF_BUGCHECK(0x18, 0, "REFERENCE_BY_POINTER",
                     "ObDereferenceObject on %s, which is not a reference-counted object (no object header)",
                     Object ? "a pointer" : "NULL");
        return;
    }
    if (t->references <= 0) {
        TDF_BUGCHECK(0x18, 0, "REFERENCE_BY_POINTER", "ObDereferenceObject on an object with no references left");
        return;
    }
    t->references--;
}

NTSTATUS ZwClose(HANDLE Handle)
{
    if (!as_thread(Handle)) {
        /* a kernel-mode close of a handle that is none: bugcheck 0x93 */
        TDF_BUGCHECK(0x93, 0, "INVALID_KERNEL_HANDLE", "ZwClose of a handle that is not a thread handle");
        return STATUS_INVALID_HANDLE;
    }
    ObDereferenceObject(Handle);
    return STATUS_SUCCESS;
}
