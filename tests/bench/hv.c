// SPDX-License-Identifier: GPL-2.0
/* What the lightvisor and KVM backends of the benchmark do alike. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hv.h"

/* Maps the vCPU's run structure (@size bytes at offset 0 of its fd). */
int hv_map_run(struct hv_vm *vm, int size)
{
	void *run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vm->vcpu_fd, 0);

	if (run == MAP_FAILED)
		return -errno;
	vm->run = run;
	vm->run_size = size;
	return 0;
}

/* Unmaps the run structure and closes the vCPU, not the VM. */
void hv_close_vcpu(struct hv_vm *vm)
{
	if (vm->run)
		munmap(vm->run, vm->run_size);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	vm->run = NULL;
	vm->vcpu_fd = -1;
}

/* Unmaps the run structure and closes the vCPU and VM, as far as made. */
void hv_close(struct hv_vm *vm)
{
	hv_close_vcpu(vm);
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
}
