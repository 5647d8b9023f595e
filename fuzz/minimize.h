/*
 * Semantic minimization (the runner's --minimize=OUT, scripts/minimize.sh):
 * delta debugging over the decoded input (events, their arguments, params)
 * and its schedule bytes, keeping the whole signature; in-process in the
 * plain build, a forked child per run in the asan build (a sanitizer report
 * ends only that child).
 */
#ifndef TDF_FUZZ_MINIMIZE_H
#define TDF_FUZZ_MINIMIZE_H

#include <stddef.h>
#include <stdint.h>

#include "input.h"

/* Exit codes of --minimize (docs/INPUT.md, "Minimizing"). */
#define TDF_MINIMIZE_WRITTEN 0
#define TDF_MINIMIZE_NO_FAILURE 1 /* the input runs clean, or the result did not replay alike */
#define TDF_MINIMIZE_BAD 2        /* cannot write OUT, the input has no text form, or (asan) a run cannot fork */
#define TDF_MINIMIZE_UNMET 3      /* the input's expect-signature is not what it gives */

typedef struct tdf_minimize_args {
    const tdf_target_desc_t *target;
    const char *input_path;            /* for messages */
    const uint8_t *data;               /* the input, binary form */
    size_t size;
    const tdf_text_meta_t *meta;       /* what its text form said (zeroed for a binary input) */
    int check;                         /* its expectations apply to this variant */
    unsigned variant;
    uint32_t step_cap;
    const char *out;                   /* the text form is written here */
    int verbose;                       /* asan: the forked runs' stderr (their sanitizer reports) is not silenced */
} tdf_minimize_args_t;

/* Minimizes and writes OUT; prints the before/after counts on stdout.
 * Returns one of the TDF_MINIMIZE_* codes. */
int tdf_minimize(const tdf_minimize_args_t *a);

#endif
