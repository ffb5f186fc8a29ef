# reboot -f: the kernel resets through the FADT's reset register (0xcf9).
reboot -f
