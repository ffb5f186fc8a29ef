#!/bin/sh
# usage: linux.sh lightvisor|kvm
# The guest kernel (scripts/kernel/guest.config, BusyBox initramfs from
# scripts/build-guest) booted by lvrun over lightvisor or over KVM (with
# KVM's in-kernel irqchip): to its init and a test script, with 1 and 2
# vCPUs, as bzImage and as vmlinux (PVH), Debian's stock kernel keeping
# its clocks (the TSC, a one-shot tick, jiffies at the TSC's rate); `sleep 5` against the host's
# clock; a command typed on lvrun's stdin; power-off, reboot and panic
# give lvrun's documented exit statuses. Then bad Linux images, refused.
# With kvm it loads kvm-intel, so it runs after every lightvisor suite of
# its boot, and unloads KVM again.
hv=$1
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $hv: $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $hv: $1"; failed=$((failed + 1)); }

if [ "$hv" = kvm ] &&
   ! { insmod /lib/modules/kvm/irqbypass.ko && insmod /lib/modules/kvm/kvm.ko &&
       insmod /lib/modules/kvm/kvm-intel.ko; }; then
	echo "not ok 1 - load irqbypass, kvm, kvm-intel"
	exit 1
fi

boot() { # NAME STATUS KERNEL TEST [LVRUN OPTIONS] -> $out
	name=$1 want=$2 kernel=$3 test=$4
	shift 4
	out=$(lvrun --hv "$hv" --mem 256M --timeout 600 "$@" --initrd initrd.cpio \
		--cmdline "console=ttyS0 quiet lvtest=$test" "$kernel" 2>&1 </dev/null)
	st=$?
	echo "$out" | grep -E 'guest mark|LVGUEST' | sed 's/^/# /'
	if [ "$st" = "$want" ] && echo "$out" | grep -q '^LVGUEST-INIT' &&
	   echo "$out" | grep -q 'guest mark 1:'; then
		ok "$name: init reached (marked), lvrun exit status $st"
		return 0
	fi
	nok "$name: lvrun exit status $st (want $want), init reached: $(echo "$out" | grep -c '^LVGUEST-INIT')"
	echo "$out" | sed 's/^/# /' | tail -n 30
	return 1
}

has() { # NAME PATTERN: the last boot's output has a line matching PATTERN
	if echo "$out" | grep -q "$2"; then ok "$1"; else nok "$1"; fi
}

# The last boot's LVGUEST-CLOCK line (guests/linux/tests/cpus.sh): a
# kernel of HZ=250 kept the TSC as its clocksource (none marked unstable),
# its tick left periodic mode (one-shot), and its jiffies advanced at the
# TSC's rate, 4 ms each within 2%, during `sleep 2`.
clock_250hz() { # NAME
	name=$1
	# shellcheck disable=SC2046 # the line's words
	set -- $(echo "$out" | tr -d '\r' | sed -n 's/^LVGUEST-CLOCK //p' | tail -n 1)
	# tsc unstable N tick-mode M jiffies J in MS ms
	if [ "$1" = tsc ] && [ "$3" = 0 ] && [ "$5" = 1 ] && [ "${9:-0}" -gt 0 ] &&
	   [ $(($7 * 200)) -ge $(($9 * 49)) ] && [ $(($7 * 200)) -le $(($9 * 51)) ]; then
		ok "$name: TSC kept, one-shot tick, $7 jiffies in $9 ms"
	else
		nok "$name: clocks: '$*' (want tsc, unstable 0, tick-mode 1, 4 ms a jiffy +-2%)"
	fi
}

boot "bzImage, 1 vCPU" 6 bzImage cpus --vcpus 1 &&
	has "1 vCPU: /proc/cpuinfo lists 1 CPU" '^LVGUEST-CPUS 1' &&
	has "1 vCPU: work pinned to CPU 0 finishes" '^LVGUEST-WORK-DONE cpu0'
boot "bzImage, 2 vCPUs" 6 bzImage cpus --vcpus 2 &&
	has "2 vCPUs: /proc/cpuinfo lists 2 CPUs" '^LVGUEST-CPUS 2' &&
	has "2 vCPUs: work pinned to CPU 0 finishes" '^LVGUEST-WORK-DONE cpu0' &&
	has "2 vCPUs: work pinned to CPU 1 finishes" '^LVGUEST-WORK-DONE cpu1'
# Debian's stock kernel (linux-image-amd64), no options of lightvisor's;
# under lightvisor only (its boot is long in Bochs, and KVM is the
# baseline for the guest kernel, not the subject).
if [ "$hv" = lightvisor ]; then
	boot "Debian's stock kernel, 1 vCPU" 6 stock-bzImage cpus --vcpus 1 &&
		has "stock kernel, 1 vCPU: /proc/cpuinfo lists 1 CPU" '^LVGUEST-CPUS 1' &&
		clock_250hz "stock kernel, 1 vCPU"
	boot "Debian's stock kernel, 2 vCPUs" 6 stock-bzImage cpus --vcpus 2 &&
		has "stock kernel, 2 vCPUs: /proc/cpuinfo lists 2 CPUs" '^LVGUEST-CPUS 2' &&
		has "stock kernel, 2 vCPUs: work pinned to CPU 1 finishes" '^LVGUEST-WORK-DONE cpu1' &&
		clock_250hz "stock kernel, 2 vCPUs"
fi
boot "vmlinux through the PVH entry" 6 vmlinux poweroff &&
	has "vmlinux: init ran its script" '^LVGUEST-UNAME '
boot "reboot gives status 8" 8 bzImage reboot
boot "panic gives status 10" 10 bzImage panic

# sleep 5 in the guest against lvrun's clock (guest marks 2 and 3).
mark_ms() { echo "$out" | sed -n "s/^lvrun: guest mark $1: \([0-9]*\) ms.*/\1/p"; }
if boot "sleep 5" 6 bzImage sleep --vcpus 1; then
	ms=$(( $(mark_ms 3) - $(mark_ms 2) ))
	if [ "$ms" -ge 4750 ] && [ "$ms" -le 5250 ]; then
		ok "sleep 5 took $ms ms of host time (within 5%)"
	else
		nok "sleep 5 took $ms ms of host time, not within 5% of 5000"
	fi
fi

# Serial input: a command typed on lvrun's stdin runs in the guest's shell.
wait_for() { # PATTERN FILE PID: until FILE has PATTERN or PID is gone
	while ! grep -q "$1" "$2"; do
		kill -0 "$3" 2>/dev/null || return 1
		sleep 1
	done
}
rm -f serial.in
mkfifo serial.in
lvrun --hv "$hv" --mem 256M --timeout 600 --initrd initrd.cpio \
	--cmdline "console=ttyS0 quiet lvtest=shell" bzImage <serial.in >serial.out 2>&1 &
pid=$!
exec 3>serial.in
if wait_for '^LVGUEST-SHELL' serial.out $pid; then
	echo 'echo typed-$((6 * 7))' >&3
	wait_for 'typed-42' serial.out $pid
	echo 'poweroff -f' >&3
fi
wait $pid
st=$?
exec 3>&-
if [ "$st" = 6 ] && grep -q '^typed-42' serial.out; then
	ok "serial input: a command typed on lvrun's stdin runs in the guest shell"
else
	nok "serial input: status $st, typed-42 seen: $(grep -c 'typed-42' serial.out)"
	sed 's/^/# /' serial.out | tail -n 20
fi

# Save and restore (lightvisor only: snapshots need it). The guest counts
# each second with a file of its tmpfs on every line; lvctl saves it at
# count 3, the first lvrun is killed, and lvrun --restore goes on from
# there to 10 without booting again, the file's contents the same.
count_lines() { tr -d '\r' <"$1" | grep '^LVGUEST-COUNT [0-9]* kept-'; }
if [ "$hv" = lightvisor ]; then
	rm -f linux.sock linux.snap
	lvrun --mem 256M --timeout 600 --control "$PWD/linux.sock" --initrd initrd.cpio \
		--cmdline "console=ttyS0 quiet lvtest=counter" bzImage \
		>saved.out 2>&1 </dev/null &
	pid=$!
	ans=
	wait_for '^LVGUEST-COUNT 3 ' saved.out $pid &&
		ans=$(lvctl "$PWD/linux.sock" save "$PWD/linux.snap")
	kill $pid 2>/dev/null
	wait $pid
	echo "# lvctl save: $ans"
	lvrun --restore linux.snap --timeout 600 >restored.out 2>&1 </dev/null
	st=$?
	saved_last=$(count_lines saved.out | tail -n 1 | cut -d' ' -f2)
	first=$(count_lines restored.out | head -n 1 | cut -d' ' -f2)
	kept=$(count_lines saved.out | head -n 1 | cut -d' ' -f3)
	echo "# saved at count 3, the first lvrun reached ${saved_last:-none};" \
		"the restored guest starts at ${first:-none}, status $st"
	if [ "$ans" = "ok saved=$PWD/linux.snap" ]; then
		ok "save of a running Linux guest answers ok"
	else
		nok "save of a running Linux guest: '$ans'"
		sed 's/^/# /' saved.out | tail -n 10
	fi
	if [ "$st" = 6 ] && [ -n "$first" ] && [ "$first" -ge 4 ] &&
	   [ "$first" -le "$((saved_last + 1))" ] &&
	   ! grep -q '^LVGUEST-INIT' restored.out; then
		ok "restored Linux guest goes on from count $first to power-off, no new boot"
	else
		boots=$(grep -c '^LVGUEST-INIT' restored.out)
		nok "restored Linux guest: status $st (want 6), first count '$first', boots $boots"
		sed 's/^/# /' restored.out | tail -n 20
	fi
	if count_lines restored.out |
	   awk -v f="$first" -v k="$kept" '$2 != f + NR - 1 || $3 != k { bad = 1 }
					   END { exit bad || $2 != 10 }'; then
		ok "restored: the count runs on to 10 by its timers, the tmpfs file ($kept) intact"
	else
		nok "restored: counts and file: $(count_lines restored.out | tr '\n' ' ')"
	fi
fi

# Bad Linux images: a clear message and status 1.
refused() { # NAME PATTERN LVRUN ARGS...
	name=$1 pat=$2
	shift 2
	out=$(lvrun --hv "$hv" "$@" 2>&1 </dev/null)
	st=$?
	if [ "$st" = 1 ] && echo "$out" | grep -q "$pat"; then
		ok "$name refused: $(echo "$out" | head -n 1)"
	else
		nok "$name: status $st, want 1 and '$pat'"
		echo "$out" | sed 's/^/# /' | tail -n 5
	fi
}
head -c 300000 bzImage >truncated.bzImage
refused "truncated bzImage" "truncated bzImage" truncated.bzImage
cp bzImage old.bzImage
printf '\013' | dd of=old.bzImage bs=1 seek=$((0x206)) count=1 conv=notrunc 2>/dev/null
refused "bzImage with boot protocol 2.11" "too old" old.bzImage
# 40 MiB holds the kernel (it needs 16-31 MiB), not a 48 MiB initrd.
dd if=/dev/zero of=big.img bs=1M count=48 2>/dev/null
refused "initrd larger than guest memory" "does not fit in guest memory" \
	--mem 40M --initrd big.img bzImage
rm -f big.img

if [ "$hv" = kvm ]; then
	rmmod kvm_intel; rmmod kvm; rmmod irqbypass
	if grep -q "^kvm" /proc/modules; then nok "kvm modules unloaded"; else ok "kvm modules unloaded"; fi
fi
echo "1..$n"
[ "$failed" = 0 ]
