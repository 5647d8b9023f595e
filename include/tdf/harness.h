/*
 * teardown-fuzz harness API: how a team describes its own drivers as a fuzz
 * target. A target is one C file with one TDF_TARGET(...) description:
 *   - images: each driver (an "image": its code can be unloaded) with its
 *     DriverEntry and the hardware IDs it binds to;
 *   - roots: the hardware IDs of root-enumerated devices (the bus, or both
 *     stacks); children come from the drivers themselves (WdfFdoAddStaticChild);
 *   - stimuli: the cross-calls the target offers as events (an interrupt, an
 *     I/O request, a timer): a driver routine the harness calls on a fresh
 *     model thread, against one started device of the named image;
 *   - variants: the correct protocol and its mutants, chosen by TDF_VARIANT;
 *   - params: small numbers the input chooses (e.g. how many children).
 * The event alphabet is the generic PnP/power events (docs/INPUT.md) plus the
 * target's stimuli. Everything else is the model's business.
 */
#ifndef TDF_HARNESS_H
#define TDF_HARNESS_H

#include "wdf.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tdf_image; /* model/kernel/image.h; each image's object is made by tdf_add_image() */

#define TDF_MAX_HARDWARE_IDS 4
typedef struct tdf_image_desc {
    struct tdf_image *image;        /* TDF_IMAGE(name) */
    /* Called at each load. Static globals of the driver are NOT reset between
     * loads or runs: keep state in the WDFDRIVER / device contexts, or set
     * every global in DriverEntry (docs/WRITING-A-TARGET.md). */
    PDRIVER_INITIALIZE DriverEntry;
    PCWSTR hardware_ids[TDF_MAX_HARDWARE_IDS]; /* devices this driver is the FDO of */
} tdf_image_desc_t;

/* A stimulus routine runs on its own model thread with a reference on Device
 * held for its duration (as the I/O manager does for an IRP in flight), so
 * the device object and the driver image outlive it; anything else it touches
 * is the driver's protocol to protect. */
typedef VOID EVT_TDF_STIMULUS(_In_ WDFDEVICE Device, _In_ ULONG Argument);
typedef EVT_TDF_STIMULUS *PFN_TDF_STIMULUS;

typedef struct tdf_stimulus_desc {
    const char *name;        /* event name in the text form: "bus_notify" */
    struct tdf_image *image; /* delivered to a started device of this driver */
    PFN_TDF_STIMULUS routine; /* NULL: an I/O request instead, see ioctl */
    const char *doc;
    /* With routine NULL: a DeviceIoControl request with this code, sent to
     * the device's default queue as a user-mode client would; the model
     * thread waits for its completion. */
    ULONG ioctl;
    /* Nonzero: the input's next event comes only once the routine returned
     * (a hardware event the world lets finish, e.g. a device plugged in), or
     * for an I/O request once the client's DeviceIoControl returned (a tool
     * that waits for its answer); zero (the default): at once, the routine
     * or the client runs alongside what follows. */
    int wait_for_return;
    /* With routine NULL: what the client writes into its input buffer before
     * it sends the request (a plug-in request naming a device, say), from the
     * event's argument (bit 7, the overlapped flag, cleared); returns the
     * number of bytes, at most Capacity (TDF_CLIENT_INPUT_MAX). NULL: 64 zero
     * bytes. The output buffer is always 64 bytes. */
    ULONG (*client_input)(ULONG Argument, PVOID Buffer, ULONG Capacity);
} tdf_stimulus_desc_t;
#define TDF_CLIENT_INPUT_MAX 512

typedef struct tdf_variant_desc {
    const char *name; /* TDF_VARIANT=<name>; index 0 is the correct protocol */
    const char *doc;  /* one line: the real bug this variant is */
} tdf_variant_desc_t;

typedef struct tdf_param_desc {
    const char *name;
    uint8_t min, max; /* decoded from one input byte, min..max inclusive */
} tdf_param_desc_t;

typedef struct tdf_target_desc {
    const char *name;
    const char *doc;
    const tdf_image_desc_t *images;
    unsigned image_count;
    PCWSTR root_hardware_ids[4]; /* root-enumerated devices, started in order */
    const tdf_stimulus_desc_t *stimuli;
    unsigned stimulus_count;
    const tdf_variant_desc_t *variants;
    unsigned variant_count;
    const tdf_param_desc_t *params;
    unsigned param_count;
} tdf_target_desc_t;

#define TDF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* The image object of a driver built with tdf_add_image(NAME ...). */
#define TDF_IMAGE(name) (&tdf_image_##name)
#define TDF_DECLARE_IMAGE(name) extern struct tdf_image tdf_image_##name
/* Exactly one per fuzz target binary. */
#define TDF_TARGET(desc) const tdf_target_desc_t *const tdf_target = &(desc)

/* ---- for driver code ------------------------------------------------------- */
/* Index into the target's variants (0 = correct). Constant during a run. */
ULONG TdfVariant(void);
/* A target parameter's value for this run. */
ULONG TdfParam(const char *name);
/* The same, for a name the target may not declare: FALSE if it does not
 * (the registry shim reads values this way, include/tdf/wdfregistry.h). */
BOOLEAN TdfParamLookup(const char *name, ULONG *value);
/* The device object of a stimulus's device: for a WDM driver's device, the
 * one its AddDevice created (a WDM stimulus routine starts here); for a KMDF
 * device, WdfDeviceWdmGetDeviceObject's. Not a yield point. */
PDEVICE_OBJECT TdfStimulusDeviceObject(_In_ WDFDEVICE Device);
/* An explicit yield point, where no shim call is (rarely needed). */
VOID TdfYield(void);
/* Fails the run with an exact message: for routines the shim declares but
 * does not model with these arguments. */
__attribute__((noreturn)) void TdfUnmodelled(const char *routine, const char *what);

#ifdef __cplusplus
}
#endif
#endif
