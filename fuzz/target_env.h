/* What a target binary reads from its environment, in one place. */
#ifndef TDF_FUZZ_TARGET_ENV_H
#define TDF_FUZZ_TARGET_ENV_H

#include "../model/pnp/pnp.h"

/* Variant index from `name` (or $TDF_VARIANT if name is NULL, or "correct").
 * An unknown name prints the valid ones and exits with code 2. */
unsigned tdf_variant_resolve(const tdf_target_desc_t *t, const char *name);
/* Prints "TARGET VARIANT  doc" lines (scripts/fuzz.sh --list). */
void tdf_print_variants(const tdf_target_desc_t *t);

#endif
