# A running program for save and restore: a file in a tmpfs, then a
# count printed every second of the guest's clock, up to 10, each line
# with the file's contents. A restored guest shows that the program, its
# timers and the file carried on.
mount -t tmpfs tmpfs /tmp
echo "kept-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')" >/tmp/kept
i=1
while [ $i -le 10 ]; do
	echo "LVGUEST-COUNT $i $(cat /tmp/kept)"
	sleep 1
	i=$((i + 1))
done
