/* The runner's --trace_json=FILE: one run as a machine-readable timeline
 * (docs/REPORTS.md "The trace as JSON"), the input of scripts/trace_html.py. */
#ifndef TDF_FUZZ_TRACE_JSON_H
#define TDF_FUZZ_TRACE_JSON_H

#include <stdio.h>

#include "input.h"

typedef struct tdf_trace_json_run {
    const char *input_path; /* as given on the command line */
    const char *variant;    /* the variant's name */
    const tdf_script_t *script; /* the decoded input (its events and text form) */
    int exit_code;          /* what the runner exits with for this run's class */
} tdf_trace_json_run_t;

/* Writes the run that just ended (the full trace: run it with full_trace) as
 * one JSON object. Reads only the trace, the fiber table, the device tree and
 * the failure; deterministic (no addresses, times or pointers). Returns 0 on a
 * write error (errno set by stdio). */
int tdf_write_trace_json(FILE *out, const tdf_trace_json_run_t *run);

#endif
