/*
 * Variants of the A<->B shared-resources power protocol. Index 0 is correct;
 * each mutant is one bug that real driver code has (one-line docs in
 * target.c's table and docs/targets/fuzz_power_share.md).
 */
#ifndef POWER_SHARE_VARIANTS_H
#define POWER_SHARE_VARIANTS_H

#include <tdf/harness.h>

enum power_share_variant {
    VARIANT_CORRECT = 0,
    VARIANT_HANDLE_NOTIFY_ONLY, /* B: no power callbacks, only the handle's PnP notifications */
    VARIANT_CALLBACKS_LATE,     /* B: resources first, callbacks in a second request */
    VARIANT_B_ASSUMES_D0,       /* B: believes A is powered as soon as it has the resources */
    VARIANT_DOWN_IN_D0EXIT,     /* A: calls B from D0Entry/D0Exit, after the queues are held */
    VARIANT_NO_DRAIN,           /* A: does not wait for B's in-flight register access */
    VARIANT_HANDOUT_UNLOCKED,   /* A: the first PowerUp after the hand-out is called outside the client lock */
    VARIANT_UNREGISTER_UNLOCKED, /* A: forgets B's callbacks without the client lock (needs two stacks' callbacks to overlap) */
    VARIANT_COUNT
};

#define IS_VARIANT(v) (TdfVariant() == (v))

#endif
