# spot_add_handler(NAME SOURCES...): builds a spot handler object NAME.so from C sources (a MODULE library with no
# "lib" prefix), for projects that use CMake. Install it into a namespace with `spot build-handler NAME.so -n DIR`.
# The object is compiled against the headers of the target spot::spot (find_package(spot CONFIG) defines it; spot's
# own build defines it as an alias) and does not link libspot: spotd, which loads it, has libspot already.
# SPOT_INCLUDE_DIR, when set, names spot's include directory instead.
function(spot_add_handler name)
  add_library(${name} MODULE ${ARGN})
  set_target_properties(${name} PROPERTIES PREFIX "" C_STANDARD 11 POSITION_INDEPENDENT_CODE ON)
  if(DEFINED SPOT_INCLUDE_DIR)
    target_include_directories(${name} PRIVATE ${SPOT_INCLUDE_DIR})
  elseif(TARGET spot::spot)
    target_include_directories(${name} PRIVATE $<TARGET_PROPERTY:spot::spot,INTERFACE_INCLUDE_DIRECTORIES>)
  else()
    message(FATAL_ERROR "spot_add_handler(${name}): no target spot::spot: call find_package(spot CONFIG REQUIRED) "
                        "first, or set SPOT_INCLUDE_DIR to spot's include directory")
  endif()
endfunction()
