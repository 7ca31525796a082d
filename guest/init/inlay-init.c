// SPDX-License-Identifier: MIT
/*
 * inlay-init: PID 1 of Inlay's Linux guests (docs/GUESTS.md).
 *
 * Mounts the kernel file systems, loads the modules the image names, moves
 * to a root file system on a disk if the command line names one, says
 * INLAY-READY, runs the app from the kernel command line (or a shell on the
 * console), reaps orphans, and powers the VM off through inlay-vmm's exit
 * port when the app ends or someone asks for a poweroff.
 *
 * Run as "inlay-ready" (a link inlay-init makes in /run/inlay) it only tells
 * inlay-vmm that the guest is ready to be baked (docs/SNAPSHOTS.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "modules.h"
#include "vmm/layout.h"

#define INIT_READY_LINE "INLAY-READY\n"
/* Exit-port value for inlay-init's own failures (docs/GUESTS.md). */
#define INIT_FAIL	 255
#define INIT_MAX_ARGS	 32
#define INIT_MAX_MODS	 64
#define INIT_CMDLINE_MAX 4096
/* devtmpfs creates a probed disk's node asynchronously: wait up to 10 s. */
#define INIT_ROOT_WAIT_MS 10000
/* Where inlay-init links itself as inlay-ready; on PATH for the app. */
#define INIT_LINK_DIR "/run/inlay"
#define INIT_PATH     "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:" INIT_LINK_DIR

struct init_config {
	char cmdline[INIT_CMDLINE_MAX];
	char *app_argv[INIT_MAX_ARGS + 1];
	char modlist[INIT_CMDLINE_MAX];
	const char *mods[INIT_MAX_MODS];
	size_t nmods;
	const char *root, *rootfstype;
};

struct init_mount {
	const char *type, *dir;
	unsigned long flags;
	bool required;
};

static const struct init_mount init_mounts[] = {
    {"proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, true},
    {"sysfs", "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC, true},
    {"devtmpfs", "/dev", MS_NOSUID, true},
    {"devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC, false},
    {"tmpfs", "/run", MS_NOSUID | MS_NODEV, false},
    {"tmpfs", "/tmp", MS_NOSUID | MS_NODEV, false},
};

static void say(const char *fmt, const char *arg, int err)
{
	fprintf(stderr, "inlay-init: ");
	fprintf(stderr, fmt, arg);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
}

static int port_write(uint16_t port, uint8_t value)
{
	int fd;

	if (ioperm(port, 1, 1) == 0) {
		outb(value, port);
		return 0;
	}
	/* Kernels without ioperm (CONFIG_X86_IOPL_IOPERM=n) may still have /dev/port. */
	fd = open("/dev/port", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pwrite(fd, &value, 1, port) != 1) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

/* The VM ends at the port write; anything after it is a fallback. */
static __attribute__((noreturn)) void power_off(int value)
{
	int ret;

	sync();
	ret = port_write(LAYOUT_PORT_EXIT, (uint8_t)value);
	if (ret)
		say("writing the exit port %s", "0x501", -ret);
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static __attribute__((noreturn)) void fail(const char *what, const char *arg, int err)
{
	say(what, arg, err);
	power_off(INIT_FAIL);
}

static void mount_all(void)
{
	for (size_t i = 0; i < sizeof(init_mounts) / sizeof(init_mounts[0]); i++) {
		const struct init_mount *m = &init_mounts[i];

		if (mkdir(m->dir, 0755) < 0 && errno != EEXIST && m->required)
			fail("mkdir %s", m->dir, errno);
		if (mount(m->type, m->dir, m->type, m->flags, NULL) < 0 && errno != EBUSY &&
		    m->required)
			fail("mounting %s", m->dir, errno);
	}
}

/* Mounts cfg->root read-only and makes it /, taking the kernel mounts along. */
static void root_switch(const struct init_config *cfg)
{
	char target[64];
	int waited = 0;

	while (access(cfg->root, F_OK) < 0) {
		if (waited >= INIT_ROOT_WAIT_MS)
			fail("root device %s did not appear", cfg->root, 0);
		usleep(10000);
		waited += 10;
	}
	if (mount(cfg->root, "/newroot", cfg->rootfstype, MS_RDONLY, NULL) < 0)
		fail("mounting the root file system %s", cfg->root, errno);
	for (size_t i = 0; i < sizeof(init_mounts) / sizeof(init_mounts[0]); i++) {
		const struct init_mount *m = &init_mounts[i];

		if (!strncmp(m->dir, "/dev/", 5))
			continue; /* moves with /dev */
		snprintf(target, sizeof(target), "/newroot%s", m->dir);
		if (mount(m->dir, target, NULL, MS_MOVE, NULL) < 0 && m->required)
			fail("moving %s to the new root", m->dir, errno);
	}
	if (chdir("/newroot") < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		fail("switching to the root file system on %s", cfg->root, errno);
}

/* Without /dev/console in the image the kernel hands init no descriptors. */
static void console_open(void)
{
	int fd;

	if (fcntl(STDIN_FILENO, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static void config_read(struct init_config *cfg)
{
	size_t argc = 0;
	ssize_t len;
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fail("opening %s", "/proc/cmdline", errno);
	len = read(fd, cfg->cmdline, sizeof(cfg->cmdline) - 1);
	close(fd);
	if (len < 0)
		fail("reading %s", "/proc/cmdline", errno);
	cfg->cmdline[len] = '\0';

	for (char *save = NULL, *w = strtok_r(cfg->cmdline, " \t\n", &save); w;
	     w = strtok_r(NULL, " \t\n", &save)) {
		if (!strncmp(w, "inlay.app=", 10)) {
			argc = 0;
			for (char *s2 = NULL, *a = strtok_r(w + 10, ",", &s2); a;
			     a = strtok_r(NULL, ",", &s2)) {
				if (argc == INIT_MAX_ARGS)
					fail("%s: too many arguments", "inlay.app", 0);
				cfg->app_argv[argc++] = a;
			}
		} else if (!strncmp(w, "inlay.root=", 11)) {
			cfg->root = w + 11;
		} else if (!strncmp(w, "inlay.rootfstype=", 17)) {
			cfg->rootfstype = w + 17;
		} else if (!strncmp(w, "inlay.modules=", 14)) {
			for (char *s2 = NULL, *m = strtok_r(w + 14, ",", &s2); m;
			     m = strtok_r(NULL, ",", &s2)) {
				if (cfg->nmods == INIT_MAX_MODS)
					fail("%s: too many modules", "inlay.modules", 0);
				cfg->mods[cfg->nmods++] = m;
			}
		}
	}
	cfg->app_argv[argc] = NULL;
	if (!cfg->rootfstype)
		cfg->rootfstype = "erofs";
}

/* /etc/inlay/modules: module names, one a line, '#' starts a comment. */
static void config_read_modules(struct init_config *cfg)
{
	ssize_t len;
	int fd = open("/etc/inlay/modules", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	len = read(fd, cfg->modlist, sizeof(cfg->modlist) - 1);
	close(fd);
	if (len < 0)
		fail("reading %s", "/etc/inlay/modules", errno);
	cfg->modlist[len] = '\0';
	for (char *save = NULL, *line = strtok_r(cfg->modlist, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		line[strcspn(line, " \t#")] = '\0';
		if (!*line)
			continue;
		if (cfg->nmods == INIT_MAX_MODS)
			fail("%s: too many modules", "/etc/inlay/modules", 0);
		cfg->mods[cfg->nmods++] = line;
	}
}

static void ready(void)
{
	int fd = open("/dev/hvc0", O_WRONLY | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, INIT_READY_LINE, strlen(INIT_READY_LINE)) < 0)
			say("writing %s", "/dev/hvc0", errno);
		close(fd);
	}
	if (write(STDOUT_FILENO, INIT_READY_LINE, strlen(INIT_READY_LINE)) < 0)
		say("writing %s", "the console", errno);
}

/*
 * /run/inlay/inlay-ready -> /proc/1/exe: the init binary stays reachable
 * after a switch to a root file system on a disk. Without it only
 * inlay-ready is missing, so failures are reported and boot goes on.
 */
static void ready_link(void)
{
	if (mkdir(INIT_LINK_DIR, 0755) < 0 && errno != EEXIST)
		say("mkdir %s", INIT_LINK_DIR, errno);
	else if (symlink("/proc/1/exe", INIT_LINK_DIR "/inlay-ready") < 0 && errno != EEXIST)
		say("linking %s", INIT_LINK_DIR "/inlay-ready", errno);
}

/* inlay-ready: the snapshot port's "ready to bake" (1); inlay-vmm boot ignores it. */
static int ready_to_bake(void)
{
	int ret = port_write(LAYOUT_PORT_SNAPSHOT, 1);

	if (ret) {
		fprintf(stderr, "inlay-ready: writing the snapshot port 0x%x: %s\n",
			LAYOUT_PORT_SNAPSHOT, strerror(-ret));
		return 1;
	}
	return 0;
}

/* The console's own tty, so the child can have it as its controlling terminal. */
static void child_take_console(void)
{
	char active[128], dev[160];
	char *last, *save = NULL;
	ssize_t len;
	int fd = open("/sys/class/tty/console/active", O_RDONLY | O_CLOEXEC);

	setsid();
	if (fd < 0)
		return;
	len = read(fd, active, sizeof(active) - 1);
	close(fd);
	if (len <= 0)
		return;
	active[len] = '\0';
	last = NULL;
	for (char *w = strtok_r(active, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
		last = w;
	if (!last)
		return;
	snprintf(dev, sizeof(dev), "/dev/%s", last);
	fd = open(dev, O_RDWR);
	if (fd < 0)
		return;
	ioctl(fd, TIOCSCTTY, 0);
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static pid_t app_start(char *const *argv, const sigset_t *old_mask)
{
	static char *const shell[] = {"/bin/sh", NULL};
	char *const *args = argv[0] ? argv : shell;
	pid_t pid = fork();

	if (pid < 0)
		fail("fork %s", args[0], errno);
	if (pid)
		return pid;
	sigprocmask(SIG_SETMASK, old_mask, NULL);
	child_take_console();
	execv(args[0], args);
	say("exec %s", args[0], errno);
	_exit(errno == ENOENT ? 127 : 126);
}

static int exit_value(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* Reaps every child; returns the app's exit-port value once it is gone. */
static int supervise(pid_t app, const sigset_t *wait_set)
{
	for (;;) {
		siginfo_t si;
		int status;
		pid_t pid;

		if (sigwaitinfo(wait_set, &si) < 0)
			continue;
		switch (si.si_signo) {
		case SIGUSR1: /* halt */
		case SIGUSR2: /* poweroff */
			return 0;
		case SIGTERM: /* reboot */
			sync();
			reboot(RB_AUTOBOOT);
			return INIT_FAIL;
		default:
			break;
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid == app) {
				int v = exit_value(status);
				if (v)
					fprintf(stderr,
						"inlay-init: the app ended with status %d\n", v);
				return v;
			}
		}
	}
}

int main(int argc, char **argv)
{
	static struct init_config cfg;
	sigset_t wait_set, old_mask;
	int ret;

	if (argc > 0 && !strcmp(basename(argv[0]), "inlay-ready"))
		return ready_to_bake();
	if (getpid() != 1) {
		fprintf(stderr, "inlay-init: must run as PID 1\n");
		return 2;
	}
	sigemptyset(&wait_set);
	sigaddset(&wait_set, SIGCHLD);
	sigaddset(&wait_set, SIGUSR1);
	sigaddset(&wait_set, SIGUSR2);
	sigaddset(&wait_set, SIGTERM);
	sigprocmask(SIG_BLOCK, &wait_set, &old_mask);

	mount_all();
	console_open();
	setenv("PATH", INIT_PATH, 1);
	setenv("HOME", "/root", 1);
	setenv("TERM", "vt100", 0);

	config_read(&cfg);
	config_read_modules(&cfg);
	ret = modules_load(cfg.mods, cfg.nmods);
	if (ret)
		fail("loading modules%s", "", -ret);
	if (cfg.root)
		root_switch(&cfg);
	ready_link();

	ready();
	power_off(supervise(app_start(cfg.app_argv, &old_mask), &wait_set));
}
