#!/bin/sh
# Live migration between lvruns on this machine, with memwriter.elf
# (prints "count N tsc T" every 2M TSC ticks while it writes, and checks,
# 4 MiB of memory every step): lvctl migrate to lvrun --incoming over
# unix:, then from there on over tcp:127.0.0.1; a target killed in the
# middle of the stream, a target that refuses (another --mem) and bad
# addresses leave the source running. Prints TAP. Time limits here only
# end a hung run; the checks are on what the guest and lvrun report.
n=0 failed=0
result() { # STATUS NAME
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# The complete "count" lines of FILES so far, joined as one console
# (a line the source began may end on the target), without CRs.
counts() { # FILE...
	cat "$@" | tr -d '\r' >snap.txt
	[ -z "$(tail -c 1 snap.txt)" ] || sed -i '$d' snap.txt
	grep '^count [0-9]* tsc [0-9]*$' snap.txt
}

nr_counts() {
	counts "$@" | wc -l
}

last_count() {
	counts "$@" | tail -n 1 | cut -d' ' -f2
}

# Waits up to 300 s for FILE to hold N more complete count lines.
wait_counts() { # FILE N
	want=$(($(nr_counts "$1") + $2)) i=0
	while [ "$(nr_counts "$1")" -lt "$want" ] && [ $i -lt 3000 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(nr_counts "$1")" -ge "$want" ]
}

# Waits up to 300 s for PATTERN in FILE.
wait_line() { # FILE PATTERN
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt 3000 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q "$2" "$1"
}

# Counts run 1, 2, 3... without a gap or a restart across FILES.
consecutive() { # FILE...
	counts "$@" | awk '$2 != NR { bad = 1 } END { exit bad || NR == 0 }'
}

field() { # ANSWER KEY
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

ctl() {
	ans=$(lvctl --timeout 900 "$@")
	rc=$?
	echo "# lvctl $(echo "$*" | cut -c1-70): $ans (exit $rc)"
}

# The checksum lvrun logged at the switch, from its stderr FILE.
logged_sum() { # FILE WHO
	sed -n "s/^lvrun: $2: memory checksum \([0-9a-f]*\)$/\1/p" "$1" | tail -n 1
}

show() { # FILE PREFIX
	sed "s/^/# $2: /" "$1" | grep -v '^# [a-z0-9]*: count ' | head -20
}

# Checks a migration's answer: state, rounds, pages, both times.
answer_ok() { # NAME
	rounds=$(field "$ans" rounds)
	pages=$(field "$ans" pages)
	total=$(field "$ans" total_ticks)
	down=$(field "$ans" downtime_ticks)
	[ "$rc" = 0 ] && [ "$(field "$ans" state)" = migrated ] &&
		[ "$rounds" -ge 2 ] &&
		[ "$(echo "$pages" | tr ',' '\n' | grep -c '^[0-9][0-9]*$')" = "$rounds" ] &&
		[ "$down" -gt 0 ] && [ "$down" -lt "$total" ]
	result $? "$1: ok state=migrated, $rounds rounds (pages $pages), total $total ticks, downtime $down ticks"
}

# tcp:127.0.0.1 needs the loopback interface, which init leaves down.
ip link set lo up

# The source, counting and writing memory.
lvrun --control "$PWD/src.sock" --timeout 1800 /guests/memwriter.elf \
	>src.out 2>src.err &
src=$!
while [ ! -S src.sock ] && kill -0 $src 2>/dev/null; do sleep 0.1; done
wait_counts src.out 5
result $? "memwriter.elf counts under lvrun --control"

# --- unix: ------------------------------------------------------------
lvrun --incoming "unix:$PWD/mig1.sock" --control "$PWD/t1.sock" \
	--timeout 1800 >t1.out 2>t1.err &
t1=$!
wait_line t1.err "incoming: waiting on unix:"
result $? "lvrun --incoming unix:PATH waits for a source"

ctl "$PWD/src.sock" migrate "unix:$PWD/mig1.sock" checksum
answer_ok "migrate unix:PATH checksum"
wait $src
st=$?
[ $st = 12 ]
result $? "the source exits with status 12 once the target runs the guest ($st)"
show src.err source
s1=$(logged_sum src.err migrate)
d1=$(logged_sum t1.err incoming)
echo "# memory checksum at the switch: source $s1, target $d1"
[ -n "$s1" ] && [ "$s1" = "$d1" ] && [ "$s1" = "$(field "$ans" checksum)" ]
result $? "at the switch the target's memory checksum equals the source's ($s1)"
grep -q '^lvrun: migrate: round 1: [0-9]* pages$' src.err &&
	grep -q '^lvrun: migrated to unix:.* pages per round .* TSC ticks in all, downtime [0-9]* TSC ticks$' src.err
result $? "the source's stderr has pages per round, total time and downtime"
last_src=$(last_count src.out)
wait_counts t1.out 5
result $? "the target counts"
consecutive src.out t1.out && ! grep -q 'memwriter: page' t1.out
result $? "the count goes on from the source's $last_src, unbroken, every page intact"
ctl "$PWD/t1.sock" status
[ "$(field "$ans" state)" = running ]
result $? "the target answers on its control socket: running"
show t1.err target1

# --- tcp: from the first target on -------------------------------------
lvrun --incoming tcp:127.0.0.1:47123 --control "$PWD/t2.sock" \
	--timeout 1800 >t2.out 2>t2.err &
t2=$!
wait_line t2.err "incoming: waiting on tcp:127.0.0.1:47123"
ctl "$PWD/t1.sock" migrate tcp:127.0.0.1:47123 checksum
answer_ok "migrate tcp:127.0.0.1:PORT checksum (a migrated guest moves again)"
wait $t1
st=$?
s2=$(logged_sum t1.err migrate)
d2=$(logged_sum t2.err incoming)
[ $st = 12 ] && [ -n "$s2" ] && [ "$s2" = "$d2" ]
result $? "over tcp: the source exits 12, checksums equal at the switch ($s2, $d2)"
wait_counts t2.out 5
consecutive src.out t1.out t2.out && ! grep -q 'memwriter: page' t2.out
result $? "the count goes on over three lvruns, unbroken"
show t2.err target2

# --- a target killed in the middle of the stream -----------------------
# Stopped once round 1 has arrived, so it can never say RUNNING, then
# killed: the source sees the stream break and resumes.
lvrun --incoming "unix:$PWD/cut.sock" --timeout 1800 >cut.out 2>cut.err &
cut=$!
wait_line cut.err "incoming: waiting on"
lvctl --timeout 900 "$PWD/t2.sock" migrate "unix:$PWD/cut.sock" >cut.ans &
ctlpid=$!
wait_line cut.err "incoming: round 1: "
kill -STOP $cut
ran=$(grep -c 'guest runs here' cut.err)
kill -KILL $cut
wait $ctlpid
rc=$?
ans=$(cat cut.ans)
echo "# lvctl migrate to the killed target: $ans (exit $rc); rounds it saw: $(grep -c 'incoming: round' cut.err)"
[ "$ran" = 0 ] && [ $rc = 1 ] &&
	echo "$ans" | grep -Eq '^error code=(EPIPE|ECONNRESET) msg=".*(closed the stream|reset)'
result $? "a target killed mid-stream: the source answers the error (EPIPE or ECONNRESET)"
ctl "$PWD/t2.sock" status
[ "$(field "$ans" state)" = running ] && kill -0 $t2
result $? "after the cut the source runs on (status running)"
wait_counts t2.out 5
consecutive src.out t1.out t2.out && ! grep -q 'memwriter: page' t2.out
result $? "and its guest counts on, unbroken, memory intact"
grep -q 'migrate to unix:.* failed, the guest stays here' t2.err
result $? "the source's stderr says the migration failed and the guest stays"

# --- a target that refuses ---------------------------------------------
lvrun --incoming "unix:$PWD/ref.sock" --mem 32M --timeout 1800 \
	>ref.out 2>ref.err &
ref=$!
wait_line ref.err "incoming: waiting on"
ctl "$PWD/t2.sock" migrate "unix:$PWD/ref.sock"
[ $rc = 1 ] && [ "$ans" = 'error code=ECONNREFUSED msg="the target refused: the guest has 16 MiB of memory, this lvrun --mem 32 MiB"' ]
result $? "a target with another --mem refuses: error code=ECONNREFUSED naming the sizes"
wait $ref
st=$?
[ $st = 1 ] && grep -q 'incoming: the guest has 16 MiB' ref.err && [ ! -s ref.out ]
result $? "the refusing target exits 1 with the cause, having run nothing ($st)"
wait_counts t2.out 3
ctl "$PWD/t2.sock" status
[ "$(field "$ans" state)" = running ] && consecutive src.out t1.out t2.out
result $? "the source runs on after the refusal, its count unbroken"

# --- bad addresses -------------------------------------------------------
ctl "$PWD/t2.sock" migrate "unix:$PWD/nobody.sock"
[ $rc = 1 ] && echo "$ans" | grep -q '^error code=ENOENT msg="cannot connect to the target: '
result $? "migrate to a missing socket: error code=ENOENT"
ctl "$PWD/t2.sock" migrate tcp:127.0.0.1:47124
[ $rc = 1 ] && echo "$ans" | grep -q '^error code=ECONNREFUSED msg="cannot connect to the target: '
result $? "migrate to a tcp port nobody listens on: error code=ECONNREFUSED"
ctl "$PWD/t2.sock" migrate ftp:host
[ "$ans" = 'error code=EINVAL msg="address must be unix:PATH or tcp:HOST:PORT"' ]
result $? "migrate to a malformed address: error code=EINVAL"
lvrun --incoming tcp:localhost:1 >bad.out 2>&1
[ $? = 1 ] && grep -q 'not an IPv4 or IPv6 address' bad.out
result $? "lvrun --incoming with a host name is refused"
lvrun --incoming "unix:$PWD/x.sock" /guests/counter.elf >bad.out 2>&1
[ $? = 1 ] && grep -q 'takes no IMAGE' bad.out
result $? "lvrun --incoming with an IMAGE is refused"
wait_counts t2.out 3
consecutive src.out t1.out t2.out
result $? "after all that the guest still counts on, unbroken"

kill -TERM $t2
wait $t2
echo "1..$n"
[ $failed = 0 ]
