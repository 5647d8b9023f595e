/* <wdf.h>: KMDF, forwarded to the shim (include/tdf/wdf.h). */
#include <tdf/wdf.h>
