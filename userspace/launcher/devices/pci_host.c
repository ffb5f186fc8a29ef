// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: PCI configuration mechanism #1 on the port bus. The address
 * register is the dword at 0xcf8 (byte 0xcf9 is the reset control
 * register, reset.c), the data window 0xcfc-0xcff. Behind the host bridge
 * the bus is empty, unless --assign put a device at 00:01.0 (pci.c,
 * assign.c).
 */
#include <string.h>

#include "../layout.h"
#include "../log.h"
#include "devices.h"

static void pci_access(struct pci_host *p, uint16_t port, bool is_write,
		       uint8_t *data, unsigned int len)
{
	uint32_t v = 0;

	memcpy(&v, data, len);
	pthread_mutex_lock(&p->lock);
	pci_passthru_io(&p->pt, port, is_write, len, &v);
	pthread_mutex_unlock(&p->lock);
	if (!is_write)
		memcpy(data, &v, len);
}

static void pci_addr_access(void *dev, uint64_t off, bool is_write, uint8_t *data,
			    unsigned int len)
{
	(void)off;
	/* Only dword accesses reach the address register. */
	if (len != 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pci_access(dev, PCI_CONFIG_ADDR, is_write, data, len);
}

static void pci_data_access(void *dev, uint64_t off, bool is_write, uint8_t *data,
			    unsigned int len)
{
	pci_access(dev, PCI_CONFIG_DATA + off, is_write, data, len);
}

void pci_host_init(struct pci_host *p, struct bus *pio)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	if (bus_register(pio, PCI_CONFIG_ADDR, 1, "PCI config address",
			 pci_addr_access, p) ||
	    bus_register(pio, PCI_CONFIG_DATA, 4, "PCI config data",
			 pci_data_access, p))
		die("cannot register PCI configuration space");
}
