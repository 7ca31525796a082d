// SPDX-License-Identifier: MIT
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Serial output kept per VM; a boot log of the lean kernel is ~20 KiB. */
#define VM_OUT_MAX (4u << 20)

static unsigned tap_count, tap_failed;
static bool echo_serial = true;

void harness_set_echo(bool on)
{
	echo_serial = on;
}

bool tap_ok(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %u - ", ok ? "" : "not ", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	tap_failed += !ok;
	return ok;
}

void tap_bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(1);
}

int tap_done(void)
{
	printf("1..%u\n", tap_count);
	return tap_failed ? 1 : 0;
}

void harness_require_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		tap_bail("/dev/kvm: %s (these tests need KVM)", strerror(errno));
	close(fd);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct buf {
	char *data;
	size_t len, cap;
};

static bool buf_add(struct buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > VM_OUT_MAX)
			return false;
		d = realloc(b->data, cap);
		if (!d)
			return false;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

static int status_of(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int harness_run(char *const *argv, char **out, char **err)
{
	struct buf ob = {0}, eb = {0};
	int op[2], ep[2], st;
	pid_t pid;

	if (pipe2(op, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(op[1], STDOUT_FILENO);
		dup2(ep[1], STDERR_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(op[1]);
	close(ep[1]);
	for (struct pollfd fds[2] = {{op[0], POLLIN, 0}, {ep[0], POLLIN, 0}};
	     fds[0].fd >= 0 || fds[1].fd >= 0;) {
		char chunk[4096];

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				continue;
			}
			buf_add(i ? &eb : &ob, chunk, (size_t)n);
			if (i)
				fwrite(chunk, 1, (size_t)n, stderr);
		}
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (out)
		*out = ob.data ? ob.data : strdup("");
	else
		free(ob.data);
	if (err)
		*err = eb.data ? eb.data : strdup("");
	else
		free(eb.data);
	return status_of(st);
}

char *harness_last_line(char *text)
{
	char *end = text + strlen(text);

	while (end > text && (end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	while (end > text && end[-1] != '\n')
		end--;
	return end;
}

char *harness_script_path(char *const *argv)
{
	char *out = NULL, *path;
	int st = harness_run(argv, &out, NULL);

	if (st != 0)
		tap_bail("%s failed with status %d", argv[0], st);
	path = strdup(harness_last_line(out));
	free(out);
	return path;
}

struct vm {
	pid_t pid;
	int in, out;
	int status;
	bool exited;
	struct buf serial;
	size_t scan; /* where the next vm_expect() starts looking */
	char match[512];
	char name[64];
	double start;
};

struct vm *vm_start(char *const *argv)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	int ip[2], op[2];

	if (!vm)
		return NULL;
	if (pipe2(ip, O_CLOEXEC) < 0 || pipe2(op, O_CLOEXEC) < 0) {
		free(vm);
		return NULL;
	}
	snprintf(vm->name, sizeof(vm->name), "%s",
		 strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0]);
	vm->start = now();
	vm->pid = fork();
	if (vm->pid < 0) {
		free(vm);
		return NULL;
	}
	if (!vm->pid) {
		dup2(ip[0], STDIN_FILENO);
		dup2(op[1], STDOUT_FILENO);
		execv(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(ip[0]);
	close(op[1]);
	vm->in = ip[1];
	vm->out = op[0];
	signal(SIGPIPE, SIG_IGN);
	return vm;
}

static void vm_reap(struct vm *vm, int flags)
{
	int st;

	if (!vm->exited && waitpid(vm->pid, &st, flags) == vm->pid) {
		vm->exited = true;
		vm->status = status_of(st);
		fprintf(stderr, "[harness] %s exited with %d after %.1f s\n", vm->name, vm->status,
			vm_elapsed(vm));
	}
}

/* Reads what is there within @ms; false once the VMM closed its output. */
static bool vm_read(struct vm *vm, int ms)
{
	struct pollfd p = {vm->out, POLLIN, 0};
	char chunk[4096];
	ssize_t n;

	if (vm->out < 0)
		return false;
	if (poll(&p, 1, ms) <= 0)
		return true;
	n = read(vm->out, chunk, sizeof(chunk));
	if (n <= 0) {
		close(vm->out);
		vm->out = -1;
		return false;
	}
	if (echo_serial)
		fwrite(chunk, 1, (size_t)n, stderr);
	return buf_add(&vm->serial, chunk, (size_t)n);
}

const char *vm_expect(struct vm *vm, const char *re, int timeout_s)
{
	double deadline = now() + timeout_s;
	const char *found = NULL;
	regmatch_t m;
	regex_t rx;

	if (regcomp(&rx, re, REG_EXTENDED))
		return NULL;
	for (;;) {
		if (vm->serial.data && !regexec(&rx, vm->serial.data + vm->scan, 1, &m, 0)) {
			size_t len = (size_t)(m.rm_eo - m.rm_so);

			if (len >= sizeof(vm->match))
				len = sizeof(vm->match) - 1;
			memcpy(vm->match, vm->serial.data + vm->scan + m.rm_so, len);
			vm->match[len] = '\0';
			vm->scan += (size_t)m.rm_eo;
			found = vm->match;
			break;
		}
		if (now() > deadline || !vm_read(vm, 200))
			break;
	}
	regfree(&rx);
	if (!found)
		fprintf(stderr, "\n[harness] no match for /%s/ after %.1f s\n", re, vm_elapsed(vm));
	return found;
}

bool vm_send(struct vm *vm, const char *line)
{
	size_t len = strlen(line);

	/* The guest's UART buffer is small and a shell reads slowly here: trickle. */
	for (size_t i = 0; i < len; i++) {
		if (write(vm->in, line + i, 1) != 1)
			return false;
		vm_read(vm, 2);
	}
	return write(vm->in, "\n", 1) == 1;
}

int vm_wait(struct vm *vm, int timeout_s)
{
	double deadline = now() + timeout_s;

	while (!vm->exited && now() < deadline) {
		if (!vm_read(vm, 200))
			usleep(50000);
		vm_reap(vm, WNOHANG);
	}
	return vm->exited ? vm->status : -1;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	if (!vm->exited) {
		kill(vm->pid, SIGKILL);
		vm_reap(vm, 0);
	}
	if (vm->out >= 0)
		close(vm->out);
	close(vm->in);
	free(vm->serial.data);
	free(vm);
}

double vm_elapsed(const struct vm *vm)
{
	return now() - vm->start;
}
