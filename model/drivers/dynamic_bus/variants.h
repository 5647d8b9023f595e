/*
 * Variants of the dynamic bus and its children. Index 0 is correct; each
 * mutant is one real-driver bug (docs in target.c and docs/targets/fuzz_dynamic_bus.md).
 */
#ifndef DYNAMIC_BUS_VARIANTS_H
#define DYNAMIC_BUS_VARIANTS_H

#include <tdf/harness.h>

enum dynamic_bus_variant {
    DYNBUS_VARIANT_CORRECT = 0,
    DYNBUS_VARIANT_CHILD_FLAG_CHECK,    /* child: flag instead of run-down around its calls into the bus */
    DYNBUS_VARIANT_TOUCH_AFTER_MISSING, /* bus: uses a child's PDO context after reporting it missing */
    DYNBUS_VARIANT_COUNT
};

#define IS_DYNBUS_VARIANT(v) (TdfVariant() == (v))

#endif
