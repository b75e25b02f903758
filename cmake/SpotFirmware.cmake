# SpotFirmware.cmake: building spot firmware for a board (ports/<board>), with the arm-none-eabi toolchain file.
#
#   spot_firmware_runtime(BOARD_SOURCES... LINKER_SCRIPT ld)  the static library spot_fw: the portable core
#       (src/core, compiled unchanged but for the small CRC table), src/dispatch/remote.c, the device runtime
#       (src/device) and the bare-metal platform (src/platform/baremetal), plus the board's sources;
#   spot_add_firmware(NAME SOURCES...)            an ELF firmware NAME.elf linked against it, with the board's
#       linker script (whose 64 KiB flash and 16 KiB RAM regions make an oversized firmware fail to link), its
#       map file, and NAME.size (arm-none-eabi-size's line for it);
#   spot_add_firmware_handler(NAME SOURCES...)    links handler sources into firmware NAME: the same files as a
#       host handler object (spot_add_handler, `spot build-handler`), built unchanged; their SPOT_HANDLER
#       constructors fill the device's handler table at reset.
# No malloc: the board's linker script defines no heap, so a link that pulls in malloc fails.
get_filename_component(SPOT_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

set(SPOT_FW_WARNINGS -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter)
if(SPOT_FW_WERROR)
  list(APPEND SPOT_FW_WARNINGS -Werror)
endif()

function(spot_firmware_runtime)
  cmake_parse_arguments(FW "" "LINKER_SCRIPT" "SOURCES" ${ARGN})
  file(GLOB core CONFIGURE_DEPENDS ${SPOT_ROOT}/src/core/*.c)
  list(FILTER core EXCLUDE REGEX "_test\\.c$")
  file(GLOB device CONFIGURE_DEPENDS ${SPOT_ROOT}/src/device/*.c ${SPOT_ROOT}/src/platform/baremetal/*.c)
  add_library(spot_fw STATIC ${core} ${SPOT_ROOT}/src/dispatch/remote.c ${device} ${FW_SOURCES})
  target_include_directories(spot_fw PUBLIC ${SPOT_ROOT}/include ${SPOT_ROOT}/src ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_options(spot_fw PUBLIC ${SPOT_FW_WARNINGS} -Os -g)
  # the 8 KiB slicing tables of crc32c.c do not fit a 16 KiB RAM: a 16-entry table in flash, the same values
  target_compile_definitions(spot_fw PUBLIC SPOT__CRC32C_SMALL=1)
  set_property(GLOBAL PROPERTY SPOT_FW_LINKER_SCRIPT ${FW_LINKER_SCRIPT})
endfunction()

function(spot_add_firmware name)
  add_executable(${name} ${ARGN})
  set_target_properties(${name} PROPERTIES SUFFIX ".elf" C_STANDARD 11)
  get_property(ld GLOBAL PROPERTY SPOT_FW_LINKER_SCRIPT)
  # the runtime's objects are linked whole: the vector table, the reset code and the handler registry are
  # reached from nothing the program calls
  target_link_libraries(${name} PRIVATE -Wl,--whole-archive spot_fw -Wl,--no-whole-archive)
  target_compile_options(${name} PRIVATE ${SPOT_FW_WARNINGS} -Os -g)
  target_include_directories(${name} PRIVATE ${SPOT_ROOT}/include ${SPOT_ROOT}/src ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_definitions(${name} PRIVATE SPOT__CRC32C_SMALL=1)
  target_link_options(${name} PRIVATE -T${ld} -Wl,-Map=${CMAKE_CURRENT_BINARY_DIR}/${name}.map)
  set_target_properties(${name} PROPERTIES LINK_DEPENDS ${ld})
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND arm-none-eabi-size $<TARGET_FILE:${name}> > ${CMAKE_CURRENT_BINARY_DIR}/${name}.size
    VERBATIM)
endfunction()

function(spot_add_firmware_handler name)
  target_sources(${name} PRIVATE ${ARGN})
endfunction()
