#!/bin/sh
# The same lvrun over KVM (--hv kvm): lvrun's test guests (real mode,
# 64-bit, port and MMIO exits, two vCPUs, triple fault) and the multiboot
# test kernel (with KVM's in-kernel irqchip) give the statuses they give
# under lightvisor. Loads kvm-intel, so it sorts after the lightvisor
# suites of its boot, and unloads it again.
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; failed=$((failed + 1)); }

if ! { insmod /lib/modules/kvm/irqbypass.ko && insmod /lib/modules/kvm/kvm.ko &&
       insmod /lib/modules/kvm/kvm-intel.ko; }; then
	echo "not ok 1 - load irqbypass, kvm, kvm-intel"
	exit 1
fi

check() { # IMAGE STATUS [OPTIONS...]
	img=$1 want=$2
	shift 2
	out=$(lvrun --hv kvm --timeout 120 "$@" "/guests/$img" 2>&1 </dev/null)
	got=$?
	if [ "$got" = "$want" ] && ! echo "$out" | grep -q '^not ok'; then
		ok "kvm: $img exits with $want"
	else
		nok "kvm: $img: expected status $want, got $got"
		echo "$out" | sed 's/^/# /' | tail -n 15
	fi
}

check hello-real.bin 0
check hello64.elf 0
check io.elf 1
check mmio.elf 1
check triple-fault.elf 2
check smp.elf 1 --vcpus 2
printf 'first module\n' >mod0.txt
printf 'second module\n' >mod1.txt
for img in mbcheck.elf mbcheck.bin; do
	check "$img" 1 --mem 128M --initrd mod0.txt --initrd mod1.txt \
		--cmdline "mods=2 mod0=first name0=mod0.txt mod1=second name1=mod1.txt mem=131072"
	oks=$(echo "$out" | grep -c '^ok ')
	if [ "$oks" -ge 10 ]; then ok "kvm: $img: $oks multiboot checks pass"; else nok "kvm: $img: $oks multiboot checks"; fi
done

rmmod kvm_intel; rmmod kvm; rmmod irqbypass
if grep -q "^kvm" /proc/modules; then nok "kvm modules unloaded"; else ok "kvm modules unloaded"; fi
echo "1..$n"
[ "$failed" = 0 ]
