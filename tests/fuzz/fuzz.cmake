# libFuzzer build (issue 8). Include from the top-level CMakeLists.txt *before* gemma_engine is
# defined, when GEMMA_FUZZ is ON:
#
#   option(GEMMA_FUZZ "Build the libFuzzer targets (clang only; instruments everything)" OFF)
#   if(GEMMA_FUZZ)
#     include(${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz.cmake)
#   endif()
#
# Until that block is in, tools/fuzz.sh injects this file with -DCMAKE_PROJECT_INCLUDE=...
# Everything (the engine too) is compiled with coverage instrumentation, ASan and UBSan; UBSan
# does not recover, so undefined behaviour is a crash the fuzzer reports.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "GEMMA_FUZZ needs clang (CMAKE_CXX_COMPILER=clang++), not ${CMAKE_CXX_COMPILER_ID}")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer -g)
add_link_options(-fsanitize=address,undefined)

# clang < 15 rejects __builtin_cpu_supports("f16c") (src/kernels/dispatch.cpp): answer it from
# CPUID through a force-included shim.
include(CheckCXXSourceCompiles)
check_cxx_source_compiles("int main() { return __builtin_cpu_supports(\"f16c\") ? 0 : 1; }"
                          GEMMA_CPU_SUPPORTS_F16C)
if(NOT GEMMA_CPU_SUPPORTS_F16C)
  set_source_files_properties(${CMAKE_SOURCE_DIR}/src/kernels/dispatch.cpp PROPERTIES
    COMPILE_OPTIONS "-include;${CMAKE_SOURCE_DIR}/tests/fuzz/cpu_supports_shim.h")
endif()

add_subdirectory(${CMAKE_SOURCE_DIR}/tests/fuzz ${CMAKE_BINARY_DIR}/fuzz)
