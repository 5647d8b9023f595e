/*
 * The fuzz input (docs/INPUT.md), in two forms.
 *
 * Binary, the libFuzzer working form. Any byte string is a valid input:
 * decoding never fails, it only runs out. It is tied to one build's alphabet
 * (event kinds are indices into the target's list), so it is not stored.
 *
 *   [param bytes: one per target param] [event count] [event: kind, arg]... | schedule bytes
 *   \________________ front: what happens ________________________________/ \_ back: when _/
 *
 * The schedule region is everything after the events and is consumed from
 * its END backwards, so a mutation inside the events does not shift the
 * schedule and vice versa.
 *
 * Text, the stored form (corpus/, repro/): events and params by name, a
 * format line, strict parsing with line numbers.
 */
#ifndef TDF_FUZZ_INPUT_H
#define TDF_FUZZ_INPUT_H

#include <stdio.h>

#include "../model/pnp/pnp.h"

#define TDF_MAX_EVENT_COUNT 32

/* The text form's version (its `format N` line; a file without one is format 1).
 * Format 1 fixes: the keywords, params as values in min..max, events by name
 * with an argument 0..255, and the schedule-byte meaning of docs/INPUT.md
 * (bytes in the order they are used; run (b & 7) % runnable, stay b >> 3;
 * data choices b % n). */
#define TDF_TEXT_FORMAT 1
/* Limits of the text form; a text input over any of them is rejected. */
#define TDF_TEXT_MAX_FILE (1u << 20) /* bytes */
#define TDF_TEXT_MAX_LINE 16384      /* characters, without the newline */
#define TDF_TEXT_MAX_SCHEDULE 4096   /* schedule bytes */
#define TDF_TEXT_MAX_SIGNATURE 320   /* an expect-signature value, with its NUL */

/* What a text input says about itself, from its comment lines. */
typedef struct tdf_text_meta {
    unsigned format;
    char expect_variant[64]; /* "" if the input names none */
    unsigned expect_variant_line;
    char expect_signature[TDF_TEXT_MAX_SIGNATURE]; /* "" if none; "NONE" = no failure */
    unsigned expect_signature_line;
    char expect_tsan[TDF_TEXT_MAX_SIGNATURE]; /* replaces expect_signature in a TSan build; "" if none */
    unsigned expect_tsan_line;
} tdf_text_meta_t;

/* The input's bytes hashed (FNV-1a, 64 bits): the seed of the random tail
 * that --schedule=input+random and TDF_SCHEDULE_TAIL=random add after the
 * schedule bytes, so one input always gets the same tail. */
uint64_t tdf_input_hash(const uint8_t *data, size_t size);
/* Fills script (schedule = bytes source over the schedule region). */
void tdf_decode(const tdf_target_desc_t *t, const uint8_t *data, size_t size, tdf_script_t *script);
/* Text form of a decoded input, one item per line. A schedule over
 * TDF_TEXT_MAX_SCHEDULE bytes is written but would not parse back: callers
 * that store the text check tdf_text_fits first. */
void tdf_write_text(const tdf_target_desc_t *t, const tdf_script_t *script, FILE *out);
/* Whether the script's text form parses back; else a message in err. */
int tdf_text_fits(const tdf_script_t *script, char *err, size_t errsz);
/* Parses the text form (len bytes, NULs included) into the binary form.
 * Returns the size written to out (capacity cap), or -1 with a message that
 * names the line in err (input bytes in it are escaped). meta may be NULL. */
long tdf_parse_text(const tdf_target_desc_t *t, const char *text, size_t len, uint8_t *out, size_t cap,
                    tdf_text_meta_t *meta, char *err, size_t errsz);
/* Whether the data is read as the text form: it starts with "# teardown-fuzz",
 * "format " or "target ", or it starts with '#', has a "target " line and no
 * control byte but tab, CR and LF. */
int tdf_is_text(const uint8_t *data, size_t size);
/* A decimal number in [lo, hi] at *p, which moves past its digits (the
 * flag and schedule parsers' parts). Returns 0 if there is none or it is
 * out of range; never overflows. */
int tdf_parse_number(const char **p, unsigned long long lo, unsigned long long hi, unsigned long long *out);
/* The schedule tail past an input's bytes, from its name: "none", "random"
 * or "pct[:DEPTH[:K]]" (DEPTH 1..8, default 3; K 1..4000000000 choice points
 * to draw the change points over, default TDF_PCT_TAIL_K), as
 * TDF_SCHEDULE_TAIL and the runner's --schedule=input+TAIL take it. Sets
 * src's random_tail, pct_depth and pct_steps; returns 0 (src untouched) on
 * anything else. */
#define TDF_PCT_TAIL_K 200
int tdf_parse_tail(const char *name, sched_source_t *src);
/* The same params and events with the schedule region replaced by the
 * salt_len bytes of salt (the libFuzzer custom mutator's "rescheduled input",
 * fuzz/fuzz_main.c): written over data (capacity max_size); a text input is
 * converted to the binary form first. Returns the new size, or 0 when it
 * would not fit in max_size or the text does not parse. */
size_t tdf_reschedule(const tdf_target_desc_t *t, uint8_t *data, size_t size, size_t max_size, const uint8_t *salt,
                      size_t salt_len);
/* Copies at most max input bytes of s into out as printable ASCII (\xNN for
 * anything else), with "..." if cut; out always ends with a NUL. */
void tdf_escape(const char *s, size_t n, size_t max, char *out, size_t outsz);

#endif
