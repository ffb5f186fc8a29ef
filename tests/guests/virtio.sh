#!/bin/sh
# virtio over MMIO end to end, under lightvisor, with TAP numbered here:
#
# 1. /guests/virtio.elf (guests/virtio.c), the in-kernel paths (the
#    default --virtio-notify kernel: ioeventfd and irqfd): a 128-sector
#    disk whose sector 3 starts with "lightvisor sector 3", and "ping" on
#    stdin; afterwards sector 5 must be all 0xa5 and the console's line on
#    stdout.
# 2. /guests/virtio-slots.elf (guests/virtio-slots.c), everything through
#    lvrun (--virtio-notify exit): a writable and a read-only disk and the
#    console; afterwards the sector it wrote, the read-only image
#    unchanged, its console line and lvrun's message for its looping chain.
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$(dirname "$0")/tap.sh"
dir=$(mktemp -d)

# The guest writes lightvisor took in the kernel (ioeventfd), all VMs.
signals() {
	sed -n 's/^ioeventfd_signals //p' /sys/kernel/debug/lightvisor/stats
}

# Interrupt status reads and acknowledgements served in the kernel.
status_hits() {
	sed -n 's/^irq_status_accesses //p' /sys/kernel/debug/lightvisor/stats
}

# guest_tap PREFIX FILE: the guest's own checks, renumbered; sets $g.
guest_tap() {
	g=0
	while IFS= read -r line; do
		case "$line" in
		"ok "*) result 0 "$1: ${line#* - }"; g=$((g + 1)) ;;
		"not ok "*) result 1 "$1: ${line#* - }"; g=$((g + 1)) ;;
		esac
	done <"$2"
}

# --- 1. virtio.elf --------------------------------------------------------
disk=$dir/disk.img
dd if=/dev/zero of="$disk" bs=512 count=128 2>/dev/null
printf 'lightvisor sector 3' | dd of="$disk" bs=512 seek=3 conv=notrunc 2>/dev/null
echo ping >"$dir/ping"
s0=$(signals) h0=$(status_hits)
lvrun --irqchip --timeout 300 --disk "$disk" --console virtio \
	/guests/virtio.elf <"$dir/ping" >"$dir/out1" 2>&1
st=$?
s1=$(signals) h1=$(status_hits)
guest_tap virtio.elf "$dir/out1"
plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$dir/out1" | head -n 1)
# Status 1 is also lvrun's own error: the whole plan must have run.
[ "$st" = 1 ] && [ -n "$plan" ] && [ "$g" = "$plan" ]
result $? "virtio.elf: lvrun exits with 1 after all the guest's checks (status $st, $g of ${plan:-?})"
head -c 512 /dev/zero | tr '\0' '\245' >"$dir/a5"
dd if="$disk" bs=512 skip=5 count=1 2>/dev/null | cmp -s - "$dir/a5"
result $? "virtio.elf: its write reached sector 5 of the image"
grep -q '^virtio-console: hello from the guest$' "$dir/out1"
result $? "virtio.elf: its line through the virtio console reached stdout"
[ -n "$s0" ] && [ "$s1" -gt "$s0" ]
result $? "virtio.elf: its notifications took the ioeventfd path (${s0:-?} -> ${s1:-?})"
[ -n "$h0" ] && [ "$h1" -gt "$h0" ]
result $? "virtio.elf: its interrupt status reads and acks were served in the kernel (${h0:-?} -> ${h1:-?})"
[ "$failed" = 0 ] || sed 's/^/# /' "$dir/out1" | tail -n 30

# --- 2. virtio-slots.elf ----------------------------------------------------
f0=$failed
rw=$dir/rw.img ro=$dir/ro.img
dd if=/dev/zero of="$rw" bs=512 count=2048 2>/dev/null
dd if=/dev/zero of="$ro" bs=512 count=64 2>/dev/null
printf READONLY | dd of="$ro" conv=notrunc 2>/dev/null
cp "$ro" "$dir/ro.orig"
echo "ping from the host" >"$dir/in"
s0=$(signals) h0=$(status_hits)
lvrun --virtio-notify exit --irqchip --timeout 300 --disk "$rw" --disk "$ro,ro" \
	--console virtio /guests/virtio-slots.elf <"$dir/in" >"$dir/out2" 2>&1
st=$?
s1=$(signals) h1=$(status_hits)
guest_tap virtio-slots.elf "$dir/out2"
[ "$st" = 1 ] && [ "$g" = 24 ]
result $? "virtio-slots.elf: lvrun exits with 1 after the guest's 24 checks (status $st, $g checks)"
grep -q '^hello from hvc0$' "$dir/out2"
result $? "virtio-slots.elf: its line through the virtio console reached stdout"
grep -q '^lvrun: virtio-blk0: descriptor chain loops' "$dir/out2"
result $? "virtio-slots.elf: lvrun names the device and the cause of the breakage"
[ "$(dd if="$rw" bs=512 skip=1 count=1 2>/dev/null | head -c 30)" = \
  "lightvisor virtio-blk sector 1" ]
result $? "virtio-slots.elf: its write reached sector 1 of the image"
cmp -s "$ro" "$dir/ro.orig"
result $? "virtio-slots.elf: the read-only image is unchanged"
[ -n "$s0" ] && [ "$s1" = "$s0" ]
result $? "virtio-slots.elf: --virtio-notify exit: no ioeventfd signal (${s0:-?} -> ${s1:-?})"
[ -n "$h0" ] && [ "$h1" = "$h0" ]
result $? "virtio-slots.elf: --virtio-notify exit: no status register in the kernel (${h0:-?} -> ${h1:-?})"
[ "$failed" = "$f0" ] || sed 's/^/# /' "$dir/out2" | tail -n 30

# --- 3. interrupts take no needless exits --------------------------------
# virtio-bench.elf's first part is 201 kicks, each answered by an interrupt
# that is raised while the guest runs with interrupts off and taken after
# its STI; HLT. An interrupt-window exit armed for it and left armed after
# the injection exits again at the handler's IRET, once per interrupt.
windows() {
	awk '$2 == "INTERRUPT_WINDOW" { n = $3 } END { print n + 0 }' \
		/sys/kernel/debug/lightvisor/exits
}
dd if=/dev/zero of="$dir/bench.img" bs=1M count=8 2>/dev/null
w0=$(windows)
lvrun --irqchip --timeout 300 --disk "$dir/bench.img" \
	/guests/virtio-bench.elf >"$dir/out3" 2>&1
st=$?
w1=$(windows)
[ "$st" = 1 ] && grep -q '^VBENCH virtio.kick_irq ' "$dir/out3"
result $? "virtio-bench.elf: 201 kicks, each answered by an interrupt (status $st)"
[ $((w1 - w0)) -lt 20 ]
result $? "virtio-bench.elf: fewer interrupt-window exits than a tenth of its interrupts ($((w1 - w0)))"
[ "$st" = 1 ] || sed 's/^/# /' "$dir/out3" | tail -n 10

rm -rf "$dir"
echo "1..$n"
[ "$failed" = 0 ]
