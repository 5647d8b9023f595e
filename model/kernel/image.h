/*
 * struct tdf_image: one driver image. Its only definition: model code uses it
 * through kernel.h, and the hooks file tdf_add_image generates for each image
 * (cmake/TdfTarget.cmake) includes this header to define the image's object.
 * Self-contained (the hooks file includes nothing else).
 */
#ifndef TDF_KERNEL_IMAGE_H
#define TDF_KERNEL_IMAGE_H

#include <stdint.h>

#include "teardown.h"

typedef enum tdf_image_state { TDF_IMAGE_UNLOADED = 0, TDF_IMAGE_LOADED, TDF_IMAGE_UNLOAD_PENDING } tdf_image_state_t;

struct tdf_image {
    const char *name; /* set by the generated hooks file */
    /* run state, reset by kernel_reset() */
    tdf_image_state_t state;
    uint32_t loads;        /* times loaded this run */
    uint32_t unloaded_at;  /* step of the last unload */
    void *driver;          /* model WDFDRIVER of the current load (wdf layer) */
    tdf_teardown_t unloaded_by; /* the last unload (the fatal pair's teardown of a 0xCE) */
};

/* The hooks' targets (model/kernel/image.c): every function entry and exit of
 * driver code, renamed from __cyg_profile_func_enter/exit per image. */
void tdf_image_enter(struct tdf_image *img, void *fn, void *call_site);
void tdf_image_exit(struct tdf_image *img, void *fn, void *call_site);

#endif
