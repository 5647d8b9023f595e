# cmake -DCOMPILER=cc -DTDF_ROOT=dir -DSOURCE_DIR=dir -DROUTINE=name -P compile_check.cmake
#
# Calling a routine the shim does not declare is a compile error in driver
# code: driver images are compiled with -Werror=implicit-function-declaration
# (cmake/TdfTarget.cmake, tdf_add_image). Compiles two tiny drivers with the
# flags of a driver image:
#   declared_driver.c   (declared routines only) must compile: the flags work;
#   undeclared_driver.c (calls ROUTINE)          must fail, naming ROUTINE.
# Prints the compiler's error on success; the test passes on that error text
# (PASS_REGULAR_EXPRESSION), and any other outcome prints
# "UNMODELLED-CHECK-FAILED" (FAIL_REGULAR_EXPRESSION), so a driver that
# compiles can never pass.
set(flags -std=gnu11 -I${TDF_ROOT}/include -DTDF_DRIVER_IMAGE=1 -finstrument-functions
          -Werror=implicit-function-declaration -Wall -Wextra -Wno-unused-parameter -c -o /dev/null)

execute_process(COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C ${COMPILER} ${flags} ${SOURCE_DIR}/declared_driver.c
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "UNMODELLED-CHECK-FAILED: the control driver does not compile with the image flags "
                      "(exit ${rc}):\n${out}${err}")
endif()

execute_process(COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C ${COMPILER} ${flags} ${SOURCE_DIR}/undeclared_driver.c
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(rc EQUAL 0)
  message(FATAL_ERROR "UNMODELLED-CHECK-FAILED: a driver calling an undeclared routine compiled without error")
endif()
if(NOT "${out}${err}" MATCHES "error: implicit declaration of function '${ROUTINE}'")
  message(FATAL_ERROR "UNMODELLED-CHECK-FAILED: the compile failed (exit ${rc}) but not on the undeclared "
                      "routine:\n${out}${err}")
endif()
message("${COMPILER} rejects the undeclared routine (exit ${rc}):\n${err}")
