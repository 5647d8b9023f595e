/*
 * Variants of the work-item driver (fuzz_work_item). Index 0 is correct; each
 * mutant is one bug that real driver code has (one-line docs in target.c's
 * table and docs/targets/fuzz_work_item.md).
 */
#ifndef WORK_ITEM_VARIANTS_H
#define WORK_ITEM_VARIANTS_H

#include <tdf/harness.h>

enum work_item_variant {
    VARIANT_CORRECT = 0,
    VARIANT_EX_QUEUE_WORK_ITEM,  /* ExQueueWorkItem instead of IoQueueWorkItem: nothing holds the driver */
    VARIANT_SHARED_IO_WORKITEM,  /* one IO_WORKITEM for every event, queued again while still queued */
    VARIANT_NO_FLUSH_IN_D0EXIT,  /* D0Exit stops new enqueues but does not flush the register work item */
    VARIANT_LOOKASIDE_NOT_DELETED, /* the NPAGED lookaside list is never deleted */
    VARIANT_DEREF_TOO_MANY,      /* the drain drops the collection's reference a second time */
    VARIANT_DELETED_EARLY,       /* the submitter deletes the buffer right after handing it to the collection */
    VARIANT_STOP_EXIT_LOCKED,    /* the drain's exit for a stopping device returns with the spin lock held */
    VARIANT_COUNT
};

#define IS_VARIANT(v) (TdfVariant() == (v))

#endif
