# cmake -DCOMPILER=cc -DTDF_ROOT=dir -DSOURCE=file -DINCLUDED=file -DSTAMP=file -P expect_rejected.cmake
#
# The include rule must reject SOURCE for the one reason it is there for: it
# includes INCLUDED, a model-internal header. Runs cmake/CheckImageIncludes.cmake
# as tdf_add_image does and passes only if it fails (non-zero exit, no stamp)
# with its "not model internals" message naming SOURCE and INCLUDED. A scan
# that cannot run ("cannot scan"), a failure for another reason, or an
# acceptance all fail this test.
file(REMOVE ${STAMP})
get_filename_component(included_abs "${INCLUDED}" REALPATH)
execute_process(COMMAND ${CMAKE_COMMAND} -DCOMPILER=${COMPILER} -DTDF_ROOT=${TDF_ROOT} -DIMAGE=bad
                        -DSTAMP=${STAMP} -DSOURCES=${SOURCE} -P ${TDF_ROOT}/cmake/CheckImageIncludes.cmake
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
set(text "${out}${err}")
string(REGEX REPLACE "\n *" " " flat "${text}") # CMake wraps long messages
set(problems "")
if(rc EQUAL 0)
  string(APPEND problems "  the check accepted ${SOURCE} (exit 0)\n")
endif()
if(EXISTS ${STAMP})
  string(APPEND problems "  the check wrote its ok stamp\n")
endif()
if(flat MATCHES "cannot scan")
  string(APPEND problems "  the check could not scan the source\n")
endif()
if(NOT flat MATCHES "not model internals:")
  string(APPEND problems "  no 'not model internals' rejection\n")
endif()
string(FIND "${flat}" "${SOURCE} includes ${included_abs}" at)
if(at EQUAL -1)
  string(APPEND problems "  the rejection does not name '${SOURCE} includes ${included_abs}'\n")
endif()
if(problems)
  message(FATAL_ERROR "include check on ${SOURCE} (exit ${rc}):\n${problems}output:\n${text}")
endif()
message("rejected as it must be: ${SOURCE} includes ${included_abs}")
