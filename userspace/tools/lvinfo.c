// SPDX-License-Identifier: GPL-2.0
/*
 * lvinfo: print the API version and capabilities of /dev/lightvisor.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/lightvisor.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	int cap;
	const char *name;
} caps[] = {
	{ LV_CAP_RUN_GUESTS,		"RUN_GUESTS" },
	{ LV_CAP_TDP,			"TDP" },
	{ LV_CAP_UNRESTRICTED_GUEST,	"UNRESTRICTED_GUEST" },
	{ LV_CAP_TAGGED_TLB,		"TAGGED_TLB" },
	{ LV_CAP_HV_TIMER,		"HV_TIMER" },
	{ LV_CAP_MAX_VCPUS,		"MAX_VCPUS" },
	{ LV_CAP_NR_MEMSLOTS,		"NR_MEMSLOTS" },
	{ LV_CAP_READONLY_MEM,		"READONLY_MEM" },
	{ LV_CAP_VCPU_STATE,		"VCPU_STATE" },
	{ LV_CAP_IOMMU,			"IOMMU" },
	{ LV_CAP_DIRTY_LOG,		"DIRTY_LOG" },
	{ LV_CAP_IRQCHIP,		"IRQCHIP" },
	{ LV_CAP_IRQFD,			"IRQFD" },
	{ LV_CAP_SET_CPUID,		"SET_CPUID" },
	{ LV_CAP_TSC_KHZ,		"TSC_KHZ" },
	{ LV_CAP_TPR_SHADOW,		"TPR_SHADOW" },
	{ LV_CAP_APIC_REG_VIRT,		"APIC_REG_VIRT" },
	{ LV_CAP_VIRT_INTR_DELIVERY,	"VIRT_INTR_DELIVERY" },
	{ LV_CAP_APIC_ACCESS,		"APIC_ACCESS" },
	{ LV_CAP_XSAVE,			"XSAVE" },
	{ LV_CAP_IOEVENTFD,		"IOEVENTFD" },
};

static const char usage_text[] =
"Usage: lvinfo [DEVICE]\n"
"Print the API version and the capabilities of the lightvisor device\n"
"(default /dev/lightvisor).\n"
"  --help     this text\n"
"  --version  print lvinfo's version\n";

int main(int argc, char **argv)
{
	const char *path = "/dev/lightvisor";
	unsigned int i;
	int fd, ret;

	if (argc > 2) {
		fputs(usage_text, stderr);
		return 1;
	}
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("lvinfo (lightvisor) %s, API version %d\n", LV_VERSION,
		       LV_API_VERSION);
		return 0;
	}
	if (argc == 2)
		path = argv[1];

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "lvinfo: %s: %s\n", path, strerror(errno));
		return 1;
	}

	ret = ioctl(fd, LV_GET_API_VERSION, 0);
	if (ret < 0) {
		fprintf(stderr, "lvinfo: LV_GET_API_VERSION: %s\n",
			strerror(errno));
		return 1;
	}
	printf("api-version: %d (header: %d)\n", ret, LV_API_VERSION);

	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		ret = ioctl(fd, LV_CHECK_CAP, caps[i].cap);
		if (ret < 0)
			printf("cap %-20s error: %s\n", caps[i].name,
			       strerror(errno));
		else
			printf("cap %-20s %d\n", caps[i].name, ret);
	}
	close(fd);
	return 0;
}
