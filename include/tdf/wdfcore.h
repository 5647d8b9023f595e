/*
 * teardown-fuzz KMDF shim: the pointer and size helpers of wdfcore.h (plain
 * arithmetic, as in the WDK).
 */
#ifndef TDF_WDFCORE_H
#define TDF_WDFCORE_H

#ifndef TDF_WDF_H
#error "include <tdf/wdf.h>"
#endif

#define WDF_PTR_ADD_OFFSET_TYPE(_ptr, _offset, _type) ((_type)(((PUCHAR)(_ptr)) + (_offset)))
#define WDF_PTR_ADD_OFFSET(_ptr, _offset) WDF_PTR_ADD_OFFSET_TYPE(_ptr, _offset, PVOID)
#define WDF_PTR_GET_OFFSET(_base, _addr) (size_t)(((PUCHAR)_addr) - ((PUCHAR)_base))
/* _alignTo a power of two */
#define WDF_ALIGN_SIZE_DOWN(_length, _alignTo) ((_length) & ~((_alignTo) - 1))
#define WDF_ALIGN_SIZE_UP(_length, _alignTo) WDF_ALIGN_SIZE_DOWN((_length) + (_alignTo) - 1, (_alignTo))

#endif
