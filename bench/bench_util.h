/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the benchmark programs: clocks, starting and stopping
 * child processes with a pipe on one of their output streams, waiting for a
 * string on such a pipe, sample statistics and a private headless
 * inlay-compositor.
 */
#ifndef INLAY_BENCH_UTIL_H
#define INLAY_BENCH_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/** The time on clock @id in nanoseconds. */
uint64_t bench_clock_ns(clockid_t id);

/** CLOCK_MONOTONIC in milliseconds. */
double bench_now_ms(void);

/** Print "bench: " and the printf-style message on stderr, then exit(1). */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/**
 * Start @argv (argv[0] is a path) with its stdout, or its stderr when
 * @err_stream, on a pipe whose read end is returned in *@out; stdin and the
 * other stream go to /dev/null. Exits through bench_die() on failure.
 */
pid_t bench_spawn(char *const *argv, int *out, bool err_stream);

/** Wait for @pid to end; returns its wait status. */
int bench_reap(pid_t pid);

/** SIGKILL @pid, reap it and close @fd (its output pipe). */
void bench_stop(pid_t pid, int fd);

/**
 * Read @fd until @needle arrives (NULL: any byte); false on EOF or when
 * @timeout_ms passes first.
 */
bool bench_wait_for(int fd, const char *needle, int timeout_ms);

/**
 * One "--name VALUE" option: VALUE is stored in *@str, or parsed into *@num
 * (integer) or *@real; exactly one of the three is set.
 */
struct bench_opt {
	const char *name;
	const char **str;
	int *num;
	double *real;
};

/**
 * Parse @argv against @opts (ended by an entry with a NULL name). "--help"
 * prints @usage and exits 0; an unknown option or a missing value prints
 * @usage on stderr and exits 2.
 */
void bench_parse_opts(int argc, char **argv, const struct bench_opt *opts, const char *usage);

/** Summary of a sample. */
struct bench_stats {
	double median, p90, min, max;
};

/** Sort the @n (>= 1) values of @v in place and summarize them in *@s. */
void bench_summarize(double *v, int n, struct bench_stats *s);

/**
 * Start the inlay-compositor at @path headless (pixman, no input devices),
 * listening on socket @name in @dir, which becomes this process's
 * XDG_RUNTIME_DIR. Its output goes to /dev/null; it dies with this process.
 * Returns its pid once the socket exists, -1 if it does not come up.
 */
pid_t bench_start_compositor(const char *path, const char *dir, const char *name);

/** SIGTERM a compositor from bench_start_compositor() and reap it. */
void bench_stop_compositor(pid_t pid);

#endif
