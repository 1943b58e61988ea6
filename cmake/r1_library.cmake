# r1_add_library(<name> [TORCH] SOURCES ... [DEPS r1_<lib> ...])
#   One static library per top-level folder, r1_<name>. DEPS follow DESIGN.md section 2 (the
#   `layering` test checks the includes against the same list). A library without TORCH is
#   torch-free and also gets an r1_<name>_asan twin built with AddressSanitizer + UBSan, so its
#   tests run under the sanitizers in every `make test` without a second LibTorch build.
# r1_add_test(<name> SOURCES ... DEPS ... [TORCH] [ASAN] [UNITY] [LABELS ...])
#   A GoogleTest executable tests/<name>; ASAN also builds <name>_asan against the _asan libraries.

set(R1_SANITIZE_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)

function(r1_add_library name)
  cmake_parse_arguments(ARG "TORCH" "" "SOURCES;DEPS" ${ARGN})
  add_library(r1_${name} STATIC ${ARG_SOURCES})
  target_include_directories(r1_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(r1_${name} PUBLIC ${ARG_DEPS})
  target_compile_options(r1_${name} PRIVATE ${R1_WARNINGS})
  set_property(GLOBAL APPEND PROPERTY R1_LIBRARIES r1_${name})
  if(ARG_TORCH)
    target_link_libraries(r1_${name} PUBLIC r1_torch)
    if(name STREQUAL "model")
      target_precompile_headers(r1_model PRIVATE ${PROJECT_SOURCE_DIR}/model/pch/torch_pch.h)
    else()
      # Reuse model's .gch instead of building one per library (STYLE.md rule 29).
      target_precompile_headers(r1_${name} REUSE_FROM r1_model)
    endif()
  elseif(R1KIT_ASAN)
    set(asan_deps)
    foreach(dep IN LISTS ARG_DEPS)
      if(dep MATCHES "^r1_")
        list(APPEND asan_deps ${dep}_asan)
      else()
        list(APPEND asan_deps ${dep})
      endif()
    endforeach()
    add_library(r1_${name}_asan STATIC ${ARG_SOURCES})
    target_include_directories(r1_${name}_asan PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(r1_${name}_asan PUBLIC ${asan_deps})
    target_compile_options(r1_${name}_asan PRIVATE ${R1_WARNINGS} PUBLIC ${R1_SANITIZE_FLAGS})
    target_link_options(r1_${name}_asan PUBLIC ${R1_SANITIZE_FLAGS})
  endif()
endfunction()

function(r1_add_test name)
  cmake_parse_arguments(ARG "TORCH;ASAN;UNITY" "" "SOURCES;DEPS;LABELS" ${ARGN})
  set(labels ${ARG_LABELS})
  if(NOT labels)
    set(labels unit)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} r1_testsupport GTest::gtest GTest::gtest_main)
  target_compile_options(${name} PRIVATE ${R1_WARNINGS})
  if(ARG_TORCH)
    target_precompile_headers(${name} REUSE_FROM r1_model)
  endif()
  if(ARG_UNITY)
    set_target_properties(${name} PROPERTIES UNITY_BUILD ON)
  endif()
  # OpenMP threads sleep rather than spin at barriers: ctest runs suites side by side, and spinning
  # waits take the cores from the threads doing work (core/process.h use_passive_openmp).
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST
                       PROPERTIES LABELS "${labels}" ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE")
  if(ARG_ASAN AND R1KIT_ASAN)
    set(asan_deps)
    foreach(dep IN LISTS ARG_DEPS)
      list(APPEND asan_deps ${dep}_asan)
    endforeach()
    add_executable(${name}_asan ${ARG_SOURCES})
    target_link_libraries(${name}_asan PRIVATE ${asan_deps} r1_testsupport_asan GTest::gtest
                                               GTest::gtest_main)
    target_compile_options(${name}_asan PRIVATE ${R1_WARNINGS} ${R1_SANITIZE_FLAGS})
    target_link_options(${name}_asan PRIVATE ${R1_SANITIZE_FLAGS})
    # One ENVIRONMENT entry only: gtest_discover_tests splits a list into separate properties.
    # ASan's defaults already detect leaks; -fno-sanitize-recover makes any UBSan report fatal.
    gtest_discover_tests(${name}_asan DISCOVERY_MODE PRE_TEST TEST_SUFFIX ".asan"
                         PROPERTIES LABELS "asan" ENVIRONMENT "UBSAN_OPTIONS=print_stacktrace=1")
  endif()
endfunction()
