/* <initguid.h>: in the shim every DEFINE_GUID already defines its GUID (include/tdf/wdk.h), so this header adds nothing. */
#include <tdf/wdk.h>
