// SPDX-License-Identifier: MIT
#include "cmdline.h"
#include "layout.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char vmm_usage[] =
	"Usage: inlay-vmm boot --kernel FILE [options]\n"
	"\n"
	"Boot a guest under KVM: a Linux bzImage, or an ELF with a PVH entry note.\n"
	"\n"
	"Options:\n"
	"  --kernel FILE          kernel image (bzImage or PVH ELF)\n"
	"  --initrd FILE          initial ramdisk\n"
	"  --cmdline STRING       kernel command line\n"
	"  --mem MIB              guest RAM in MiB, a multiple of 2 (default 256)\n"
	"  --cpus N               number of vCPUs (default 1, at most 64)\n"
	"  --disk FILE[,ro]       virtio-blk disk; repeat for more (at most 8)\n"
	"  --cpu-template NAME    host or baseline (default: host with hardware\n"
	"                         virtualization, baseline without)\n"
	"  --console KIND         virtio-console: none (default), stdio, socket:PATH\n"
	"  --serial KIND          8250 COM1: stdio (default) or none\n"
	"  --no-rng               leave out the virtio-rng device\n"
	"  --display KIND         wayland (a window; the default when WAYLAND_DISPLAY\n"
	"                         is set) or none\n"
	"  --gpu WxH              virtio-gpu with a WxH display, also without a window\n"
	"                         (default 1024x768 with --display wayland)\n"
	"  --no-input             no virtio keyboard and tablet with the gpu\n"
	"  -h, --help             show this help\n"
	"  --version              show the version\n"
	"\n"
	"On a terminal the serial console is raw; type Ctrl-A x to quit.\n"
	"\n"
	"Exit status:\n"
	"  0  the guest powered off (or wrote 0 to the exit port 0x501)\n"
	"  1  the VMM failed; the message names the cause\n"
	"  2  bad command line\n"
	"  3  the guest reset the machine\n"
	"  4  the guest crashed (triple fault, emulation failure)\n"
	"  5  the guest wrote a non-zero status to the exit port\n"
	"  6  interrupted (signal, or Ctrl-A x)\n";

enum {
	OPT_KERNEL = 256,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_MEM,
	OPT_CPUS,
	OPT_DISK,
	OPT_TEMPLATE,
	OPT_CONSOLE,
	OPT_SERIAL,
	OPT_NO_RNG,
	OPT_VERSION,
	OPT_DISPLAY,
	OPT_GPU,
	OPT_NO_INPUT,
};

static const struct option vmm_options[] = {
	{"kernel", required_argument, NULL, OPT_KERNEL},
	{"initrd", required_argument, NULL, OPT_INITRD},
	{"cmdline", required_argument, NULL, OPT_CMDLINE},
	{"mem", required_argument, NULL, OPT_MEM},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"disk", required_argument, NULL, OPT_DISK},
	{"cpu-template", required_argument, NULL, OPT_TEMPLATE},
	{"console", required_argument, NULL, OPT_CONSOLE},
	{"serial", required_argument, NULL, OPT_SERIAL},
	{"no-rng", no_argument, NULL, OPT_NO_RNG},
	{"display", required_argument, NULL, OPT_DISPLAY},
	{"gpu", required_argument, NULL, OPT_GPU},
	{"no-input", no_argument, NULL, OPT_NO_INPUT},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

/* Strict decimal: digits only, in [min, max]. */
static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_disk(struct vmm_config *c, char *arg, char *err, size_t errlen)
{
	if (c->nr_disks == VMM_MAX_DISKS) {
		snprintf(err, errlen, "at most %d disks", VMM_MAX_DISKS);
		return false;
	}
	struct vmm_disk *d = &c->disks[c->nr_disks];
	*d = (struct vmm_disk){.path = arg};
	char *comma = strchr(arg, ',');
	if (comma) {
		if (strcmp(comma + 1, "ro") != 0) {
			snprintf(err, errlen, "--disk %s: unknown flag '%s' (only 'ro')", arg,
				 comma + 1);
			return false;
		}
		*comma = '\0';
		d->read_only = true;
	}
	if (!*d->path) {
		snprintf(err, errlen, "--disk needs a file name");
		return false;
	}
	c->nr_disks++;
	return true;
}

static bool parse_console(struct vmm_config *c, const char *arg, char *err, size_t errlen)
{
	if (!strcmp(arg, "none")) {
		c->console = VMM_CONSOLE_NONE;
	} else if (!strcmp(arg, "stdio")) {
		c->console = VMM_CONSOLE_STDIO;
	} else if (!strncmp(arg, "socket:", 7) && arg[7]) {
		c->console = VMM_CONSOLE_SOCKET;
		c->console_path = arg + 7;
	} else {
		snprintf(err, errlen, "--console %s: expected none, stdio or socket:PATH", arg);
		return false;
	}
	return true;
}

static enum vmm_parse_result parse_option(struct vmm_config *c, int opt, char *arg, char *err,
					  size_t errlen)
{
	uint64_t v;
	switch (opt) {
	case OPT_KERNEL:
		c->kernel = arg;
		break;
	case OPT_INITRD:
		c->initrd = arg;
		break;
	case OPT_CMDLINE:
		c->cmdline = arg;
		break;
	case OPT_MEM:
		if (!parse_u64(arg, 2, VMM_MAX_MEM_MIB, &v) || v % 2) {
			snprintf(err, errlen, "--mem %s: expected an even number of MiB, 2 to %d",
				 arg, VMM_MAX_MEM_MIB);
			return VMM_PARSE_ERROR;
		}
		c->mem_mib = v;
		break;
	case OPT_CPUS:
		if (!parse_u64(arg, 1, LAYOUT_MAX_CPUS, &v)) {
			snprintf(err, errlen, "--cpus %s: expected 1 to %d", arg, LAYOUT_MAX_CPUS);
			return VMM_PARSE_ERROR;
		}
		c->cpus = (unsigned)v;
		break;
	case OPT_DISK:
		if (!parse_disk(c, arg, err, errlen))
			return VMM_PARSE_ERROR;
		break;
	case OPT_TEMPLATE:
		if (!cpu_template_parse(arg, &c->tmpl)) {
			snprintf(err, errlen, "--cpu-template %s: expected host or baseline", arg);
			return VMM_PARSE_ERROR;
		}
		c->template_set = true;
		break;
	case OPT_CONSOLE:
		if (!parse_console(c, arg, err, errlen))
			return VMM_PARSE_ERROR;
		break;
	case OPT_SERIAL:
		if (!strcmp(arg, "stdio")) {
			c->serial = true;
		} else if (!strcmp(arg, "none")) {
			c->serial = false;
		} else {
			snprintf(err, errlen, "--serial %s: expected stdio or none", arg);
			return VMM_PARSE_ERROR;
		}
		break;
	case OPT_NO_RNG:
		c->rng = false;
		break;
	case OPT_DISPLAY:
		c->display = arg;
		break;
	case OPT_GPU:
		c->gpu = arg;
		break;
	case OPT_NO_INPUT:
		c->no_input = true;
		break;
	case 'h':
		return VMM_PARSE_HELP;
	case OPT_VERSION:
		return VMM_PARSE_VERSION;
	default:
		snprintf(err, errlen, "unknown option");
		return VMM_PARSE_ERROR;
	}
	return VMM_PARSE_OK;
}

enum vmm_parse_result vmm_config_parse(struct vmm_config *c, int argc, char **argv, char *err,
				       size_t errlen)
{
	*c = (struct vmm_config){
		.mem_mib = VMM_DEFAULT_MEM_MIB,
		.cpus = 1,
		.serial = true,
		.rng = true,
	};
	snprintf(err, errlen, "no error");
	if (argc < 2) {
		snprintf(err, errlen, "missing command");
		return VMM_PARSE_ERROR;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return VMM_PARSE_HELP;
	if (!strcmp(argv[1], "--version"))
		return VMM_PARSE_VERSION;
	if (strcmp(argv[1], "boot") != 0) {
		snprintf(err, errlen, "unknown command '%s'", argv[1]);
		return VMM_PARSE_ERROR;
	}
	/* getopt keeps state across calls; 0 re-initializes it. */
	optind = 0;
	opterr = 0;
	int sub_argc = argc - 1;
	char **sub_argv = argv + 1;
	for (;;) {
		int opt = getopt_long(sub_argc, sub_argv, "+:h", vmm_options, NULL);
		if (opt == -1)
			break;
		if (opt == '?' || opt == ':') {
			const char *bad = sub_argv[optind - 1];
			if (opt == ':')
				snprintf(err, errlen, "option %s needs a value", bad);
			else
				snprintf(err, errlen, "unknown option '%s'", bad);
			return VMM_PARSE_ERROR;
		}
		enum vmm_parse_result r = parse_option(c, opt, optarg, err, errlen);
		if (r != VMM_PARSE_OK)
			return r;
	}
	if (optind < sub_argc) {
		snprintf(err, errlen, "unexpected argument '%s'", sub_argv[optind]);
		return VMM_PARSE_ERROR;
	}
	if (!c->kernel) {
		snprintf(err, errlen, "boot needs --kernel FILE");
		return VMM_PARSE_ERROR;
	}
	if (c->console == VMM_CONSOLE_STDIO && c->serial) {
		snprintf(err, errlen, "--console stdio needs --serial none (both would read stdin)");
		return VMM_PARSE_ERROR;
	}
	return VMM_PARSE_OK;
}
