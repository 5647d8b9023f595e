/*
 * libFuzzer entry of every target. A failure prints the TDF report and then
 * aborts, so that libFuzzer saves the input as a crash artifact; the report
 * says how to reproduce it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "input.h"
#include "report.h"
#include "target_env.h"

static unsigned g_variant;
static tdf_run_options_t g_options;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    g_variant = tdf_variant_resolve(tdf_target, NULL);
    g_options = (tdf_run_options_t){.variant = g_variant, .full_trace = 0, .step_cap = 200000};
    tdf_install_crash_handlers(1);
    fprintf(stderr, "==TDF== target %s variant %s\n", tdf_target->name, tdf_target->variants[g_variant].name);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tdf_script_t script;
    tdf_decode(tdf_target, data, size, &script);
    if (tdf_run(tdf_target, &script, &g_options) != TDF_CLASS_NONE) {
        fflush(stdout);
        tdf_print_failure(stderr);
        fprintf(stderr, "==TDF== VARIANT %s\n", tdf_target->variants[g_variant].name);
        fflush(stderr);
        abort(); /* libFuzzer: deadly signal -> crash-<sha1> artifact */
    }
    return 0;
}
