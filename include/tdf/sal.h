/*
 * SAL annotations (the WDK's source and driver annotations): documentation here, so
 * every one expands to nothing. Analysis assumptions expand to nothing too:
 * `__analysis_assume(p != NULL)` must not become a run-time statement that
 * changes what the driver does under the model.
 */
#ifndef TDF_SAL_H
#define TDF_SAL_H

/* parameters */
#define _In_
#define _In_opt_
#define _In_z_
#define _In_opt_z_
#define _In_reads_(size)
#define _In_reads_opt_(size)
#define _In_reads_bytes_(size)
#define _In_reads_bytes_opt_(size)
#define _In_reads_z_(size)
#define _In_range_(lo, hi)
#define _Out_
#define _Out_opt_
#define _Out_writes_(size)
#define _Out_writes_opt_(size)
#define _Out_writes_bytes_(size)
#define _Out_writes_bytes_opt_(size)
#define _Out_writes_all_(size)
#define _Out_writes_all_opt_(size)
#define _Out_writes_bytes_all_(size)
#define _Out_writes_bytes_all_opt_(size)
#define _Out_writes_to_(size, count)
#define _Out_writes_bytes_to_(size, count)
#define _Out_writes_bytes_to_opt_(size, count)
#define _Out_writes_z_(size)
#define _Out_range_(lo, hi)
#define _Inout_
#define _Inout_opt_
#define _Inout_z_
#define _Inout_updates_(size)
#define _Inout_updates_opt_(size)
#define _Inout_updates_bytes_(size)
#define _Inout_updates_bytes_opt_(size)
#define _Outptr_
#define _Outptr_opt_
#define _Outptr_result_maybenull_
#define _Outptr_opt_result_maybenull_
#define _Outptr_result_buffer_(size)
#define _Outptr_result_bytebuffer_(size)
#define _Deref_out_range_(lo, hi)
#define _Reserved_
#define _Frees_ptr_(p)
#define _Frees_ptr_opt_(p)
#define _Printf_format_string_
#define _Strict_type_match_
#define _Literal_
#define _Notliteral_
#define _Points_to_data_
/* results and functions */
#define _Use_decl_annotations_
#define _Must_inspect_result_
#define _Check_return_
#define _Success_(expr)
#define _Return_type_success_(expr)
#define _Ret_maybenull_
#define _Ret_range_(lo, hi)
#define _Ret_writes_bytes_(size)
#define _Post_satisfies_(expr)
#define _Pre_satisfies_(expr)
#define _Post_invalid_
#define _Post_ptr_invalid_
#define _Post_equal_to_(expr)
#define _Post_writable_byte_size_(size)
#define _When_(cond, annotations)
#define _At_(target, annotations)
#define _Field_size_(size)
#define _Field_size_opt_(size)
#define _Field_size_bytes_(size)
#define _Field_size_bytes_opt_(size)
#define _Field_size_part_(size, count)
#define _Field_size_bytes_part_(size, count)
#define _Field_range_(lo, hi)
#define _Struct_size_bytes_(size)
#define _Function_class_(name)
#define _Dispatch_type_(type)
#define _Analysis_assume_(expr)
#define __analysis_assume(expr)
#define _Analysis_mode_(mode)
#define _Analysis_noreturn_
/* IRQL (the model checks IRQL at run time where it matters: KERNEL-SEMANTICS) */
#define _IRQL_requires_(irql)
#define _IRQL_requires_max_(irql)
#define _IRQL_requires_min_(irql)
#define _IRQL_requires_same_
#define _IRQL_raises_(irql)
#define _IRQL_saves_
#define _IRQL_restores_
#define _IRQL_saves_global_(kind, param)
#define _IRQL_restores_global_(kind, param)
#define _IRQL_always_function_min_(irql)
#define _IRQL_always_function_max_(irql)
#define _IRQL_is_cancel_
#define _IRQL_uses_cancel_
/* locks and resources */
#define _Requires_lock_held_(lock)
#define _Requires_lock_not_held_(lock)
#define _Acquires_lock_(lock)
#define _Releases_lock_(lock)
#define _Acquires_exclusive_lock_(lock)
#define _Releases_exclusive_lock_(lock)
#define _Acquires_shared_lock_(lock)
#define _Releases_shared_lock_(lock)
#define _Guarded_by_(lock)
#define _Interlocked_
#define _Interlocked_operand_
#define _Kernel_requires_resource_held_(resource)
#define _Kernel_requires_resource_not_held_(resource)
#define _Kernel_acquires_resource_(resource)
#define _Kernel_releases_resource_(resource)
#define _Kernel_clear_do_init_(yesno)
#define _Kernel_float_saved_
#define _Kernel_float_restored_
#define _Kernel_float_used_
#define _Kernel_IoGetDmaAdapter_
/* the older __ and __drv_ forms */
#define __in
#define __in_opt
#define __out
#define __out_opt
#define __inout
#define __inout_opt
#define __in_bcount(size)
#define __out_bcount(size)
#define __in_ecount(size)
#define __out_ecount(size)
#define __deref_out
#define __checkReturn
#define __drv_maxIRQL(irql)
#define __drv_requiresIRQL(irql)
#define __drv_dispatchType(type)
#define __drv_functionClass(name)
#define __drv_when(cond, annotations)
#define __drv_aliasesMem
#define __drv_freesMem(kind)
#define __drv_allocatesMem(kind)
#define __drv_sameIRQL
#define __drv_savesIRQL
#define __drv_restoresIRQL
/* old-style parameter words and calling conventions */
#define IN
#define OUT
#define OPTIONAL
#define NTAPI
#define NTSYSAPI
#define NTKERNELAPI
#define FASTCALL
#define __stdcall
#define __cdecl
#define __fastcall
#define FORCEINLINE static inline __attribute__((always_inline))
#define __forceinline inline __attribute__((always_inline))
#define DECLSPEC_NOINLINE __attribute__((noinline))
#define DECLSPEC_ALIGN(n) __attribute__((aligned(n)))
#define DECLSPEC_NORETURN __attribute__((noreturn))
#define DECLSPEC_SELECTANY __attribute__((weak))
#define ANYSIZE_ARRAY 1

#endif
