/*
 * Machine context switch for fibers. x86_64 has a hand-written switch that
 * saves only the callee-saved registers (context_x86_64.S); other machines, or
 * TDF_CTX_UCONTEXT=1, use ucontext (slower: a sigprocmask syscall per switch).
 */
#ifndef TDF_SCHED_CONTEXT_H
#define TDF_SCHED_CONTEXT_H

#include <stddef.h>

#if !defined(TDF_CTX_UCONTEXT) && !defined(__x86_64__)
#define TDF_CTX_UCONTEXT 1
#endif

#if defined(TDF_CTX_UCONTEXT) && TDF_CTX_UCONTEXT
#include <ucontext.h>
typedef struct sched_ctx {
    ucontext_t uc;
} sched_ctx_t;
#else
typedef struct sched_ctx {
    void *sp; /* saved stack pointer; the registers sit on the stack below it */
} sched_ctx_t;
#endif

/* Prepares ctx so that the first switch to it calls entry() on the given
 * stack. entry must never return. */
void sched_ctx_make(sched_ctx_t *ctx, void *stack_lo, size_t stack_size, void (*entry)(void));
/* Saves the running context in from and resumes to. */
void sched_ctx_swap(sched_ctx_t *from, sched_ctx_t *to);
const char *sched_ctx_kind(void);

#endif
