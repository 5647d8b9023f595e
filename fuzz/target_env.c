#include "target_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned tdf_variant_resolve(const tdf_target_desc_t *t, const char *name)
{
    if (!name)
        name = getenv("TDF_VARIANT");
    if (!name || !*name)
        return 0;
    for (unsigned i = 0; i < t->variant_count; i++)
        if (strcmp(t->variants[i].name, name) == 0)
            return i;
    fprintf(stderr, "==TDF== unknown variant '%s' for %s; variants:\n", name, t->name);
    tdf_print_variants(t);
    exit(2);
}

void tdf_print_variants(const tdf_target_desc_t *t)
{
    for (unsigned i = 0; i < t->variant_count; i++)
        printf("%s %s\t%s\n", t->name, t->variants[i].name, t->variants[i].doc);
}
