# SPDX-License-Identifier: GPL-2.0
#
# lightvisor top-level Makefile. The module itself is described in Kbuild.
#
#   make             module (against KDIR), userspace, guests
#   make kernel      the test kernel (scripts/build-kernel)
#   make module-test the module against the test kernel (build/mod-test)
#   make module-6.1  the module against Debian's 6.1 headers (build/mod-6.1)
#   make check       build everything and run all test suites
#   make demo        boot Bochs and show the module answering
#   make bench       lightvisor against KVM in one Bochs boot (build/bench/)
#   make fuzz        30 min (guest time) of lvfuzz on the KASAN kernel, 2 CPUs
#                    (FUZZ_ARGS="--seed N --seconds S" to change)
#   make clean

KDIR	?= /lib/modules/$(shell uname -r)/build
HDRS_61	?= $(lastword $(sort $(wildcard /usr/src/linux-headers-6.1.0-*-amd64)))
BUILD	:= $(CURDIR)/build
SUBMAKE	= BINDIR=$(BUILD)/bin GUESTDIR=$(BUILD)/guests

# Userspace parts are optional until their authors add a Makefile.
USERSPACE := userspace/tools userspace/launcher tests/abi tests/iommu tests/bench \
	     tests/fuzz
GUESTS	:= $(patsubst %/Makefile,%,$(wildcard guests/Makefile))

all: module userspace guests

kernel:
	scripts/build-kernel

module:
	@if [ -f "$(KDIR)/Makefile" ]; then \
		scripts/build-module "$(KDIR)" build/mod && \
		echo "built build/mod/lightvisor.ko for $(KDIR)"; \
	else \
		echo "$(KDIR) not found: building against the test kernel"; \
		$(MAKE) --no-print-directory module-test; \
	fi

module-test:
	scripts/build-module "$$(scripts/build-kernel | tail -n 1)" build/mod-test
	@echo "built build/mod-test/lightvisor.ko for the test kernel"

module-6.1:
	@test -n "$(HDRS_61)" || { echo "no /usr/src/linux-headers-6.1.0-*-amd64"; exit 1; }
	scripts/build-module "$(HDRS_61)" build/mod-6.1
	@echo "built build/mod-6.1/lightvisor.ko for $(HDRS_61)"

userspace:
	@for d in $(USERSPACE); do $(MAKE) -C $$d $(SUBMAKE) || exit 1; done

guests:
	@for d in $(GUESTS); do $(MAKE) -C $$d $(SUBMAKE) || exit 1; done

check:
	scripts/check

demo: module-test userspace guests
	scripts/demo

bench: userspace guests
	scripts/bench

fuzz: userspace
	scripts/fuzz $(FUZZ_ARGS)

clean:
	@for d in $(USERSPACE) $(GUESTS); do $(MAKE) -C $$d $(SUBMAKE) clean; done
	rm -rf build

.PHONY: all kernel module module-test module-6.1 userspace guests check demo bench \
	fuzz clean
