# Warnings for every oomscope target: call oomscope_target_defaults(target).
function(oomscope_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
                                           -Wnull-dereference -Wformat=2 -Wimplicit-fallthrough)
  # Each function and datum in a section of its own, so that a link with --gc-sections (the
  # static `oomscope`, cli/CMakeLists.txt) leaves out what the binary never calls.
  target_compile_options(${target} PRIVATE -ffunction-sections -fdata-sections)
  if(OOMSCOPE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
