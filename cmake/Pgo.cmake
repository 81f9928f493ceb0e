# Profile-guided optimization of the heap engine (lib/common, lib/heap and the `oomscope` CLI):
# scripts/build.sh release builds an instrumented `oomscope` (OOMSCOPE_PGO=generate) in
# build/pgo-gen, runs it on snapshot series written by a real Node process
# (scripts/pgo-train.sh: not the bench's files), then builds the release tree with the profile
# (OOMSCOPE_PGO=use). GCC then lays out the parser's and the graph passes' branches by what they
# did: about 4% less wall time at 30 and 300 MB (bench/README.md). Empty: no PGO.
set(OOMSCOPE_PGO "" CACHE STRING "Profile-guided optimization of the heap engine: generate, use or empty")
set_property(CACHE OOMSCOPE_PGO PROPERTY STRINGS "" generate use)
set(OOMSCOPE_PGO_DIR "${CMAKE_BINARY_DIR}/pgo-profile" CACHE PATH
    "Where OOMSCOPE_PGO=generate writes the profile and OOMSCOPE_PGO=use reads it")

if(OOMSCOPE_PGO AND NOT OOMSCOPE_PGO MATCHES "^(generate|use)$")
  message(FATAL_ERROR "OOMSCOPE_PGO must be generate, use or empty, not '${OOMSCOPE_PGO}'")
endif()
if(OOMSCOPE_PGO AND NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  message(FATAL_ERROR "OOMSCOPE_PGO needs GCC (its -fprofile-prefix-path)")
endif()
if(OOMSCOPE_PGO AND (OOMSCOPE_SANITIZE OR OOMSCOPE_FUZZ))
  message(FATAL_ERROR "OOMSCOPE_PGO is for release builds, not with the sanitizers or fuzzers")
endif()
if(OOMSCOPE_PGO STREQUAL "use" AND NOT EXISTS "${OOMSCOPE_PGO_DIR}/profile.stamp")
  message(FATAL_ERROR "OOMSCOPE_PGO=use: no profile in ${OOMSCOPE_PGO_DIR} (scripts/build.sh release makes one)")
endif()

# Applies the profile's flags to one target of the engine. The profile's files are named after
# each object's path below the build tree (-fprofile-prefix-path), so that the release tree reads
# what the instrumented tree wrote.
function(oomscope_pgo target)
  if(NOT OOMSCOPE_PGO)
    return()
  endif()
  set(common -fprofile-prefix-path=${CMAKE_BINARY_DIR})
  if(OOMSCOPE_PGO STREQUAL "generate")
    # Atomic counters: the passes run on two threads.
    target_compile_options(${target} PRIVATE -fprofile-generate=${OOMSCOPE_PGO_DIR} -fprofile-update=atomic ${common})
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE")
      target_link_options(${target} PRIVATE -fprofile-generate)
    else()
      target_link_options(${target} INTERFACE -fprofile-generate)
    endif()
    return()
  endif()
  # use: functions the training did not run are optimized as usual, not for size
  # (-fprofile-partial-training). A function edited since the training is compiled without the
  # profile (-Wno-coverage-mismatch); scripts/build.sh release trains again. Warnings stay
  # warnings here (-Wno-error): GCC's "missing counts" for a stale profile has no flag of its own,
  # and would stop a `cmake --build` after an edit. The instrumented tree compiles the same code
  # at the same -O2 with -Werror, and so does every other tree.
  target_compile_options(${target} PRIVATE -fprofile-use=${OOMSCOPE_PGO_DIR} -fprofile-partial-training
                                           -Wno-missing-profile -Wno-coverage-mismatch -Wno-error ${common})
  # A new profile rebuilds the target's objects. ccache would not see it (it cannot find the
  # renamed profile files), so these objects are compiled without it.
  get_target_property(sources ${target} SOURCES)
  set_source_files_properties(${sources} TARGET_DIRECTORY ${target}
                              PROPERTIES OBJECT_DEPENDS "${OOMSCOPE_PGO_DIR}/profile.stamp")
  set_target_properties(${target} PROPERTIES CXX_COMPILER_LAUNCHER "")
endfunction()
