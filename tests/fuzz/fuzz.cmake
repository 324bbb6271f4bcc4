# libFuzzer build, included by the top-level CMakeLists.txt when GEMMA_FUZZ is ON (before any
# target is defined, so the flags reach the engine too).
# Everything (the engine too) is compiled with coverage instrumentation, ASan and UBSan; UBSan
# does not recover, so undefined behaviour is a crash the fuzzer reports.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "GEMMA_FUZZ needs clang (CMAKE_CXX_COMPILER=clang++), not ${CMAKE_CXX_COMPILER_ID}")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer -g)
add_link_options(-fsanitize=address,undefined)

add_subdirectory(${CMAKE_SOURCE_DIR}/tests/fuzz ${CMAKE_BINARY_DIR}/fuzz)
