# R1KIT_CUDA=AUTO|ON|OFF. AUTO enables CUDA when nvcc is found; the toolkit is on every machine
# (DESIGN.md), so CUDA code compiles for sm_90a in every build, CI included, even where no GPU runs it.
set(R1KIT_CUDA_ENABLED OFF)
if(NOT R1KIT_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT CMAKE_CUDA_ARCHITECTURES)
      # sm_90a: Hopper with wgmma/TMA, which the FP8 kernels use.
      set(CMAKE_CUDA_ARCHITECTURES 90a)
    endif()
    # CMake 3.25 has no CUDA20 flags for nvcc 13; the kernels need C++17 only.
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    enable_language(CUDA)
    set(R1KIT_CUDA_ENABLED ON)
    # Saved: the torch wheel's config overwrites CMAKE_CUDA_ARCHITECTURES (it uses TORCH_CUDA_ARCH_LIST).
    set(R1KIT_CUDA_ARCHS ${CMAKE_CUDA_ARCHITECTURES})
    message(STATUS "r1kit: CUDA ${CMAKE_CUDA_COMPILER_VERSION} for sm_${CMAKE_CUDA_ARCHITECTURES}")
  elseif(R1KIT_CUDA STREQUAL "ON")
    message(FATAL_ERROR "r1kit: R1KIT_CUDA=ON but no nvcc was found; install the CUDA toolkit "
                        "or pass -DR1KIT_CUDA=OFF")
  else()
    message(STATUS "r1kit: no nvcc found, CUDA code not built (R1KIT_CUDA=AUTO)")
  endif()
endif()
