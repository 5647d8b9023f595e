# tdf_add_image / tdf_add_target: how a driver becomes an image and a set of
# drivers becomes a fuzz target (docs/WRITING-A-TARGET.md).
#
# Images: every driver source is compiled with -finstrument-functions; the
# archive's __cyg_profile_func_enter/exit references are then renamed with
# objcopy to hooks of that image (tdf_hook_enter_<image>), generated here. So
# every function entry in a driver knows its image, and a call into an image
# that has unloaded is caught at the call (docs/ARCHITECTURE.md "Images").

# The checkout, or the install tree's share/teardown_fuzz (same layout).
get_filename_component(_tdf_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(TDF_ROOT ${_tdf_root} CACHE INTERNAL "")
# Random inputs per target per build in ctest: 100k through the plain build,
# fewer where sanitizers make each exec slower.
# (CACHE INTERNAL: the functions below are called from a team's own project
# too, whose scope does not see this directory's normal variables.)
if(TDF_SANITIZER STREQUAL "none")
  set(TDF_RANDOM_INPUTS 100000 CACHE INTERNAL "")
else()
  set(TDF_RANDOM_INPUTS 10000 CACHE INTERNAL "")
endif()
find_program(TDF_OBJCOPY NAMES objcopy llvm-objcopy-14 llvm-objcopy REQUIRED)

if(TDF_SANITIZER STREQUAL "asan")
  # pointer-overflow off: driver code computing &ctx->Regs[n] from a NULL
  # mapping is the real bug the model reports as 0x50 (READ_REGISTER on no I/O
  # space), the same in every build; UBSan would stop first with less context.
  set(TDF_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize=pointer-overflow -fno-sanitize-recover=undefined
      CACHE INTERNAL "")
elseif(TDF_SANITIZER STREQUAL "tsan")
  set(TDF_SAN_FLAGS -fsanitize=thread CACHE INTERNAL "")
else()
  set(TDF_SAN_FLAGS "" CACHE INTERNAL "")
endif()
# How the libFuzzer binaries link the engine: -fsanitize=fuzzer here; an
# OSS-Fuzz / ClusterFuzzLite build passes its $LIB_FUZZING_ENGINE
# (.clusterfuzzlite/build.sh), with its sanitizers in $CFLAGS and
# TDF_SANITIZER=none (the flags are then the environment's, not ours).
set(TDF_FUZZING_ENGINE "-fsanitize=fuzzer" CACHE STRING "link flags of the libFuzzer binaries ($LIB_FUZZING_ENGINE)")
separate_arguments(_tdf_engine UNIX_COMMAND "${TDF_FUZZING_ENGINE}")
set(TDF_FUZZING_ENGINE_FLAGS ${_tdf_engine} CACHE INTERNAL "")
# Driver images get libFuzzer's whole instrumentation (edges, indirect calls,
# comparisons). Model code (the harness, kernel/WDF model, runners) gets what
# TDF_MODEL_COVERAGE says: "full" as the images, "edges" its edge counters
# only, or "none" (default): no coverage of model code. Why none: model edges
# were ~4,500 of the ~5,200 features libFuzzer tracks on fuzz_bus_child, and
# its per-feature bookkeeping (entropic, feature collection) over them more
# than half of a libFuzzer exec; without them an exec costs half (asan) to a
# third (the fuzz build), and the 19 slowest mutants die in no more execs
# (1.36x fewer, geometric mean): the lifecycle and pair counters
# (model/kernel/feedback.c) and the drivers' own coverage are the signal
# (docs/BENCHMARKS.md "Speed, third pass (issue 14)"). "edges" was the
# default before: a build directory configured then has it in its cache and
# is moved to the new default once (below); -DTDF_MODEL_COVERAGE=edges on a
# fresh directory is kept.
if(DEFINED CACHE{TDF_MODEL_COVERAGE} AND NOT DEFINED CACHE{TDF_MODEL_COVERAGE_V2}
   AND EXISTS "${CMAKE_BINARY_DIR}/CMakeCache.txt" AND TDF_MODEL_COVERAGE STREQUAL "edges")
  message(STATUS "TDF_MODEL_COVERAGE: edges (the old default, cached) -> none (the default now)")
  set(TDF_MODEL_COVERAGE "none" CACHE STRING "libFuzzer instrumentation of model code: full | edges | none" FORCE)
endif()
set(TDF_MODEL_COVERAGE_V2 1 CACHE INTERNAL "TDF_MODEL_COVERAGE's default is none (see above)")
set(TDF_MODEL_COVERAGE "none" CACHE STRING "libFuzzer instrumentation of model code: full | edges | none")
if(TDF_LIBFUZZER)
  set(TDF_COV_FLAGS -fsanitize=fuzzer-no-link CACHE INTERNAL "")
  if(TDF_MODEL_COVERAGE STREQUAL "full")
    set(TDF_MODEL_COV_FLAGS -fsanitize=fuzzer-no-link CACHE INTERNAL "")
  elseif(TDF_MODEL_COVERAGE STREQUAL "edges")
    set(TDF_MODEL_COV_FLAGS -fsanitize-coverage=inline-8bit-counters,pc-table CACHE INTERNAL "")
  elseif(TDF_MODEL_COVERAGE STREQUAL "none")
    set(TDF_MODEL_COV_FLAGS "" CACHE INTERNAL "")
  else()
    message(FATAL_ERROR "TDF_MODEL_COVERAGE=${TDF_MODEL_COVERAGE}: expected full, edges or none")
  endif()
else()
  set(TDF_COV_FLAGS "" CACHE INTERNAL "")
  set(TDF_MODEL_COV_FLAGS "" CACHE INTERNAL "")
endif()
# Coverage without a sanitizer (TDF_SANITIZER=none with TDF_LIBFUZZER: the fuzz
# build, scripts/lib.sh): no sanitizer runtime defines the coverage callbacks, so
# the programs without libFuzzer's main (runners, benchmarks) link libFuzzer's
# runtime without main (clang's libclang_rt.fuzzer_no_main, C++: libstdc++).
set(TDF_COV_RUNTIME "" CACHE INTERNAL "")
# An OSS-Fuzz / ClusterFuzzLite build (its sanitizer in CMAKE_C_FLAGS) has its
# sanitizer's runtime: not this case.
if(TDF_LIBFUZZER AND TDF_SANITIZER STREQUAL "none" AND NOT CMAKE_C_FLAGS MATCHES "-fsanitize=")
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libclang_rt.fuzzer_no_main-x86_64.a
                  OUTPUT_VARIABLE _tdf_no_main OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT EXISTS "${_tdf_no_main}")
    message(FATAL_ERROR "TDF_LIBFUZZER without a sanitizer needs libclang_rt.fuzzer_no_main-x86_64.a "
                        "(clang's libFuzzer runtime, Debian libclang-rt-14-dev); ${CMAKE_C_COMPILER} has none")
  endif()
  set(TDF_COV_RUNTIME ${_tdf_no_main} stdc++ m pthread CACHE INTERNAL "")
endif()

# Model code: ASan/UBSan and coverage as everything else; under TSan it is NOT
# instrumented (its bookkeeping is shared by all fibers with no modelled
# happens-before) but publishes happens-before with __tsan_acquire/release.
function(tdf_apply_model_flags tgt)
  # WCHAR is 2 bytes as on Windows (include/tdf/wdk.h): everything that shares
  # the shim's types is compiled so.
  target_compile_options(${tgt} PRIVATE -fshort-wchar)
  if(TDF_SANITIZER STREQUAL "tsan")
    target_compile_definitions(${tgt} PRIVATE TDF_TSAN_RUNTIME=1)
  else()
    target_compile_options(${tgt} PRIVATE ${TDF_SAN_FLAGS})
  endif()
  target_compile_options(${tgt} PRIVATE ${TDF_MODEL_COV_FLAGS})
endfunction()

function(_tdf_link_flags tgt)
  target_link_options(${tgt} PRIVATE ${TDF_SAN_FLAGS})
endfunction()

include(${CMAKE_CURRENT_LIST_DIR}/TdfWpp.cmake)

# tdf_add_image(NAME SOURCES src... [INCLUDE_DIRS dir...] [DEFINES NAME[=VALUE]...]
#               [WPP_CONFIG header...] [MOF file.mof=NameMof.h...])
# A driver's own sources as they are: its headers (INCLUDE_DIRS), the macros
# its project defines (DEFINES), and the WDK's header names (<ntddk.h>,
# <wdf.h>, <ntstrsafe.h> ...) forwarded to the shim by include/tdf/wdk/.
# WPP_CONFIG: the headers with the driver's `begin_wpp config` blocks; each
# source's "<name>.tmh" is generated from them (cmake/TdfWpp.cmake).
# MOF: each driver .mof and the header name its sources include for it
# (`toaster.mof=ToasterMof.h`), generated as the WDK's wmimofck would
# (cmake/tdf_mof_header.py, Python 3).
function(tdf_add_image name)
  cmake_parse_arguments(ARG "" "" "SOURCES;INCLUDE_DIRS;DEFINES;WPP_CONFIG;MOF" ${ARGN})
  set(lib tdf_image_${name}_objects)
  add_library(${lib} STATIC ${ARG_SOURCES})
  set(abs_includes "")
  if(ARG_WPP_CONFIG)
    set(wpp_dir ${CMAKE_CURRENT_BINARY_DIR}/tdf_wpp_${name})
    tdf_wpp_generate(IMAGE ${name} SOURCES ${ARG_SOURCES} CONFIG_HEADERS ${ARG_WPP_CONFIG} OUT_DIR ${wpp_dir})
    list(APPEND abs_includes ${wpp_dir})
  endif()
  if(ARG_MOF)
    find_package(Python3 COMPONENTS Interpreter REQUIRED)
    set(mof_dir ${CMAKE_CURRENT_BINARY_DIR}/tdf_mof_${name})
    file(MAKE_DIRECTORY ${mof_dir})
    foreach(pair ${ARG_MOF})
      if(NOT pair MATCHES "^(.+\\.mof)=([A-Za-z0-9_.]+\\.h)$")
        message(FATAL_ERROR "tdf_add_image(${name}): MOF wants file.mof=NameMof.h, got '${pair}'")
      endif()
      get_filename_component(mof "${CMAKE_MATCH_1}" ABSOLUTE)
      set(header ${mof_dir}/${CMAKE_MATCH_2})
      set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${mof}" ${TDF_ROOT}/cmake/tdf_mof_header.py)
      execute_process(COMMAND ${Python3_EXECUTABLE} ${TDF_ROOT}/cmake/tdf_mof_header.py "${mof}" "${header}"
                      RESULT_VARIABLE rc ERROR_VARIABLE err)
      if(NOT rc EQUAL 0)
        message(FATAL_ERROR "tdf_add_image(${name}): cannot make ${CMAKE_MATCH_2} from ${mof}: ${err}")
      endif()
    endforeach()
    list(APPEND abs_includes ${mof_dir})
  endif()
  foreach(dir ${ARG_INCLUDE_DIRS})
    get_filename_component(abs ${dir} ABSOLUTE)
    list(APPEND abs_includes ${abs})
  endforeach()
  target_include_directories(${lib} PRIVATE ${abs_includes})
  # The include rule (docs/WRITING-A-TARGET.md): checked before the image compiles.
  set(abs_sources "")
  foreach(src ${ARG_SOURCES})
    get_filename_component(abs ${src} ABSOLUTE)
    list(APPEND abs_sources ${abs})
  endforeach()
  set(stamp ${CMAKE_CURRENT_BINARY_DIR}/tdf_image_${name}.includes_ok)
  add_custom_command(OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -DCOMPILER=${CMAKE_C_COMPILER} -DTDF_ROOT=${TDF_ROOT} -DIMAGE=${name}
      -DSTAMP=${stamp} "-DSOURCES=${abs_sources}" "-DINCLUDE_DIRS=${abs_includes}" "-DDEFINES=${ARG_DEFINES}"
      -P ${TDF_ROOT}/cmake/CheckImageIncludes.cmake
    DEPENDS ${abs_sources} ${TDF_ROOT}/cmake/CheckImageIncludes.cmake
    IMPLICIT_DEPENDS C ${abs_sources}
    # VERBATIM: the lists (several sources, include folders) reach the script
    # as one argument each, not split into shell commands at their ';'.
    VERBATIM
    COMMENT "image ${name}: checking that driver code includes only the public API")
  add_custom_target(tdf_image_${name}_includes DEPENDS ${stamp})
  add_dependencies(${lib} tdf_image_${name}_includes)
  target_include_directories(${lib} PRIVATE ${TDF_ROOT}/include ${TDF_ROOT}/include/tdf/wdk)
  target_compile_definitions(${lib} PRIVATE ${ARG_DEFINES})
  target_compile_options(${lib} PRIVATE -finstrument-functions ${TDF_SAN_FLAGS} ${TDF_COV_FLAGS}
    -Werror=implicit-function-declaration -fshort-wchar)
  # Real object code, never LTO IR (TDF_LTO): objcopy below renames the hook
  # symbols in the object code, which an LTO link would not read.
  set_property(TARGET ${lib} PROPERTY INTERPROCEDURAL_OPTIMIZATION OFF)
  # Driver code includes only the public headers (include/tdf): no model internals.
  target_compile_definitions(${lib} PRIVATE TDF_DRIVER_IMAGE=1)
  set(renamed ${CMAKE_CURRENT_BINARY_DIR}/libtdf_image_${name}.a)
  add_custom_command(OUTPUT ${renamed}
    COMMAND ${TDF_OBJCOPY}
      --redefine-sym __cyg_profile_func_enter=tdf_hook_enter_${name}
      --redefine-sym __cyg_profile_func_exit=tdf_hook_exit_${name}
      $<TARGET_FILE:${lib}> ${renamed}
    DEPENDS ${lib}
    COMMENT "image ${name}: binding function entry/exit hooks")
  set(hooks ${CMAKE_CURRENT_BINARY_DIR}/tdf_image_${name}_hooks.c)
  file(WRITE ${hooks}
"/* generated by tdf_add_image(${name}) */
#include \"${TDF_ROOT}/model/kernel/image.h\"
struct tdf_image tdf_image_${name} = { .name = \"${name}\" };
void tdf_hook_enter_${name}(void *fn, void *site);
void tdf_hook_exit_${name}(void *fn, void *site);
void tdf_hook_enter_${name}(void *fn, void *site) { tdf_image_enter(&tdf_image_${name}, fn, site); }
void tdf_hook_exit_${name}(void *fn, void *site) { tdf_image_exit(&tdf_image_${name}, fn, site); }
")
  add_library(tdf_image_${name}_hooks STATIC ${hooks})
  tdf_apply_model_flags(tdf_image_${name}_hooks)
  target_link_libraries(tdf_image_${name}_hooks PUBLIC tdf_model)
  add_custom_target(tdf_image_${name}_renamed DEPENDS ${renamed})
  # The renamed archive as an imported library: CMake then orders the link as
  # image, hooks, model, whatever order targets list their images in.
  add_library(tdf_image_${name} STATIC IMPORTED GLOBAL)
  set_target_properties(tdf_image_${name} PROPERTIES
    IMPORTED_LOCATION ${renamed}
    INTERFACE_LINK_LIBRARIES "tdf_image_${name}_hooks;tdf_model")
  add_dependencies(tdf_image_${name} tdf_image_${name}_renamed)
endfunction()

# tdf_add_target(NAME [INTERNAL] IMAGES img... SOURCES target.c...)
# Makes NAME_run (standalone runner, every build) and NAME (libFuzzer, when
# TDF_LIBFUZZER), and records NAME in tdf_targets.txt for the scripts unless
# INTERNAL (a test's own target, not one to fuzz).
function(tdf_add_target name)
  cmake_parse_arguments(ARG "INTERNAL" "" "IMAGES;SOURCES" ${ARGN})
  set(runners ${name}_run)
  if(TDF_LIBFUZZER)
    list(APPEND runners ${name})
  endif()
  foreach(exe ${runners})
    if(exe STREQUAL name)
      add_executable(${exe} ${TDF_ROOT}/fuzz/fuzz_main.c ${ARG_SOURCES})
      target_link_options(${exe} PRIVATE ${TDF_FUZZING_ENGINE_FLAGS})
    else()
      add_executable(${exe} ${TDF_ROOT}/fuzz/runner_main.c ${ARG_SOURCES})
    endif()
    target_include_directories(${exe} PRIVATE ${TDF_ROOT}/include)
    tdf_apply_model_flags(${exe})
    _tdf_link_flags(${exe})
    foreach(img ${ARG_IMAGES})
      # Whole archive: every routine of the driver is part of its image.
      target_link_libraries(${exe} PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,tdf_image_${img}>")
    endforeach()
    if(TDF_COV_RUNTIME AND NOT exe STREQUAL name)
      # The hooks before the runtime: the linker takes an archive's member
      # only for a symbol already wanted.
      foreach(img ${ARG_IMAGES})
        target_link_libraries(${exe} PRIVATE tdf_image_${img}_hooks)
      endforeach()
      target_link_libraries(${exe} PRIVATE tdf_model ${TDF_COV_RUNTIME})
    endif()
    target_link_libraries(${exe} PRIVATE tdf_model)
    set_target_properties(${exe} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
  endforeach()
  # Every target's corpus and repro inputs are tests of every build.
  # corpus/<target>/ and repro/<target>/ live in the project that defines the
  # target: this tree for the built-in ones, the team's project otherwise.
  set(project_dir ${CMAKE_SOURCE_DIR})
  if(TDF_BUILD_TESTS)
    set(runner $<TARGET_FILE:${name}_run>)
    set(replay ${TDF_ROOT}/scripts/ctest_replay.sh)
    # Registered whether or not the directories exist yet (no reconfigure
    # needed after adding the first repro); with no inputs they are skipped.
    if(NOT ARG_INTERNAL)
      add_test(NAME ${name}.corpus COMMAND ${replay} corpus ${runner} ${project_dir}/corpus/${name})
      add_test(NAME ${name}.corpus_determinism COMMAND ${replay} determinism ${runner} ${project_dir}/corpus/${name})
      add_test(NAME ${name}.repro COMMAND ${replay} repro ${runner} ${project_dir}/repro/${name})
      set_tests_properties(${name}.corpus ${name}.corpus_determinism ${name}.repro PROPERTIES SKIP_RETURN_CODE 77)
      if(TDF_SANITIZER STREQUAL "tsan")
        set_tests_properties(${name}.repro PROPERTIES ENVIRONMENT TDF_REPRO_ALLOW_SANITIZER=1)
      endif()
    endif()
    # Any byte string is an input: seeded random ones must never fault the
    # harness (a model failure is fine, a crash of the runner is not). The
    # correct variant (TDF_VARIANT emptied) must moreover stay silent.
    add_test(NAME ${name}.random_inputs COMMAND ${name}_run --random_inputs=${TDF_RANDOM_INPUTS} --seed=1)
    if(ARG_INTERNAL)
      set(silent "==TDF== RANDOM ") # a test's own target may fail by design
    else()
      # NONE=<n> followed by the end of the line: no other class counted.
      set(silent "==TDF== RANDOM [0-9]+ inputs, seed 1, variant [a-z_0-9]+: NONE=[0-9]+[^ 0-9]")
    endif()
    set_tests_properties(${name}.random_inputs PROPERTIES ENVIRONMENT TDF_VARIANT= PASS_REGULAR_EXPRESSION "${silent}")
  endif()
  if(NOT ARG_INTERNAL)
    set_property(GLOBAL APPEND PROPERTY TDF_TARGETS ${name})
  endif()
  get_property(all GLOBAL PROPERTY TDF_TARGETS)
  list(JOIN all "\n" text)
  file(WRITE ${CMAKE_BINARY_DIR}/tdf_targets.txt "${text}\n")
endfunction()
