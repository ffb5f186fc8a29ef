#!/bin/sh
# The guest kernel (virtio-mmio, virtio-blk and virtio-console built in)
# under lvrun on lightvisor, finding lvrun's virtio devices through the
# DSDT (docs/virtio.md):
# - --disk: the guest makes an ext2 file system on /dev/vda, writes two
#   files, syncs and powers off; the host then checks the image with
#   e2fsck -fn and reads the files back with debugfs;
# - --disk FILE,ro: the kernel sees a read-only disk, a write fails, a
#   read returns the image's first bytes;
# - --console virtio with console=hvc0: the guest's init and test output
#   reach lvrun's stdout through hvc0, and a shell on hvc0 runs a command
#   typed on lvrun's stdin;
# - Debian's stock kernel, whose virtio drivers are modules, with
#   --disk and --console virtio: nothing drives the DSDT's devices until
#   the guest inserts the modules of stock-virtio.cpio (scripts/build-guest);
#   then it reads the host's random image (SHA-256), writes 4 KiB at
#   256 KiB that the host finds in the file, and uses hvc0 both ways.
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; failed=$((failed + 1)); }
dir=$(mktemp -d)

boot() { # NAME TEST CONSOLE [LVRUN OPTIONS] -> $out, ok if power-off and init reached
	name=$1 test=$2 console=$3
	shift 3
	out=$(lvrun --mem 256M --timeout 600 "$@" --initrd initrd.cpio \
		--cmdline "console=$console quiet lvtest=$test" bzImage 2>&1 </dev/null)
	st=$?
	echo "$out" | grep -E 'LVGUEST|virtio' | sed 's/^/# /'
	if [ "$st" = 6 ] && echo "$out" | grep -q '^LVGUEST-INIT'; then
		ok "$name: init reached, powered off"
		return 0
	fi
	nok "$name: lvrun exit status $st (want 6)"
	echo "$out" | sed 's/^/# /' | tail -n 40
	return 1
}

has() { # NAME PATTERN
	if echo "$out" | grep -q "$2"; then ok "$1"; else nok "$1"; fi
}

img=$dir/disk.img
dd if=/dev/zero of="$img" bs=1M count=16 2>/dev/null
if boot "--disk" disk ttyS0 --disk "$img"; then
	has "--disk: /dev/vda of 32768 sectors" '^LVGUEST-DISK-SECTORS 32768'
	has "--disk: mke2fs, mount, write, sync, umount" '^LVGUEST-DISK-OK'
	sha=$(echo "$out" | sed -n 's/^LVGUEST-DISK-SHA \([0-9a-f]*\).*/\1/p')
	if e2fsck -fn "$img" >"$dir/fsck" 2>&1; then
		ok "host: e2fsck -fn of the image is clean"
	else
		nok "host: e2fsck -fn of the image"
		sed 's/^/# /' "$dir/fsck"
	fi
	debugfs -R "cat /hello.txt" "$img" 2>/dev/null >"$dir/hello"
	if grep -q '^written by a lightvisor guest$' "$dir/hello"; then
		ok "host: hello.txt reads back"
	else
		nok "host: hello.txt reads back"
	fi
	debugfs -R "dump /random.bin $dir/random.bin" "$img" >/dev/null 2>&1
	got=$(sha256sum <"$dir/random.bin" 2>/dev/null | cut -d' ' -f1)
	if [ -n "$sha" ] && [ "$got" = "$sha" ]; then
		ok "host: random.bin has the guest's SHA-256"
	else
		nok "host: random.bin SHA-256 ${got:-none}, the guest's ${sha:-none}"
	fi
fi

ro=$dir/ro.img
dd if=/dev/zero of="$ro" bs=1M count=1 2>/dev/null
printf 'LVRO-DISK' | dd of="$ro" conv=notrunc 2>/dev/null
cp "$ro" "$dir/ro.orig"
if boot "--disk FILE,ro" disk-ro ttyS0 --disk "$ro,ro"; then
	has "ro: the kernel sees a read-only disk" '^LVGUEST-DISK-RO 1'
	has "ro: a write fails" '^LVGUEST-DISK-WRITE failed'
	has "ro: a read returns the image's bytes" '^LVGUEST-DISK-READ LVRO-DISK'
	if cmp -s "$ro" "$dir/ro.orig"; then ok "host: the read-only image is unchanged"
	else nok "host: the read-only image is unchanged"; fi
fi

if boot "--console virtio, console=hvc0" cpus hvc0 --console virtio; then
	has "hvc0: the test's output came through the virtio console" '^LVGUEST-CPUS 1'
fi

# A shell on hvc0: a command typed on lvrun's stdin runs and answers.
wait_for() { # PATTERN FILE PID: until FILE has PATTERN or PID is gone
	while ! grep -q "$1" "$2"; do
		kill -0 "$3" 2>/dev/null || return 1
		sleep 1
	done
}
mkfifo "$dir/in"
lvrun --mem 256M --timeout 600 --console virtio --initrd initrd.cpio \
	--cmdline "console=hvc0 quiet lvtest=shell" bzImage <"$dir/in" >"$dir/out" 2>&1 &
pid=$!
exec 3>"$dir/in"
if wait_for '^LVGUEST-SHELL' "$dir/out" $pid; then
	echo 'echo typed-$((6 * 7)) on $(tty)' >&3
	wait_for 'typed-42' "$dir/out" $pid
	echo 'poweroff -f' >&3
fi
wait $pid
st=$?
exec 3>&-
if [ "$st" = 6 ] && grep -q '^typed-42 on ' "$dir/out"; then
	ok "a shell on hvc0 runs a command typed on lvrun's stdin ($(sed -n "s/^typed-42 on //p" "$dir/out" | head -n 1))"
else
	nok "shell on hvc0: status $st, typed-42 seen: $(grep -c 'typed-42' "$dir/out")"
	sed 's/^/# /' "$dir/out" | tail -n 20
fi

# Drivers as modules: Debian's stock kernel (CONFIG_VIRTIO=m and the rest),
# no virtio_mmio.device= on its command line, the modules prepended to
# the initramfs (an uncompressed archive before the compressed one).
mod=$dir/mod.img
dd if=/dev/urandom of="$mod" bs=1M count=1 2>/dev/null
cp "$mod" "$dir/mod.orig"
cat stock-virtio.cpio initrd.cpio >"$dir/stock-initrd"
typed="lv-typed-$$"
mkfifo "$dir/mod.in"
lvrun --mem 256M --timeout 600 --disk "$mod" --console virtio \
	--initrd "$dir/stock-initrd" \
	--cmdline "console=ttyS0 quiet lvtest=virtio-modules" stock-bzImage \
	<"$dir/mod.in" >"$dir/mod.out" 2>&1 &
pid=$!
exec 4>"$dir/mod.in"
wait_for '^LVGUEST-MOD-HVC0-LISTENING' "$dir/mod.out" $pid && echo "$typed" >&4
wait $pid
st=$?
exec 4>&-
out=$(tr -d '\r' <"$dir/mod.out")
echo "$out" | grep -E 'LVGUEST|virtio' | sed 's/^/# /'
part_sha() { # FILE SKIP [COUNT]: SHA-256 of 4 KiB blocks of FILE
	dd if="$1" bs=4096 skip="$2" ${3:+count=$3} 2>/dev/null | sha256sum | cut -d' ' -f1
}
if [ "$st" = 6 ] && echo "$out" | grep -q '^LVGUEST-MOD-OK'; then
	ok "modules: the stock kernel ran the test and powered off"
else
	nok "modules: lvrun exit status $st (want 6), $(echo "$out" | grep '^LVGUEST-MOD-FAIL' || echo 'no LVGUEST-MOD-OK')"
	echo "$out" | sed 's/^/# /' | tail -n 40
fi
has "modules: before insmod, LNRO0005 devices without a driver and no virtio bus" \
	'^LVGUEST-MOD-UNBOUND'
for m in virtio_ring virtio virtio_mmio virtio_blk virtio_console; do
	has "modules: insmod $m" "^LVGUEST-MOD-LOADED $m\$"
done
bound=$(echo "$out" | grep -c '^LVGUEST-MOD-BOUND LNRO0005:[0-9a-f]* virtio-mmio$')
if [ "$bound" = 2 ]; then ok "modules: virtio-mmio drives both LNRO0005 devices"
else nok "modules: virtio-mmio drives $bound LNRO0005 devices, want 2"; fi
has "modules: virtio_blk drives the block device" \
	'^LVGUEST-MOD-BOUND virtio[0-9]* device 0x0002 virtio_blk$'
has "modules: virtio_console drives the console" \
	'^LVGUEST-MOD-BOUND virtio[0-9]* device 0x0003 virtio_console$'
has "modules: /dev/vda of 2048 sectors" '^LVGUEST-MOD-DISK-SECTORS 2048$'
sha=$(sha256sum <"$dir/mod.orig" | cut -d' ' -f1)
has "modules: the guest read the host's image (SHA-256)" "^LVGUEST-MOD-DISK-READ $sha\$"
wrote=$(echo "$out" | sed -n 's/^LVGUEST-MOD-DISK-WROTE \([0-9a-f]*\)$/\1/p')
got=$(part_sha "$mod" 64 1)
if [ -z "$wrote" ] || [ "$got" != "$wrote" ]; then
	nok "host: 4 KiB at 256 KiB have SHA-256 $got, the guest wrote ${wrote:-nothing}"
elif [ "$(part_sha "$mod" 0 64)" != "$(part_sha "$dir/mod.orig" 0 64)" ] ||
     [ "$(part_sha "$mod" 65)" != "$(part_sha "$dir/mod.orig" 65)" ]; then
	nok "host: the image changed outside the guest's 4 KiB at 256 KiB"
else
	ok "host: the image has the guest's 4 KiB at 256 KiB, the rest unchanged"
fi
has "modules: a line written to hvc0 reached lvrun's stdout" 'LVGUEST-MOD-HVC0-OUT 42'
has "modules: hvc0 read the line on lvrun's stdin" "^LVGUEST-MOD-HVC0-IN $typed\$"

rm -rf "$dir"
echo "1..$n"
[ "$failed" = 0 ]
