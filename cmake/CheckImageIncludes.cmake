# cmake -DCOMPILER=cc -DTDF_ROOT=dir -DIMAGE=name -DSTAMP=file -DSOURCES="a.c;b.c" [-DINCLUDE_DIRS="d;e"]
#       [-DDEFINES="N=V;M"] -P CheckImageIncludes.cmake
#
# A driver image may include the public API (include/tdf) and its own headers,
# never the model's internals: the preprocessor lists every header a source
# really includes (-MM, so no path trick escapes it) and any header under
# model/{sched,kernel,wdf,pnp} or fuzz/ fails the build, naming both files.
set(forbidden "${TDF_ROOT}/model/sched/" "${TDF_ROOT}/model/kernel/" "${TDF_ROOT}/model/wdf/"
              "${TDF_ROOT}/model/pnp/" "${TDF_ROOT}/fuzz/")
set(errors "")
set(include_flags -I${TDF_ROOT}/include -I${TDF_ROOT}/include/tdf/wdk)
foreach(dir ${INCLUDE_DIRS})
  list(APPEND include_flags -I${dir})
endforeach()
# The image's own defines (tdf_add_image DEFINES): a driver's includes may depend on them.
foreach(def ${DEFINES})
  list(APPEND include_flags -D${def})
endforeach()
foreach(src ${SOURCES})
  execute_process(COMMAND ${COMPILER} -MM -MG -DTDF_DRIVER_IMAGE=1 ${include_flags} ${src}
                  OUTPUT_VARIABLE deps ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "image ${IMAGE}: cannot scan ${src}:\n${err}")
  endif()
  string(REPLACE "\\\n" " " deps "${deps}")
  separate_arguments(deps UNIX_COMMAND "${deps}")
  foreach(dep ${deps})
    get_filename_component(abs "${dep}" REALPATH)
    foreach(bad ${forbidden})
      get_filename_component(bad_abs "${bad}" REALPATH)
      string(FIND "${abs}" "${bad_abs}/" at)
      if(at EQUAL 0)
        string(APPEND errors "  ${src} includes ${abs}\n")
      endif()
    endforeach()
  endforeach()
endforeach()
if(errors)
  message(FATAL_ERROR "image ${IMAGE}: driver code may include only <tdf/...> (include/tdf) and its own "
                      "headers, not model internals:\n${errors}")
endif()
file(WRITE ${STAMP} "ok\n")
