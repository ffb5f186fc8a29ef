// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: a 16550A UART at 0x3f8, output only.
 *
 * Enough of the register set for a polling driver and for the Linux 8250
 * probe: the transmitter is always empty (bytes go straight to stdout),
 * the receiver never has data, no interrupts are ever raised, and loopback
 * mode reflects MCR into MSR as the probe expects.
 */
#include <pthread.h>
#include <unistd.h>

#include "lvrun.h"

#define UART_RBR_THR	0	/* DLL when LCR.DLAB */
#define UART_IER	1	/* DLM when LCR.DLAB */
#define UART_IIR_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define LCR_DLAB	0x80
#define MCR_LOOP	0x10
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define IIR_NO_INT	0x01
#define IIR_FIFO	0xc0
#define FCR_FIFO_EN	0x01

static struct {
	uint8_t ier, lcr, mcr, scr, fcr;
	uint8_t dll, dlm;
	pthread_mutex_t lock;
} uart = {
	.dll = 0x0c,		/* 9600 baud, as after a BIOS */
	.lcr = 0x03,		/* 8N1 */
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

static void uart_transmit(uint8_t c)
{
	ssize_t n;

	/* Unbuffered, so output interleaves correctly with lvrun's stderr. */
	do {
		n = write(STDOUT_FILENO, &c, 1);
	} while (n < 0);
}

static uint8_t uart_msr(void)
{
	uint8_t m = uart.mcr;

	if (!(uart.mcr & MCR_LOOP))
		return 0xb0;	/* DCD, DSR, CTS: a cable with a listener */
	/* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
	return ((m & 0x01) << 5) | ((m & 0x02) << 3) | ((m & 0x04) << 4) |
	       ((m & 0x08) << 4);
}

static uint8_t uart_read(unsigned int reg)
{
	switch (reg) {
	case UART_RBR_THR:
		return uart.lcr & LCR_DLAB ? uart.dll : 0;
	case UART_IER:
		return uart.lcr & LCR_DLAB ? uart.dlm : uart.ier;
	case UART_IIR_FCR:
		return IIR_NO_INT | (uart.fcr & FCR_FIFO_EN ? IIR_FIFO : 0);
	case UART_LCR:
		return uart.lcr;
	case UART_MCR:
		return uart.mcr;
	case UART_LSR:
		return LSR_THRE | LSR_TEMT;
	case UART_MSR:
		return uart_msr();
	default:
		return uart.scr;
	}
}

static void uart_write(unsigned int reg, uint8_t v)
{
	switch (reg) {
	case UART_RBR_THR:
		if (uart.lcr & LCR_DLAB)
			uart.dll = v;
		else if (!(uart.mcr & MCR_LOOP))
			uart_transmit(v);
		break;
	case UART_IER:
		if (uart.lcr & LCR_DLAB)
			uart.dlm = v;
		else
			uart.ier = v & 0x0f;
		break;
	case UART_IIR_FCR:
		uart.fcr = v & 0xc9;	/* FIFO reset bits are self-clearing */
		break;
	case UART_LCR:
		uart.lcr = v;
		break;
	case UART_MCR:
		uart.mcr = v & 0x1f;
		break;
	case UART_LSR:
	case UART_MSR:
		break;			/* read-only */
	default:
		uart.scr = v;
		break;
	}
}

/*
 * Wider accesses are split into byte accesses to consecutive ports, as on
 * an 8-bit ISA device; bytes past the last UART register (0x3ff) hit no
 * device: they read as 0xff and writes to them are dropped.
 */
bool uart_io(uint16_t port, bool is_write, unsigned int size, uint32_t *val)
{
	unsigned int i;

	if (port < UART_BASE || port > UART_BASE + 7)
		return false;

	pthread_mutex_lock(&uart.lock);
	if (!is_write)
		*val = 0;
	for (i = 0; i < size; i++) {
		unsigned int reg = port - UART_BASE + i;

		if (reg > 7) {
			if (!is_write)
				*val |= 0xffu << (8 * i);
			continue;
		}
		if (is_write)
			uart_write(reg, *val >> (8 * i));
		else
			*val |= (uint32_t)uart_read(reg) << (8 * i);
	}
	pthread_mutex_unlock(&uart.lock);
	return true;
}
