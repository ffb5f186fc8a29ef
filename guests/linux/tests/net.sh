#!/bin/sh
# virtio-net (lvrun --net tap=NAME): eth0 is 10.0.2.15/24, the host's end
# of the tap 10.0.2.1 (tests/guests/linux-virtio-net.sh). The guest waits
# for the host's "go" on TCP port 6000 (sent once the host has pinged
# it), pings the host, sends 16 MiB to port 5000 and receives 16 MiB
# from port 5001, and prints the SHA-256 of both for the host to compare.
# Times are guest uptime, in seconds.
host=10.0.2.1
size_mb=16
up() { cut -d' ' -f1 /proc/uptime; }

[ -d /sys/class/net/eth0 ] || { echo "LVGUEST-NET-FAIL no eth0"; exit 1; }
echo "LVGUEST-NET-MAC $(cat /sys/class/net/eth0/address)"
echo "LVGUEST-NET-FEATURES $(cat /sys/bus/virtio/devices/*/features 2>/dev/null | tr '\n' ' ')"
ip link set lo up
if ! ip addr add 10.0.2.15/24 dev eth0 || ! ip link set eth0 up; then
	echo "LVGUEST-NET-FAIL eth0 up"
	exit 1
fi
echo "LVGUEST-NET-UP"
go=$(nc -l -p 6000 </dev/null)
echo "LVGUEST-NET-GO $go"

if ping -c 3 $host >/tmp/ping 2>&1 && grep -q '3 packets received' /tmp/ping; then
	echo "LVGUEST-NET-PING-OK"
else
	echo "LVGUEST-NET-FAIL ping"
	sed 's/^/LVGUEST-NET-PING: /' /tmp/ping
fi

dd if=/dev/urandom of=/tmp/out bs=1M count=$size_mb 2>/dev/null
echo "LVGUEST-NET-SENT-SHA $(sha256sum </tmp/out | cut -d' ' -f1)"
t0=$(up)
nc $host 5000 </tmp/out >/dev/null || echo "LVGUEST-NET-FAIL send"
t1=$(up)
rm -f /tmp/out
# BusyBox nc ends when the other side shuts its half down: the receiving
# end's input is a FIFO opened read-write, which never ends.
mkfifo /tmp/fifo
nc $host 5001 <>/tmp/fifo >/tmp/in || echo "LVGUEST-NET-FAIL receive"
t2=$(up)
echo "LVGUEST-NET-RECEIVED $(wc -c </tmp/in) $(sha256sum </tmp/in | cut -d' ' -f1)"
echo "LVGUEST-NET-TIME send $t0-$t1 receive $t1-$t2"
echo "LVGUEST-NET-DONE"
