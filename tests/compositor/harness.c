// SPDX-License-Identifier: MIT
#include <ftw.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

int64_t harness_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *harness_program(const char *env)
{
	const char *path = getenv(env);

	if (!path || !*path)
		fail_msg("%s is not set: run the test through meson", env);
	return path;
}

static void mkdir_p(const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	}
	mkdir(buf, 0755);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* Clients such as GTK leave their own subdirectories in the runtime dir. */
static void remove_dir(const char *path)
{
	nftw(path, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void print_log_tail(struct harness *h)
{
	char path[600], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/compositor.log", h->log_dir);
	f = fopen(path, "r");
	if (!f)
		return;
	fprintf(stderr, "# --- %s ---\n", path);
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "# %s", line);
	fclose(f);
}

/* In a child about to exec: stdout and stderr to @name in the log directory. */
static void output_to_log(struct harness *h, const char *name, int flags)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", h->log_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
}

static void exec_compositor(struct harness *h, const char *program)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	output_to_log(h, "compositor.log", O_TRUNC);
	execl(program, "inlay-compositor", "--socket", h->socket_name, (char *)NULL);
	fprintf(stderr, "cannot run %s: %s\n", program, strerror(errno));
	_exit(127);
}

static bool compositor_exited(struct harness *h, int *status)
{
	if (h->compositor_pid <= 0)
		return true;
	if (waitpid(h->compositor_pid, status, WNOHANG) == h->compositor_pid) {
		h->compositor_pid = 0;
		return true;
	}
	return false;
}

static bool wait_for_socket(struct harness *h)
{
	int64_t end = harness_now_ms() + HARNESS_TIMEOUT_MS;
	char path[160];
	int status;

	snprintf(path, sizeof(path), "%s/%s", h->runtime_dir, h->socket_name);
	while (harness_now_ms() < end) {
		struct wl_display *d;

		if (compositor_exited(h, &status)) {
			fprintf(stderr, "# inlay-compositor exited during start (status 0x%x)\n",
				status);
			return false;
		}
		if (access(path, F_OK) == 0 && (d = wl_display_connect(path))) {
			/* A roundtrip proves the compositor is past its start, not only bound. */
			int ret = wl_display_roundtrip(d);

			wl_display_disconnect(d);
			if (ret >= 0)
				return true;
		}
		usleep(10000);
	}
	fprintf(stderr, "# inlay-compositor did not open %s in time\n", path);
	return false;
}

int harness_setup(void **state)
{
	const char *program = getenv("INLAY_COMPOSITOR");
	const char *logs = getenv("INLAY_TEST_LOG_DIR");
	static unsigned int counter;
	struct harness *h;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -1;
	h->test_name = *state;
	h->output_width = 1280;
	h->output_height = 720;
	wl_list_init(&h->clients);
	*state = h;
	if (!program) {
		fprintf(stderr, "# INLAY_COMPOSITOR is not set: run the test through meson\n");
		goto err;
	}
	snprintf(h->runtime_dir, sizeof(h->runtime_dir), "/tmp/inlay-test-XXXXXX");
	if (!mkdtemp(h->runtime_dir)) { /* mkdtemp makes it mode 0700 */
		fprintf(stderr, "# mkdtemp: %s\n", strerror(errno));
		h->runtime_dir[0] = '\0';
		goto err;
	}
	snprintf(h->socket_name, sizeof(h->socket_name), "inlay-test-%d-%u", getpid(), counter++);
	snprintf(h->log_dir, sizeof(h->log_dir), "%s/%s", logs ? logs : "logs", h->test_name);
	mkdir_p(h->log_dir);

	/* Spawned clients (grantees, GTK) find this compositor through the environment. */
	setenv("XDG_RUNTIME_DIR", h->runtime_dir, 1);
	setenv("WAYLAND_DISPLAY", h->socket_name, 1);
	setenv("WLR_BACKENDS", "headless", 1);
	setenv("WLR_RENDERER", "pixman", 1);
	setenv("WLR_LIBINPUT_NO_DEVICES", "1", 1);
	unsetenv("WAYLAND_SOCKET");
	unsetenv("DISPLAY");

	h->compositor_pid = fork();
	if (h->compositor_pid < 0) {
		fprintf(stderr, "# fork: %s\n", strerror(errno));
		goto err;
	}
	if (h->compositor_pid == 0)
		exec_compositor(h, program);
	if (!wait_for_socket(h)) {
		print_log_tail(h);
		goto err;
	}
	return 0;

err:
	/* cmocka runs no teardown after a failed setup: clean up here. */
	if (h->compositor_pid > 0) {
		kill(h->compositor_pid, SIGKILL);
		waitpid(h->compositor_pid, NULL, 0);
	}
	if (h->runtime_dir[0])
		remove_dir(h->runtime_dir);
	free(h);
	*state = NULL;
	return -1;
}

bool harness_compositor_alive(struct harness *h)
{
	char path[160];
	struct wl_display *d;
	int status, ret;

	if (compositor_exited(h, &status))
		return false;
	snprintf(path, sizeof(path), "%s/%s", h->runtime_dir, h->socket_name);
	d = wl_display_connect(path);
	if (!d)
		return false;
	ret = wl_display_roundtrip(d);
	wl_display_disconnect(d);
	return ret >= 0;
}

void harness_track_child(struct harness *h, pid_t pid)
{
	for (size_t i = 0; i < sizeof(h->children) / sizeof(h->children[0]); i++) {
		if (h->children[i] == 0) {
			h->children[i] = pid;
			return;
		}
	}
	fail_msg("too many child processes");
}

pid_t harness_spawn(struct harness *h, char *const argv[], const char *token)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		output_to_log(h, "children.log", O_APPEND);
		if (token)
			setenv("INLAY_GRANT_TOKEN", token, 1);
		execv(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid); /* also here, so a kill of the group cannot race the child */
	harness_track_child(h, pid);
	return pid;
}

int harness_wait_child(struct harness *h, pid_t pid, int timeout_ms)
{
	int64_t end = harness_now_ms() + timeout_ms;
	int status;

	do {
		/* Stays tracked: teardown still kills what is left of its group. */
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		harness_dispatch(h, 10);
	} while (harness_now_ms() < end);
	return -1;
}

void harness_dispatch(struct harness *h, int timeout_ms)
{
	struct pollfd fds[16];
	struct client *c, *ready[16];
	size_t n = 0;

	wl_list_for_each (c, &h->clients, link) {
		if (n == 16 || wl_display_get_error(c->display))
			continue;
		while (wl_display_prepare_read(c->display) != 0)
			wl_display_dispatch_pending(c->display);
		wl_display_flush(c->display);
		fds[n] = (struct pollfd){.fd = wl_display_get_fd(c->display), .events = POLLIN};
		ready[n++] = c;
	}
	if (n == 0) {
		usleep(timeout_ms * 1000);
		return;
	}
	poll(fds, n, timeout_ms);
	for (size_t i = 0; i < n; i++) {
		if (fds[i].revents & (POLLIN | POLLERR | POLLHUP))
			wl_display_read_events(ready[i]->display);
		else
			wl_display_cancel_read(ready[i]->display);
		wl_display_dispatch_pending(ready[i]->display);
	}
}

static bool stop_compositor(struct harness *h)
{
	int64_t end;
	int status = 0;

	if (h->compositor_pid <= 0)
		return false; /* it died during the test */
	kill(h->compositor_pid, SIGTERM);
	end = harness_now_ms() + HARNESS_TIMEOUT_MS;
	while (!compositor_exited(h, &status)) {
		if (harness_now_ms() > end) {
			fprintf(stderr, "# inlay-compositor ignored SIGTERM\n");
			kill(h->compositor_pid, SIGKILL);
			waitpid(h->compositor_pid, &status, 0);
			h->compositor_pid = 0;
			return false;
		}
		usleep(5000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "# inlay-compositor ended with status 0x%x\n", status);
		return false;
	}
	return true;
}

int harness_teardown(void **state)
{
	struct harness *h = *state;
	struct client *c, *tmp;
	bool clean;

	if (!h)
		return 0;
	wl_list_for_each_safe (c, tmp, &h->clients, link)
		client_destroy(c);
	for (size_t i = 0; i < sizeof(h->children) / sizeof(h->children[0]); i++) {
		if (h->children[i] > 0) {
			kill(-h->children[i], SIGKILL);
			kill(h->children[i], SIGKILL);
			waitpid(h->children[i], NULL, 0);
		}
	}
	clean = stop_compositor(h);
	if (!clean)
		print_log_tail(h);
	if (h->runtime_dir[0])
		remove_dir(h->runtime_dir);
	free(h);
	return clean ? 0 : -1;
}
