// SPDX-License-Identifier: MIT
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

/* Keeps a runaway guest from filling memory with console output. */
#define OUTPUT_MAX	 (16u << 20)
#define PUMP_SLICE_MS	 50
#define CONNECT_RETRY_MS 20

struct outbuf {
	char *data;
	size_t len, cap;
};

struct harness_vm {
	pid_t pid;
	int in, out, err;
	struct outbuf out_buf, err_buf;
	bool exited;
	int status;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left < 0 ? 0 : (int)(left > INT_MAX ? INT_MAX : left);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int harness_setup(void **state)
{
	struct harness_ctx *ctx = calloc(1, sizeof(*ctx));
	const char *tmp = getenv("TMPDIR");

	if (!ctx)
		return -1;
	ctx->fd = -1;
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (snprintf(ctx->dir, sizeof(ctx->dir), "%s/inlay-it-XXXXXX", tmp) >=
		(int)sizeof(ctx->dir) ||
	    !mkdtemp(ctx->dir)) {
		fprintf(stderr, "# cannot create a temporary directory in %s: %s\n", tmp,
			strerror(errno));
		free(ctx);
		return -1;
	}
	*state = ctx;
	return 0;
}

/* Tests only create plain files and sockets directly in their directory. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[PATH_MAX];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
			unlink(path);
	}
	closedir(d);
	if (rmdir(dir))
		fprintf(stderr, "# cannot remove %s: %s\n", dir, strerror(errno));
}

int harness_teardown(void **state)
{
	struct harness_ctx *ctx = *state;

	if (!ctx)
		return 0;
	harness_destroy(ctx->vm);
	close_fd(&ctx->fd);
	remove_dir(ctx->dir);
	free(ctx);
	*state = NULL;
	return 0;
}

void harness_require_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), version;

	if (fd < 0)
		fail_msg("/dev/kvm is missing or not usable (%s): this test boots a guest "
			 "and needs KVM",
			 strerror(errno));
	version = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	if (version != KVM_API_VERSION)
		fail_msg("/dev/kvm is not a working KVM device (API version %d): this test "
			 "boots a guest and needs KVM",
			 version);
}

const char *harness_vmm(void)
{
	const char *p = getenv("INLAY_VMM");

	if (!p || !*p)
		fail_msg("INLAY_VMM is not set (run the test through meson test)");
	return p;
}

const char *harness_guest(const char *name)
{
	char var[64];
	const char *p;
	size_t i;

	snprintf(var, sizeof(var), "INLAY_GUEST_%s", name);
	for (i = strlen("INLAY_GUEST_"); var[i]; i++)
		if (var[i] >= 'a' && var[i] <= 'z')
			var[i] = (char)(var[i] - 'a' + 'A');
	p = getenv(var);
	if (!p || !*p)
		fail_msg("%s is not set (run the test through meson test)", var);
	return p;
}

void harness_path(const struct harness_ctx *ctx, const char *name, char *out, size_t len)
{
	if (snprintf(out, len, "%s/%s", ctx->dir, name) >= (int)len)
		fail_msg("path %s/%s too long", ctx->dir, name);
}

static void child_exec(const char *vmm, const char *const *argv, int in, int out, int err)
{
	size_t n = 0;
	char **full;

	while (argv[n])
		n++;
	full = calloc(n + 2, sizeof(*full));
	if (!full || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	full[0] = (char *)vmm;
	for (size_t i = 0; i < n; i++)
		full[i + 1] = (char *)argv[i];
	execv(vmm, full);
	fprintf(stderr, "cannot run %s: %s\n", vmm, strerror(errno));
	_exit(127);
}

struct harness_vm *harness_start(const char *const *argv)
{
	const char *vmm = harness_vmm();
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
	struct harness_vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	/* A VMM that exits early must not kill the test through SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		goto err_pipes;
	vm->pid = fork();
	if (vm->pid < 0)
		goto err_pipes;
	if (vm->pid == 0)
		child_exec(vmm, argv, in[0], out[1], err[1]);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	vm->in = in[1];
	vm->out = out[0];
	vm->err = err[0];
	fcntl(vm->out, F_SETFL, O_NONBLOCK);
	fcntl(vm->err, F_SETFL, O_NONBLOCK);
	return vm;

err_pipes:
	fprintf(stderr, "# cannot start %s: %s\n", vmm, strerror(errno));
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&out[i]);
		close_fd(&err[i]);
	}
	free(vm);
	return NULL;
}

int harness_send(struct harness_vm *vm, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(vm->in, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Returns false at end of file or on an error (the fd is then closed). */
static bool drain(int *fd, struct outbuf *b)
{
	for (;;) {
		char chunk[4096];
		ssize_t n = read(*fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0) {
			close_fd(fd);
			return false;
		}
		if (b->len + (size_t)n + 1 > b->cap && b->len + (size_t)n < OUTPUT_MAX) {
			size_t cap = b->cap ? b->cap : 8192;
			char *d;

			while (cap < b->len + (size_t)n + 1)
				cap *= 2;
			d = realloc(b->data, cap);
			if (!d)
				return true;
			b->data = d;
			b->cap = cap;
		}
		if (b->len + (size_t)n + 1 <= b->cap) {
			memcpy(b->data + b->len, chunk, (size_t)n);
			b->len += (size_t)n;
			b->data[b->len] = 0;
		}
	}
}

/* Read whatever arrives within @wait_ms, then check whether the VMM ended. */
static void pump(struct harness_vm *vm, int wait_ms)
{
	struct pollfd pfd[2] = {{vm->out, POLLIN, 0}, {vm->err, POLLIN, 0}};
	int st;

	if (vm->out >= 0 || vm->err >= 0) {
		if (poll(pfd, 2, wait_ms) > 0) {
			if (pfd[0].revents)
				drain(&vm->out, &vm->out_buf);
			if (pfd[1].revents)
				drain(&vm->err, &vm->err_buf);
		}
	} else if (!vm->exited) {
		poll(NULL, 0, wait_ms);
	}
	if (!vm->exited && waitpid(vm->pid, &st, WNOHANG) == vm->pid) {
		vm->exited = true;
		vm->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
}

static bool finished(const struct harness_vm *vm)
{
	return vm->exited && vm->out < 0 && vm->err < 0;
}

bool harness_wait_stdout(struct harness_vm *vm, const char *needle, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		if (vm->out_buf.data && strstr(vm->out_buf.data, needle))
			return true;
		if (finished(vm) || remaining_ms(deadline) == 0)
			return false;
		pump(vm, remaining_ms(deadline) < PUMP_SLICE_MS ? remaining_ms(deadline)
								: PUMP_SLICE_MS);
	}
}

int harness_wait(struct harness_vm *vm, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (!finished(vm)) {
		if (remaining_ms(deadline) == 0) {
			if (vm->exited)
				break; /* something else holds the pipes open */
			kill(vm->pid, SIGKILL);
			waitpid(vm->pid, NULL, 0);
			vm->exited = true;
			vm->status = HARNESS_TIMED_OUT;
			fprintf(stderr, "# inlay-vmm still running after %d ms: killed\n",
				timeout_ms);
			break;
		}
		pump(vm, remaining_ms(deadline) < PUMP_SLICE_MS ? remaining_ms(deadline)
								: PUMP_SLICE_MS);
	}
	return vm->status;
}

const char *harness_stdout(const struct harness_vm *vm)
{
	return vm->out_buf.data ? vm->out_buf.data : "";
}

const char *harness_stderr(const struct harness_vm *vm)
{
	return vm->err_buf.data ? vm->err_buf.data : "";
}

static void dump_lines(const char *tag, const char *text)
{
	while (*text) {
		const char *nl = strchr(text, '\n');
		int len = nl ? (int)(nl - text) : (int)strlen(text);

		fprintf(stderr, "# %s: %.*s\n", tag, len, text);
		text += len + (nl ? 1 : 0);
	}
}

void harness_dump(const struct harness_vm *vm)
{
	if (!vm)
		return;
	dump_lines("stdout", harness_stdout(vm));
	dump_lines("stderr", harness_stderr(vm));
}

void harness_destroy(struct harness_vm *vm)
{
	if (!vm)
		return;
	if (!vm->exited) {
		kill(vm->pid, SIGKILL);
		waitpid(vm->pid, NULL, 0);
	}
	close_fd(&vm->in);
	close_fd(&vm->out);
	close_fd(&vm->err);
	free(vm->out_buf.data);
	free(vm->err_buf.data);
	free(vm);
}

int harness_run(struct harness_ctx *ctx, const char *const *argv)
{
	int status;

	harness_destroy(ctx->vm);
	ctx->vm = harness_start(argv);
	if (!ctx->vm)
		fail_msg("cannot start inlay-vmm");
	status = harness_wait(ctx->vm, HARNESS_TIMEOUT_MS);
	harness_dump(ctx->vm);
	return status;
}

int harness_write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *p = buf;
	int ret = 0;

	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

ssize_t harness_read_file(const char *path, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -errno;
	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return (ssize_t)got;
}

void harness_fill(void *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed ? seed : 1;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)(x >> 24);
	}
}

uint32_t harness_fnv1a(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t h = 0x811c9dc5u;

	while (len--) {
		h ^= *p++;
		h *= 0x01000193u;
	}
	return h;
}

int harness_connect(const char *path, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int err;

		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		err = errno;
		close(fd);
		if ((err != ENOENT && err != ECONNREFUSED) || remaining_ms(deadline) == 0)
			return -err;
		poll(NULL, 0, CONNECT_RETRY_MS);
	}
}

ssize_t harness_read_until(int fd, char *buf, size_t len, char end, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t got = 0;

	if (len == 0)
		return -EINVAL;
	buf[0] = 0;
	while (got + 1 < len) {
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&pfd, 1, remaining_ms(deadline)) <= 0)
			return -ETIMEDOUT;
		n = read(fd, buf + got, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : (ssize_t)got;
		got++;
		buf[got] = 0;
		if (buf[got - 1] == end)
			break;
	}
	return (ssize_t)got;
}
