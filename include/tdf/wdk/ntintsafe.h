/* <ntintsafe.h>: safe integer arithmetic, forwarded to the shim. */
#include <tdf/intsafe.h>
