# toolchain-aarch64.cmake: cross-compiles spot for aarch64 Linux (the Raspberry-Pi-class edge, DESIGN.md "Scales")
# with Debian's cross toolchain (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross). The binaries run here under
# qemu-user: `qemu-aarch64 -L /usr/aarch64-linux-gnu PROGRAM`. The host build uses it through cmake/aarch64.cmake
# (the aarch64_* tests); by hand:
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake -DSPOT_NET=OFF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
# Only the aarch64 sysroot's pkg-config files: the host's (GSL, libzmq for x86_64) must not leak into this build.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
