/*
 * void tdf_ctx_switch(void **save_sp, void *new_sp)
 *
 * System V x86_64: rbx, rbp, r12-r15, the MXCSR control bits and the x87
 * control word are callee-saved; everything else the caller already assumes
 * clobbered by a call. Layout on the saved stack, from low to high address:
 * [mxcsr:4][fpucw:2][pad:2] r15 r14 r13 r12 rbx rbp <return address>.
 */
#if defined(__x86_64__)
    .text
    .globl tdf_ctx_switch
    .hidden tdf_ctx_switch
    .type tdf_ctx_switch, @function
tdf_ctx_switch:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size tdf_ctx_switch, .-tdf_ctx_switch
#endif
    .section .note.GNU-stack,"",@progbits
