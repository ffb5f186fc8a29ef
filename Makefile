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
#   make lint        the kernel's own checks (scripts/lint; part of make check)
#   make install     tools, header, man pages, udev rule, the lightvisor group
#                    and the module's DKMS source (built by DKMS when there)
#   make uninstall   the reverse
#   make dkms-install / dkms-uninstall   (un)register the module with DKMS
#   make deb         Debian packages lightvisor-dkms and lightvisor-tools,
#                    built from a copy of the tree in DEBDIR (build/deb)
#   make fuzz        30 min (guest time) of lvfuzz on the KASAN kernel, 2 CPUs
#                    (FUZZ_ARGS="--seed N --seconds S" to change)
#   make clean
#
# install/uninstall honour DESTDIR and PREFIX (default /usr/local); with a
# DESTDIR nothing outside it is touched (no group, no DKMS). DKMS=no skips
# DKMS; KVER=VERSION builds the module for that kernel instead of the
# running one.

KDIR	?= /lib/modules/$(shell uname -r)/build
HDRS_61	?= $(lastword $(sort $(wildcard /usr/src/linux-headers-6.1.0-*-amd64)))
BUILD	:= $(CURDIR)/build
SUBMAKE	= BINDIR=$(BUILD)/bin GUESTDIR=$(BUILD)/guests
LV_VERSION := $(shell cat $(CURDIR)/VERSION)

PREFIX	?= /usr/local
bindir	?= $(PREFIX)/bin
includedir ?= $(PREFIX)/include
mandir	?= $(PREFIX)/share/man
# udev reads /usr/lib/udev/rules.d and /etc/udev/rules.d only.
udevrulesdir ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/udev/rules.d,/etc/udev/rules.d)
# DKMS looks for sources in /usr/src whatever the prefix.
dkmssrcdir ?= /usr/src/lightvisor-$(LV_VERSION)
DKMS	?= $(if $(DESTDIR),no,$(if $(shell command -v dkms),yes,no))
KVER	?=

# What a user of the machine gets (lvshutdown and the tests stay in build/).
TOOLS	:= lvrun lvinfo lvctl lvd
MANPAGES := $(TOOLS:%=docs/man/%.1)
UDEV_RULE := udev/60-lightvisor.rules
MODULE_SRC := Kbuild $(sort $(shell find module uapi -name "*.[chS]"))

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

# The SVM backend against kvm_amd in QEMU TCG (-cpu max, -icount).
bench-svm: userspace guests
	scripts/bench --emu qemu --only "exits lifecycle"

tools:
	@for d in userspace/tools userspace/launcher; do \
		$(MAKE) -C $$d $(SUBMAKE) || exit 1; done

install: install-tools install-dkms-src
ifeq ($(DESTDIR),)
	@getent group lightvisor >/dev/null || groupadd --system lightvisor
	@echo "group lightvisor: members may open /dev/lightvisor"
	-@udevadm control --reload 2>/dev/null && \
		udevadm trigger --sysname-match=lightvisor 2>/dev/null
endif
ifeq ($(DKMS),yes)
	$(MAKE) --no-print-directory dkms-install
endif

install-tools: tools
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(mandir)/man1 \
		$(DESTDIR)$(includedir)/linux $(DESTDIR)$(udevrulesdir)
	install -m 0755 $(TOOLS:%=$(BUILD)/bin/%) $(DESTDIR)$(bindir)/
	install -m 0644 $(MANPAGES) $(DESTDIR)$(mandir)/man1/
	install -m 0644 uapi/linux/lightvisor.h $(DESTDIR)$(includedir)/linux/
	install -m 0644 $(UDEV_RULE) $(DESTDIR)$(udevrulesdir)/

install-dkms-src:
	@for f in $(MODULE_SRC); do \
		install -D -m 0644 $$f $(DESTDIR)$(dkmssrcdir)/$$f || exit 1; done
	sed 's/#MODULE_VERSION#/$(LV_VERSION)/' dkms.conf \
		>$(DESTDIR)$(dkmssrcdir)/dkms.conf

# Older dkms refuse to add a module twice. --force: the sources under
# /usr/src may have changed under the same version (make install again).
DKMS_MOD = -m lightvisor -v $(LV_VERSION) $(if $(KVER),-k $(KVER))
dkms-install:
	dkms status -m lightvisor -v $(LV_VERSION) | grep -q . || \
		dkms add -m lightvisor -v $(LV_VERSION)
	dkms build --force $(DKMS_MOD)
	dkms install --force $(DKMS_MOD)

dkms-uninstall:
	if dkms status -m lightvisor -v $(LV_VERSION) | grep -q .; then \
		dkms remove -m lightvisor -v $(LV_VERSION) --all; fi

uninstall:
ifeq ($(DKMS),yes)
	$(MAKE) --no-print-directory dkms-uninstall
endif
	rm -f $(TOOLS:%=$(DESTDIR)$(bindir)/%) \
		$(TOOLS:%=$(DESTDIR)$(mandir)/man1/%.1) \
		$(DESTDIR)$(includedir)/linux/lightvisor.h \
		$(DESTDIR)$(udevrulesdir)/$(notdir $(UDEV_RULE))
	rm -rf $(DESTDIR)$(dkmssrcdir)
ifeq ($(DESTDIR),)
	if getent group lightvisor >/dev/null; then groupdel lightvisor; fi
endif

lint:
	scripts/lint

# dpkg-buildpackage writes into ../ and cleans the tree: give it a copy.
DEBDIR	?= $(BUILD)/deb
deb:
	rm -rf $(DEBDIR)/src $(DEBDIR)/*.deb && mkdir -p $(DEBDIR)/src
	if git rev-parse --git-dir >/dev/null 2>&1; then \
		git ls-files -co --exclude-standard | rsync -a --ignore-missing-args \
			--files-from=- . $(DEBDIR)/src/; \
	else rsync -a --exclude=/build . $(DEBDIR)/src/; fi
	cd $(DEBDIR)/src && dpkg-buildpackage -b -us -uc
	@ls $(DEBDIR)/*.deb
fuzz: userspace
	scripts/fuzz $(FUZZ_ARGS)

clean:
	@for d in $(USERSPACE) $(GUESTS); do $(MAKE) -C $$d $(SUBMAKE) clean; done
	rm -rf build

.PHONY: all kernel module module-test module-6.1 userspace guests check demo bench bench-svm \
	tools install install-tools install-dkms-src dkms-install dkms-uninstall \
	uninstall lint deb fuzz clean
