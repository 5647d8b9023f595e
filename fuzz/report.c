#include "report.h"
#include "../model/kernel/irp.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void print_threads(FILE *out)
{
    /* Every thread of the run; in a run that reused slots (more threads than
     * SCHED_MAX_FIBERS, sched.h) the finished ones are counted, not listed. */
    int n = sched_fiber_count(), many = n > SCHED_MAX_FIBERS, hidden = 0;
    for (int f = 0; f < n; f++) {
        static const char *const st[] = {"free", "runnable", "blocked", "done"};
        if (many && sched_fiber_state(f) == SCHED_DONE) {
            hidden++;
            continue;
        }
        char stack[400];
        image_fiber_stack(f, stack, sizeof stack);
        const char *why = sched_fiber_wait_reason(f);
        fprintf(out, "==TDF== THREAD %-18s [%s] %s%s%s: %s\n", sched_fiber_name(f), sched_fiber_owner(f),
                st[sched_fiber_state(f)], why ? " on " : "", why ? why : "", stack);
    }
    if (hidden)
        fprintf(out, "==TDF== THREAD (%d more threads of this run finished)\n", hidden);
}

static void print_devices(FILE *out)
{
    for (unsigned i = 0; i < pnp_node_count(); i++) {
        const devnode_t *n = pnp_node(i);
        fprintf(out, "==TDF== DEVICE %-8s", n->name);
        int any = 0;
        if (n->fdo) {
            fprintf(out, " FDO %s/%s", pnp_state_name(n->fdo->pnp), pnp_power_name(n->fdo->power));
            any = 1;
        }
        if (n->pdo && !n->gone) {
            fprintf(out, " PDO %s/%s", pnp_state_name(n->pdo->pnp), pnp_power_name(n->pdo->power));
            any = 1;
        }
        /* Never an empty state: a node with no device object left says why. */
        if (n->gone)
            fprintf(out, " gone (PDO deleted%s)", n->fdo ? "" : ", no FDO");
        else if (!any)
            fprintf(out, " no device object (%s)", n->desc ? "FDO not added yet or removed" : "no driver matches");
        fprintf(out, "\n");
    }
}

static void event_text(const sched_trace_event_t *ev, char *buf, size_t size) { sched_trace_format(ev, buf, size); }

/* ">>" on the two events of the fatal pair (docs/REPORTS.md "Fatal pair"). */
static const char *pair_mark(uint64_t index)
{
    const tdf_failure_t *f = tdf_failure();
    if (!f)
        return "  ";
    if ((f->access.present && f->access.trace_index == index) ||
        (f->teardown.present && f->teardown.trace_index == index))
        return ">>";
    return "  ";
}

static uint64_t first_index(void) { return sched_trace_total() - sched_trace_count(); }

void tdf_print_trace(FILE *out)
{
    ke_rundown_owners_final(); /* the devices' final names (kernel.h) */
    uint64_t base = first_index();
    for (size_t i = 0; i < sched_trace_count(); i++) {
        const sched_trace_event_t *ev = sched_trace_at(i);
        char text[200];
        event_text(ev, text, sizeof text);
        fprintf(out, "%s%6lu %-18s %s\n", pair_mark(base + i), (unsigned long)ev->step, sched_fiber_name(ev->fiber),
                text);
    }
}

/* A lane's label: the thread's name and its driver; a name two threads
 * share gets the thread's id, so no two lanes read the same. */
static void lane_label(int fiber, char *buf, size_t size)
{
    int dup = 0;
    for (int g = -1; g < sched_fiber_count(); g++)
        if (g != fiber && strcmp(sched_fiber_name(g), sched_fiber_name(fiber)) == 0 &&
            strcmp(sched_fiber_owner(g), sched_fiber_owner(fiber)) == 0)
            dup = 1;
    if (dup)
        snprintf(buf, size, "%s#%d [%s]", sched_fiber_name(fiber), fiber, sched_fiber_owner(fiber));
    else
        snprintf(buf, size, "%s [%s]", sched_fiber_name(fiber), sched_fiber_owner(fiber));
}

static void side_text(const tdf_pair_side_t *s, char *buf, size_t size)
{
    char lane[96];
    lane_label(s->fiber, lane, sizeof lane);
    snprintf(buf, size, "step %lu lane %s: %s %s", (unsigned long)s->step, lane, s->frame, s->event);
}

/* The FATAL PAIR section: the object, the access and the teardown step. */
static void print_fatal_pair(FILE *out, const tdf_failure_t *f)
{
    char text[300];
    if (f->obj_kind == TDF_OBJ_NONE && !f->lock_cycle[0])
        return;
    fprintf(out, "==TDF== FATAL PAIR %s\n",
            f->obj_text[0]                  ? f->obj_text
            : f->obj_kind == TDF_OBJ_NONE ? "the stuck threads (no dead object: who waits for whom)"
                                          : tdf_obj_kind_name(f->obj_kind));
    if (f->lock_cycle[0]) /* a lock cycle, or who waits for whom through rundowns and sends */
        fprintf(out, "==TDF== FATAL %s %s\n", f->obj_kind == TDF_OBJ_LOCK ? "cycle" : "waits", f->lock_cycle);
    side_text(&f->access, text, sizeof text);
    fprintf(out, "==TDF== FATAL access   %s\n", text);
    if (f->teardown.present) {
        side_text(&f->teardown, text, sizeof text);
        fprintf(out, "==TDF== FATAL teardown %s\n", text);
    } else {
        fprintf(out, "==TDF== FATAL teardown none recorded (the key names the object alone)\n");
    }
}

void tdf_print_failure(FILE *out)
{
    ke_rundown_owners_final(); /* the devices' final names (kernel.h) */
    const tdf_failure_t *f = tdf_failure();
    if (!f)
        return;
    char sig[320];
    tdf_failure_signature(f, sig, sizeof sig);
    if (f->cls == TDF_CLASS_BUGCHECK) {
        char code[32];
        if (f->subcode)
            snprintf(code, sizeof code, "0x%X/0x%X", f->code, f->subcode);
        else
            snprintf(code, sizeof code, "0x%X", f->code);
        fprintf(out, "==TDF== BUGCHECK %s %s %s step=%lu thread=%s\n", code, f->name, f->where,
                (unsigned long)f->step, sched_fiber_name(f->fiber));
    } else if (f->cls == TDF_CLASS_LIMIT) {
        /* The headline names the capacity and its value (subcode). */
        fprintf(out, "==TDF== LIMIT %s=%lu %s step=%lu thread=%s\n", f->name, (unsigned long)f->subcode, f->where,
                (unsigned long)f->step, sched_fiber_name(f->fiber));
    } else
        fprintf(out, "==TDF== %s %s %s step=%lu thread=%s\n", tdf_class_name(f->cls), f->name, f->where,
                (unsigned long)f->step, sched_fiber_name(f->fiber));
    fprintf(out, "==TDF== SIGNATURE %s\n", sig);
    fprintf(out, "==TDF== DETAIL %s\n", f->detail);
    print_fatal_pair(out, f);
    if (f->fiber >= 0) {
        char stack[400];
        image_fiber_stack(f->fiber, stack, sizeof stack);
        fprintf(out, "==TDF== STACK %s\n", stack);
    }
    print_threads(out);
    print_devices(out);
    size_t n = sched_trace_count(), first = n > 24 ? n - 24 : 0;
    uint64_t base = first_index();
    for (size_t i = first; i < n; i++) {
        const sched_trace_event_t *ev = sched_trace_at(i);
        char text[200];
        event_text(ev, text, sizeof text);
        fprintf(out, "==TDF== RECENT %s%6lu %-18s %s\n", pair_mark(base + i), (unsigned long)ev->step,
                sched_fiber_name(ev->fiber), text);
    }
}

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_side(FILE *out, const char *key, const tdf_pair_side_t *s)
{
    fprintf(out, ",\"%s\":", key);
    if (!s->present) {
        fprintf(out, "null");
        return;
    }
    char lane[96];
    lane_label(s->fiber, lane, sizeof lane);
    fprintf(out, "{\"step\":%lu,\"fiber\":%d,\"lane\":", (unsigned long)s->step, s->fiber);
    json_string(out, lane);
    fprintf(out, ",\"trace_index\":");
    if (s->trace_index == UINT64_MAX)
        fprintf(out, "null");
    else
        fprintf(out, "%llu", (unsigned long long)s->trace_index);
    fprintf(out, ",\"frame\":");
    json_string(out, s->frame);
    fprintf(out, ",\"event\":");
    json_string(out, s->event);
    fprintf(out, "}");
}

void tdf_print_failure_json(FILE *out)
{
    ke_rundown_owners_final(); /* the devices' final names (kernel.h) */
    const tdf_failure_t *f = tdf_failure();
    if (!f) {
        fprintf(out, "null\n");
        return;
    }
    char sig[320], code[32] = "";
    tdf_failure_signature(f, sig, sizeof sig);
    if (f->cls == TDF_CLASS_BUGCHECK)
        snprintf(code, sizeof code, f->subcode ? "0x%X/0x%X" : "0x%X", f->code, f->subcode);
    fprintf(out, "{\"class\":");
    json_string(out, tdf_class_name(f->cls));
    fprintf(out, ",\"code\":");
    json_string(out, code);
    fprintf(out, ",\"name\":");
    json_string(out, f->name);
    fprintf(out, ",\"where\":");
    json_string(out, f->where);
    fprintf(out, ",\"caller\":");
    json_string(out, f->caller);
    fprintf(out, ",\"signature\":");
    json_string(out, sig);
    fprintf(out, ",\"detail\":");
    json_string(out, f->detail);
    fprintf(out, ",\"step\":%lu,\"fiber\":%d,\"thread\":", (unsigned long)f->step, f->fiber);
    json_string(out, sched_fiber_name(f->fiber));
    fprintf(out, ",\"object\":");
    if (f->obj_kind == TDF_OBJ_NONE) {
        fprintf(out, "null");
    } else {
        fprintf(out, "{\"kind\":");
        json_string(out, tdf_obj_kind_name(f->obj_kind));
        fprintf(out, ",\"owner\":");
        json_string(out, f->obj_owner);
        fprintf(out, ",\"text\":");
        json_string(out, f->obj_text);
        fprintf(out, "}");
    }
    json_side(out, "access", &f->access);
    json_side(out, "teardown", &f->teardown);
    fprintf(out, ",\"lock_cycle\":");
    if (f->lock_cycle[0])
        json_string(out, f->lock_cycle);
    else
        fprintf(out, "null");
    fprintf(out, "}\n");
}

int tdf_swimlanes_on_crash; /* the runner's --trace: print the lanes from a sanitizer report too */

void tdf_print_swimlanes(FILE *out)
{
    ke_rundown_owners_final(); /* the devices' final names (kernel.h) */
    enum { LANE = 44 };
    /* Lanes: the model threads, and the main context (-1) only when some
     * event of the trace ran there (it is empty in most runs). */
    int main_lane = 0;
    for (size_t i = 0; i < sched_trace_count(); i++)
        if (sched_trace_at(i)->fiber < 0)
            main_lane = 1;
    int first = main_lane ? -1 : 0, n = sched_fiber_count();
    /* A lane per thread id. In a run that reused slots (more threads than
     * SCHED_MAX_FIBERS, sched.h) only the threads with an event in the trace
     * get one: hundreds of short-lived threads would make the table unreadable. */
    unsigned char *shown = malloc((size_t)n + 1);
    if (!shown)
        return;
    memset(shown, n <= SCHED_MAX_FIBERS, (size_t)n + 1);
    for (size_t i = 0; i < sched_trace_count(); i++)
        if (sched_trace_at(i)->fiber >= 0 && sched_trace_at(i)->fiber < n)
            shown[sched_trace_at(i)->fiber] = 1;
    fprintf(out, "  %6s", "step");
    for (int l = first; l < n; l++) {
        if (l >= 0 && !shown[l])
            continue;
        char head[96];
        lane_label(l, head, sizeof head);
        fprintf(out, " | %-*.*s", LANE, LANE, head);
    }
    fprintf(out, "\n");
    uint64_t base = first_index();
    for (size_t i = 0; i < sched_trace_count(); i++) {
        const sched_trace_event_t *ev = sched_trace_at(i);
        char text[200];
        event_text(ev, text, sizeof text);
        fprintf(out, "%s%6lu", pair_mark(base + i), (unsigned long)ev->step);
        for (int l = first; l < n; l++)
            if (l < 0 || shown[l])
                fprintf(out, " | %-*.*s", LANE, LANE, l == ev->fiber ? text : "");
        fprintf(out, "\n");
    }
    free(shown);
}

/* ---- crashes outside the model's oracles ---------------------------------------- */
void (*tdf_death_hook)(void);
/* FREED: the address of a sanitizer's use-after-free report, or NULL. */
static void print_context_raw(const char *cls, const char *what, const void *freed)
{
    ke_rundown_owners_final(); /* the devices' final names (kernel.h) */
    char where[96], caller[96];
    image_current_frame(where, sizeof where);
    image_caller_frame(caller, sizeof caller);
    fprintf(stderr, "==TDF== %s %s %s step=%lu thread=%s\n", cls, what, where, (unsigned long)sched_steps(),
            sched_fiber_name(sched_current()));
    const struct tdf_image *owner;
    const tdf_teardown_t *freed_by;
    const tdf_dead_t *request = freed ? ke_freed_buffer_dead(freed) : NULL;
    if (request) {
        /* A write of the answer into a buffer taken from a request that was
         * completed meanwhile (and its sender's memory freed since): whoever
         * freed the block, the use is the one after that completion, keyed
         * as the model's own check of a call on the completed handle would
         * key it (model/wdf/request.c). */
        tdf_fail_external_dead(request, what, TDF_CLASS_SANITIZER, what, where, caller,
                               "%s in %s (called from %s): the buffer of a request completed at step %lu; the "
                               "sanitizer's report has the access and its stacks",
                               what, where, caller, (unsigned long)request->teardown->step);
        char sig[400];
        tdf_failure_signature(tdf_failure(), sig, sizeof sig);
        fprintf(stderr, "==TDF== SIGNATURE %s\n", sig);
    } else if (freed && pool_freed_at(freed, &owner, &freed_by)) {
        /* A use of pool the model freed: the pool's dead object and who freed
         * it, so the key is the one the model's own check of that free would
         * give (0xC7 for a KDPC or KTIMER still in the block): one bug, one
         * key, whichever saw it first. Model memory (a framework object's
         * context) is the accessing driver's. */
        const struct tdf_image *img = owner ? owner : image_current();
        const char *name = img ? img->name : "model";
        tdf_dead_t dead = {TDF_OBJ_POOL, name, freed_by, "pool of %s (freed)", {(uintptr_t)name}};
        /* The driver's own system thread, still running after the teardown
         * that freed its driver's memory: the thread nobody waited for. Had
         * it not touched the block, the unload would have found it inside
         * the image (image.c), so the key is that one: image(<driver>):
         * <thread routine>:unload. The pair keeps the free as its teardown. */
        char entry[96];
        const struct tdf_image *mine = ke_system_thread_image(sched_current());
        const char *outlived = NULL;
        if (img && mine == img && image_fiber_outer(sched_current()) == img) {
            image_fiber_entry(sched_current(), entry, sizeof entry);
            outlived = "image %s (its thread touched the pool its teardown freed)";
        } else if (img && !freed_by->image && image_completion_entry(sched_current(), img, entry, sizeof entry)) {
            /* The same for an IRP completion routine of the driver that meets
             * its device's memory freed at the device's delete (no driver
             * routine freed it): the teardown did not wait for the routine,
             * and had the routine not touched the block, the unload would
             * have found it inside the image, or the IRP still holding it
             * (model/kernel/irp.c): image(<driver>):<completion routine>:unload. */
            outlived = "image %s (its completion routine touched the pool its teardown freed)";
        }
        char released[96]; /* the device key's access part, read by tdf_fail_external_dead below */
        if (outlived) {
            dead = (tdf_dead_t){TDF_OBJ_IMAGE, name, freed_by, outlived, {(uintptr_t)name}, .access_frame = entry,
                                .key_teardown = "unload"};
            /* A completion routine whose IRP went to a device the driver let
             * go of meanwhile: the release without a wait is the key, as at
             * the unload (irp.h io_device_released_dead). */
            uint32_t completed_at;
            PDEVICE_OBJECT sent_to = irp_completion_sent_to(sched_current(), &completed_at);
            if (image_completion_entry(sched_current(), img, NULL, 0))
                io_device_released_dead(&dead, sent_to, completed_at, img, released, sizeof released);
        }
        tdf_fail_external_dead(&dead, what, TDF_CLASS_SANITIZER, what, where, caller,
                               "%s in %s (called from %s): pool of %s freed at step %lu; the sanitizer's report has "
                               "the access and its stacks",
                               what, where, caller, name, (unsigned long)freed_by->step);
        char sig[400];
        tdf_failure_signature(tdf_failure(), sig, sizeof sig);
        fprintf(stderr, "==TDF== SIGNATURE %s\n", sig);
    } else {
        freed = NULL;
        fprintf(stderr, "==TDF== SIGNATURE %s/%s:%s:%s\n", cls, what, where, caller);
    }
    size_t n = sched_trace_count(), first = n > 24 ? n - 24 : 0;
    for (size_t i = first; i < n; i++) {
        const sched_trace_event_t *ev = sched_trace_at(i);
        char text[200];
        event_text(ev, text, sizeof text);
        fprintf(stderr, "==TDF== RECENT %6lu %-18s %s\n", (unsigned long)ev->step, sched_fiber_name(ev->fiber),
                text);
    }
    /* The run's failure from here on (after RECENT: recording traces a "!!"
     * event), for the JSON the runner's death hook writes (--trace_json,
     * --failure_json). */
    if (freed)
        return; /* recorded above */
    int fault = strcmp(cls, "FAULT") == 0;
    tdf_fail_external(fault ? TDF_CLASS_FAULT : TDF_CLASS_SANITIZER, what, where, caller, "%s in %s (called from %s)%s",
                      what, where, caller, fault ? "" : ": the sanitizer's report has the access and its stacks");
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define REPORT_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define REPORT_SANITIZER 1
#endif

#ifdef REPORT_SANITIZER
#include <sanitizer/common_interface_defs.h>
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define REPORT_ASAN 1
#endif
#endif
void __asan_set_error_report_callback(void (*callback)(const char *));
extern int tdf_swimlanes_on_crash;
static void on_sanitizer_report(const char *report)
{
    if (tdf_swimlanes_on_crash)
        tdf_print_swimlanes(stderr); /* the process dies after this report */
    const char *kind = strstr(report, "ERROR: AddressSanitizer: ");
    char what[64] = "report";
    if (kind) {
        kind += strlen("ERROR: AddressSanitizer: ");
        size_t n = strcspn(kind, " \n");
        snprintf(what, sizeof what, "%.*s", (int)n, kind);
    }
    const void *freed = NULL;
#ifdef REPORT_ASAN
    if (strcmp(what, "heap-use-after-free") == 0)
        freed = __asan_get_report_address();
#endif
    print_context_raw("SANITIZER", what, freed);
}
static void on_death(void)
{
    if (tdf_death_hook)
        tdf_death_hook();
    fflush(stderr);
}
#endif

static void on_fault(int sig)
{
    if (tdf_swimlanes_on_crash)
        tdf_print_swimlanes(stderr);
    print_context_raw("FAULT", sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGFPE ? "SIGFPE" : "SIGILL",
                      NULL);
    if (tdf_death_hook)
        tdf_death_hook();
    _exit(16); /* TDF_EXIT_FAULT */
}

/* Sanitizer reports end the run with the SANITIZER class's exit code. */
#if defined(TDF_TSAN_RUNTIME)
/* TSan calls this for every report it prints (weak default in the runtime). */
void __tsan_on_report(void *report);
extern int tdf_swimlanes_on_crash;
void __tsan_on_report(void *report)
{
    (void)report;
    if (tdf_swimlanes_on_crash)
        tdf_print_swimlanes(stderr);
    print_context_raw("SANITIZER", "data-race", NULL);
    /* halt_on_error=1 (below): this report ends the process, with no death callback. */
    if (tdf_death_hook)
        tdf_death_hook();
}
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "halt_on_error=1:exitcode=15:report_signal_unsafe=0:ignore_interceptors_accesses=1"; }
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "exitcode=15:detect_leaks=1"; }
#endif
#endif

/* The stress backend's watchdog (model/sched/stress.c): what each thread was doing. */
static void watchdog_report(FILE *out)
{
    print_threads(out);
    print_devices(out);
    if (tdf_death_hook) /* --hunt's "died in exec" line */
        tdf_death_hook();
}

void tdf_install_crash_handlers(int libfuzzer)
{
    sched_set_watchdog_report(watchdog_report);
#if defined(REPORT_SANITIZER) && defined(__has_feature)
#if __has_feature(address_sanitizer)
    __asan_set_error_report_callback(on_sanitizer_report);
#endif
    if (!libfuzzer)
        __sanitizer_set_death_callback(on_death);
    (void)on_fault;
#else
    (void)libfuzzer;
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fault;
    sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
#endif
}
