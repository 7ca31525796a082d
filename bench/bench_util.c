// SPDX-License-Identifier: MIT
#include "bench_util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

uint64_t bench_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_now_ms(void)
{
	return (double)bench_clock_ns(CLOCK_MONOTONIC) / 1e6;
}

void bench_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

pid_t bench_spawn(char *const *argv, int *out, bool err_stream)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int p[2], err;

	if (pipe2(p, O_CLOEXEC) < 0)
		bench_die("pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], err_stream ? 2 : 1);
	posix_spawn_file_actions_addopen(&fa, err_stream ? 1 : 2, "/dev/null", O_WRONLY, 0);
	err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (err)
		bench_die("cannot start %s: %s", argv[0], strerror(err));
	*out = p[0];
	return pid;
}

int bench_reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			bench_die("waitpid: %s", strerror(errno));
	return st;
}

void bench_stop(pid_t pid, int fd)
{
	kill(pid, SIGKILL);
	bench_reap(pid);
	close(fd);
}

bool bench_wait_for(int fd, const char *needle, int timeout_ms)
{
	char buf[4096];
	size_t have = 0;
	double end = bench_now_ms() + timeout_ms;

	while (bench_now_ms() < end) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			return false;
		if (!needle)
			return true;
		have += (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, needle))
			return true;
		/* Keep a needle's length of tail so a match split across reads is found. */
		if (have > sizeof(buf) / 2) {
			size_t keep = strlen(needle);

			memmove(buf, buf + have - keep, keep);
			have = keep;
		}
	}
	return false;
}

#define MAX_OPTS 16

void bench_parse_opts(int argc, char **argv, const struct bench_opt *opts, const char *usage)
{
	struct option lo[MAX_OPTS + 2] = {{"help", no_argument, NULL, 'h'}};
	int n = 0, o;

	for (; opts[n].name; n++) {
		if (n == MAX_OPTS)
			bench_die("too many options");
		lo[n + 1] = (struct option){opts[n].name, required_argument, NULL, 256 + n};
	}
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		const struct bench_opt *p;

		if (o == 'h') {
			fputs(usage, stdout);
			exit(0);
		}
		if (o < 256) {
			fputs(usage, stderr);
			exit(2);
		}
		p = &opts[o - 256];
		if (p->str)
			*p->str = optarg;
		else if (p->num)
			*p->num = atoi(optarg);
		else
			*p->real = atof(optarg);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void bench_summarize(double *v, int n, struct bench_stats *s)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	s->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s->p90 = v[(n * 9 + 9) / 10 - 1];
	s->min = v[0];
	s->max = v[n - 1];
}

pid_t bench_start_compositor(const char *path, const char *dir, const char *name)
{
	char sockpath[4096];
	pid_t pid;

	setenv("XDG_RUNTIME_DIR", dir, 1);
	setenv("WAYLAND_DISPLAY", name, 1);
	setenv("WLR_BACKENDS", "headless", 1);
	setenv("WLR_RENDERER", "pixman", 1);
	setenv("WLR_LIBINPUT_NO_DEVICES", "1", 1);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, 1);
		dup2(null, 2);
		execl(path, "inlay-compositor", "--socket", name, (char *)NULL);
		_exit(127);
	}
	snprintf(sockpath, sizeof(sockpath), "%s/%s", dir, name);
	for (int i = 0; i < 500 && pid > 0; i++) {
		if (access(sockpath, F_OK) == 0)
			return pid;
		usleep(10000);
	}
	if (pid > 0)
		bench_stop_compositor(pid);
	return -1;
}

void bench_stop_compositor(pid_t pid)
{
	kill(pid, SIGTERM);
	bench_reap(pid);
}
