/* <wmistr.h>: WMI, accepted and ignored by the shim (include/tdf/wmi.h). */
#include <tdf/wmi.h>
