# arm-none-eabi.cmake: CMake toolchain file for spot's Cortex-M firmware (Debian's gcc-arm-none-eabi and
# picolibc-arm-none-eabi): bare metal, Thumb-2 for the Cortex-M3, picolibc (its printf has %llu and %f, which
# newlib-nano's lacks, and allocates nothing), no start files (the port has its own reset code), sections per
# function so the linker drops what is unused. The port's linker script defines no heap: a firmware that calls
# malloc fails to link.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY) # no start files: test the compiler without linking
set(SPOT_ARM_FLAGS "-mcpu=cortex-m3 -mthumb -ffunction-sections -fdata-sections --specs=picolibc.specs")
set(CMAKE_C_FLAGS_INIT "${SPOT_ARM_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostartfiles -Wl,--gc-sections") # the C flags (and --specs) are on the link line too
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
