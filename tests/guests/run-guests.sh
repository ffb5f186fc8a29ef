#!/bin/sh
# Run every test guest under lvrun inside the emulated machine and report
# TAP: one case per guest, judged by lvrun's exit status and, for guests
# that print TAP themselves, by the absence of "not ok" in their output.
# Table: guest image, expected lvrun status, lvrun options.
n=0 failed=0

check() { # IMAGE STATUS [OPTIONS...]
	img=$1 want=$2
	shift 2
	n=$((n + 1))
	out=$(lvrun "$@" "/guests/$img" 2>&1)
	got=$?
	if [ "$got" = "$want" ] && ! echo "$out" | grep -q '^not ok'; then
		echo "ok $n - $img exits with $want"
	else
		echo "not ok $n - $img: expected status $want, got $got"
		echo "$out" | sed 's/^/# /' | tail -n 15
		failed=$((failed + 1))
	fi
}

# IMAGE STATUS PATTERN: as check, and lvrun's output must match PATTERN.
check_out() {
	img=$1 want=$2 pattern=$3
	n=$((n + 1))
	out=$(lvrun "/guests/$img" 2>&1)
	got=$?
	if [ "$got" = "$want" ] && echo "$out" | grep -q "$pattern"; then
		echo "ok $n - $img exits with $want: $pattern"
	else
		echo "not ok $n - $img: expected status $want and '$pattern', got $got"
		echo "$out" | sed 's/^/# /' | tail -n 15
		failed=$((failed + 1))
	fi
}

check hello-real.bin 0
check hello64.elf 0
check test-real.bin 1
check prot32-real.bin 1
check pae-real.bin 1
check cpuid.elf 1
check msr.elf 1
check io.elf 1
check hlt.elf 0
check vmcall.elf 1
check cr.elf 1
check debug.elf 1
check xsetbv.elf 1
check wbinvd.elf 1
check vmx-insn.elf 1
check mmio.elf 1
check mmio-emul.elf 1
check pio-emul.elf 1
check user-pio.elf 1
check arch.elf 1
check_out mmio-stack.elf 4 "event delivery failure"
check triple-fault.elf 2
check interrupt.elf 1 --timeout 20 --irq-after-ms 100:0x40
check nmi.elf 1 --timeout 20 --nmi-after-ms 100
check nmi-window.elf 1 --timeout 20 --irqchip
check spin.elf 124 --timeout 2
check smp.elf 1 --vcpus 2
echo "1..$n"
[ "$failed" = 0 ]
