# mezzo_add_test(<name> SOURCES <files...> LIBS <targets...> [LABELS <labels...>] [TIMEOUT <s>])
#
# Adds one GoogleTest binary and registers it with CTest. Daemon tests find
# the binaries through the MEZZO_BIN_DIR environment variable.
function(mezzo_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  mezzo_strict_warnings(${name})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES
    TIMEOUT ${ARG_TIMEOUT}
    LABELS "${ARG_LABELS}"
    ENVIRONMENT "MEZZO_BIN_DIR=${CMAKE_BINARY_DIR}/bin;MEZZO_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()
