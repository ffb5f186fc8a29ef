#!/bin/sh
# virtio drivers loaded as modules, on Debian's stock kernel (CONFIG_VIRTIO,
# VIRTIO_MMIO, VIRTIO_BLK and VIRTIO_CONSOLE all =m) under
# `lvrun --disk FILE --console virtio`, with stock-virtio.cpio of
# scripts/build-guest in the initramfs. First: the DSDT's virtio-mmio
# devices are there and nothing drives them. Then the modules go in,
# dependencies first, and the guest reads all of /dev/vda (its SHA-256
# for the host to compare), writes 4 KiB of its own at 256 KiB, sends a
# line through hvc0 and reads the one lvrun got on its stdin.
dir=/lib/modules/stock-virtio
fail() { echo "LVGUEST-MOD-FAIL $*"; exit 1; }
driver_of() { # SYSFS-DEVICE: the name of its driver, or none
	l=$(readlink "$1/driver") && echo "${l##*/}" || echo none
}

[ -f $dir/order ] || fail "no $dir/order: the initramfs has no modules"
[ "$(cat $dir/release)" = "$(uname -r)" ] ||
	fail "modules of $(cat $dir/release) for the kernel $(uname -r)"

# Before: the ACPI devices exist, unbound, and there is no virtio at all.
n=0
for d in /sys/bus/platform/devices/LNRO0005:*; do
	[ -e "$d" ] || continue
	n=$((n + 1))
	[ "$(driver_of "$d")" = none ] ||
		fail "before insmod: ${d##*/} is bound to $(driver_of "$d")"
done
echo "LVGUEST-MOD-BEFORE $n LNRO0005 devices"
[ "$n" -gt 0 ] || fail "before insmod: no LNRO0005 device"
[ ! -e /sys/bus/virtio ] ||
	fail "before insmod: a virtio bus with drivers: $(ls /sys/bus/virtio/drivers)"
grep -q '^virtio' /proc/modules && fail "before insmod: virtio modules loaded"
[ ! -e /dev/vda ] || fail "before insmod: /dev/vda exists"
[ ! -e /dev/hvc0 ] || fail "before insmod: /dev/hvc0 exists"
echo "LVGUEST-MOD-UNBOUND"

for m in $(cat $dir/order); do
	insmod "$dir/$m.ko" || fail "insmod $m"
	echo "LVGUEST-MOD-LOADED $m"
done

for d in /sys/bus/platform/devices/LNRO0005:*; do
	echo "LVGUEST-MOD-BOUND ${d##*/} $(driver_of "$d")"
done
for d in /sys/bus/virtio/devices/*; do
	[ -e "$d" ] || continue
	echo "LVGUEST-MOD-BOUND ${d##*/} device $(cat "$d/device") $(driver_of "$d")"
done

[ -b /dev/vda ] || fail "no /dev/vda"
echo "LVGUEST-MOD-DISK-SECTORS $(cat /sys/block/vda/size)"
echo "LVGUEST-MOD-DISK-READ $(sha256sum </dev/vda | cut -d' ' -f1)"
dd if=/dev/urandom of=/guest-4k.bin bs=4096 count=1 2>/dev/null
dd if=/guest-4k.bin of=/dev/vda bs=4096 seek=64 count=1 conv=fsync 2>/dev/null ||
	fail "write to /dev/vda"
sync
echo "LVGUEST-MOD-DISK-WROTE $(sha256sum </guest-4k.bin | cut -d' ' -f1)"

# hvc0's output reaches lvrun's stdout beside ttyS0's: a second of quiet
# on ttyS0 around each hvc0 line keeps the two from sharing a line. The
# host types its line only once told the guest listens: input that
# arrives while virtio_console is still probing is dropped by Linux (the
# receive buffers are queued before the console port counts as
# connected).
[ -c /dev/hvc0 ] || fail "no /dev/hvc0"
sleep 1
exec 3<>/dev/hvc0
echo "LVGUEST-MOD-HVC0-OUT $((6 * 7))" >&3
sleep 1
echo "LVGUEST-MOD-HVC0-LISTENING"
read -t 120 -r line <&3
exec 3>&-
sleep 1
echo "LVGUEST-MOD-HVC0-IN ${line:-nothing}"
echo "LVGUEST-MOD-OK"
