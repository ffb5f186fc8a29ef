// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the root. Parses the options, builds the VM, starts the vCPUs and
 * turns into the timer thread. Nothing calls back into this file.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "control/control.h"
#include "log.h"
#include "lvrun.h"
#include "migrate/migrate.h"
#include "pool/client.h"
#include "pool/serve.h"
#include "snapshot/snapshot.h"
#include "threads.h"
#include "warm.h"

static struct vm the_vm;

enum event_kind { EV_IRQ, EV_NMI, EV_TIMEOUT };

struct event {
	long ms;
	enum event_kind kind;
};

static void sleep_until_ms(const struct timespec *start, long ms)
{
	struct timespec t = *start;

	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

/*
 * The main thread turns into the timer thread: it fires the --irq-after-ms,
 * --nmi-after-ms and --timeout events in time order, then waits for a vCPU
 * thread to end the process.
 */
static void run_events(struct vm *vm)
{
	struct event ev[3];
	struct timespec start;
	int n = 0, i, j;

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (opts.irq_after_ms >= 0)
		ev[n++] = (struct event){ opts.irq_after_ms, EV_IRQ };
	if (opts.nmi_after_ms >= 0)
		ev[n++] = (struct event){ opts.nmi_after_ms, EV_NMI };
	if (opts.timeout_sec)
		ev[n++] = (struct event){ opts.timeout_sec * 1000L, EV_TIMEOUT };

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && ev[j].ms < ev[j - 1].ms; j--) {
			struct event t = ev[j];

			ev[j] = ev[j - 1];
			ev[j - 1] = t;
		}

	for (i = 0; i < n; i++) {
		sleep_until_ms(&start, ev[i].ms);
		switch (ev[i].kind) {
		case EV_IRQ:
			trace("timer: interrupt vector 0x%x for vcpu 0", opts.irq_vector);
			vcpu_request_irq(&vm->vcpus[0], opts.irq_vector);
			break;
		case EV_NMI:
			trace("timer: NMI for vcpu 0");
			vcpu_request_nmi(&vm->vcpus[0]);
			break;
		case EV_TIMEOUT:
			vcpu_stop_all_timeout(vm);
			/*
			 * The vCPU threads report the timeout; if none does
			 * within a second (a thread stuck in the kernel), give up
			 * here.
			 */
			sleep(1);
			fprintf(stderr, "lvrun: timeout after %u s; vCPUs did not stop\n",
				opts.timeout_sec);
			lvrun_exit(LVRUN_EXIT_TIMEOUT);
		}
	}
	for (;;)
		pause();
}

static uint64_t ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000ULL +
	       (now.tv_nsec - start->tv_nsec) / 1000000;
}

/*
 * lvd started this lvrun to be prepared: it makes everything that does
 * not depend on the guest, then waits for one client lvrun --pool and
 * takes on its command line. Returns the TSC when the client started.
 */
static uint64_t serve_pool_client(struct vm *vm, struct pool_client *client)
{
	int listen_fd = opts.pool_listen_fd, notify_fd = opts.pool_notify_fd;

	vm_prepare_for_pool(vm);
	/* The watcher, the UART's input, the RTC, --control, the vCPUs. */
	threads_make_spares(4 + vm->nr_vcpus);
	warm_own_mappings();
	pool_serve_one(listen_fd, notify_fd, vm->nr_vcpus, client);
	reparse_options(client->argc, client->argv);
	trace_phase("options");
	return client->start_tsc;
}

/* The --stats line on the way the VM came, before the vCPUs start. */
static void print_instantiation(const struct vm *vm,
				const struct pool_client *client,
				uint64_t start_tsc)
{
	uint64_t now = __rdtsc();

	if (client->argv)
		warn("instantiation: a prepared lvrun (pid %d) runs the guest; vCPUs start %llu TSC ticks after lvrun started, %llu after its request came",
		     (int)getpid(), (unsigned long long)(now - start_tsc),
		     (unsigned long long)(now - client->request_tsc));
	else
		warn("instantiation: %s the VM and its vCPUs in %llu TSC ticks; vCPUs start %llu TSC ticks after lvrun started",
		     opts.pool_vm ? "took" : "created",
		     (unsigned long long)vm->instantiate_ticks,
		     (unsigned long long)(now - start_tsc));
}

int main(int argc, char **argv)
{
	/* Taken before --fork-from forks: a child counts from its parent's start. */
	uint64_t start_tsc = __rdtsc();
	struct pool_client client = { 0 };
	struct vm *vm = &the_vm;
	struct timespec start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	parse_options(argc, argv);
	trace_phase("start");
	if (opts.pool_listen_fd >= 0)
		start_tsc = serve_pool_client(vm, &client);
	else if (opts.pool)
		pool_run_remote(opts.pool, argc, argv, start_tsc);
	if (opts.fork_from)
		fork_children();	/* returns in each child only */
	if (opts.control)
		control_open(opts.control);
	if (opts.stats)
		vcpu_stats_at_exit();
	vcpu_install_kick_handler();
	if (opts.incoming) {
		vm_incoming(vm, opts.incoming);
	} else if (opts.restore) {
		vm_restore(vm, opts.restore);
	} else if (client.argv) {
		uint64_t t0 = __rdtsc();

		vm_create_prepared(vm);
		assign_device(vm);
		trace("pool: from the request to the client's options: %llu TSC ticks; the image and the devices: %llu",
		      (unsigned long long)(t0 - client.request_tsc),
		      (unsigned long long)(__rdtsc() - t0));
	} else {
		vm_create(vm);
		assign_device(vm);
	}
	trace_phase("vm");
	console_setup();
	trace_phase("console");
	if (opts.console == CONSOLE_16550)
		uart_start_input(&vm->dev.com1, STDIN_FILENO);
	trace_phase("uart input");
	virtio_board_start(&vm->dev.virtio, &vm->hv);
	rtc_start(&vm->dev.rtc);
	trace_phase("virtio, rtc");
	trace_phases_print();
	/* Before the vCPUs print anything: one console may hold both. */
	if (opts.stats && !opts.restore)
		print_instantiation(vm, &client, start_tsc);
	if (opts.restore)
		warn("restored %s: vCPUs start %llu ms, %llu TSC ticks after lvrun started",
		     opts.restore, (unsigned long long)ms_since(&start),
		     (unsigned long long)(__rdtsc() - start_tsc));
	/* Only after the source's GO: it never runs the guest again. */
	if (opts.incoming) {
		migrate_incoming_ready();
		/* The first vCPU to enter tells the source, without waiting for us. */
		vm->vcpu_entering = migrate_incoming_running;
	}
	pool_serve_started();
	vcpu_start_all(vm);
	/* Also if every vCPU was halted for good: none enters. */
	if (opts.incoming)
		migrate_incoming_running();
	control_start(vm);
	run_events(vm);
	return 0;
}
