// SPDX-License-Identifier: MIT
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wayland-server-core.h>
#include <wlr/util/log.h>

#include "server.h"

struct options {
	const char *socket;
	const char *startup;
	bool hide_cursor;
	enum wlr_log_importance log_level;
};

static void usage(FILE *out, const char *argv0)
{
	fprintf(out,
		"Usage: %s [OPTION]...\n"
		"A wlroots compositor with the screen-grant-v1 protocol.\n"
		"\n"
		"  -s, --startup CMD   run CMD through /bin/sh -c once clients can connect\n"
		"  -S, --socket NAME   listen on NAME in $XDG_RUNTIME_DIR instead of the\n"
		"                      first free wayland-N\n"
		"  -c, --hide-cursor   never draw a pointer image (for screenshot tests)\n"
		"  -v, --verbose       log more (twice: debug)\n"
		"  -h, --help          show this help and exit\n"
		"      --version       show the version and exit\n"
		"\n"
		"Once ready it prints WAYLAND_DISPLAY=NAME on stdout.\n"
		"Ctrl+Alt+BackSpace, SIGINT and SIGTERM quit.\n",
		argv0);
}

/* Returns 0 to go on, 1 to exit successfully, -1 on a usage error. */
static int parse_options(int argc, char *argv[], struct options *opts)
{
	static const struct option longopts[] = {
	    {"startup", required_argument, NULL, 's'},
	    {"socket", required_argument, NULL, 'S'},
	    {"hide-cursor", no_argument, NULL, 'c'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	int c;

	opts->log_level = WLR_ERROR;
	while ((c = getopt_long(argc, argv, "s:S:cvh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			opts->startup = optarg;
			break;
		case 'S':
			if (!*optarg || strchr(optarg, '/')) {
				fprintf(stderr, "%s: --socket wants a plain name, not '%s'\n",
					argv[0], optarg);
				return -1;
			}
			opts->socket = optarg;
			break;
		case 'c':
			opts->hide_cursor = true;
			break;
		case 'v':
			opts->log_level = opts->log_level == WLR_ERROR ? WLR_INFO : WLR_DEBUG;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 1;
		case 'V':
			printf("inlay-compositor %s\n", INLAY_VERSION);
			return 1;
		default:
			fprintf(stderr, "Try '%s --help'.\n", argv[0]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[optind]);
		return -1;
	}
	return 0;
}

static pid_t spawn(const char *command)
{
	pid_t pid = fork();

	if (pid == 0) {
		sigset_t none;

		/* The event loop blocks the signals it reads through signalfd. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		execl("/bin/sh", "/bin/sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		wlr_log_errno(WLR_ERROR, "Cannot start '%s'", command);
	return pid;
}

static int handle_quit_signal(int signal, void *data)
{
	wl_display_terminate(data);
	return 0;
}

static int handle_child_signal(int signal, void *data)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return 0;
}

int main(int argc, char *argv[])
{
	struct server server = {0};
	struct options opts = {0};
	struct wl_event_source *signals[3] = {NULL};
	int ret = parse_options(argc, argv, &opts);

	if (ret != 0)
		return ret > 0 ? EXIT_SUCCESS : 2;
	wlr_log_init(opts.log_level, NULL);
	if (!getenv("XDG_RUNTIME_DIR")) {
		fprintf(stderr, "%s: XDG_RUNTIME_DIR is not set\n", argv[0]);
		return EXIT_FAILURE;
	}

	ret = EXIT_FAILURE;
	server.hide_cursor = opts.hide_cursor;
	if (server_init(&server, opts.socket) < 0)
		goto out;

	struct wl_event_loop *loop = wl_display_get_event_loop(server.display);
	signals[0] = wl_event_loop_add_signal(loop, SIGINT, handle_quit_signal, server.display);
	signals[1] = wl_event_loop_add_signal(loop, SIGTERM, handle_quit_signal, server.display);
	signals[2] = wl_event_loop_add_signal(loop, SIGCHLD, handle_child_signal, NULL);
	if (!signals[0] || !signals[1] || !signals[2]) {
		wlr_log(WLR_ERROR, "Cannot watch signals");
		goto out;
	}
	if (server_start(&server) < 0)
		goto out;

	printf("WAYLAND_DISPLAY=%s\n", server.socket);
	fflush(stdout);
	if (opts.startup && spawn(opts.startup) < 0)
		goto out;

	wl_display_run(server.display);
	ret = EXIT_SUCCESS;
out:
	for (size_t i = 0; i < 3; i++)
		if (signals[i])
			wl_event_source_remove(signals[i]);
	if (server.display)
		server_finish(&server);
	return ret;
}
