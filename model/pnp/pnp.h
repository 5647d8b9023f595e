/*
 * model/pnp: the OS side. The device tree, the PnP/power manager that turns
 * input events into per-device callback sequences in the kernel's order, the
 * stimuli (cross-calls) and one complete run of a target.
 */
#ifndef TDF_PNP_H
#define TDF_PNP_H

#include "../wdf/wdf_internal.h"

#define TDF_MAX_NODES 16
#define TDF_MAX_EVENTS 64
#define TDF_MAX_PARAMS 8

/* Generic events, then the target's stimuli (index TDF_EV_GENERIC_COUNT + i). */
typedef enum tdf_event_kind {
    TDF_EV_SURPRISE_REMOVE = 0, /* bus reports the device missing: SR, then REMOVE */
    TDF_EV_REMOVE,              /* orderly: QUERY_REMOVE (veto possible), REMOVE */
    TDF_EV_IDLE,                /* idle power-down: D0Exit(D3), leaves before parents */
    TDF_EV_WAKE,                /* back to D0: parents first */
    TDF_EV_ENABLE,              /* restart a removed device whose PDO is still present */
    TDF_EV_STOP,                /* rebalance: QUERY_STOP (veto possible), STOP, then restart */
    TDF_EV_SLEEP,               /* system S3 and back: every device D3 leaves first, then D0 parents first */
    TDF_EV_HIBERNATE,           /* system S4 and back: target state PrepareForHibernation */
    TDF_EV_REMOVE_VETOED,       /* a remove someone else vetoes: QUERY_REMOVE, then REMOVE_CANCELLED */
    TDF_EV_INTERRUPT,           /* the device raises its interrupt line: the ISR, if connected and enabled */
    TDF_EV_GENERIC_COUNT
} tdf_event_kind_t;

/* idle and wake: bit 7 of the argument says when the input's next event comes:
 * set, at once (its PnP work overlaps this power transition); clear, after the
 * transition has finished. Bits 0-6 pick the device. */
#define TDF_EV_ARG_OVERLAP 0x80u
/* A client's I/O stimulus (routine NULL): bit 7 set, the I/O is overlapped and
 * the client closes its handle right after sending (KERNEL-SEMANTICS §12);
 * bits 0-6 pick the device. */
#define TDF_STIM_ARG_OVERLAPPED 0x80u

typedef struct tdf_event {
    uint8_t kind; /* 0..TDF_EV_GENERIC_COUNT+stimuli-1 */
    uint8_t arg;  /* which device (modulo the live ones), or the stimulus argument */
} tdf_event_t;

/* A decoded input: what happens (params, events) and how it interleaves. */
typedef struct tdf_script {
    uint8_t params[TDF_MAX_PARAMS]; /* already in min..max */
    unsigned event_count;
    tdf_event_t events[TDF_MAX_EVENTS];
    sched_source_t schedule;
} tdf_script_t;

typedef struct tdf_run_options {
    unsigned variant;
    int full_trace;
    uint32_t step_cap;
    /* 1: the run records no trace (sched_config_t.no_trace): for execs whose
     * report nobody prints; a failure is run again with it 0 to be reported. */
    int no_trace;
} tdf_run_options_t;

typedef struct devnode {
    char name[24];
    wdf_device_t *pdo; /* NULL for root-enumerated devices */
    wdf_device_t *fdo; /* NULL until AddDevice, and after removal */
    struct devnode *parent;
    const tdf_image_desc_t *desc; /* driver for the FDO, NULL if none matches */
    PCWSTR hardware_id;           /* the ID it was enumerated with (a root's from the target) */
    int gone;                     /* PDO deleted (reported missing or parent removed) */
    /* One PnP or power transition of this stack at a time (pnp_manager.c,
     * node_lock): the fiber that holds it and how often (re-entered). */
    int lock_owner;
    unsigned lock_depth;
} devnode_t;

/* The target this binary was built with (TDF_TARGET in the target's file). */
extern const tdf_target_desc_t *const tdf_target;

const char *tdf_event_name(const tdf_target_desc_t *t, unsigned kind);
unsigned tdf_event_kind_count(const tdf_target_desc_t *t);

/* One exec: resets everything, runs the script, returns the failure class
 * (TDF_CLASS_NONE if none; details in tdf_failure()). */
tdf_class_t tdf_run(const tdf_target_desc_t *t, const tdf_script_t *script, const tdf_run_options_t *opts);

/* For reports: the device tree's state at the end of the run. */
unsigned pnp_node_count(void);
const devnode_t *pnp_node(unsigned i);
const char *pnp_state_name(pnp_state_t s);
const char *pnp_power_name(WDF_POWER_DEVICE_STATE s);

#endif
