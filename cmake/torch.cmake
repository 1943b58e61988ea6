# LibTorch from the torch wheel in the machine-wide venv (DESIGN.md section 3), or from Torch_DIR.
# Defines the interface target r1_torch.
set(R1KIT_VENV "$ENV{R1KIT_VENV}" CACHE PATH "venv holding the torch wheel and the reference libraries")
if(NOT R1KIT_VENV)
  set(R1KIT_VENV "$ENV{HOME}/.cache/r1kit/venv" CACHE PATH "" FORCE)
endif()
set(R1KIT_PYTHON "${R1KIT_VENV}/bin/python")

if(NOT Torch_DIR)
  if(NOT EXISTS "${R1KIT_PYTHON}")
    message(FATAL_ERROR "r1kit: no venv at ${R1KIT_VENV}; run scripts/setup.sh (or `make test`), "
                        "or pass -DTorch_DIR=<libtorch>/share/cmake/Torch")
  endif()
  execute_process(
    COMMAND "${R1KIT_PYTHON}" -c "import torch.utils; print(torch.utils.cmake_prefix_path, end='')"
    OUTPUT_VARIABLE torch_prefix RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "r1kit: ${R1KIT_PYTHON} cannot import torch; run scripts/setup.sh")
  endif()
  list(APPEND CMAKE_PREFIX_PATH "${torch_prefix}")
endif()

# The CUDA wheel's TorchConfig looks for the CUDA toolkit; it is on every machine (DESIGN.md).
set(CAFFE2_USE_CUDNN OFF)
# Without this the wheel's config try_runs a program to detect installed GPUs (there are none here).
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(ENV{TORCH_CUDA_ARCH_LIST} "9.0a")
endif()
find_package(Torch 2.4 REQUIRED)
message(STATUS "r1kit: LibTorch ${Torch_VERSION} from ${TORCH_INSTALL_PREFIX}")

add_library(r1_torch INTERFACE)
target_include_directories(r1_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
target_compile_options(r1_torch INTERFACE ${TORCH_CXX_FLAGS})
# at::parallel_for is a header template whose `omp parallel` compiles in the caller's translation
# unit: without -fopenmp every parallel_for in r1kit's own code ran on one thread (measured: the
# paged attention kernel took as long with 2 threads as with 1). The wheel's libtorch_cpu brings
# its own libgomp.so.1; the rpath below makes that the one copy in the process.
find_package(OpenMP REQUIRED)
target_link_libraries(r1_torch INTERFACE OpenMP::OpenMP_CXX)
# libtorch_cpu + libc10 only, also when CUDA is enabled: the wheel's libtorch_cuda maps ~2 GB of CUDA
# libraries at process start (measured: `r1kit --version` 1.4 s and 475 MB RSS with it), which CPU
# runs never use. The CUDA path (kernels issue) links torch_cuda/c10_cuda into what runs on a GPU.
find_library(R1_TORCH_CPU torch_cpu PATHS "${TORCH_INSTALL_PREFIX}/lib" NO_DEFAULT_PATH REQUIRED)
find_library(R1_C10 c10 PATHS "${TORCH_INSTALL_PREFIX}/lib" NO_DEFAULT_PATH REQUIRED)
target_link_libraries(r1_torch INTERFACE ${R1_TORCH_CPU} ${R1_C10})
# R1KIT_TORCH_CUDA=ON (scripts/gpu-check.sh) also links torch_cuda and c10_cuda, so that LibTorch's
# CUDA backend registers itself at load (at::hasCUDA() is false without it). --no-as-needed: r1kit
# calls nothing in them directly, and the linker would otherwise drop them.
option(R1KIT_TORCH_CUDA "Link LibTorch's CUDA backend (torch_cuda, c10_cuda): tensors on GPUs" OFF)
if(R1KIT_TORCH_CUDA)
  find_library(R1_TORCH_CUDA torch_cuda PATHS "${TORCH_INSTALL_PREFIX}/lib" NO_DEFAULT_PATH)
  find_library(R1_C10_CUDA c10_cuda PATHS "${TORCH_INSTALL_PREFIX}/lib" NO_DEFAULT_PATH)
  if(NOT R1_TORCH_CUDA OR NOT R1_C10_CUDA)
    message(FATAL_ERROR "r1kit: R1KIT_TORCH_CUDA=ON but ${TORCH_INSTALL_PREFIX}/lib has no torch_cuda/"
                        "c10_cuda: this LibTorch is CPU-only; use a CUDA build of PyTorch")
  endif()
  target_link_libraries(r1_torch INTERFACE -Wl,--no-as-needed ${R1_TORCH_CUDA} ${R1_C10_CUDA}
                                           -Wl,--as-needed)
  message(STATUS "r1kit: LibTorch's CUDA backend linked (R1KIT_TORCH_CUDA=ON)")
endif()
target_link_options(r1_torch INTERFACE "-Wl,-rpath,${TORCH_INSTALL_PREFIX}/lib")
