# aarch64.cmake: the aarch64_* tests (issue 11, part 3). When Debian's aarch64 cross compiler and qemu-user are
# installed (scripts/deps.sh), the host build cross-compiles spot for aarch64 Linux in a subdirectory of its build
# directory (build/.../aarch64, with cmake/toolchain-aarch64.cmake) and registers one ctest test aarch64_<test> per
# store, dispatch and network test listed below, which runs the aarch64 binary under qemu-aarch64
# (scripts/qemu-aarch64-test.sh). The network (src/net and its tests) is in the cross build when Debian's arm64
# libzmq and libsodium are installed (multiarch: libzmq3-dev:arm64 libsodium-dev:arm64, scripts/deps.sh); without
# them the cross build has SPOT_NET=OFF and only the store and dispatch tests run. Not in sanitizer or fuzz builds
# (nothing to gain); the tests skip (exit 77, saying why) when SPOT_TEST_QUICK is set.
if(CMAKE_CROSSCOMPILING OR SPOT_SANITIZE OR SPOT_FUZZ)
  return()
endif()
find_program(SPOT_AARCH64_CC aarch64-linux-gnu-gcc)
find_program(SPOT_QEMU_AARCH64 qemu-aarch64)
if(NOT SPOT_AARCH64_CC OR NOT SPOT_QEMU_AARCH64 OR NOT EXISTS /usr/aarch64-linux-gnu/lib)
  message(STATUS "spot: no aarch64-linux-gnu-gcc, qemu-aarch64 or arm64 libc (scripts/deps.sh installs them): "
                 "the aarch64_* tests are left out")
  return()
endif()

# The store and dispatch tests that run under qemu-user, and examples_test (hello, chain, frost: the handler sources
# the firmware runs too, built here by spot_add_handler and by `spot build-handler` with the cross compiler). Left
# out: worker_test and spotd_test (a worker process is started by exec of the node's own binary, which needs
# binfmt_misc to run an aarch64 binary here), ns_durable_test (a minute under qemu on the shared test machine).
set(SPOT_AARCH64_TESTS crc32c_test logfmt_test name_test log_test ioerror_test store_check_test
  store_concurrency_test store_crash_test store_damage_test store_powercut_test dispatch_test put_life_test
  events_api_test examples_test)
# The network tests that run under qemu-user (loopback TCP works there), by test name (the file's name without .c,
# tests/ or src/net/): CURVE keys and access rights, the wire over ZeroMQ with a spotd served by the aarch64 build,
# remote puts, the serial link to a device. Left out, for time: net_chain_test (three spotd under qemu, about 2
# minutes, and its bounded waits run out there), bind_test (a minute: it builds and deploys handlers).
set(SPOT_AARCH64_NET_TESTS net_clients_test net_access_test net_limits_test keys_test access_test ratelimit_test remote_test
  serial_test)
if(SPOT_NET AND EXISTS /usr/lib/aarch64-linux-gnu/pkgconfig/libzmq.pc
   AND EXISTS /usr/lib/aarch64-linux-gnu/pkgconfig/libsodium.pc)
  set(SPOT_AARCH64_NET ON)
  list(APPEND SPOT_AARCH64_TESTS ${SPOT_AARCH64_NET_TESTS})
else()
  set(SPOT_AARCH64_NET OFF)
  message(STATUS "spot: SPOT_NET=OFF or no arm64 libzmq/libsodium (libzmq3-dev:arm64 libsodium-dev:arm64, "
                 "scripts/deps.sh): the aarch64 build has no network and the aarch64_* network tests are left out")
endif()
set(SPOT_AARCH64_DIR ${CMAKE_BINARY_DIR}/aarch64)
include(ExternalProject)
ExternalProject_Add(spot_aarch64
  SOURCE_DIR ${PROJECT_SOURCE_DIR}
  BINARY_DIR ${SPOT_AARCH64_DIR}
  PREFIX ${CMAKE_BINARY_DIR}/aarch64-ep
  CMAKE_ARGS -DCMAKE_TOOLCHAIN_FILE=${PROJECT_SOURCE_DIR}/cmake/toolchain-aarch64.cmake
             -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPOT_NET=${SPOT_AARCH64_NET} -DSPOT_VQUERY=OFF -DSPOT_WERROR=${SPOT_WERROR}
  # the example handlers too (examples_test runs them): the same sources as the host's and the firmware's
  BUILD_COMMAND ${CMAKE_COMMAND} --build <BINARY_DIR> --target spot-cli spotd frost_replay hello_handler chain_handler
                frost_handler uplink_handler ${SPOT_AARCH64_TESTS}
  INSTALL_COMMAND ""
  BUILD_ALWAYS ON)

foreach(t ${SPOT_AARCH64_TESTS})
  add_test(NAME aarch64_${t}
    COMMAND sh ${PROJECT_SOURCE_DIR}/scripts/qemu-aarch64-test.sh ${SPOT_AARCH64_DIR} ${SPOT_QEMU_AARCH64} ${t})
  set_tests_properties(aarch64_${t} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
    ENVIRONMENT "SPOT_SRC=${PROJECT_SOURCE_DIR}")
endforeach()
