/* <ntstrsafe.h>: safe string routines, forwarded to the shim's Rtl strings. */
#include <tdf/rtl_strings.h>
