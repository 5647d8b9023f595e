/*
 * teardown-fuzz KMDF shim: wdfassert.h. WDFVERIFY is the WDK's assertion that
 * is live whenever the KMDF verifier is on; the model always runs with the
 * verifier on (its misuse reports are the verifier's), so a failed WDFVERIFY
 * is the driver's own assertion failing, as NT_ASSERT (include/tdf/wdk.h):
 * class BUGCHECK, code 0, with the expression.
 */
#ifndef TDF_WDFASSERT_H
#define TDF_WDFASSERT_H

#ifndef TDF_WDF_H
#error "include <tdf/wdf.h>"
#endif

#define WDFVERIFY(exp) NT_ASSERT(exp)
#define VERIFY_IS_IRQL_PASSIVE_LEVEL() WDFVERIFY(KeGetCurrentIrql() == PASSIVE_LEVEL)
#define IS_AT_PASSIVE() WDFVERIFY(KeGetCurrentIrql() == PASSIVE_LEVEL)
/* A compile-time check: a duplicate case label when c is false (the WDK's trick). */
#define WDFCASSERT(c)          \
    {                          \
        switch (0)             \
        case (c):              \
        case 0:;               \
    }

#endif
