# spot_add_handler(NAME SOURCES...): builds a spot handler object NAME.so from C sources (a MODULE library with no
# "lib" prefix), for projects that use CMake. Install it into a namespace with `spot build-handler NAME.so -n DIR`.
# SPOT_INCLUDE_DIR may point at spot's headers; by default, spot's installed headers (or this source tree's).
if(NOT DEFINED SPOT_INCLUDE_DIR)
  get_filename_component(SPOT_INCLUDE_DIR "${CMAKE_CURRENT_LIST_DIR}/../include" ABSOLUTE)
  if(NOT EXISTS "${SPOT_INCLUDE_DIR}/spot/handler.h")
    get_filename_component(SPOT_INCLUDE_DIR "${CMAKE_CURRENT_LIST_DIR}/../../../include" ABSOLUTE)
  endif()
endif()

function(spot_add_handler name)
  add_library(${name} MODULE ${ARGN})
  set_target_properties(${name} PROPERTIES PREFIX "" C_STANDARD 11 POSITION_INDEPENDENT_CODE ON)
  target_include_directories(${name} PRIVATE ${SPOT_INCLUDE_DIR})
endfunction()
