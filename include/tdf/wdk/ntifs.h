/* <ntifs.h>: the WDK kernel header, forwarded to the shim (include/tdf/wdk.h). */
#include <tdf/wdk.h>
