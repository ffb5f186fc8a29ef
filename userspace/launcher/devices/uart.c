// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: a 16550A UART.
 *
 * Transmitted bytes go straight to out_fd, so the transmitter is always
 * empty; received bytes come from uart_receive() (lvrun's stdin). The
 * interrupt output (IRQ 4 for COM1) follows the 16550's sources in
 * priority order: received data, then "transmitter holding register
 * empty", which is acknowledged by reading IIR or writing THR. Loopback
 * mode reflects MCR into MSR and transmitted bytes into the receiver, as
 * the Linux 8250 probe expects.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../log.h"
#include "devices.h"
#include "../threads.h"

#define UART_RBR_THR	0	/* DLL when LCR.DLAB */
#define UART_IER	1	/* DLM when LCR.DLAB */
#define UART_IIR_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define IER_RDI		0x01
#define IER_THRI	0x02
#define LCR_DLAB	0x80
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define IIR_NO_INT	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0
#define FCR_FIFO_EN	0x01
#define FCR_CLEAR_RX	0x02

static bool uart_irq_level(const struct uart16550 *u)
{
	return (u->ier & IER_RDI && u->rx_count) ||
	       (u->ier & IER_THRI && u->thr_ipending);
}

static void uart_update_irq(struct uart16550 *u)
{
	irq_line_set(&u->irq, uart_irq_level(u));
}

static void uart_transmit(struct uart16550 *u, uint8_t c)
{
	ssize_t n;

	/* Unbuffered, so output interleaves correctly with lvrun's stderr. */
	do {
		n = write(u->out_fd, &c, 1);
	} while (n < 0 && errno == EINTR);
}

static void rx_push(struct uart16550 *u, uint8_t c)
{
	if (u->rx_count == UART_BACKLOG)
		return;		/* overrun: the byte is lost */
	u->rx[(u->rx_head + u->rx_count) % UART_BACKLOG] = c;
	u->rx_count++;
}

static uint8_t rx_pop(struct uart16550 *u)
{
	uint8_t c;

	if (!u->rx_count)
		return 0;
	c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_BACKLOG;
	u->rx_count--;
	if (!u->rx_count)
		pthread_cond_broadcast(&u->drained);
	return c;
}

static uint8_t uart_msr(const struct uart16550 *u)
{
	uint8_t m = u->mcr;

	if (!(m & MCR_LOOP))
		return 0xb0;	/* DCD, DSR, CTS: a cable with a listener */
	/* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
	return ((m & 0x01) << 5) | ((m & 0x02) << 3) | ((m & 0x04) << 4) |
	       ((m & 0x08) << 4);
}

static uint8_t uart_iir(struct uart16550 *u)
{
	uint8_t fifo = u->fcr & FCR_FIFO_EN ? IIR_FIFO : 0;

	if (u->ier & IER_RDI && u->rx_count)
		return IIR_RDI | fifo;
	if (u->ier & IER_THRI && u->thr_ipending) {
		u->thr_ipending = false;	/* reading IIR acknowledges it */
		return IIR_THRI | fifo;
	}
	return IIR_NO_INT | fifo;
}

static uint8_t uart_read(struct uart16550 *u, unsigned int reg)
{
	switch (reg) {
	case UART_RBR_THR:
		return u->lcr & LCR_DLAB ? u->dll : rx_pop(u);
	case UART_IER:
		return u->lcr & LCR_DLAB ? u->dlm : u->ier;
	case UART_IIR_FCR:
		return uart_iir(u);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
	case UART_MSR:
		return uart_msr(u);
	default:
		return u->scr;
	}
}

static void uart_write(struct uart16550 *u, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case UART_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			break;
		}
		if (u->mcr & MCR_LOOP)
			rx_push(u, v);
		else
			uart_transmit(u, v);
		u->thr_ipending = true;		/* sent at once: THR empty again */
		break;
	case UART_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		/* Enabling THRI with THR empty raises it at once, as on a 16550. */
		if (v & IER_THRI && !(u->ier & IER_THRI))
			u->thr_ipending = true;
		u->ier = v & 0x0f;
		break;
	case UART_IIR_FCR:
		if (v & FCR_CLEAR_RX) {
			u->rx_count = 0;
			pthread_cond_broadcast(&u->drained);
		}
		u->fcr = v & 0xc9;	/* FIFO reset bits are self-clearing */
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		break;
	case UART_LSR:
	case UART_MSR:
		break;			/* read-only */
	default:
		u->scr = v;
		break;
	}
}

/*
 * Wider accesses are split into byte accesses to consecutive registers,
 * as on an 8-bit ISA device; bytes past the last register hit no device:
 * they read as 0xff and writes to them are dropped.
 */
static void uart_access(void *dev, uint64_t off, bool is_write, uint8_t *data,
			unsigned int len)
{
	struct uart16550 *u = dev;
	unsigned int i;

	pthread_mutex_lock(&u->lock);
	for (i = 0; i < len; i++) {
		unsigned int reg = off + i;

		if (reg > 7) {
			if (!is_write)
				data[i] = 0xff;
			continue;
		}
		if (is_write)
			uart_write(u, reg, data[i]);
		else
			data[i] = uart_read(u, reg);
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

void uart_receive(struct uart16550 *u, const uint8_t *buf, unsigned int len)
{
	unsigned int i;

	pthread_mutex_lock(&u->lock);
	for (i = 0; i < len; i++) {
		while (u->rx_count == UART_BACKLOG)
			pthread_cond_wait(&u->drained, &u->lock);
		rx_push(u, buf[i]);
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

struct uart_input {
	struct uart16550 *uart;
	int fd;
};

static void *uart_input_thread(void *p)
{
	struct uart_input *in = p;
	uint8_t buf[256];

	for (;;) {
		ssize_t n = read(in->fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* end of input: the receiver stays idle */
		uart_receive(in->uart, buf, n);
	}
	/*
	 * So does this thread: ending it would cost as much as starting it
	 * (its stack freed and more), at once, while lvrun starts the guest.
	 */
	for (;;)
		pause();
	return NULL;
}

void uart_start_input(struct uart16550 *u, int in_fd)
{
	static struct uart_input in;
	pthread_t thread;
	int err;

	in = (struct uart_input){ u, in_fd };
	err = lvrun_thread_create(&thread, uart_input_thread, &in);
	if (err)
		die("pthread_create: %s", strerror(err));
	pthread_detach(thread);
}

void uart_init(struct uart16550 *u, struct bus *pio, uint16_t base,
	       struct irq_line irq, int out_fd)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->drained, NULL);
	u->dll = 0x0c;		/* 9600 baud, as after a BIOS */
	u->lcr = 0x03;		/* 8N1 */
	u->irq = irq;
	u->out_fd = out_fd;
	if (bus_register(pio, base, 8, "16550", uart_access, u))
		die("cannot register the UART");
}

void uart_save(struct uart16550 *u, struct uart_state *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&u->lock);
	s->ier = u->ier;
	s->lcr = u->lcr;
	s->mcr = u->mcr;
	s->scr = u->scr;
	s->fcr = u->fcr;
	s->dll = u->dll;
	s->dlm = u->dlm;
	s->thr_ipending = u->thr_ipending;
	s->rx_count = u->rx_count;
	for (i = 0; i < u->rx_count; i++)
		s->rx[i] = u->rx[(u->rx_head + i) % UART_BACKLOG];
	pthread_mutex_unlock(&u->lock);
}

int uart_restore(struct uart16550 *u, const struct uart_state *s)
{
	if (s->rx_count > UART_BACKLOG || s->thr_ipending > 1 || s->padding)
		return -EINVAL;
	pthread_mutex_lock(&u->lock);
	u->ier = s->ier;
	u->lcr = s->lcr;
	u->mcr = s->mcr;
	u->scr = s->scr;
	u->fcr = s->fcr;
	u->dll = s->dll;
	u->dlm = s->dlm;
	u->thr_ipending = s->thr_ipending;
	memcpy(u->rx, s->rx, s->rx_count);
	u->rx_head = 0;
	u->rx_count = s->rx_count;
	irq_line_restore(&u->irq, uart_irq_level(u));
	pthread_mutex_unlock(&u->lock);
	return 0;
}
