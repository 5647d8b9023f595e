/* <wdmsec.h>: IoCreateDeviceSecure and SDDL strings (include/tdf/wdk.h). */
#include <tdf/wdk.h>
