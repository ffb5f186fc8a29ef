#!/bin/sh
# virtio-net under lightvisor (docs/virtio.md): the guest kernel and the
# emulated machine's host side ping each other over a tap inside a network
# namespace, then move 16 MiB over TCP each way with matching SHA-256
# (the guest's side: guests/linux/tests/net.sh). lvrun creates the tap
# (--net tap=lvtap0); the host gives it 10.0.2.1/24, the guest 10.0.2.15.
# Then bad --net input: a bad tap name, an interface that is no tap, no
# permission to make a tap, each a clear error and exit status 1.
tap=lvtap0
guest=10.0.2.15
size=$((16 << 20))

wait_for() { # PATTERN FILE PID: until FILE has PATTERN or PID is gone
	while ! grep -q "$1" "$2"; do
		kill -0 "$3" 2>/dev/null || return 1
		sleep 1
	done
}

# The host's side, run inside `unshare -n` (its own network namespace):
# listeners, lvrun (with OPTIONS too), the tap's address, the ping of the
# guest and its "go". Leaves its results in DIR, which holds host.bin, the
# 16 MiB to send. Also used by tests/bench/bench-guest.sh.
#   sh linux-virtio-net.sh --in-netns DIR [OPTIONS...]
if [ "$1" = --in-netns ]; then
	dir=$2
	shift 2
	ip link set lo up
	# BusyBox nc ends when the other side shuts its half down: the
	# receiving end's input is a FIFO opened read-write, which never ends.
	mkfifo "$dir/fifo"
	nc -l -p 5000 <>"$dir/fifo" >"$dir/received.bin" &
	listeners=$!
	nc -l -p 5001 <"$dir/host.bin" >/dev/null &
	listeners="$listeners $!"
	lvrun "$@" --mem 256M --timeout 1200 --net tap=$tap --initrd initrd.cpio \
		--cmdline "console=ttyS0 quiet lvtest=net" bzImage \
		</dev/null >"$dir/out" 2>&1 &
	pid=$!
	while ! ip link show $tap >/dev/null 2>&1; do
		kill -0 $pid 2>/dev/null || break
		sleep 1
	done
	ip addr add 10.0.2.1/24 dev $tap && ip link set $tap up
	if wait_for '^LVGUEST-NET-UP' "$dir/out" $pid; then
		ping -c 3 $guest >"$dir/ping" 2>&1
		# The guest listens for it a moment after saying it is up.
		until echo go | nc $guest 6000 >/dev/null 2>&1; do
			kill -0 $pid 2>/dev/null || break
			sleep 1
		done
	fi
	wait $pid
	echo $? >"$dir/status"
	# shellcheck disable=SC2086
	kill $listeners 2>/dev/null	# those the guest never reached
	ip link show $tap >"$dir/tap-after" 2>&1
	exit 0
fi

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; failed=$((failed + 1)); }
check() { # STATUS NAME: ok if the condition just tested held
	if [ "$1" = 0 ]; then ok "$2"; else nok "$2"; fi
}
has() { grep -q "$1" "$dir/out"; }
dir=$(mktemp -d)

head -c $size /dev/urandom >"$dir/host.bin"
host_sha=$(sha256sum <"$dir/host.bin" | cut -d' ' -f1)
start=$(cut -d' ' -f1 /proc/uptime)
unshare -n sh "$0" --in-netns "$dir"
end=$(cut -d' ' -f1 /proc/uptime)
grep -E 'LVGUEST|virtio|lvrun' "$dir/out" | sed 's/^/# /'
echo "# host side: $start-$end s of uptime"
sed 's/^/# host: /' "$dir/ping"

st=$(cat "$dir/status")
[ "$st" = 6 ] && has '^LVGUEST-INIT'
check $? "lvrun --net: guest reached init and powered off (status ${st:-none})"
has '^LVGUEST-NET-MAC 02:4c:56:00:00:01'
check $? "guest: eth0 has the default MAC 02:4c:56:00:00:01"
grep -q '3 packets received' "$dir/ping"
check $? "host pings the guest over the tap"
has '^LVGUEST-NET-GO go'
check $? "guest got the host's go over TCP"
has '^LVGUEST-NET-PING-OK'
check $? "guest pings the host over the tap"
sent=$(sed -n 's/^LVGUEST-NET-SENT-SHA \([0-9a-f]*\).*/\1/p' "$dir/out")
got=$(sha256sum <"$dir/received.bin" | cut -d' ' -f1)
len=$(wc -c <"$dir/received.bin")
[ -n "$sent" ] && [ "$sent" = "$got" ] && [ "$len" = $size ]
check $? "guest to host: 16 MiB over TCP, SHA-256 matches (got $len bytes)"
has "^LVGUEST-NET-RECEIVED $size $host_sha"
check $? "host to guest: 16 MiB over TCP, SHA-256 matches (got $(sed -n 's/^LVGUEST-NET-RECEIVED \([0-9]*\).*/\1/p' "$dir/out") bytes)"
! grep -q 'LVGUEST-NET-FAIL\|needs reset' "$dir/out"
check $? "no lost or broken device, no failure in the guest"
[ -s "$dir/tap-after" ] && grep -q 'not exist\|can.t find' "$dir/tap-after"
check $? "the tap lvrun made is gone with it"

# Bad input: exit status 1 and a message naming the problem, before any
# guest runs (lvrun exits while attaching).
bad() { # NAME PATTERN LVRUN-ARGS...: lvrun fails with PATTERN
	name=$1 pattern=$2
	shift 2
	out=$("$@" 2>&1 </dev/null)
	st=$?
	if [ "$st" = 1 ] && echo "$out" | grep -q -e "$pattern"; then
		ok "$name: status 1, \"$(echo "$out" | grep -e "$pattern" | head -n 1)\""
	else
		nok "$name: status $st"
		echo "$out" | sed 's/^/# /' | tail -n 5
	fi
}
bad "--net tap=bad/name" "tap=bad/name: cannot attach: Invalid argument" \
	unshare -n lvrun --net tap=bad/name --initrd initrd.cpio bzImage
bad "--net tap=lo (not a tap)" "tap=lo: cannot attach: .*not a tap" \
	unshare -n lvrun --net tap=lo --initrd initrd.cpio bzImage
bad "--net tap= with a name too long" "an interface name is 1 to 15 characters" \
	lvrun --net tap=abcdefghijklmnop --initrd initrd.cpio bzImage
bad "--net without tap=" "--net wants tap=NAME" lvrun --net mac=02:00:00:00:00:01 --initrd initrd.cpio bzImage
bad "--net mac= not unicast" "not a unicast address" lvrun --net tap=x,mac=03:00:00:00:00:01 --initrd initrd.cpio bzImage
# Without CAP_NET_ADMIN: as an unprivileged user (who may use
# /dev/lightvisor for this one run, and reads a copy of the kernel) lvrun
# may not open /dev/net/tun (mode 0600 here), and where it may, not make
# a tap.
if ! grep -qs '^lvnet:' /etc/passwd; then
	echo 'lvnet:x:4242:4242::/:/bin/sh' >>/etc/passwd
fi
udir=$(mktemp -d)
cp bzImage "$udir/"
chmod 755 "$udir"
chmod 644 "$udir/bzImage"
mode=$(stat -c %a /dev/lightvisor)
tun_mode=$(stat -c %a /dev/net/tun)
chmod 666 /dev/lightvisor
chmod 600 /dev/net/tun
bad "--net as a user who may not open /dev/net/tun" "tap=lvnotallowed: /dev/net/tun: Permission denied" \
	su lvnet -c "exec lvrun --net tap=lvnotallowed $udir/bzImage"
chmod 666 /dev/net/tun
bad "--net as a user without CAP_NET_ADMIN" "tap=lvnotallowed: cannot attach: Operation not permitted (needs CAP_NET_ADMIN" \
	su lvnet -c "exec lvrun --net tap=lvnotallowed $udir/bzImage"
chmod "$mode" /dev/lightvisor
chmod "$tun_mode" /dev/net/tun
rm -rf "$udir"

rm -rf "$dir"
echo "1..$n"
[ "$failed" = 0 ]
