/*
 * Variants of the file_io driver (fio.c). Index 0 is correct; each mutant is
 * one bug real driver code has (one-line docs in target.c's table and
 * docs/targets/fuzz_file_io.md).
 */
#ifndef FILE_IO_VARIANTS_H
#define FILE_IO_VARIANTS_H

#include <tdf/harness.h>

enum file_io_variant {
    VARIANT_CORRECT = 0,
    VARIANT_COMPLETE_EARLY,     /* completes a pending request, then copies its input memory */
    VARIANT_FREE_IN_CLEANUP,    /* EvtFileCleanup deletes the handle's buffer while a request of it is in flight */
    VARIANT_CLEANUP_TOUCHES_HW, /* EvtFileCleanup writes the registers, assuming the device is still in D0 */
    VARIANT_COUNT
};

#define IS_VARIANT(v) (TdfVariant() == (v))

#define FIO_HARDWARE_ID L"TDF\\FileIo"
/* A client's submit: 8 bytes of input, kept pending until the device has data. */
#define IOCTL_FIO_SUBMIT CTL_CODE(FILE_DEVICE_UNKNOWN, 0xA01, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* A client's query: the driver writes its status word into the output buffer at once. */
#define IOCTL_FIO_QUERY CTL_CODE(FILE_DEVICE_UNKNOWN, 0xA02, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define FIO_RECORD_SIZE 8
#define FIO_POOL_TAG 0x6f694654u /* 'oiFT' as a WDK multi-character constant: "TFio" in a pool dump */
#ifndef STATUS_INVALID_DEVICE_REQUEST
#define STATUS_INVALID_DEVICE_REQUEST ((NTSTATUS)0xC0000010L)
#endif

#endif
