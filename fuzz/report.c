#include "report.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void print_threads(FILE *out)
{
    for (int f = 0; f < sched_fiber_count(); f++) {
        static const char *const st[] = {"free", "runnable", "blocked", "done"};
        char stack[400];
        image_fiber_stack(f, stack, sizeof stack);
        const char *why = sched_fiber_wait_reason(f);
        fprintf(out, "==TDF== THREAD %-18s [%s] %s%s%s: %s\n", sched_fiber_name(f), sched_fiber_owner(f),
                st[sched_fiber_state(f)], why ? " on " : "", why ? why : "", stack);
    }
}

static void print_devices(FILE *out)
{
    for (unsigned i = 0; i < pnp_node_count(); i++) {
        const devnode_t *n = pnp_node(i);
        fprintf(out, "==TDF== DEVICE %-8s%s", n->name, n->gone ? " gone" : "");
        if (n->fdo)
            fprintf(out, " FDO %s/%s", pnp_state_name(n->fdo->pnp), pnp_power_name(n->fdo->power));
        if (n->pdo && !n->gone)
            fprintf(out, " PDO %s/%s", pnp_state_name(n->pdo->pnp), pnp_power_name(n->pdo->power));
        fprintf(out, "\n");
    }
}

static void event_text(const sched_trace_event_t *ev, char *buf, size_t size) { sched_trace_format(ev, buf, size); }

void tdf_print_trace(FILE *out)
{
    for (size_t i = 0; i < sched_trace_count(); i++) {
        const sched_trace_event_t *ev = sched_trace_at(i);
        char text[200];
        event_text(ev, text, sizeof text);
        fprintf(out, "%6lu %-18s %s\n", (unsigned long)ev->step, sched_fiber_name(ev->fiber), text);
    }
}

void tdf_print_failure(FILE *out)
{
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
    if (f->fiber >= 0) {
        char stack[400];
        image_fiber_stack(f->fiber, stack, sizeof stack);
        fprintf(out, "==TDF== STACK %s\n", stack);
    }
    print_threads(out);
    print_devices(out);
    size_t n = sched_trace_count(), first = n > 24 ? n - 24 : 0;
    for (size_t i = first; i < n; i++) {
        const sched_trace_event_t *ev = sched_trace_at(i);
        char text[200];
        event_text(ev, text, sizeof text);
        fprintf(out, "==TDF== RECENT %6lu %-18s %s\n", (unsigned long)ev->step, sched_fiber_name(ev->fiber), text);
    }
}

int tdf_swimlanes_on_crash; /* the runner's --trace: print the lanes from a sanitizer report too */

void tdf_print_swimlanes(FILE *out)
{
    enum { LANE = 44 };
    int lanes = sched_fiber_count() + 1; /* lane 0: main/harness */
    fprintf(out, "%6s", "step");
    for (int l = 0; l < lanes; l++) {
        char head[96];
        snprintf(head, sizeof head, "%s [%s]", sched_fiber_name(l - 1), sched_fiber_owner(l - 1));
        fprintf(out, " | %-*.*s", LANE, LANE, head);
    }
    fprintf(out, "\n");
    for (size_t i = 0; i < sched_trace_count(); i++) {
        const sched_trace_event_t *ev = sched_trace_at(i);
        char text[200];
        event_text(ev, text, sizeof text);
        fprintf(out, "%6lu", (unsigned long)ev->step);
        for (int l = 0; l < lanes; l++)
            fprintf(out, " | %-*.*s", LANE, LANE, l - 1 == ev->fiber ? text : "");
        fprintf(out, "\n");
    }
}

/* ---- crashes outside the model's oracles ---------------------------------------- */
static void print_context_raw(const char *cls, const char *what)
{
    char where[96], caller[96];
    image_current_frame(where, sizeof where);
    image_caller_frame(caller, sizeof caller);
    fprintf(stderr, "==TDF== %s %s %s step=%lu thread=%s\n", cls, what, where, (unsigned long)sched_steps(),
            sched_fiber_name(sched_current()));
    fprintf(stderr, "==TDF== SIGNATURE %s/%s:%s:%s\n", cls, what, where, caller);
    size_t n = sched_trace_count(), first = n > 24 ? n - 24 : 0;
    for (size_t i = first; i < n; i++) {
        const sched_trace_event_t *ev = sched_trace_at(i);
        char text[200];
        event_text(ev, text, sizeof text);
        fprintf(stderr, "==TDF== RECENT %6lu %-18s %s\n", (unsigned long)ev->step, sched_fiber_name(ev->fiber),
                text);
    }
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
    print_context_raw("SANITIZER", what);
}
static void on_death(void) { fflush(stderr); }
#endif

static void on_fault(int sig)
{
    if (tdf_swimlanes_on_crash)
        tdf_print_swimlanes(stderr);
    print_context_raw("FAULT", sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGFPE ? "SIGFPE" : "SIGILL");
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
    print_context_raw("SANITIZER", "data-race");
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

void tdf_install_crash_handlers(int libfuzzer)
{
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
