/*
 * model/kernel internals: images, failure reports, yield/block wrappers that
 * add the image checks, pool ownership. Not for driver code (include/tdf/).
 */
#ifndef TDF_KERNEL_H
#define TDF_KERNEL_H

#include <stdarg.h>
#include <stdint.h>

#include "../sched/sched.h"
#include "tdf/wdk.h"

/* ---- failures ------------------------------------------------------------- */
/* One class per kind of finding; exit codes are documented in docs/REPORTS.md
 * and README.md, and fixed: scripts and CI depend on them. */
typedef enum tdf_class {
    TDF_CLASS_NONE = 0,
    TDF_CLASS_BUGCHECK,  /* a real bugcheck code: 0xCE, 0xC4/x, 0x10D, 0x9F ... */
    TDF_CLASS_HARDWARE,  /* register touched while not in D0 / after unmapping */
    TDF_CLASS_MISUSE,    /* API misuse the kernel does not bugcheck on at once */
    TDF_CLASS_DEADLOCK,  /* model threads blocked, none runnable */
    TDF_CLASS_HANG,      /* step cap reached */
    TDF_CLASS_SANITIZER, /* ASan/UBSan/TSan report (exit code set via options) */
    TDF_CLASS_FAULT,     /* a signal in a build without ASan (e.g. NULL call) */
    TDF_CLASS_LIMIT,     /* a fixed capacity of the harness ran out: not a driver finding */
    TDF_CLASS_COUNT
} tdf_class_t;

enum {
    TDF_EXIT_OK = 0,
    TDF_EXIT_USAGE = 2,
    TDF_EXIT_BUGCHECK = 10,
    TDF_EXIT_HARDWARE = 11,
    TDF_EXIT_MISUSE = 12,
    TDF_EXIT_DEADLOCK = 13,
    TDF_EXIT_HANG = 14,
    TDF_EXIT_SANITIZER = 15,
    TDF_EXIT_FAULT = 16,
    TDF_EXIT_LIMIT = 17,
};

#include "teardown.h" /* tdf_teardown_t */

/* What an oracle found dead (docs/REPORTS.md "Fatal pair"): its kind, its
 * owner by role (a device's name, an image's name; never an address). */
typedef enum tdf_obj_kind {
    TDF_OBJ_NONE = 0,  /* the oracle names no object (the key is explicit: docs/REPORTS.md) */
    TDF_OBJ_IMAGE,     /* a driver image: unloaded */
    TDF_OBJ_REGISTERS, /* a device's mapped register block: out of D0, released, unmapped */
    TDF_OBJ_POOL,      /* a pool block: freed, or left at unload */
    TDF_OBJ_REQUEST,   /* a WDFREQUEST: completed */
    TDF_OBJ_HANDLE,    /* a WDF object: deleted/destroyed */
    TDF_OBJ_RUNDOWN,   /* an EX_RUNDOWN_REF: run down */
    TDF_OBJ_LOCK,      /* a lock cycle or a recursive acquire (DEADLOCK) */
    TDF_OBJ_WORK,      /* a work item, KDPC, KTIMER or lookaside list left at unload */
    TDF_OBJ_DEVICE,    /* a device: its removal or power-down waits for something; a WDM device object deleted */
    TDF_OBJ_IRP,       /* an IRP: completed past the accessing driver, or its owner's completion walk overrun */
    TDF_OBJ_COUNT
} tdf_obj_kind_t;

/* One side of the fatal pair, as text: made when the failure is recorded. */
typedef struct tdf_pair_side {
    int present;          /* 0: this side is unknown (e.g. no teardown for an explicit key) */
    uint32_t step;        /* the step it happened at */
    int fiber;            /* its model thread (SCHED_NO_FIBER: main) */
    uint64_t trace_index; /* its trace event (sched_trace_total numbering); UINT64_MAX: none */
    char frame[96];       /* the driver routine (image!Routine), or "pnp" / "model" for the model itself */
    char event[72];       /* what it did: "READ_REGISTER_ULONG", "MmUnmapIoSpace", "unload image" */
} tdf_pair_side_t;

typedef struct tdf_failure {
    tdf_class_t cls;
    uint32_t code;       /* bugcheck code (0 if none) */
    uint32_t subcode;    /* e.g. 0xC4 parameter 1 */
    char name[72];       /* DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, D3 ... */
    char where[96];      /* image!Routine where it happened */
    char caller[96];     /* the other side: caller / owner, for the signature */
    char detail[400];    /* exact message */
    uint32_t step;
    int fiber;
    /* The fatal pair (docs/REPORTS.md "Fatal pair"): the faulting access
     * and the teardown step it raced with, and the object between them. */
    tdf_obj_kind_t obj_kind;
    char obj_owner[64];  /* the object's owner by role: "child/FDO", "child" (image), "bus!Bus_Lock" */
    char obj_text[160];  /* the object in words: "registers of child/FDO (mapped by child!...)" */
    tdf_pair_side_t access;
    tdf_pair_side_t teardown;
    char lock_cycle[480]; /* DEADLOCK: "pnp holds X wants Y; T holds Y wants X" (empty otherwise) */
    int access_protected; /* the accessing thread held a rundown protection at the access */
    char key_teardown[96]; /* the signature's last part (docs/REPORTS.md "Signatures") */
    int key_unordered;     /* the two sides are equals (tdf_dead_t.unordered): the key sorts the access
                              routine and key_teardown */
    /* A call from another driver into the callee whose own object was found
     * dead (docs/REPORTS.md "Signatures"): the key is the call,
     * call(<callee>):<key_call>:callee-teardown, whichever oracle fired. */
    char key_callee[40];
    char key_call[96];
    char key_access[96]; /* the key's access routine when not access.frame (a DPC's chain origin) */
    /* A cross call made while the caller's own device was already powering
     * down (docs/REPORTS.md "Signatures"): the key is the caller's own
     * registers, registers(<key_caller_owner>):<key_caller>:power-down. */
    char key_caller_owner[64];
    char key_caller[96];
    /* A failure inside a sender's completion routine that runs after its I/O
     * target was purged without waiting for that request (docs/REPORTS.md
     * "Signatures"): target(<key_late_owner>):<key_late_routine>:<key_late_purger>,
     * whatever the routine met. */
    char key_late_owner[64];
    char key_late_routine[96];
    char key_late_purger[96];
} tdf_failure_t;

/* What a failing oracle hands over besides the message: the dead object. */
typedef struct tdf_dead {
    tdf_obj_kind_t kind;
    const char *owner;              /* by role; NULL: none */
    const tdf_teardown_t *teardown; /* NULL or event NULL: not known */
    const char *text_fmt;           /* printf format of obj_text (NULL: "<kind> of <owner>") */
    uintptr_t args[3];              /* its arguments (strings and longs) */
    int access_fiber;               /* 0: the current thread made the access; else that thread's id + 1 (a
                                       thread still inside an unloading image): the headline names it */
    const char *access_frame;       /* the access side's routine when not `where` (NULL: `where`) */
    const char *cycle;              /* DEADLOCK: the lock cycle's text (tdf_failure_t.lock_cycle) */
    const char *key_teardown;       /* the signature's teardown part when not the routine (NULL: derived) */
    const char *key_access;         /* the signature's access part when not the access routine (NULL: it) */
    int unordered;                  /* access and teardown are equals (two routines of one driver both
                                       finishing a request): which came first is the schedule's, the key
                                       sorts the two routines */
} tdf_dead_t;

const char *tdf_class_name(tdf_class_t cls);
int tdf_class_exit_code(tdf_class_t cls);

/* Records the first failure of the run and stops the run (from a fiber: never
 * returns; from the main context it returns and the caller must stop).
 * `where`/`caller` NULL: the current innermost driver frames. */
void tdf_fail(tdf_class_t cls, uint32_t code, uint32_t subcode, const char *name, const char *where,
              const char *caller, const char *detail_fmt, ...) __attribute__((format(printf, 7, 8)));
/* tdf_fail with the fatal pair: `dead` is the object the oracle found dead
 * (its kind, owner and teardown record); the access side is the current
 * thread's innermost driver frame at this step, `access_event` what it did
 * ("READ_REGISTER_ULONG", "call", "WdfRequestComplete"). */
void tdf_fail_dead(const tdf_dead_t *dead, const char *access_event, tdf_class_t cls, uint32_t code,
                   uint32_t subcode, const char *name, const char *where, const char *caller, const char *detail_fmt,
                   ...) __attribute__((format(printf, 9, 10)));
/* Teardown records (teardown.h): the current thread's innermost driver
 * frame did `event` now; _fn: the framework is calling the driver routine
 * fn of img (a callback) for it. Clear: the object is live again. */
void tdf_teardown_note(tdf_teardown_t *t, const char *event);
void tdf_teardown_note_fn(tdf_teardown_t *t, const char *event, const struct tdf_image *img, const void *fn);
static inline void tdf_teardown_clear(tdf_teardown_t *t) { t->event = 0; }
const char *tdf_obj_kind_name(tdf_obj_kind_t kind);
/* Bugcheck with the current driver frame as where: KeBugCheckEx-like. */
#define TDF_BUGCHECK(code, sub, name, ...) tdf_fail(TDF_CLASS_BUGCHECK, (code), (sub), (name), NULL, NULL, __VA_ARGS__)
#define TDF_MISUSE(name, ...) tdf_fail(TDF_CLASS_MISUSE, 0, 0, (name), NULL, NULL, __VA_ARGS__)
/* A fixed capacity ran out: the run stops as LIMIT instead of dropping work
 * (a dropped request or handle would hide real bugs). `constant` is the name
 * of the capacity's #define, `value` its value, `defined_in` its file; the
 * detail says what overflowed. Returns only when called from main. */
/* A sanitizer report or a fatal signal outside the model's oracles (fuzz/report.c):
 * recorded as the run's failure (unless one is already) without stopping the
 * run, which the sanitizer or the signal handler ends, so the runner's death
 * hook can write the JSON the flags ask for. The signature keeps the caller as
 * given ("thread:<role>" too), as the SIGNATURE line printed before it. */
void tdf_fail_external(tdf_class_t cls, const char *name, const char *where, const char *caller,
                       const char *detail_fmt, ...) __attribute__((format(printf, 5, 6)));
void tdf_limit(const char *constant, unsigned long value, const char *defined_in, const char *what_fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define TDF_LIMIT(constant, defined_in, ...) tdf_limit(#constant, (unsigned long)(constant), (defined_in), __VA_ARGS__)

const tdf_failure_t *tdf_failure(void); /* NULL if the run has none */
void tdf_failure_reset(void);
/* Fills the signature: CODE:where:caller, the stable dedupe key. */
void tdf_failure_signature(const tdf_failure_t *f, char *buf, size_t size);

/* ---- images ----------------------------------------------------------------- */
#include "image.h" /* struct tdf_image */

void image_register(struct tdf_image *img); /* every image of the target, before runs */
void image_load(struct tdf_image *img);
/* Marks the image unloaded and checks that no model thread still executes in
 * it (0xCE) and no pool of it is left (0xC4/0x62). */
void image_unload(struct tdf_image *img);
/* Innermost driver frame of the current fiber: "image!Routine", or "harness". */
const char *image_current_frame(char *buf, size_t size);
/* Nearest frame below the innermost one that belongs to another image. */
const char *image_caller_frame(char *buf, size_t size);
/* Around a driver callback the framework invokes on another driver's call
 * (a request's completion routine inside the completing driver's
 * WdfRequestComplete): the callback's caller side is the framework, not
 * that driver (image_caller_frame gives "thread:<role>"). begin returns the
 * value end restores: callbacks nest. */
unsigned image_callback_begin(void);
void image_callback_end(unsigned saved);
/* Around an IRP completion routine the I/O manager calls (with
 * image_callback_begin): image_completion_entry then says whether `fiber`
 * is inside a completion routine of `img` (the innermost one) and names it,
 * image!Routine, in entry (NULL with size 0: only whether). begin returns
 * the value end restores. */
unsigned image_completion_begin(void);
void image_completion_end(unsigned saved);
int image_completion_entry(int fiber, const struct tdf_image *img, char *entry, size_t size);
struct tdf_image *image_current(void); /* image of the innermost frame, or NULL */
/* The innermost driver frame's image and routine (NULL, *fn NULL: none). */
const struct tdf_image *image_current_fn(const void **fn);
/* Text of one fiber's driver call stack, outermost first. */
void image_fiber_stack(int fiber, char *buf, size_t size);
/* The image of the thread's outermost driver frame (the routine the harness or
 * the framework called), NULL with no driver frame. */
const struct tdf_image *image_fiber_outer(int fiber);
void image_fiber_entry(int fiber, char *buf, size_t size); /* that frame's text ("harness" without one) */
/* The routine through which fiber's stack entered image `callee` (its
 * topmost frames there), when a routine of another driver called it directly
 * (an interface or callback pointer; not the framework's callback of a
 * request's completion, not the harness): returns 1 and writes it to entry.
 * Failure time only (the signature of a cross-driver call, report.c). */
int image_cross_entry(int fiber, const char *callee, char *entry, size_t size);
/* The running thread's innermost frame is a routine of another driver than
 * callee (a call into callee being made now, its frame not pushed yet). */
int image_calling_from_driver(const char *callee);
/* The frame just outside the thread's innermost run of CALLEE frames, the
 * routine of another image that called in (written to CALLER); its image,
 * or NULL when no frame of CALLEE is on the stack or nothing called it. */
const struct tdf_image *image_caller_of(int fiber, const char *callee, char *caller, size_t size);
/* The wdf layer's key hook (wdfdpc.c): the routine a dead-object access made
 * in `frame` on fiber is keyed by (a WDFDPC queued from a timer's callback:
 * that callback), returns 1 and writes out; 0 keeps frame. */
typedef int tdf_key_origin_fn(int fiber, const char *frame, char *out, size_t size);
void ke_set_key_origin_hook(tdf_key_origin_fn *fn);
/* The wdf layer's late-completion hook (request.c): 1 when `fiber` is inside
 * a sender's completion routine whose request its target purged without
 * waiting, with the sender's device role, the routine and the purging
 * routine written (tdf_failure_t.key_late_*); 0 otherwise. */
typedef int tdf_late_completion_fn(int fiber, char *owner, size_t owner_size, char *routine, size_t routine_size,
                                   char *purger, size_t purger_size);
void ke_set_late_completion_hook(tdf_late_completion_fn *fn);
/* The wdf layer's freed-buffer hook (request.c): for a sanitizer's use of
 * freed memory at addr, the dead request whose buffer the running thread took
 * before that request's completion; NULL when the address is no such buffer.
 * ke_freed_buffer_dead calls it (NULL while no hook is set). */
typedef const tdf_dead_t *tdf_freed_buffer_fn(const void *addr);
void ke_set_freed_buffer_hook(tdf_freed_buffer_fn *fn);
const tdf_dead_t *ke_freed_buffer_dead(const void *addr);
/* Resolves a code address to a function name (ELF symbol table). */
const char *symbol_name(const void *addr);

/* The kernel's yield/block: scheduler plus "did my code get unloaded while I
 * was switched out" (the resumed instruction would fault: 0xCE). */
void ke_yield(void);
/* ke_yield naming the footprint of the step it starts (sched.h
 * "Footprints": the object the code after it touches and SCHED_FP_READ /
 * SCHED_FP_WRITE, or SCHED_FP_NONE). Only the systematic search reads it. */
void ke_yield_on(const void *object, unsigned mode);
void ke_block(const void *object, const char *what);
/* What the framework code of the running thread does between the return of
 * its outermost driver routine and its next yield, as a footprint (sched.h
 * "Footprints"); GLOBAL unless set. A thread's own code sets it before it
 * calls the routine (thread_main: signals the thread object, then ends). */
void image_set_return_footprint(const void *object, unsigned mode);
/* ke_block / ke_block_timed (timed 1, returns 1 on a timeout) naming the
 * footprint of the step the thread starts when it resumes (sched_block_on). */
int ke_block_on(const void *object, const char *what, int timed, const void *fp_obj, unsigned fp_mode);
int ke_block_timed(const void *object, const char *what);

/* ---- per-fiber IRQL (spin locks raise to DISPATCH) ---------------------------- */
KIRQL ke_irql(void);
void ke_set_irql(KIRQL irql);
/* Who checks the IRQL at which the outermost driver routine of a thread (one
 * the framework, the kernel or the harness entered) returns: it must be the
 * IRQL it was entered at (docs/LIFECYCLE.md rule 160). By default a KMDF
 * event callback's rule (0x10D/0xE, the KMDF verifier's entry/exit check). A
 * model routine that calls driver code brackets the call with begin/end
 * (begin returns what end restores) to name another caller: a system worker
 * (0xE1), a system thread's start (0x20), an outside caller's stimulus
 * (0x4A), or IRQL_RETURN_CALLER when the caller checks the IRQL with its own
 * code (a DPC 0xC8, a dispatch routine 0xC9/0x5) or the routine changes it
 * by contract (a cancel routine releases the cancel spin lock, a CSQ lock
 * callback takes or drops the queue's lock). */
typedef enum {
    IRQL_RETURN_CALLBACK,
    IRQL_RETURN_WORKER,
    IRQL_RETURN_SYSTEM_THREAD,
    IRQL_RETURN_STIMULUS,
    IRQL_RETURN_CALLER,
} irql_return_rule_t;
unsigned image_irql_rule_begin(irql_return_rule_t rule);
void image_irql_rule_end(unsigned saved);
/* The last lock the thread `fiber` took and still holds, as text ("spin lock
 * of child0/FDO (taken in child!Child_Lock)"): 1, or 0 if it holds none. */
int lock_graph_held_by(int fiber, char *text, size_t size);

/* ---- pool -------------------------------------------------------------------------- */
/* Frees every model and driver allocation still live; called between runs. */
void pool_reset(void);
/* Model-owned memory with the same lifetime rules (freed at end of run). */
void *pool_alloc_model(size_t size);
/* The same for memory the model never frees before the end of the run (a
 * register block, a framework object that stays after its deletion): ASan
 * builds take it from reused chunks instead of ASan's allocator, which has
 * no use after free to see in it (model/kernel/pool.c). */
void *pool_alloc_model_kept(size_t size);
/* Frees now under ASan (so later use is reported); in other builds fills it
 * with 0xDD and keeps it until the end of the run, so a stale read is
 * deterministic. */
void pool_free_deferred(void *p);
size_t pool_leaks_of(const struct tdf_image *img, ULONG *first_tag, size_t *bytes);
/* The driver's pool block holding p (its owner image, tag and p's offset in it), or NULL. */
const struct tdf_image *pool_owner_of(const void *p, ULONG *tag, size_t *offset);

/* ---- hardware hooks (provided by the wdf layer) ---------------------------------- */
typedef struct tdf_hw_block tdf_hw_block_t;
/* Returns NULL if the access is fine, else the failure name ("D3", "unmapped"). */
typedef const char *tdf_hw_check_fn(tdf_hw_block_t *block, char *detail, size_t size);
void hw_register_block(tdf_hw_block_t *block, ULONGLONG phys, size_t length, tdf_hw_check_fn *check,
                       const char *owner_name);
void hw_reset(void);
/* The owner's hook for the fatal pair: the block's current down record (the
 * first teardown step since its device was last usable), or NULL; *role:
 * the owner by role for the signature (no instance number). */
typedef const tdf_teardown_t *tdf_hw_down_fn(tdf_hw_block_t *block, const char **role);
void hw_set_down_hook(tdf_hw_down_fn *fn);
/* Failure time only: every device whose registers `image` mapped (at least
 * one) is in a down phase that began before step `before`, run by another
 * thread than `fiber` (not the down phase's own callbacks): returns 1 and
 * the first one's role. */
int hw_image_down_before(const char *image, uint32_t before, int fiber, const char **role);

/* ---- spin locks (spinlock.c; KERNEL-SEMANTICS §14) ----------------------------- */
/* A recursive acquire by the holder: DEADLOCK naming the first acquire. */
void ke_spin_check_recursion(const void *lock, const char *routine);
void ke_spin_note_acquired(const void *lock, const char *routine);
void ke_spin_note_released(const void *lock);
void spinlock_reset(void);
/* Held locks of every form (lock_graph.c), keyed by what waiters block on. */
void ke_lock_held(const void *object, const char *kind, const char *owner);
void ke_lock_dropped(const void *object);
/* A thread is about to wait for a held lock: traces the blocked acquisition. */
void ke_lock_waits(const void *object, const char *routine);
void lock_graph_reset(void);
/* ---- rundown (rundown.c) ------------------------------------------------------------ */
void rundown_reset(void);
void rundown_slot_reset(int slot); /* sched_spawn reused the slot (image.c kernel_slot_reuse) */
int ke_rundown_held(int fiber); /* the thread holds a rundown protection now */
/* Whose rundown (docs/REPORTS.md "Fatal pair"): rundown.c asks the wdf layer
 * which device's context holds an address (tdf_owner_fn), else the pool for a
 * driver's block. The trace names each rundown by its owner; the text is
 * made again before the trace is printed, as a device is named ("child0/FDO")
 * only after the framework created it. */
typedef struct tdf_addr_owner {
    const void *ident;     /* the device record: another object at a reused address is another owner */
    const char *device;    /* the device's name, as the PnP manager names it ("child0/PDO") */
    const char *role;      /* "<driver image>/FDO|PDO": the owner in signatures */
    const char *driver;    /* the device's driver image */
    const char *object;    /* NULL: the device's own context; else the device's framework object whose
                              context holds it ("default queue", "queue", "request") */
    const char *container; /* the context type ("BUS_PDO_CONTEXT") or "device extension" */
    unsigned long offset;  /* the address's offset in it (two rundowns of one context differ) */
} tdf_addr_owner_t;
typedef int tdf_owner_fn(const void *p, tdf_addr_owner_t *out);
void ke_set_owner_hook(tdf_owner_fn *fn);
/* Makes the trace's rundown owner texts again from the final device names;
 * the report and trace writers call it before printing (fuzz/report.c). */
void ke_rundown_owners_final(void);
/* When every thread is blocked: the cycle text, the key (the wanted locks by
 * kind@routine, sorted) and the first lock's routine; returns the number of
 * threads waiting for a held lock (0: not a lock deadlock). */
int lock_graph_describe(char *cycle, size_t csize, char *key, size_t ksize, char *first_routine, size_t rsize);
/* The thread holding the lock a waiter blocks on (its text in TEXT), -1: none. */
int lock_graph_holder(const void *object, char *text, size_t size);
/* The threads holding RUNDOWN now (up to MAX in FIBERS); -1: not all known. */
int ke_rundown_holders(const void *ref, int *fibers, int max);
const char *ke_rundown_owner_text(const void *ref); /* the trace's name of the rundown */
/* ASan build: the pool block freed last at ADDR this run (its owner image,
 * NULL for model memory, and who freed it); 0 if none is remembered (the last
 * 64 frees) or in other builds. For a sanitizer's use-after-free report. */
int pool_freed_at(const void *addr, const struct tdf_image **owner, const tdf_teardown_t **freed_by);
/* A failure found outside the model (a sanitizer report) that names a dead
 * object: recorded as tdf_fail_dead does, with no abort (the process is
 * dying inside the sanitizer). */
void tdf_fail_external_dead(const tdf_dead_t *dead, const char *access_event, tdf_class_t cls, const char *name,
                            const char *where, const char *caller, const char *detail_fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* ---- who waits for whom (wait_graph.c) ------------------------------------------- */
/* What a thread about to block waits for, beyond the object it blocks on:
 * the deadlock report's wait-for edges. ke_wait_done clears it after the
 * wait. A rundown wait waits for the rundown's holders; a synchronous send
 * waits for the receiving device, which a stuck PnP or power callback of
 * that device keeps from completing it (its queues held, or its dispatch
 * stuck). No yield points: noting never changes a schedule. */
void ke_wait_for_rundown(const void *ref);
void ke_wait_for_device(const void *device, const char *role);
void ke_wait_done(void);
/* The thread enters a PnP or power callback of DEVICE, a device of the driver
 * IMAGE (wdf device.c, at each callback's trace event). */
void ke_device_callback(const void *device, const struct tdf_image *image, const char *callback);
void wait_graph_reset(void);
void wait_graph_slot_reset(int slot);
typedef enum wait_graph_kind {
    WAIT_GRAPH_NONE = 0, /* no stuck thread waits for another: the stuck frames are the key */
    WAIT_GRAPH_LOCKS,    /* lock waits and nothing else closes a cycle: lock_graph_describe */
    WAIT_GRAPH_CYCLE,    /* a wait cycle through a rundown or a send */
    WAIT_GRAPH_ROOTS,    /* no cycle: the stuck threads the others wait for */
} wait_graph_kind_t;
typedef struct wait_graph_report {
    char side[2][200]; /* the key's sides: CYCLE the cycle's frames, ROOTS the roots' (sorted) */
    char text[480];    /* each stuck thread, what it waits for and who holds that */
    char first[96];    /* the first side's frame: the headline's routine */
    int first_fiber;   /* a thread standing in it: the headline's thread */
} wait_graph_report_t;
wait_graph_kind_t wait_graph_describe(wait_graph_report_t *out);

/* ---- threads --------------------------------------------------------------------- */
/* The image whose PsCreateSystemThread made the thread (NULL: not such a thread). */
const struct tdf_image *ke_system_thread_image(int fiber);
void thread_reset(void);
void thread_slot_reset(int slot); /* sched_spawn reused the slot (image.c kernel_slot_reuse) */

/* ---- feedback (feedback.c) ------------------------------------------------------- */
/* 1 while the counters are kept: set by the first feedback_reset from
 * TDF_STATE_FEEDBACK (default on), 0 after feedback_disable. The calls below
 * test it inline: a run without feedback pays a load and a branch. */
extern int tdf_feedback_on;
void feedback_transition_hit(uint32_t role, uint32_t from, uint32_t to);
void feedback_pair_hit(const void *object, uint8_t op);
/* A state transition of some model entity, e.g. a device's lifecycle tuple. */
static inline void feedback_transition(uint32_t role, uint32_t from, uint32_t to)
{
    if (tdf_feedback_on && from != to)
        feedback_transition_hit(role, from, to);
}
/* An operation `op` on a shared object; a pair by two threads in a row counts. */
static inline void feedback_pair(const void *object, uint8_t op)
{
    if (tdf_feedback_on)
        feedback_pair_hit(object, op);
}
void feedback_reset(void);
/* For binaries without libFuzzer (the standalone runner): nothing reads the
 * counters, so none is kept. Runs are the same with or without them. */
void feedback_disable(void);
enum { FB_RUNDOWN_ACQUIRE = 1, FB_RUNDOWN_RELEASE, FB_RUNDOWN_WAIT, FB_RUNDOWN_REINIT, FB_EVENT_SET, FB_EVENT_WAIT,
       FB_LOCK_ACQUIRE, FB_LOCK_RELEASE, FB_INTERLOCKED, FB_SHARED_READ, FB_SHARED_WRITE, FB_REMLOCK_ACQUIRE,
       FB_REMLOCK_RELEASE, FB_REMLOCK_WAIT, FB_DPC_INSERT, FB_DPC_REMOVE, FB_DPC_FLUSH, FB_TIMER_SET,
       FB_TIMER_CANCEL, FB_TIMER_EXPIRE };

/* ---- DPCs and timers (dpc.c, ke_timer.c; KERNEL-SEMANTICS §8) ------------------- */
void dpc_reset(void);
void ke_timer_reset(void);
/* The current thread runs a DPC routine (a DPC processor at DISPATCH_LEVEL). */
int ke_in_dpc(void);
/* Every routine that can block calls this first: inside a DPC routine 0xB8
 * ATTEMPTED_SWITCH_FROM_DPC, above APC_LEVEL elsewhere 0xA IRQL_NOT_LESS_OR_EQUAL. */
void ke_check_may_wait(const char *routine);
/* The routines' bodies without their yield point, for the framework's objects. */
BOOLEAN ke_dpc_insert(PKDPC dpc, PVOID a1, PVOID a2);
BOOLEAN ke_dpc_remove(PKDPC dpc);
int ke_dpc_busy(PKDPC dpc); /* queued or running */
void ke_dpc_wait_one(PKDPC dpc, const char *what); /* until neither queued nor running */
BOOLEAN ke_timer_set(PKTIMER timer, LARGE_INTEGER due, LONG period, PKDPC dpc);
BOOLEAN ke_timer_cancel(PKTIMER timer);
/* Image unload (image.c): a queued KDPC / a set KTIMER of the image is 0xCE. */
void dpc_unload_check(struct tdf_image *img);
void ke_timer_unload_check(struct tdf_image *img);
/* Pool free (pool.c): freeing memory that holds a queued KDPC / set KTIMER is 0xC7. */
/* 0xC7 on a free of pool holding a queued KDPC / a set KTIMER; driver_free:
 * ExFreePool by the driver (else the framework's free of an object context),
 * for the free's teardown record (pool_note_free). */
void dpc_check_free(const void *p, size_t size, int driver_free);
void ke_timer_check_free(const void *p, size_t size, int driver_free);
const tdf_teardown_t *pool_note_free(int driver_free);
/* ke_yield's hook while a periodic timer waits for its next period. */
extern unsigned g_clock_waiting;
void ke_clock_step(void);
/* Wakes KeWaitForMultipleObjects waiters (a timer was signalled). */
void ke_wake_any_waiter(void);

/* harness.h's run-time error, also used by shim routines */
__attribute__((noreturn)) void TdfUnmodelled(const char *routine, const char *what);

/* ---- wide strings (strings.c): WCHAR is 2 bytes, libc's wcs* is not ------------ */
size_t tdf_wide_length(PCWSTR s);
int tdf_wide_equal(PCWSTR a, PCWSTR b);
/* `terminated` equals the `chars` characters at `counted` (a UNICODE_STRING's
 * Buffer, not terminated) and ends there. */
int tdf_wide_equal_counted(PCWSTR terminated, PCWSTR counted, size_t chars);
/* vsnprintf with the Windows kernel's conversions (%ws, %wZ, %I64x ...). */
size_t tdf_vformat_narrow(char *out, size_t cap, PCSTR format, va_list ap);
/* ---- system worker threads (work_queue.c) and lookaside lists (lookaside.c) ---- */
/* An item (driver WORK_QUEUE_ITEM or model IO_WORKITEM) is queued: 0xE4/0x1
 * if it is queued already; a worker thread runs fn(arg), which calls
 * work_queue_started(slot) before the routine and work_queue_finished(slot)
 * after it. Returns the slot (NULL: the run stopped). */
void *work_queue_submit(const void *item, const void *routine, const char *kind, sched_fiber_fn *fn, void *arg);
void work_queue_started(void *slot);
void work_queue_finished(void *slot);
int work_queue_item_active(const void *item, int *running); /* queued or its routine running */
/* The routine of the ExQueueWorkItem item whose routine `fiber` is running
 * (and the image that queued it), or NULL. */
const void *work_queue_running_ex_routine(int fiber, const struct tdf_image **img);
void work_queue_check_unload(struct tdf_image *img); /* 0xCE: an active item queued by img */
void work_queue_check_free(const void *p, size_t size); /* 0xE4/0x0: freeing pool holding an active item */
void work_queue_reset(void);
void lookaside_check_unload(struct tdf_image *img); /* 0xCE: a list img initialised and did not delete */
void lookaside_reset(void);
/* %p's stand-in addresses (strings.c): numbered afresh every run. */
void strings_reset(void);

/* ---- run-wide ----------------------------------------------------------------------- */
void kernel_reset(void);

#endif
