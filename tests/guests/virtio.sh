#!/bin/sh
# virtio over MMIO end to end: /guests/virtio-slots.elf drives two disks
# through lvrun (a writable one in slot 0, a read-only one in slot 1) and
# a console (slot 2) and prints TAP; then the host side checks what
# reached the image files, the console's output and lvrun's message for
# the guest's looping chain. TAP, numbered here.
n=0 failed=0
dir=$(mktemp -d)
rw=$dir/rw.img ro=$dir/ro.img

report() { # COND NAME
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

dd if=/dev/zero of="$rw" bs=512 count=2048 2>/dev/null
dd if=/dev/zero of="$ro" bs=512 count=64 2>/dev/null
printf READONLY | dd of="$ro" conv=notrunc 2>/dev/null
cp "$ro" "$dir/ro.orig"

echo "ping from the host" >"$dir/in"
lvrun --irqchip --timeout 120 --disk "$rw" --disk "$ro,ro" --console virtio \
	/guests/virtio-slots.elf <"$dir/in" >"$dir/out" 2>&1
st=$?
# The guest's own checks, renumbered.
g=0
while IFS= read -r line; do
	case "$line" in
	"ok "*) report 0 "guest: ${line#* - }"; g=$((g + 1)) ;;
	"not ok "*) report 1 "guest: ${line#* - }"; g=$((g + 1)) ;;
	esac
done <"$dir/out"
# Status 1 is also lvrun's own error: all 24 guest checks must have run.
[ "$st" = 1 ] && [ "$g" = 24 ]
report $? "lvrun exits with 1 after the guest's 24 checks (status $st, $g checks)"
grep -q '^hello from hvc0$' "$dir/out"
report $? "the guest's line through the virtio console reached stdout"
grep -q '^lvrun: virtio-blk0: descriptor chain loops' "$dir/out"
report $? "lvrun names the device and the cause of the breakage"
[ "$(dd if="$rw" bs=512 skip=1 count=1 2>/dev/null | head -c 30)" = \
  "lightvisor virtio-blk sector 1" ]
report $? "the guest's write reached sector 1 of the image"
cmp -s "$ro" "$dir/ro.orig"
report $? "the read-only image is unchanged"
if [ "$failed" != 0 ]; then
	sed 's/^/# /' "$dir/out" | tail -n 30
fi
rm -rf "$dir"
echo "1..$n"
[ "$failed" = 0 ]
