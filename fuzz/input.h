/*
 * The fuzz input (docs/INPUT.md). Any byte string is a valid input: decoding
 * never fails, it only runs out.
 *
 *   [param bytes: one per target param] [event count] [event: kind, arg]... | schedule bytes
 *   \________________ front: what happens ________________________________/ \_ back: when _/
 *
 * The schedule region is everything after the events and is consumed from
 * its END backwards, so a mutation inside the events does not shift the
 * schedule and vice versa.
 */
#ifndef TDF_FUZZ_INPUT_H
#define TDF_FUZZ_INPUT_H

#include <stdio.h>

#include "../model/pnp/pnp.h"

#define TDF_MAX_EVENT_COUNT 32

/* Fills script (schedule = bytes source over the schedule region). */
void tdf_decode(const tdf_target_desc_t *t, const uint8_t *data, size_t size, tdf_script_t *script);
/* Text form of a decoded input, one item per line. */
void tdf_write_text(const tdf_target_desc_t *t, const tdf_script_t *script, FILE *out);
/* Parses the text form into the binary form. Returns the size written to
 * out (capacity cap), or -1 with a message in err. */
long tdf_parse_text(const tdf_target_desc_t *t, const char *text, uint8_t *out, size_t cap, char *err, size_t errsz);
/* Whether the data looks like the text form (starts with "# teardown-fuzz" or "target "). */
int tdf_is_text(const uint8_t *data, size_t size);

#endif
