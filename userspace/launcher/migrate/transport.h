/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: the live-migration stream's socket: unix: or tcp:, blocking,
 * with a time limit on every transfer so that a peer that stops reading
 * or writing ends the migration instead of holding lvrun.
 */
#ifndef LVRUN_MIGRATE_TRANSPORT_H
#define LVRUN_MIGRATE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* No progress for this long and the stream counts as broken. */
#define MIG_IO_TIMEOUT_SEC	120

/* Each returns a socket, or a negative errno with a message in @err. */
int mig_connect(const struct mig_address *a, char *err, size_t errlen);
int mig_listen(const struct mig_address *a, char *err, size_t errlen);
int mig_accept(int listen_fd, char *err, size_t errlen);

/*
 * A message whose payload is @len bytes at @payload then @more_len at
 * @more. 0, or a negative errno with a message in @err.
 */
int mig_send(int fd, uint32_t type, uint32_t count, const void *payload,
	     uint64_t len, const void *more, uint64_t more_len, char *err,
	     size_t errlen);
/*
 * A PAGES message of @n pages (1 to MIG_BATCH), each read from @mem at
 * its page number in @index as the socket takes it: no copy of its own.
 * 0, or a negative errno with a message in @err.
 */
int mig_send_pages(int fd, const uint8_t *mem, const uint64_t *index,
		   uint32_t n, char *err, size_t errlen);
/*
 * The next message's header, checked by mig_check_msg(); the caller
 * reads the payload with mig_recv_payload(). 0, or a negative errno
 * with a message (-EPIPE: the peer closed the stream).
 */
int mig_recv(int fd, struct mig_msg *m, char *err, size_t errlen);
int mig_recv_payload(int fd, void *p, uint64_t len, char *err, size_t errlen);
/*
 * A PAGES message's @n pages (at most MIG_BATCH), each straight into
 * @mem at its page number in @index (checked already), in one call as
 * far as the socket allows. 0, or a negative errno with a message.
 */
int mig_recv_pages(int fd, uint8_t *mem, const uint64_t *index, uint32_t n,
		   char *err, size_t errlen);

#endif /* LVRUN_MIGRATE_TRANSPORT_H */
