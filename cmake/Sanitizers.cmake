# ASan + UBSan for the whole build (tests included) when OOMSCOPE_SANITIZE is on.
if(OOMSCOPE_SANITIZE)
  set(_san -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_compile_options(${_san})
  add_link_options(-fsanitize=address,undefined)
endif()
# libFuzzer targets get -fsanitize=fuzzer on their own; the libraries they link are instrumented too.
if(OOMSCOPE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "OOMSCOPE_FUZZ needs clang (-DCMAKE_CXX_COMPILER=clang++)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# cpprestsdk's headers instantiate stream types whose RTTI lives in libcpprest.so, which UBSan's
# vptr check misreads as a type confusion. The adapter files (*_cpprest.cc) that include them
# go without that one check; everything else keeps it.
function(oomscope_cpprest_adapters)
  if(OOMSCOPE_SANITIZE OR OOMSCOPE_FUZZ)
    set_source_files_properties(${ARGN} DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}
      PROPERTIES COMPILE_OPTIONS -fno-sanitize=vptr)
  endif()
endfunction()
