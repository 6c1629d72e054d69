# Host unit tests: the portable sources plus GoogleTest, under ASan and UBSan.
enable_testing()
find_package(GTest REQUIRED)
find_package(Threads REQUIRED)

set(SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
add_compile_options(-Wall -Wextra -Werror -g ${SAN_FLAGS})
add_link_options(${SAN_FLAGS})

# HOST_TEST_FILTER (a regex) narrows the build to some tests, e.g. -DHOST_TEST_FILTER=acpi.
set(HOST_TEST_FILTER "" CACHE STRING "regex: only host test files matching it")
set(_existing "")
foreach(f ${PORTABLE_SOURCES})
  if(EXISTS ${CMAKE_SOURCE_DIR}/${f})
    list(APPEND _existing ${CMAKE_SOURCE_DIR}/${f})
  endif()
endforeach()
set(PORTABLE_SOURCES ${_existing})
add_library(portable STATIC ${PORTABLE_SOURCES})
target_include_directories(portable PUBLIC ${CMAKE_SOURCE_DIR}/src)
target_compile_definitions(portable PUBLIC HOST_TEST)

file(GLOB HOST_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/test/host/*_test.cpp)
if(HOST_TEST_FILTER)
  list(FILTER HOST_TEST_SOURCES INCLUDE REGEX "${HOST_TEST_FILTER}")
endif()
add_executable(host_tests ${HOST_TEST_SOURCES})
target_link_libraries(host_tests PRIVATE portable GTest::gtest GTest::gtest_main Threads::Threads)
target_compile_definitions(host_tests PRIVATE FIXTURE_DIR="${CMAKE_SOURCE_DIR}/test/fixtures"
  SOURCE_DIR="${CMAKE_SOURCE_DIR}")
include(GoogleTest)
gtest_discover_tests(host_tests DISCOVERY_TIMEOUT 60)

# libFuzzer targets (clang only): built here, run for a bounded time by scripts/test.
file(GLOB FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/test/host/*_fuzz.cpp)
foreach(src ${FUZZ_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src} ${PORTABLE_SOURCES})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_compile_definitions(${name} PRIVATE HOST_TEST)
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
endforeach()

# The gdb stub's protocol core served over TCP on 127.0.0.1 with a fake machine, for the
# gdb suite (test/gdb/test_gdbstub_fake.py drives Debian's gdb against it).
add_executable(gdbstub_server ${CMAKE_SOURCE_DIR}/test/host/gdbstub_server.cpp)
target_link_libraries(gdbstub_server PRIVATE portable)
