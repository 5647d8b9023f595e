# cmake -DRUNNER=path/fuzz_unmodelled_check_run -DWORK_DIR=dir -P run_check.cmake
#
# A declared routine used in a way the model does not support fails the run:
# the runner, on an empty input, must print "==TDF== MISUSE UNMODELLED" and the
# routine's name (WdfFdoInitSetFilter), and exit with MISUSE's code, 12
# (docs/REPORTS.md). Any other outcome fails the test.
set(input ${WORK_DIR}/unmodelled_check_empty_input)
file(WRITE ${input} "")
execute_process(COMMAND ${RUNNER} --variant=correct ${input}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
message("${out}${err}")
set(problems "")
if(NOT rc EQUAL 12)
  string(APPEND problems "  exit code ${rc}, expected 12 (MISUSE)\n")
endif()
if(NOT out MATCHES "==TDF== MISUSE UNMODELLED")
  string(APPEND problems "  no '==TDF== MISUSE UNMODELLED' headline\n")
endif()
if(NOT out MATCHES "WdfFdoInitSetFilter")
  string(APPEND problems "  the report does not name WdfFdoInitSetFilter\n")
endif()
if(problems)
  message(FATAL_ERROR "unmodelled routine at run time:\n${problems}")
endif()
