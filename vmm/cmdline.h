/* SPDX-License-Identifier: MIT */
#ifndef INLAY_CMDLINE_H
#define INLAY_CMDLINE_H

#include "cpuid.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMM_MAX_DISKS	    8
#define VMM_DEFAULT_MEM_MIB 256
#define VMM_MAX_MEM_MIB	    (64 * 1024)

enum vmm_console {
	VMM_CONSOLE_NONE,
	VMM_CONSOLE_STDIO,
	VMM_CONSOLE_SOCKET,
};

/** The subcommand: argv[1]. */
enum vmm_command {
	VMM_CMD_BOOT,
	VMM_CMD_BAKE,	       /* boot, wait for the snapshot-ready port, save, exit */
	VMM_CMD_RESTORE,       /* restore DIR */
	VMM_CMD_SNAPSHOT_INFO, /* snapshot-info DIR */
};

struct vmm_disk {
	const char *path;
	bool read_only;
};

/** What `inlay-vmm boot ...` asked for. Strings point into argv. */
struct vmm_config {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	uint64_t mem_mib;
	unsigned cpus;
	struct vmm_disk disks[VMM_MAX_DISKS];
	unsigned nr_disks;
	bool template_set;
	enum cpu_template tmpl;
	enum vmm_console console;
	const char *console_path;
	bool serial; /* 8250 on stdio */
	bool rng;
	const char *display; /* --display, parsed by display/config.c */
	const char *gpu;     /* --gpu */
	bool no_input;
	const char *grant; /* --grant TOKEN */
	enum vmm_command command;
	const char *snap_dir;	  /* restore/snapshot-info DIR, or bake --out DIR */
	const char *snapshot_dir; /* --snapshot-dir: where SIGUSR2 saves a running VM */
};

enum vmm_parse_result {
	VMM_PARSE_OK,
	VMM_PARSE_HELP,
	VMM_PARSE_VERSION,
	VMM_PARSE_ERROR,
};

/**
 * Parse argv (argv[0] is the program). On VMM_PARSE_ERROR @err says why.
 * @argv is permuted by getopt; the strings are referenced, not copied.
 */
enum vmm_parse_result vmm_config_parse(struct vmm_config *c, int argc, char **argv, char *err,
				       size_t errlen);

/** The --help text. */
extern const char vmm_usage[];

#endif
