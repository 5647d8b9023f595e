#include "context.h"

#include <stdint.h>
#include <string.h>

#if defined(TDF_CTX_UCONTEXT) && TDF_CTX_UCONTEXT

void sched_ctx_make(sched_ctx_t *ctx, void *stack_lo, size_t stack_size, void (*entry)(void))
{
    getcontext(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = stack_lo;
    ctx->uc.uc_stack.ss_size = stack_size;
    ctx->uc.uc_link = NULL; /* entry never returns */
    makecontext(&ctx->uc, entry, 0);
}

void sched_ctx_swap(sched_ctx_t *from, sched_ctx_t *to)
{
    swapcontext(&from->uc, &to->uc);
}

const char *sched_ctx_kind(void) { return "ucontext"; }

#else

void tdf_ctx_switch(void **save_sp, void *new_sp);

void sched_ctx_make(sched_ctx_t *ctx, void *stack_lo, size_t stack_size, void (*entry)(void))
{
    uintptr_t top = ((uintptr_t)stack_lo + stack_size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)top;
    uint32_t mxcsr;
    uint16_t fpucw;

    /* entry() is reached by `ret`, so it sees rsp = top-8 as after a call:
     * (rsp + 8) % 16 == 0 as the ABI requires. Its own return address is 0,
     * which also ends unwinders' walks. */
    *--sp = 0;
    *--sp = (uint64_t)(uintptr_t)entry;
    for (int i = 0; i < 6; i++)
        *--sp = 0; /* rbp rbx r12 r13 r14 r15 */
    /* Start with the creator's floating-point control state. */
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fpucw));
    *--sp = (uint64_t)mxcsr | ((uint64_t)fpucw << 32);
    ctx->sp = sp;
}

void sched_ctx_swap(sched_ctx_t *from, sched_ctx_t *to)
{
    tdf_ctx_switch(&from->sp, to->sp);
}

const char *sched_ctx_kind(void) { return "x86_64-asm"; }

#endif
