/*
 * The recorder driver of tests/test_lifecycle_workitem.c (recwi.c): one root
 * device whose driver logs one DbgPrint line per callback of its work items,
 * objects and device, so the test can assert the order the model runs them
 * in (docs/LIFECYCLE.md rules 50-59). Test-only: never a fuzz target.
 */
#ifndef TDF_TEST_RECWI_H
#define TDF_TEST_RECWI_H

#include <tdf/harness.h>

#define RECWI_HARDWARE_ID L"TDF\\RecWorkItem"

enum recwi_variant {
    RECWI_CORRECT = 0,   /* everything below, each the right way */
    RECWI_EX_QUEUE,      /* only: an ExQueueWorkItem from the device's cleanup callback */
    RECWI_DOUBLE_QUEUE,  /* only: the same IO_WORKITEM queued twice from the cleanup callback */
    RECWI_LOOKASIDE_LEAK, /* only: an NPAGED lookaside list never deleted */
    RECWI_QUEUE_RUNDOWN, /* only: a rundown in a queue's context, used once in SelfManagedIoFlush (its owner's name) */
    RECWI_VARIANT_COUNT
};

#endif
