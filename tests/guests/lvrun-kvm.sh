#!/bin/sh
# The same lvrun over KVM (--hv kvm): lvrun's test guests (real mode,
# 64-bit, port and MMIO exits, two vCPUs, triple fault) and the multiboot
# test kernel (with KVM's in-kernel irqchip) give the statuses they give
# under lightvisor; the control socket pauses a KVM guest without its
# TSC seeing it. Loads kvm-intel, so it sorts after the lightvisor
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

# The ioeventfd and irqfd hv ops over KVM (lvrun-hv runs them over lightvisor).
out=$(lvrun-hvtest kvm 2>&1 </dev/null)
if [ $? = 0 ] && ! echo "$out" | grep -q '^not ok'; then
	ok "kvm: lvrun-hvtest: ioeventfd and irqfd ops ($(echo "$out" | grep -c '^ok ') checks)"
else
	nok "kvm: lvrun-hvtest: ioeventfd and irqfd ops"
	echo "$out" | sed 's/^/# /' | tail -n 20
fi

# lvrun's virtio devices over KVM's ioeventfd and irqfd (KVM's in-kernel
# I/O APIC): the guest's 29 checks, its write in the image, the console.
dd if=/dev/zero of=kvm-disk.img bs=512 count=128 2>/dev/null
printf 'lightvisor sector 3' | dd of=kvm-disk.img bs=512 seek=3 conv=notrunc 2>/dev/null
out=$(echo ping | lvrun --hv kvm --irqchip --timeout 300 --disk kvm-disk.img \
	--console virtio /guests/virtio.elf 2>&1)
st=$?
a5=$(dd if=kvm-disk.img bs=512 skip=5 count=1 2>/dev/null | od -An -v -tx1 | tr -s ' \n' '\n\n' | grep -c '^a5$')
if [ "$st" = 1 ] && echo "$out" | grep -q '^ok 29 ' && ! echo "$out" | grep -q '^not ok' &&
   [ "$a5" = 512 ] && echo "$out" | grep -q '^virtio-console: hello from the guest'; then
	ok "kvm: virtio.elf: block, console, interrupts, hostile front-ends over KVM's ioeventfd and irqfd"
else
	nok "kvm: virtio.elf: status $st, sector 5 bytes 0xa5: $a5"
	echo "$out" | sed 's/^/# /' | tail -n 20
fi
rm -f kvm-disk.img

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

# The control socket over KVM: pause and resume two vCPUs of counter.elf
# (which prints its TSC every 2M ticks); on resume lvrun moves each
# vCPU's TSC back by the pause (KVM_VCPU_TSC_OFFSET), so across a 3 s
# pause (300M ticks) the guest's TSC steps by far less.
counts() { tr -d '\r' <kvm-counter.txt | grep '^count [0-9]* tsc [0-9]*$'; }
sock=$PWD/kvm.sock
lvrun --hv kvm --vcpus 2 --control "$sock" --timeout 300 /guests/counter.elf \
	>kvm-counter.txt 2>kvm-counter.err </dev/null &
pid=$!
i=0
while [ ! -S "$sock" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
sleep 2
paused=$(lvctl "$sock" pause)
before=$(counts | wc -l)
sleep 3
resumed=$(lvctl "$sock" resume)
sleep 2
kill -TERM $pid
wait $pid
after=$(counts | wc -l)
gap=$(counts | awk 'NR > 1 && $4 - t > g { g = $4 - t } { t = $4 }
		    END { printf "%.0f\n", g }')
echo "# kvm: $paused / $resumed; $before lines at the pause, $after at the end; largest TSC step $gap"
sed 's/^/# /' kvm-counter.err | head -5
if [ "$paused" = "ok state=paused" ] && [ "$resumed" = "ok state=running" ] &&
   [ "$after" -gt "$before" ] && [ "$gap" -gt 0 ] && [ "$gap" -lt 50000000 ] &&
   ! grep -q 'cannot move' kvm-counter.err; then
	ok "kvm: lvctl pause/resume; the guest's TSC hides a 3 s pause ($gap ticks)"
else
	nok "kvm: lvctl pause/resume; the guest's TSC hides a 3 s pause ($gap ticks)"
fi

rmmod kvm_intel; rmmod kvm; rmmod irqbypass
if grep -q "^kvm" /proc/modules; then nok "kvm modules unloaded"; else ok "kvm modules unloaded"; fi
echo "1..$n"
[ "$failed" = 0 ]
