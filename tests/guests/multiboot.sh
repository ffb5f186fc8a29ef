#!/bin/sh
# The multiboot test kernel (guests/multiboot/mbcheck.c) under lvrun, in
# both forms (ELF32 and the a.out kludge), and lvrun's refusals of bad
# images, each with a message naming the problem and exit status 1.
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; failed=$((failed + 1)); }

printf 'first module\n' >mod0.txt
printf 'second module\n' >mod1.txt

mbcheck() { # IMAGE [LVRUN OPTIONS]: the kernel's own checks must all pass
	img=$1
	shift
	out=$(lvrun --mem 128M "$@" --cmdline "mods=2 mod0=first name0=mod0.txt mod1=second name1=mod1.txt mem=131072" \
		--initrd mod0.txt --initrd mod1.txt "/guests/$img" 2>&1)
	st=$?
	oks=$(echo "$out" | grep -c '^ok ')
	if [ "$st" = 1 ] && [ "$oks" -ge 10 ] && ! echo "$out" | grep -q '^not ok'; then
		ok "$img $*: the kernel's $oks checks of the multiboot information pass"
	else
		nok "$img $*: status $st, $oks checks passed"
		echo "$out" | sed 's/^/# /' | tail -n 20
	fi
}

refused() { # NAME PATTERN LVRUN ARGS...: status 1 and a message matching PATTERN
	name=$1 pat=$2
	shift 2
	out=$(lvrun "$@" 2>&1 </dev/null)
	st=$?
	if [ "$st" = 1 ] && echo "$out" | grep -q "$pat"; then
		ok "$name refused: $(echo "$out" | head -n 1)"
	else
		nok "$name: status $st, want 1 and '$pat'"
		echo "$out" | sed 's/^/# /' | tail -n 5
	fi
}

mbcheck mbcheck.elf
mbcheck mbcheck.bin

# The header's checksum is its third word.
cp /guests/mbcheck.bin bad-checksum.bin
printf '\001' | dd of=bad-checksum.bin bs=1 seek=8 count=1 conv=notrunc 2>/dev/null
refused "multiboot header with a bad checksum" "bad checksum" bad-checksum.bin
refused "ELF with a segment outside guest RAM" "outside guest RAM" --mem 1M /guests/mbcheck.elf
dd if=/dev/zero of=big.img bs=1M count=3 2>/dev/null
refused "module larger than guest memory" "does not fit in guest memory" \
	--mem 2M --initrd big.img /guests/mbcheck.elf
echo "1..$n"
[ "$failed" = 0 ]
