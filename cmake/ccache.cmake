# ccache when present. PCH builds are cached only with this sloppiness (STYLE.md "Build cost"), and
# GCC needs -fpch-preprocess so that ccache sees the PCH include.
find_program(R1_CCACHE ccache)
if(R1_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(launcher ${CMAKE_COMMAND} -E env
      "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
      ${R1_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${launcher} CACHE STRING "" FORCE)
  set(CMAKE_CUDA_COMPILER_LAUNCHER ${launcher} CACHE STRING "" FORCE)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fpch-preprocess>)
  message(STATUS "r1kit: ccache at ${R1_CCACHE}")
endif()
