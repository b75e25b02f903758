# toolchain-aarch64.cmake: cross-compiles spot for aarch64 Linux (the Raspberry-Pi-class edge, DESIGN.md "Scales")
# with Debian's cross toolchain (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross) and, for the network, Debian's arm64
# multiarch libzmq3-dev:arm64 and libsodium-dev:arm64 (without them, add -DSPOT_NET=OFF). The binaries run here
# under qemu-user: `qemu-aarch64 -L / PROGRAM` when the arm64 multiarch libc is installed (it comes with
# libzmq3-dev:arm64; loader and libc must be of one glibc), else `qemu-aarch64 -L /usr/aarch64-linux-gnu PROGRAM`.
# The host build uses it through cmake/aarch64.cmake (the aarch64_* tests); by hand:
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake -DSPOT_VQUERY=OFF
# (the media-query application needs GSL, VLFeat and OpenBLAS, which this build does not have for arm64)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
# The cross libc is in /usr/aarch64-linux-gnu (libc6-dev-arm64-cross); the arm64 libzmq and libsodium are Debian
# multiarch packages (libzmq3-dev:arm64, in /usr/lib/aarch64-linux-gnu), so / is a root too.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
if(EXISTS /lib/ld-linux-aarch64.so.1 AND EXISTS /usr/lib/aarch64-linux-gnu/libc.so.6)
  set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /)
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
endif()
# Only the aarch64 sysroot's pkg-config files: the host's (GSL, libzmq for x86_64) must not leak into this build.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
