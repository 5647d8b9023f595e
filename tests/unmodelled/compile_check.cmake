# cmake -DBUILD_DIR=dir -DDECLARED=target -DUNDECLARED=target -DROUTINE=name -P compile_check.cmake
#
# Calling a routine the shim does not declare is a compile error in driver
# code. To test the flags driver images really get (not a copy of them), the
# two drivers are images of this build, made by tdf_add_image like every other
# (tests/CMakeLists.txt, left out of "all"); this builds their object targets:
#   DECLARED   (declared_driver.c, declared routines only) must build: the flags work;
#   UNDECLARED (undeclared_driver.c, calls ROUTINE)        must fail, naming ROUTINE.
# Prints the compiler's error on success; the test passes on that error text
# (PASS_REGULAR_EXPRESSION), and any other outcome prints
# "UNMODELLED-CHECK-FAILED" (FAIL_REGULAR_EXPRESSION), so a driver that
# compiles can never pass.
function(build target)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${target}
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  set(rc ${rc} PARENT_SCOPE)
  set(text "${out}${err}" PARENT_SCOPE)
endfunction()

build(${DECLARED})
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "UNMODELLED-CHECK-FAILED: the control driver does not build as an image (exit ${rc}):\n${text}")
endif()
build(${UNDECLARED})
if(rc EQUAL 0)
  message(FATAL_ERROR "UNMODELLED-CHECK-FAILED: a driver image calling an undeclared routine built without error")
endif()
if(NOT text MATCHES "error: implicit declaration of function '${ROUTINE}'")
  message(FATAL_ERROR "UNMODELLED-CHECK-FAILED: the build failed (exit ${rc}) but not on the undeclared "
                      "routine:\n${text}")
endif()
message("the image build rejects the undeclared routine (exit ${rc}):\n${text}")
