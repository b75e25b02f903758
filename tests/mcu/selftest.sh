#!/bin/sh
# selftest.sh FIRMWARE.elf: runs the firmware's self-test (ports/mps2-an385/selftest.c) on QEMU's mps2-an385 board
# with a time limit; the firmware prints one line per check on the semihosting console and exits, through
# semihosting, with the number of failed checks. Exit 77 (a skip, with the reason) under SPOT_TEST_QUICK, without
# QEMU, or when the firmware was not built.
fw=$1
if [ -n "${SPOT_TEST_QUICK:-}" ]; then
  echo "mcu_selftest: skipped: SPOT_TEST_QUICK is set (sanitizer/no-network build; the normal build runs it)"
  exit 77
fi
if [ -z "$fw" ] || [ ! -f "$fw" ]; then
  echo "mcu_selftest: skipped: no firmware at '$fw' (install gcc-arm-none-eabi and picolibc-arm-none-eabi: scripts/deps.sh)"
  exit 77
fi
if ! command -v qemu-system-arm >/dev/null 2>&1; then
  echo "mcu_selftest: skipped: qemu-system-arm is not installed (scripts/deps.sh)"
  exit 77
fi
timeout 30 qemu-system-arm -M mps2-an385 -nographic -monitor none -serial null \
  -semihosting-config enable=on,target=native -kernel "$fw"
rc=$?
[ $rc -eq 124 ] && echo "mcu_selftest: the firmware did not finish within 30 s"
exit $rc
