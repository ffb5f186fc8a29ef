/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun --pool PATH: a prepared lvrun of lvd runs the guest; lvrun
 * --pool-vm PATH: take a prepared VM from lvd --shells (pool/lvd.c).
 */
#ifndef LVRUN_POOL_CLIENT_H
#define LVRUN_POOL_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "../hv/hv.h"

/*
 * Taking a VM is split in two so that lvd answers while lvrun reads its
 * image: pool_request() connects to lvd at @path and asks for a VM with
 * @nr_vcpus vCPUs, returning the socket; pool_receive() takes the answer
 * and checks it has an in-kernel irqchip exactly when @irqchip, and fills
 * @vm. Both die with a message naming the cause on any error.
 */
int pool_request(const char *path, int nr_vcpus);
void pool_receive(int sock, const char *path, int nr_vcpus, bool irqchip,
		  struct hv_prepared *vm);

/*
 * Hands this lvrun's command line (@argc, @argv), stdin, stdout, stderr
 * and working directory to a prepared lvrun of the lvd at @path, then
 * waits and exits with the guest's status. SIGINT, SIGTERM, SIGHUP and
 * SIGQUIT are passed on: the guest ends with them, and so does this
 * lvrun. @start_tsc: when this lvrun started (for --stats over there).
 */
void pool_run_remote(const char *path, int argc, char **argv,
		     uint64_t start_tsc) __attribute__((noreturn));

#endif /* LVRUN_POOL_CLIENT_H */
