# cmake -DRUNNER=path/fuzz_unmodelled_check_run -DWORK_DIR=dir -DINPUTS=n -P random_check.cmake
#
# Random inputs on the unmodelled-routine target: which classes may come out is
# decided by what the target does. Its only device is root-enumerated, and its
# AddDevice calls WdfFdoInitSetFilter before anything an input chooses runs, so
# EVERY input must end as MISUSE UNMODELLED in Filter_EvtDeviceAdd: the summary
# must be exactly "MISUSE=<n>" for n inputs (a NONE would be an unmodelled call
# that went unnoticed; any other class a harness bug), and every distinct
# signature (--save_failures prints one NEW line each) must be that one.
# Any other outcome fails the test, naming what was wrong.
set(dir ${WORK_DIR}/unmodelled_random_failures)
file(REMOVE_RECURSE ${dir})
execute_process(COMMAND ${CMAKE_COMMAND} -E env TDF_VARIANT= ${RUNNER} --random_inputs=${INPUTS} --seed=1
                        --save_failures=${dir}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
message("${out}${err}")
set(problems "")
if(NOT rc EQUAL 0)
  string(APPEND problems "  runner exit ${rc}, expected 0 (a random-inputs run reports, it does not fail)\n")
endif()
set(want "==TDF== RANDOM ${INPUTS} inputs, seed 1, variant correct: MISUSE=${INPUTS}\n")
string(FIND "${out}" "${want}" at)
if(at EQUAL -1)
  string(APPEND problems "  no summary line '${want}' (every input must be MISUSE, nothing else)\n")
endif()
string(REGEX MATCHALL "==TDF== NEW [^\n]*" news "${out}")
list(LENGTH news n_new)
if(n_new EQUAL 0)
  string(APPEND problems "  no failure signature printed (--save_failures)\n")
endif()
foreach(line IN LISTS news)
  if(NOT line MATCHES "^==TDF== NEW MISUSE/UNMODELLED:unmodelled_check!Filter_EvtDeviceAdd:")
    string(APPEND problems "  unexpected signature: ${line}\n")
  endif()
endforeach()
if(problems)
  message(FATAL_ERROR "unmodelled routine, random inputs:\n${problems}")
endif()
message("${INPUTS} of ${INPUTS} random inputs: MISUSE UNMODELLED in Filter_EvtDeviceAdd (${n_new} signature)")
