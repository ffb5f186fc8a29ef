#!/bin/sh
# virtio-blk read-only (lvrun --disk FILE,ro): the kernel sees a read-only
# disk, and a write to it fails.
dev=/dev/vda
[ -b $dev ] || { echo "LVGUEST-DISK-FAIL no $dev"; exit 1; }
echo "LVGUEST-DISK-RO $(cat /sys/block/vda/ro)"
if dd if=/dev/zero of=$dev bs=512 count=1 conv=fsync 2>/dev/null; then
	echo "LVGUEST-DISK-WRITE succeeded"
else
	echo "LVGUEST-DISK-WRITE failed"
fi
echo "LVGUEST-DISK-READ $(dd if=$dev bs=512 count=1 2>/dev/null | head -c 9)"
