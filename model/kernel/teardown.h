/*
 * tdf_teardown_t: who tore an object down (docs/REPORTS.md "Fatal pair").
 * The teardown itself fills it in (a few stores, no allocation, no text);
 * an oracle that finds the object dead hands it to tdf_fail_dead, which
 * turns it into the failure's teardown side. Self-contained: image.h
 * includes it for struct tdf_image, and the generated hooks file includes
 * image.h alone.
 */
#ifndef TDF_KERNEL_TEARDOWN_H
#define TDF_KERNEL_TEARDOWN_H

#include <stdint.h>

struct tdf_image;

typedef struct tdf_teardown {
    const char *event;             /* NULL: not torn down. Static text: "MmUnmapIoSpace", "unload image" */
    const struct tdf_image *image; /* the driver routine that did it (NULL: the model, e.g. the PnP manager) */
    const void *fn;
    uint64_t trace_index; /* its trace event (sched_trace_total() - 1 after that event) */
    uint32_t step;
    int fiber; /* model thread that did it; SCHED_NO_FIBER (-1) for the main context */
} tdf_teardown_t;

#endif
