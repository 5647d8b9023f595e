/* Printing a run: the failure report (docs/REPORTS.md) and the swimlanes. */
#ifndef TDF_FUZZ_REPORT_H
#define TDF_FUZZ_REPORT_H

#include <stdio.h>

#include "../model/pnp/pnp.h"

/* The parsable failure block: ==TDF== <CLASS> ..., SIGNATURE, DETAIL, STACK,
 * THREADS, DEVICES, RECENT. Prints nothing if the run had no failure. */
void tdf_print_failure(FILE *out);
/* The failure record with its fatal pair as one JSON object (and a newline;
 * "null" if the run had no failure): docs/REPORTS.md "Fatal pair". */
void tdf_print_failure_json(FILE *out);
/* Every recorded trace event, one lane per model thread. */
void tdf_print_swimlanes(FILE *out);
/* The plain trace (one event per line), used for determinism checks. */
void tdf_print_trace(FILE *out);
/* Installs the sanitizer report callback / fault handlers for this binary;
 * `libfuzzer`: leave the death callback to libFuzzer (it saves the crash). */
void tdf_install_crash_handlers(int libfuzzer);
/* Called (if set) when a sanitizer report or a fault is about to end the
 * process, after its report was printed: the runner's --hunt says there at
 * which exec the process died. Must only print (async-signal context). */
extern void (*tdf_death_hook)(void);

#endif
