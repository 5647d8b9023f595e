/*
 * --trace_json=FILE: one run as JSON (docs/REPORTS.md "The trace as JSON").
 *
 * Written after the run from what it recorded: the full trace (each event's
 * format and arguments), the fiber table, the device tree and the failure.
 * Nothing here runs on the exec path. The states it reports along the run
 * (a device's PnP/power state, an image's, a rundown's count) are what the
 * trace events say, replayed in order: the model keeps no history of its
 * objects, so a state the trace does not carry is absent, never guessed.
 *
 * Deterministic: the same run writes the same bytes in every build (no
 * addresses, times or pointer values; strings come from the trace's own
 * arguments, which are names and counters).
 */
#define _GNU_SOURCE /* open_memstream */
#include "trace_json.h"

#include <stdlib.h>
#include <string.h>

#include "../model/kernel/image.h"
#include "../model/pnp/pnp.h"

/* ---- JSON output ------------------------------------------------------------- */
/* A string with every byte that is not printable ASCII as \u00XX: the output
 * is valid JSON (and UTF-8) whatever bytes a path or a name holds. */
static void jstr_n(FILE *o, const char *s, size_t n)
{
    fputc('"', o);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(o, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", o);
        else if (c == '\t')
            fputs("\\t", o);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(o, "\\u%04x", c);
        else
            fputc(c, o);
    }
    fputc('"', o);
}
static void jstr(FILE *o, const char *s)
{
    if (s)
        jstr_n(o, s, strlen(s));
    else
        fputs("null", o);
}

/* ---- one event's arguments, typed from its format ----------------------------- */
typedef struct targs {
    int n;
    char type[4]; /* 's' string, 'd' signed, 'u' unsigned, 'x' hex */
} targs_t;

static targs_t parse_fmt(const char *fmt)
{
    targs_t t = {0};
    for (const char *p = fmt; *p && t.n < 4; p++) {
        if (*p != '%')
            continue;
        p++;
        if (*p == '%')
            continue;
        while (*p && strchr("-+ #0123456789.", *p))
            p++;
        while (*p == 'l' || *p == 'z' || *p == 'h')
            p++;
        if (!*p)
            break;
        t.type[t.n++] = *p == 's' ? 's' : *p == 'x' || *p == 'X' ? 'x' : *p == 'd' || *p == 'i' ? 'd' : 'u';
    }
    return t;
}

static const char *arg_str(const sched_trace_event_t *ev, const targs_t *t, int k)
{
    return k < t->n && t->type[k] == 's' && ev->arg[k] ? (const char *)ev->arg[k] : NULL;
}

/* ---- the states the trace carries ---------------------------------------------- */
/* Fixed tables: a run has at most TDF_MAX_NODES devnodes (two device objects
 * each), a few images and rundown owners. Past a table's size an object is
 * not tracked and the JSON says so ("untracked"). */
#define MAX_DEV 48
#define MAX_IMG 32
#define MAX_RD 32

typedef struct dev_state {
    char name[40];
    const char *pnp;   /* the last PnP transition the trace shows */
    char power[32];    /* D0, D3Final, ... ("" unknown) */
    uint32_t since;    /* step of that transition */
} dev_state_t;

typedef struct img_state {
    char name[40];
    char state[40]; /* loaded (load #n), unloading, unloaded */
} img_state_t;

typedef struct rd_state {
    char owner[128];  /* the rundown's owner when the event names it (rundown.c's text), else "" */
    char state[48];   /* active, n held / running down / run down */
} rd_state_t;

typedef struct world {
    dev_state_t dev[MAX_DEV];
    unsigned ndev;
    img_state_t img[MAX_IMG];
    unsigned nimg;
    rd_state_t rd[MAX_RD];
    unsigned nrd;
    int untracked;
} world_t;

static dev_state_t *dev_get(world_t *w, const char *name)
{
    for (unsigned i = 0; i < w->ndev; i++)
        if (strcmp(w->dev[i].name, name) == 0)
            return &w->dev[i];
    if (w->ndev == MAX_DEV) {
        w->untracked = 1;
        return NULL;
    }
    dev_state_t *d = &w->dev[w->ndev++];
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    d->pnp = "created";
    return d;
}

static img_state_t *img_get(world_t *w, const char *name)
{
    for (unsigned i = 0; i < w->nimg; i++)
        if (strcmp(w->img[i].name, name) == 0)
            return &w->img[i];
    if (w->nimg == MAX_IMG) {
        w->untracked = 1;
        return NULL;
    }
    img_state_t *m = &w->img[w->nimg++];
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->state, sizeof m->state, "not loaded");
    return m;
}

static img_state_t *img_find(world_t *w, const char *name)
{
    for (unsigned i = 0; i < w->nimg; i++)
        if (strcmp(w->img[i].name, name) == 0)
            return &w->img[i];
    return NULL;
}

static rd_state_t *rd_get(world_t *w, const char *owner)
{
    for (unsigned i = 0; i < w->nrd; i++)
        if (strcmp(w->rd[i].owner, owner) == 0)
            return &w->rd[i];
    if (w->nrd == MAX_RD) {
        w->untracked = 1;
        return NULL;
    }
    rd_state_t *r = &w->rd[w->nrd++];
    memset(r, 0, sizeof *r);
    snprintf(r->owner, sizeof r->owner, "%s", owner);
    return r;
}

/* A device object's name as the model writes it: "<devnode>/FDO" or "/PDO". */
static int is_device_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 4 && (strcmp(s + n - 4, "/FDO") == 0 || strcmp(s + n - 4, "/PDO") == 0);
}

/* The PnP transition a device callback stands for (NULL: none), and the
 * power state it leaves the device in ("" unchanged). Callback names are
 * KMDF's (model/wdf/device.c traces each as "<device>: <callback>"). */
static const char *callback_pnp(const char *cb, const char **power)
{
    static const struct {
        const char *cb, *pnp, *power;
    } map[] = {
        {"EvtDevicePrepareHardware", "hardware prepared", ""},
        {"EvtDeviceD0Entry", NULL, "D0"},
        {"EvtDeviceSelfManagedIoInit", "started", ""},
        {"EvtDeviceSelfManagedIoRestart", "started", ""},
        {"EvtDeviceSelfManagedIoSuspend", "I/O suspended", ""},
        {"EvtDeviceQueryRemove", "query-remove", ""},
        {"EvtDeviceQueryStop", "query-stop", ""},
        {"EvtDeviceSurpriseRemoval", "surprise-removed", ""},
        {"EvtDeviceReleaseHardware", "hardware released", ""},
        {"EvtDeviceSelfManagedIoFlush", "I/O flushed", ""},
        {"EvtDeviceSelfManagedIoCleanup", "I/O cleaned up", ""},
        {"deleted", "deleted", ""},
    };
    *power = "";
    for (unsigned i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(cb, map[i].cb) == 0) {
            *power = map[i].power;
            return map[i].pnp;
        }
    return NULL;
}

/* ---- per-event description -------------------------------------------------- */
typedef struct event_info {
    const char *kind; /* call, pnp, power, interrupt, hardware, memory, image, rundown, lock, sync, thread, input,
                         deferred, request, failure, other */
    char op[64];      /* the operation: a callback, a routine, the API called */
    char object[128]; /* what it acts on: a device, image!Routine, an image, a rundown's owner ("" none) */
    char owner[48];   /* the object's owner: the driver of a device or routine ("" unknown) */
    char state[224];  /* the object's state after the event ("" none carried) */
    int changed;      /* the world changed with this event */
} event_info_t;

static int starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* The driver of a device object: a PDO's is its parent's FDO driver, an FDO's
 * its devnode's; both as the device tree knows them at the end of the run. */
static void device_owner(const char *dev, char *out, size_t size)
{
    out[0] = 0;
    size_t n = strlen(dev);
    if (n < 5)
        return;
    int pdo = strcmp(dev + n - 4, "/PDO") == 0;
    for (unsigned i = 0; i < pnp_node_count(); i++) {
        const devnode_t *d = pnp_node(i);
        if (strlen(d->name) != n - 4 || strncmp(d->name, dev, n - 4) != 0)
            continue;
        const devnode_t *who = pdo ? d->parent : d;
        if (pdo && !d->parent)
            snprintf(out, size, "pnp (root)");
        else if (who && who->desc && who->desc->image)
            snprintf(out, size, "%s", who->desc->image->name);
        return;
    }
}

/* Fills *e for one event and applies it to the world. */
static void describe(world_t *w, const sched_trace_event_t *ev, const char *text, event_info_t *e)
{
    const char *f = ev->fmt;
    targs_t t = parse_fmt(f);
    const char *a0 = arg_str(ev, &t, 0), *a1 = arg_str(ev, &t, 1);
    memset(e, 0, sizeof *e);
    e->kind = "other";
    /* op: the text up to the first " -> ", " (", " [" or ": " past a leading device name. */
    const char *body = text;
    if (a0 && is_device_name(a0) && starts(f, "%s: "))
        body = text + strlen(a0) + 2;
    size_t cut = strcspn(body, "(["); /* "[...]": whose object (a rundown's owner) */
    const char *arrow = strstr(body, " -> ");
    if (arrow && (size_t)(arrow - body) < cut)
        cut = (size_t)(arrow - body);
    if (starts(f, "-> "))
        cut = strlen(body);
    snprintf(e->op, sizeof e->op, "%.*s", (int)(cut < 63 ? cut : 63), body);
    while (e->op[0] && e->op[strlen(e->op) - 1] == ' ')
        e->op[strlen(e->op) - 1] = 0;

    if (starts(f, "!! ")) {
        e->kind = "failure";
    } else if (starts(f, "-> %s!%s") && a0 && a1) {
        e->kind = "call";
        snprintf(e->op, sizeof e->op, "call %s", a1);
        snprintf(e->object, sizeof e->object, "%s!%s", a0, a1);
        snprintf(e->owner, sizeof e->owner, "%s", a0);
        img_state_t *m = img_find(w, a0);
        if (m)
            snprintf(e->state, sizeof e->state, "image %s: %s", a0, m->state);
    } else if (starts(f, "load image %s") && a0) {
        e->kind = "image";
        img_state_t *m = img_get(w, a0);
        if (m)
            snprintf(m->state, sizeof m->state, "loaded (load #%lu)", (unsigned long)ev->arg[1]);
        snprintf(e->object, sizeof e->object, "%s", a0);
        snprintf(e->owner, sizeof e->owner, "%s", a0);
        e->changed = 1;
    } else if (starts(f, "unloading driver %s") && a0) {
        e->kind = "image";
        img_state_t *m = img_get(w, a0);
        if (m)
            snprintf(m->state, sizeof m->state, "unloading");
        snprintf(e->object, sizeof e->object, "%s", a0);
        snprintf(e->owner, sizeof e->owner, "%s", a0);
        e->changed = 1;
    } else if (starts(f, "unload image %s") && a0) {
        e->kind = "image";
        img_state_t *m = img_get(w, a0);
        if (m)
            snprintf(m->state, sizeof m->state, "unloaded");
        snprintf(e->object, sizeof e->object, "%s", a0);
        snprintf(e->owner, sizeof e->owner, "%s", a0);
        e->changed = 1;
    } else if (starts(f, "DriverEntry %s") && a0) {
        e->kind = "image";
        snprintf(e->object, sizeof e->object, "%s", a0);
        snprintf(e->owner, sizeof e->owner, "%s", a0);
    } else if (starts(f, "rundown")) {
        /* Whose rundown: the event's string argument (model/kernel/rundown.c),
         * "child0/FDO context CHILD_CONTEXT+0x58 (child)": the device whose
         * context holds it, the context type and offset, the driver. */
        e->kind = "rundown";
        const char *who = NULL;
        for (int k = 0; k < t.n && !who; k++)
            who = arg_str(ev, &t, k);
        rd_state_t *r = rd_get(w, who ? who : "");
        unsigned long held = 0;
        int has_count = 0;
        for (int k = 0; k < t.n; k++)
            if (t.type[k] == 'u')
                held = (unsigned long)ev->arg[k], has_count = 1;
        if (r) {
            if (strstr(f, "-> FALSE"))
                ; /* refused: the state stays (run down or running down) */
            else if (strstr(f, "reinit"))
                snprintf(r->state, sizeof r->state, "active, 0 held");
            else if (strstr(f, "to drain") && has_count)
                snprintf(r->state, sizeof r->state, "running down, %lu held", held);
            else if (strstr(f, "run down"))
                snprintf(r->state, sizeof r->state, "run down");
            else if (strstr(f, "waiter pending") && has_count)
                snprintf(r->state, sizeof r->state, "running down, %lu held", held);
            else if (has_count)
                snprintf(r->state, sizeof r->state, "active, %lu held", held);
            snprintf(e->state, sizeof e->state, "rundown%s%s: %s", r->owner[0] ? " of " : "", r->owner,
                     r->state[0] ? r->state : "state not in the trace");
            e->changed = 1;
        }
        snprintf(e->object, sizeof e->object, "%s", who ? who : "rundown");
        /* The owner: the driver named last, in the parentheses. */
        const char *open = who ? strrchr(who, '(') : NULL;
        if (open && who[strlen(who) - 1] == ')')
            snprintf(e->owner, sizeof e->owner, "%.*s", (int)(strlen(open) - 2), open + 1);
    } else if ((starts(f, "MmMapIoSpaceEx %s") || starts(f, "MmUnmapIoSpace %s")) && a0) {
        e->kind = "hardware";
        snprintf(e->object, sizeof e->object, "%s registers", a0);
        device_owner(a0, e->owner, sizeof e->owner);
        dev_state_t *d = is_device_name(a0) ? dev_get(w, a0) : NULL;
        if (d)
            snprintf(e->state, sizeof e->state, "%s %s, %s", a0, d->pnp, d->power[0] ? d->power : "power unknown");
    } else if (starts(f, "WdfDeviceCreate %s (%s)") && a0 && a1) {
        /* "WdfDeviceCreate FDO (bus)": the kind and the creating driver; the
         * device's own name appears with its first callback. */
        e->kind = "pnp";
        snprintf(e->object, sizeof e->object, "%s of %s", a0, a1);
        snprintf(e->owner, sizeof e->owner, "%s", a1);
    } else if (starts(f, "enumerated %s") && a0) {
        e->kind = "pnp";
        snprintf(e->object, sizeof e->object, "%s", a0);
    } else if (starts(f, "Read") || starts(f, "Write") || starts(f, "Interlocked")) {
        e->kind = "memory";
    } else if (starts(f, "%s: ") && a0 && is_device_name(a0)) {
        const char *power = "";
        const char *pnp = strcmp(f, "%s: %s") == 0 && a1 ? callback_pnp(a1, &power) : NULL;
        e->kind = strstr(f, "Interrupt") ? "interrupt" : (power[0] || (a1 && strstr(a1, "D0"))) ? "power" : "pnp";
        snprintf(e->object, sizeof e->object, "%s", a0);
        device_owner(a0, e->owner, sizeof e->owner);
        dev_state_t *d = dev_get(w, a0);
        if (d && a1 && strcmp(f, "%s: %s") == 0 && starts(a1, "EvtDeviceD0Exit(")) {
            /* "EvtDeviceD0Exit(D3Final)": the target state is in the name. */
            const char *p = a1 + strlen("EvtDeviceD0Exit(");
            snprintf(d->power, sizeof d->power, "%.*s", (int)strcspn(p, ")"), p);
            d->since = ev->step;
            e->kind = "power";
            e->changed = 1;
        } else if (d && (pnp || power[0])) {
            if (pnp)
                d->pnp = pnp;
            if (power[0])
                snprintf(d->power, sizeof d->power, "%s", power);
            d->since = ev->step;
            e->changed = 1;
        }
        if (d)
            snprintf(e->state, sizeof e->state, "%s %s, %s", a0, d->pnp, d->power[0] ? d->power : "power unknown");
    } else if (starts(f, "event ") || starts(f, "stimulus ") || starts(f, "end of events") || starts(f, "system ") ||
               starts(f, "power policy") || starts(f, "power request") || starts(f, "next event")) {
        e->kind = "input";
        const char *obj = starts(f, "stimulus ") ? a1 : starts(f, "event %s %s") ? a1 : NULL;
        if (obj)
            snprintf(e->object, sizeof e->object, "%s", obj);
    } else if (starts(f, "PsCreateSystemThread") || starts(f, "thread exits") || starts(f, "PsTerminateSystemThread")) {
        e->kind = "thread";
        if (a0)
            snprintf(e->object, sizeof e->object, "%s", a0);
    } else if (strstr(f, "SpinLock") || strstr(f, "FastMutex") || strstr(f, "AcquireLock") || strstr(f, "ReleaseLock") ||
               strstr(f, "RemoveLock") || strstr(f, "callback lock")) {
        e->kind = "lock";
    } else if (starts(f, "Ke") || starts(f, "wait timed out")) {
        e->kind = "sync";
    } else if (strstr(f, "DPC") || strstr(f, "Dpc") || strstr(f, "Timer") || strstr(f, "timer") ||
               strstr(f, "WorkItem") || strstr(f, "queued") || strstr(f, "deferred")) {
        e->kind = "deferred";
    } else if (strstr(f, "Request") || strstr(f, "request") || strstr(f, "Cancel") || strstr(f, "cancel") ||
               strstr(f, "IoTarget") || strstr(f, "IRP_MJ")) {
        e->kind = "request";
    }
    if (!e->object[0] && a0 && is_device_name(a0)) {
        snprintf(e->object, sizeof e->object, "%s", a0);
        device_owner(a0, e->owner, sizeof e->owner);
    }
}

/* ---- lanes ------------------------------------------------------------------- */
typedef struct lane {
    int fiber;            /* -1: the main (harness) context */
    unsigned events;
    char device[40];      /* the device whose callback created the thread, or a stimulus's device ("" none) */
    int input_event;      /* a stimulus thread: the input event it runs (-1 none) */
    char label[128];
    const char *role;
} lane_t;

static const char *fiber_role(int f)
{
    if (f < 0)
        return "harness";
    const char *owner = sched_fiber_owner(f), *name = sched_fiber_name(f);
    if (owner && strcmp(owner, "pnp-manager") == 0)
        return "PnP manager";
    if (sched_fiber_is_daemon(f))
        return "kernel (daemon)";
    for (unsigned s = 0; s < tdf_target->stimulus_count; s++)
        if (strcmp(tdf_target->stimuli[s].name, name) == 0)
            return "stimulus";
    if (starts(name, "power"))
        return "power policy";
    return "system thread";
}

/* ---- the whole object --------------------------------------------------------- */
static void write_events(FILE *o, const tdf_script_t *s, const int *event_at, size_t nev)
{
    fputs(",\n\"input_events\": [", o);
    unsigned kinds = tdf_event_kind_count(tdf_target);
    for (unsigned i = 0; i < s->event_count; i++) {
        const tdf_event_t *ev = &s->events[i];
        int at = event_at[i];
        int next = -1;
        for (unsigned k = i + 1; k <= s->event_count && next < 0; k++)
            next = event_at[k];
        fprintf(o, "%s\n  {\"index\": %u, \"name\": ", i ? "," : "", i);
        jstr(o, tdf_event_name(tdf_target, ev->kind % kinds));
        fprintf(o, ", \"arg\": %u", ev->arg);
        if (at < 0) {
            fputs(", \"reached\": false, \"first\": null, \"last\": null, \"step\": null, \"text\": null}", o);
            continue;
        }
        const sched_trace_event_t *te = sched_trace_at((size_t)at);
        char text[200];
        sched_trace_format(te, text, sizeof text);
        int last = next >= 0 ? next - 1 : (int)nev - 1;
        fprintf(o, ", \"reached\": true, \"first\": %d, \"last\": %d, \"step\": %lu, \"text\": ", at, last,
                (unsigned long)te->step);
        jstr(o, text);
        fputs(", \"skipped\": ", o);
        fputs(strstr(te->fmt, "skipped") ? "true" : "false", o);
        fputc('}', o);
    }
    fputs("\n]", o);
}

/* The trace event a failure-pair step names: the last event of that fiber at
 * that step (the access is traced just before the oracle's "!!" line), else
 * the last event of the fiber before it; -1 when the fiber has none. */
static long event_at_step(uint32_t step, int fiber)
{
    long best = -1;
    for (size_t i = 0; i < sched_trace_count(); i++) {
        const sched_trace_event_t *ev = sched_trace_at(i);
        if (ev->step > step)
            break;
        if (ev->fiber == fiber)
            best = (long)i;
    }
    return best;
}

static void write_failure(FILE *o, const lane_t *lanes, int nlanes)
{
    const tdf_failure_t *f = tdf_failure();
    fputs(",\n\"failure\": ", o);
    if (!f) {
        fputs("null", o);
        return;
    }
    char sig[320], code[32] = "", stack[400] = "";
    tdf_failure_signature(f, sig, sizeof sig);
    if (f->code)
        snprintf(code, sizeof code, f->subcode ? "0x%X/0x%X" : "0x%X", f->code, f->subcode);
    if (f->fiber >= 0)
        image_fiber_stack(f->fiber, stack, sizeof stack);
    int lane = -1;
    for (int l = 0; l < nlanes; l++)
        if (lanes[l].fiber == f->fiber)
            lane = l;
    fputs("{\"class\": ", o);
    jstr(o, tdf_class_name(f->cls));
    fputs(", \"code\": ", o);
    jstr(o, code[0] ? code : NULL);
    fputs(", \"name\": ", o);
    jstr(o, f->name);
    fputs(", \"where\": ", o);
    jstr(o, f->where);
    fputs(", \"other_side\": ", o);
    jstr(o, f->caller);
    fputs(", \"signature\": ", o);
    jstr(o, sig);
    fputs(", \"detail\": ", o);
    jstr(o, f->detail);
    fprintf(o, ", \"step\": %lu, \"fiber\": %d, \"lane\": %d, \"event\": %ld, \"stack\": ", (unsigned long)f->step,
            f->fiber, lane, f->fiber >= -1 ? event_at_step(f->step, f->fiber) : -1L);
    jstr(o, stack);
    /* The fatal pair (docs/REPORTS.md "Fatal pair"): each side's trace event
     * is its index in this trace (trace_index counts from the run's first
     * event; the full trace starts there). */
    fputs(",\n  \"fatal_pair\": {\"object\": ", o);
    if (f->obj_kind == TDF_OBJ_NONE) {
        fputs("null", o);
    } else {
        fputs("{\"kind\": ", o);
        jstr(o, tdf_obj_kind_name(f->obj_kind));
        fputs(", \"owner\": ", o);
        jstr(o, f->obj_owner);
        fputs(", \"text\": ", o);
        jstr(o, f->obj_text);
        fputc('}', o);
    }
    uint64_t base = sched_trace_total() - sched_trace_count();
    const tdf_pair_side_t *sides[2] = {&f->access, &f->teardown};
    for (int k = 0; k < 2; k++) {
        const tdf_pair_side_t *sd = sides[k];
        fprintf(o, ", \"%s\": ", k ? "teardown" : "access");
        if (!sd->present) {
            fputs("null", o);
            continue;
        }
        long ev = sd->trace_index != UINT64_MAX && sd->trace_index >= base && sd->trace_index - base < sched_trace_count()
                      ? (long)(sd->trace_index - base)
                      : -1L;
        int sl = -1;
        for (int l = 0; l < nlanes; l++)
            if (lanes[l].fiber == sd->fiber)
                sl = l;
        fprintf(o, "{\"step\": %lu, \"fiber\": %d, \"lane\": %d, \"trace_event\": %ld, \"frame\": ",
                (unsigned long)sd->step, sd->fiber, sl, ev);
        jstr(o, sd->frame[0] ? sd->frame : NULL);
        fputs(", \"what\": ", o);
        jstr(o, sd->event[0] ? sd->event : NULL);
        fputc('}', o);
    }
    fputs(", \"lock_cycle\": ", o);
    jstr(o, f->lock_cycle[0] ? f->lock_cycle : NULL);
    fputs("}}", o);
}

int tdf_write_trace_json(FILE *o, const tdf_trace_json_run_t *run)
{
    ke_rundown_owners_final(); /* the devices' final names (kernel.h) */
    size_t nev = sched_trace_count();
    int nfib = sched_fiber_count();
    /* Lanes: the main context only when it recorded something, then every fiber. */
    lane_t *lanes = calloc((size_t)nfib + 1, sizeof *lanes);
    int *lane_of = calloc((size_t)nfib + 2, sizeof *lane_of); /* fiber+1 -> lane */
    int *event_at = malloc(((size_t)run->script->event_count + 1) * sizeof *event_at);
    world_t *w = calloc(1, sizeof *w);
    if (!lanes || !lane_of || !event_at || !w)
        abort();
    int main_events = 0;
    for (size_t i = 0; i < nev; i++)
        main_events += sched_trace_at(i)->fiber < 0;
    int nlanes = 0;
    if (main_events)
        lanes[nlanes] = (lane_t){.fiber = -1, .input_event = -1}, lane_of[0] = nlanes++;
    for (int fb = 0; fb < nfib; fb++)
        lanes[nlanes] = (lane_t){.fiber = fb, .input_event = -1}, lane_of[fb + 1] = nlanes++;

    /* The device each thread was created for: the device whose callback the
     * creating fiber was in at its PsCreateSystemThread (threads of one name
     * are created in fiber-id order, so the k-th creation is the k-th fiber). */
    {
        char *cur = calloc((size_t)nfib + 1, 40);
        int *taken = calloc((size_t)nfib + 1, sizeof *taken);
        if (!cur || !taken)
            abort();
        for (size_t i = 0; i < nev; i++) {
            const sched_trace_event_t *ev = sched_trace_at(i);
            targs_t t = parse_fmt(ev->fmt);
            const char *a0 = arg_str(ev, &t, 0);
            int fi = ev->fiber + 1;
            if (ev->fiber >= 0 && starts(ev->fmt, "%s: ") && a0 && is_device_name(a0))
                snprintf(cur + 40 * fi, 40, "%s", a0);
            if (starts(ev->fmt, "PsCreateSystemThread %s") && a0)
                for (int fb = 0; fb < nfib; fb++)
                    if (!taken[fb] && strcmp(sched_fiber_name(fb), a0) == 0) {
                        taken[fb] = 1;
                        snprintf(lanes[lane_of[fb + 1]].device, sizeof lanes[0].device, "%s", cur + 40 * fi);
                        break;
                    }
        }
        free(cur);
        free(taken);
    }
    /* Which trace event delivered each input event: apply() traces exactly
     * one of these four first (model/pnp/pnp_manager.c); "end of events"
     * closes the last one. */
    unsigned next_input = 0;
    for (unsigned i = 0; i <= run->script->event_count; i++)
        event_at[i] = -1;
    for (size_t i = 0; i < nev; i++) {
        const sched_trace_event_t *ev = sched_trace_at(i);
        const char *f = ev->fmt;
        int opens = strcmp(f, "event %s %s") == 0 || strcmp(f, "event %s: skipped (no device)") == 0 ||
                    strcmp(f, "stimulus %s -> %s") == 0 ||
                    strcmp(f, "event %s: skipped (no started device of that driver)") == 0;
        if (opens && next_input < run->script->event_count)
            event_at[next_input++] = (int)i;
        if (strcmp(f, "end of events: removing every device") == 0)
            event_at[run->script->event_count] = (int)i;
    }

    /* A stimulus thread runs one input event: the k-th delivery of a stimulus
     * spawns the k-th thread of that name (deliver_stimulus, in order). */
    {
        int *taken = calloc((size_t)nfib + 1, sizeof *taken);
        if (!taken)
            abort();
        for (unsigned k = 0; k < run->script->event_count; k++) {
            if (event_at[k] < 0)
                continue;
            const sched_trace_event_t *ev = sched_trace_at((size_t)event_at[k]);
            targs_t t = parse_fmt(ev->fmt);
            const char *name = arg_str(ev, &t, 0), *dev = arg_str(ev, &t, 1);
            if (strcmp(ev->fmt, "stimulus %s -> %s") != 0 || !name)
                continue;
            for (int fb = 0; fb < nfib; fb++)
                if (!taken[fb] && strcmp(sched_fiber_name(fb), name) == 0 && strcmp(fiber_role(fb), "stimulus") == 0) {
                    taken[fb] = 1;
                    lanes[lane_of[fb + 1]].input_event = (int)k;
                    snprintf(lanes[lane_of[fb + 1]].device, sizeof lanes[0].device, "%s", dev ? dev : "");
                    break;
                }
        }
        free(taken);
    }
    for (int l = 0; l < nlanes; l++) {
        lane_t *L = &lanes[l];
        L->role = fiber_role(L->fiber);
        snprintf(L->label, sizeof L->label, "%s [%s]", L->fiber < 0 ? "main" : sched_fiber_name(L->fiber),
                 L->fiber < 0 ? "harness" : sched_fiber_owner(L->fiber));
    }
    /* Two lanes with one label: the device that created the thread tells
     * them apart, else the fiber id. */
    {
        char base[128];
        for (int l = 0; l < nlanes; l++) {
            int dup = 0;
            for (int k = 0; k < nlanes; k++)
                dup |= k != l && strcmp(lanes[k].label, lanes[l].label) == 0;
            if (!dup)
                continue;
            snprintf(base, sizeof base, "%s", lanes[l].label);
            for (int k = l; k < nlanes; k++)
                if (strcmp(lanes[k].label, base) == 0) {
                    char tail[80];
                    if (lanes[k].input_event >= 0)
                        snprintf(tail, sizeof tail, " of input event #%d", lanes[k].input_event);
                    else if (lanes[k].device[0])
                        snprintf(tail, sizeof tail, " for %s", lanes[k].device);
                    else
                        snprintf(tail, sizeof tail, " #%d", lanes[k].fiber);
                    strncat(lanes[k].label, tail, sizeof lanes[k].label - strlen(lanes[k].label) - 1);
                }
        }
    }

    fputs("{\"schema\": \"teardown-fuzz-trace/1\",\n\"target\": ", o);
    jstr(o, tdf_target->name);
    fputs(", \"variant\": ", o);
    jstr(o, run->variant);
    fputs(", \"input\": ", o);
    jstr(o, run->input_path);
    {
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        if (!mem)
            abort();
        tdf_write_text(tdf_target, run->script, mem);
        fclose(mem);
        fputs(",\n\"input_text\": ", o);
        jstr_n(o, text, len);
        free(text);
    }
    const tdf_failure_t *fail = tdf_failure();
    fprintf(o, ",\n\"result\": {\"class\": ");
    jstr(o, fail ? tdf_class_name(fail->cls) : "NONE");
    fprintf(o, ", \"exit\": %d, \"steps\": %lu, \"events\": %zu}", run->exit_code, (unsigned long)sched_steps(), nev);

    /* Steps and states in one pass; the lanes' event counts with them. */
    char *steps_buf = NULL;
    size_t steps_len = 0;
    FILE *so = open_memstream(&steps_buf, &steps_len);
    char *world_buf = NULL;
    size_t world_len = 0;
    FILE *wo = open_memstream(&world_buf, &world_len);
    if (!so || !wo)
        abort();
    int snapshots = 0;
    for (size_t i = 0; i < nev; i++) {
        const sched_trace_event_t *ev = sched_trace_at(i);
        char text[200];
        sched_trace_format(ev, text, sizeof text);
        event_info_t e;
        describe(w, ev, text, &e);
        int lane = lane_of[ev->fiber + 1];
        lanes[lane].events++;
        if (e.changed || i == 0) {
            fprintf(wo, "%s\n  {\"from\": %zu, \"step\": %lu, \"devices\": [", snapshots ? "," : "", i,
                    (unsigned long)ev->step);
            for (unsigned d = 0; d < w->ndev; d++) {
                fprintf(wo, "%s{\"name\": ", d ? ", " : "");
                jstr(wo, w->dev[d].name);
                fputs(", \"pnp\": ", wo);
                jstr(wo, w->dev[d].pnp);
                fputs(", \"power\": ", wo);
                jstr(wo, w->dev[d].power[0] ? w->dev[d].power : NULL);
                fprintf(wo, ", \"since\": %lu}", (unsigned long)w->dev[d].since);
            }
            fputs("], \"images\": [", wo);
            for (unsigned m = 0; m < w->nimg; m++) {
                fprintf(wo, "%s{\"name\": ", m ? ", " : "");
                jstr(wo, w->img[m].name);
                fputs(", \"state\": ", wo);
                jstr(wo, w->img[m].state);
                fputc('}', wo);
            }
            fputs("], \"rundowns\": [", wo);
            for (unsigned r = 0; r < w->nrd; r++) {
                fprintf(wo, "%s{\"owner\": ", r ? ", " : "");
                jstr(wo, w->rd[r].owner[0] ? w->rd[r].owner : NULL);
                fputs(", \"state\": ", wo);
                jstr(wo, w->rd[r].state[0] ? w->rd[r].state : NULL);
                fputc('}', wo);
            }
            fputs("]}", wo);
            snapshots++;
        }
        fprintf(so, "%s\n  {\"i\": %zu, \"step\": %lu, \"lane\": %d, \"fiber\": %d, \"kind\": ", i ? "," : "", i,
                (unsigned long)ev->step, lane, ev->fiber);
        jstr(so, e.kind);
        fputs(", \"op\": ", so);
        jstr(so, e.op);
        fputs(", \"object\": ", so);
        jstr(so, e.object[0] ? e.object : NULL);
        fputs(", \"owner\": ", so);
        jstr(so, e.owner[0] ? e.owner : NULL);
        fputs(", \"state\": ", so);
        jstr(so, e.state[0] ? e.state : NULL);
        fprintf(so, ", \"world\": %d, \"text\": ", snapshots - 1);
        jstr(so, text);
        fputs(", \"fmt\": ", so);
        jstr(so, ev->fmt);
        fputs(", \"args\": [", so);
        targs_t t = parse_fmt(ev->fmt);
        for (int k = 0; k < t.n; k++) {
            if (k)
                fputs(", ", so);
            if (t.type[k] == 's')
                jstr(so, (const char *)ev->arg[k]);
            else if (t.type[k] == 'd')
                fprintf(so, "%ld", (long)ev->arg[k]);
            else
                fprintf(so, "%lu", (unsigned long)ev->arg[k]);
        }
        fputs("]}", so);
    }
    fclose(so);
    fclose(wo);

    fputs(",\n\"lanes\": [", o);
    for (int l = 0; l < nlanes; l++) {
        const lane_t *L = &lanes[l];
        static const char *const st[] = {"free", "runnable", "blocked", "done"};
        char stack[400] = "";
        const char *why = NULL;
        if (L->fiber >= 0) {
            image_fiber_stack(L->fiber, stack, sizeof stack);
            why = sched_fiber_wait_reason(L->fiber);
        }
        fprintf(o, "%s\n  {\"lane\": %d, \"fiber\": %d, \"name\": ", l ? "," : "", l, L->fiber);
        jstr(o, L->fiber < 0 ? "main" : sched_fiber_name(L->fiber));
        fputs(", \"driver\": ", o);
        jstr(o, L->fiber < 0 ? "harness" : sched_fiber_owner(L->fiber));
        fputs(", \"role\": ", o);
        jstr(o, L->role);
        fputs(", \"device\": ", o);
        jstr(o, L->device[0] ? L->device : NULL);
        fprintf(o, ", \"input_event\": %d", L->input_event);
        fputs(", \"label\": ", o);
        jstr(o, L->label);
        fprintf(o, ", \"events\": %u, \"end_state\": ", L->events);
        jstr(o, L->fiber < 0 ? "done" : st[sched_fiber_state(L->fiber)]);
        fputs(", \"waiting_on\": ", o);
        jstr(o, why);
        fputs(", \"stack\": ", o);
        jstr(o, L->fiber < 0 ? NULL : stack);
        fputc('}', o);
    }
    fputs("\n]", o);
    write_events(o, run->script, event_at, nev);
    fprintf(o, ",\n\"shutdown\": %d", event_at[run->script->event_count]);
    fputs(",\n\"steps\": [", o);
    fwrite(steps_buf, 1, steps_len, o);
    fputs("\n],\n\"worlds\": [", o);
    fwrite(world_buf, 1, world_len, o);
    fprintf(o, "\n], \"untracked_objects\": %s", w->untracked ? "true" : "false");
    write_failure(o, lanes, nlanes);
    fputs("\n}\n", o);
    free(steps_buf);
    free(world_buf);
    free(lanes);
    free(lane_of);
    free(event_at);
    free(w);
    return !ferror(o);
}
