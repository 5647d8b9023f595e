/*
 * The recorder of tests/test_lifecycle_fileobject.c: one root FDO with file
 * callbacks (recfile.c) that logs one DbgPrint line per callback, so the test
 * can assert the order the model calls them in (docs/LIFECYCLE.md rules
 * 80-89). Test-only: never a fuzz target.
 */
#ifndef TDF_TEST_RECFILE_H
#define TDF_TEST_RECFILE_H

#include <tdf/harness.h>

#define RECFILE_HARDWARE_ID L"TDF\\RecFile"
/* Forwarded to a manual queue (not power-managed) until the "take" stimulus. */
#define IOCTL_RF_HOLD CTL_CODE(FILE_DEVICE_UNKNOWN, 0xB01, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Completed at once. */
#define IOCTL_RF_COMPLETE CTL_CODE(FILE_DEVICE_UNKNOWN, 0xB02, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Runs the buffer-size checks on its 64-byte buffers, logs each status, completes. */
#define IOCTL_RF_CHECKS CTL_CODE(FILE_DEVICE_UNKNOWN, 0xB03, METHOD_BUFFERED, FILE_ANY_ACCESS)

enum recfile_variant {
    RF_VARIANT_CORRECT = 0,
    RF_VARIANT_FAIL_CREATE,        /* EvtDeviceFileCreate completes the create with STATUS_UNSUCCESSFUL */
    RF_VARIANT_USE_AFTER_COMPLETE, /* IOCTL_RF_CHECKS: WdfMemoryGetBuffer on its input memory after completing */
    RF_VARIANT_COUNT
};

#endif
