#!/bin/sh
# virtio-blk (lvrun --disk): an ext2 file system on /dev/vda with two
# files, synced and unmounted; the host then checks the image.
dev=/dev/vda
[ -b $dev ] || { echo "LVGUEST-DISK-FAIL no $dev"; exit 1; }
echo "LVGUEST-DISK-SECTORS $(cat /sys/block/vda/size)"
mke2fs -q $dev || { echo "LVGUEST-DISK-FAIL mke2fs"; exit 1; }
mkdir -p /mnt
mount -t ext2 $dev /mnt || { echo "LVGUEST-DISK-FAIL mount"; exit 1; }
echo "written by a lightvisor guest" >/mnt/hello.txt
dd if=/dev/urandom of=/mnt/random.bin bs=1024 count=512 2>/dev/null
echo "LVGUEST-DISK-SHA $(sha256sum </mnt/random.bin | cut -d' ' -f1)"
sync
umount /mnt || { echo "LVGUEST-DISK-FAIL umount"; exit 1; }
echo "LVGUEST-DISK-OK"
