/*
 * The IRP-path recorder pair of tests/test_lifecycle_irp.c (docs/LIFECYCLE.md
 * rules 110-129): two WDM drivers in two root stacks, "lo" (holds IRPs
 * pending, cancelable) and "up" (opens lo's device object, sends it IRPs of
 * its own, forwards clients' IOCTLs). Each variant is one behaviour a rule's
 * test needs; every callback logs one DbgPrint line. Not a fuzz target.
 */
#ifndef TDF_TESTS_RECIRP_H
#define TDF_TESTS_RECIRP_H

#include <tdf/harness.h>

#define RECIRP_LO_ID L"ROOT\\TdfRecIrpLo"
#define RECIRP_UP_ID L"ROOT\\TdfRecIrpUp"
#define RECIRP_LO_NAME L"\\Device\\TdfRecIrpLo"
#define IOCTL_REC_HOLD CTL_CODE(FILE_DEVICE_UNKNOWN, 0x821, METHOD_NEITHER, FILE_ANY_ACCESS)
#define IOCTL_REC_FORWARD CTL_CODE(FILE_DEVICE_UNKNOWN, 0x822, METHOD_BUFFERED, FILE_ANY_ACCESS)

enum recirp_variant {
    RECIRP_CORRECT = 0,
    RECIRP_LO_COMPLETE_TWICE,   /* lo completes a held IRP twice */
    RECIRP_LO_KEEP_CANCEL,      /* lo completes without clearing its cancel routine */
    RECIRP_LO_PENDING_STATUS,   /* lo completes with IoStatus.Status STATUS_PENDING */
    RECIRP_UP_NO_PROPAGATE,     /* up's forwarding completion routine does not propagate pending */
    RECIRP_LO_NO_MARK,          /* lo returns STATUS_PENDING without IoMarkIrpPending */
    RECIRP_LO_CANCEL_KEEPS_LOCK, /* lo's cancel routine returns holding the cancel spin lock */
    RECIRP_UP_FREE_THREADED,    /* up frees a threaded IRP (IoBuildDeviceIoControlRequest) itself */
    RECIRP_UP_CONTINUE,         /* up's routine returns STATUS_CONTINUE_COMPLETION for its own IRP */
    RECIRP_UP_FREE_CONTINUE,    /* up's routine frees its IRP and returns STATUS_SUCCESS */
    RECIRP_UP_DOUBLE_FREE,      /* up frees its IRP twice */
    RECIRP_LO_CSQ,              /* lo holds IRPs in a cancel-safe queue */
    RECIRP_LO_DELETE_ATTACHED,  /* lo deletes its device without IoDetachDevice */
    RECIRP_LO_IRQL_LEAK,        /* lo's dispatch returns at DISPATCH_LEVEL */
    RECIRP_UP_SMALL_STACK,      /* up allocates its IRP one location short of lo's stack */
    RECIRP_UP_NO_CANCEL,        /* up's teardown neither cancels nor waits for its IRPs */
    RECIRP_VARIANT_COUNT
};

#define RECIRP_IS(v) (TdfVariant() == (v))

#endif
