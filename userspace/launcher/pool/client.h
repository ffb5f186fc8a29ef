/* SPDX-License-Identifier: GPL-2.0 */
/* lvrun --pool PATH: take a prepared VM from lvd (pool/lvd.c). */
#ifndef LVRUN_POOL_CLIENT_H
#define LVRUN_POOL_CLIENT_H

#include <stdbool.h>

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

#endif /* LVRUN_POOL_CLIENT_H */
