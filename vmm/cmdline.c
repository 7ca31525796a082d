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
    "       inlay-vmm bake --kernel FILE [options] --out DIR\n"
    "       inlay-vmm restore DIR [--display KIND] [--grant TOKEN] [--snapshot-dir DIR]\n"
    "       inlay-vmm snapshot-info DIR\n"
    "\n"
    "Boot a guest under KVM: a Linux bzImage, or an ELF with a PVH entry note.\n"
    "bake boots it, waits until the guest writes 1 to port 0x502 (its app is up),\n"
    "saves a snapshot into DIR and exits; restore resumes a copy of that VM.\n"
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
    "  --grant TOKEN          show the display in a screen grant instead of a window\n"
    "                         (default: the token in INLAY_GRANT_TOKEN, if set)\n"
    "  --out DIR              (bake) where the snapshot goes\n"
    "  --snapshot-dir DIR     on SIGUSR2, snapshot the running VM into DIR\n"
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
	OPT_GRANT,
	OPT_OUT,
	OPT_SNAPSHOT_DIR,
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
    {"grant", required_argument, NULL, OPT_GRANT},
    {"out", required_argument, NULL, OPT_OUT},
    {"snapshot-dir", required_argument, NULL, OPT_SNAPSHOT_DIR},
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
	case OPT_GRANT:
		c->grant = arg;
		break;
	case OPT_OUT:
		c->snap_dir = arg;
		break;
	case OPT_SNAPSHOT_DIR:
		c->snapshot_dir = arg;
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

static bool parse_command(struct vmm_config *c, int argc, char **argv, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum vmm_command cmd;
	} cmds[] = {
	    {"boot", VMM_CMD_BOOT},
	    {"bake", VMM_CMD_BAKE},
	    {"restore", VMM_CMD_RESTORE},
	    {"snapshot-info", VMM_CMD_SNAPSHOT_INFO},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		c->command = cmds[i].cmd;
		if (c->command != VMM_CMD_RESTORE && c->command != VMM_CMD_SNAPSHOT_INFO)
			return true;
		if (argc < 3 || argv[2][0] == '-' || !argv[2][0]) {
			snprintf(err, errlen, "%s needs a snapshot directory", argv[1]);
			return false;
		}
		c->snap_dir = argv[2];
		return true;
	}
	snprintf(err, errlen, "unknown command '%s'", argv[1]);
	return false;
}

#define OPT_BIT(o) (1ULL << ((o)-OPT_KERNEL))

/* Options that make sense for the command; the machine of a restore is the snapshot's. */
static bool check_command(const struct vmm_config *c, uint64_t seen, char *err, size_t errlen)
{
	uint64_t allowed = ~OPT_BIT(OPT_OUT);
	if (c->command == VMM_CMD_BAKE)
		allowed = ~0ULL;
	else if (c->command == VMM_CMD_RESTORE)
		allowed = OPT_BIT(OPT_DISPLAY) | OPT_BIT(OPT_GRANT) | OPT_BIT(OPT_SNAPSHOT_DIR);
	else if (c->command == VMM_CMD_SNAPSHOT_INFO)
		allowed = 0;
	if (seen & ~allowed) {
		snprintf(err, errlen,
			 c->command == VMM_CMD_RESTORE
			     ? "restore takes the machine from the snapshot: only --display, "
			       "--grant and --snapshot-dir apply"
			     : "option not valid for this command");
		return false;
	}
	if (c->command == VMM_CMD_BAKE && !c->snap_dir) {
		snprintf(err, errlen, "bake needs --out DIR");
		return false;
	}
	return true;
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
	if (!parse_command(c, argc, argv, err, errlen))
		return VMM_PARSE_ERROR;
	/* getopt keeps state across calls; 0 re-initializes it. */
	optind = 0;
	opterr = 0;
	/* restore and snapshot-info take DIR first: options follow it. */
	int skip = c->snap_dir ? 2 : 1;
	int sub_argc = argc - skip;
	char **sub_argv = argv + skip;
	uint64_t seen = 0;
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
		if (opt >= OPT_KERNEL && opt - OPT_KERNEL < 64)
			seen |= OPT_BIT(opt);
	}
	if (optind < sub_argc) {
		snprintf(err, errlen, "unexpected argument '%s'", sub_argv[optind]);
		return VMM_PARSE_ERROR;
	}
	if (!check_command(c, seen, err, errlen))
		return VMM_PARSE_ERROR;
	if (c->command == VMM_CMD_RESTORE || c->command == VMM_CMD_SNAPSHOT_INFO)
		return VMM_PARSE_OK;
	if (!c->kernel) {
		snprintf(err, errlen, "%s needs --kernel FILE", argv[1]);
		return VMM_PARSE_ERROR;
	}
	if (c->console == VMM_CONSOLE_STDIO && c->serial) {
		snprintf(err, errlen,
			 "--console stdio needs --serial none (both would read stdin)");
		return VMM_PARSE_ERROR;
	}
	return VMM_PARSE_OK;
}
