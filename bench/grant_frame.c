// SPDX-License-Identifier: MIT
/*
 * Screen-grant costs, each against the same client as a plain toplevel, in
 * alternating runs on a fresh headless inlay-compositor:
 *
 *   frame: compositor CPU time per frame while one 320x240 client redraws
 *          all of its surface every frame (granted, or as its own toplevel);
 *   input: time from a virtual-pointer motion request to the client's
 *          wl_pointer.motion (granted, or as its own toplevel).
 *
 *   grant_frame [--runs N] [--frames N] [--moves N]
 *
 * Needs INLAY_COMPOSITOR. Prints the median, min and max of the per-run
 * medians.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "harness.h"
#include "shm-buffer.h"

#define W 320
#define H 240

enum mode { GRANTED, TOPLEVEL };

struct rig {
	struct harness *h;
	struct client *owner, *child, *input;
	struct surface *parent, *surface;
	int32_t x, y; /* the measured surface on screen */
};

/* CPU time of every thread of @pid, from the scheduler's own accounting. */
static int64_t cpu_ns(pid_t pid)
{
	char path[64];
	int64_t total = 0;
	struct dirent *e;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((e = readdir(dir))) {
		char stat_path[384];
		long long ns;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(stat_path, sizeof(stat_path), "%s/%s/schedstat", path, e->d_name);
		f = fopen(stat_path, "r");
		if (f && fscanf(f, "%lld", &ns) == 1)
			total += ns;
		if (f)
			fclose(f);
	}
	closedir(dir);
	return total;
}

static void rig_start(struct rig *r, enum mode mode, const char *name)
{
	void *state = (void *)name;
	struct lease *l;

	memset(r, 0, sizeof(*r));
	if (harness_setup(&state) < 0) {
		fprintf(stderr, "grant_frame: inlay-compositor did not start\n");
		exit(1);
	}
	r->h = state;
	r->owner = client_create(r->h);
	r->child = client_create(r->h);
	r->input = client_create(r->h);
	r->parent = toplevel_create(r->owner, 400, 300, 0xff404040);
	if (mode == GRANTED) {
		struct grant *g = grant_create_wait(r->parent, 40, 30, W, H);

		r->surface = surface_create(r->child);
		l = lease_accept(r->surface, g->token);
		wait_until(r->h, l->configures == 1);
		surface_attach_color(r->surface, W, H, 0xff20c040);
		surface_commit_wait(r->surface);
	} else {
		r->surface = toplevel_create(r->child, W, H, 0xff20c040);
	}
	surface_locate(r->input, r->surface, &r->x, &r->y);
}

static void rig_stop(struct rig *r)
{
	void *state = r->h;

	harness_teardown(&state);
}

/* Compositor CPU nanoseconds per frame of full-surface redraws. */
static double measure_frames(struct rig *r, int frames)
{
	int64_t start;

	surface_commit_wait(r->surface);
	start = cpu_ns(r->h->compositor_pid);
	for (int i = 0; i < frames; i++) {
		shm_buffer_fill(r->surface->buffer, 0, 0, W, H, i & 1 ? 0xff20c040 : 0xff40a020);
		wl_surface_attach(r->surface->wl_surface, r->surface->buffer->buffer, 0, 0);
		wl_surface_damage_buffer(r->surface->wl_surface, 0, 0, W, H);
		surface_commit_wait(r->surface);
	}
	return (double)(cpu_ns(r->h->compositor_pid) - start) / frames;
}

/* Median microseconds from motion request to the client's wl_pointer.motion. */
static double measure_input(struct rig *r, int moves)
{
	struct pointer_state *p = &r->child->pointer_state;
	double *lat = calloc(moves, sizeof(*lat));
	struct bench_stats st;

	for (int i = 0; i < moves; i++) {
		int before = p->motions + p->enters;
		int64_t sent;

		sent = (int64_t)bench_clock_ns(CLOCK_MONOTONIC);
		input_move(r->input, r->x + 10 + i % 50, r->y + 10 + i % 40);
		wait_until(r->h, p->motions + p->enters > before);
		lat[i] = (p->last_event_ns - sent) / 1000.0;
	}
	bench_summarize(lat, moves, &st);
	free(lat);
	return st.median;
}

static void report(const char *what, const char *unit, double *v, int n)
{
	struct bench_stats st;

	bench_summarize(v, n, &st);
	printf("%-28s median %9.1f %s  min %9.1f  max %9.1f  (%d runs)\n", what, st.median, unit,
	       st.min, st.max, n);
}

static const char usage[] = "usage: grant_frame [--runs N] [--frames N] [--moves N]\n";

int main(int argc, char *argv[])
{
	int runs = 10, frames = 120, moves = 200;
	double *frame[2], *input[2];
	const struct bench_opt opts[] = {
	    {"runs", .num = &runs},
	    {"frames", .num = &frames},
	    {"moves", .num = &moves},
	    {0},
	};

	bench_parse_opts(argc, argv, opts, usage);
	if (runs < 1 || frames < 1 || moves < 1) {
		fputs(usage, stderr);
		return 1;
	}
	for (int m = 0; m < 2; m++) {
		frame[m] = calloc(runs, sizeof(double));
		input[m] = calloc(runs, sizeof(double));
	}
	for (int run = 0; run < runs; run++) {
		/* Alternate which mode goes first, so drift hits both alike. */
		for (int k = 0; k < 2; k++) {
			enum mode m = (run + k) % 2 ? TOPLEVEL : GRANTED;
			struct rig r;

			rig_start(&r, m, m == GRANTED ? "bench-granted" : "bench-toplevel");
			frame[m][run] = measure_frames(&r, frames) / 1000.0;
			input[m][run] = measure_input(&r, moves);
			rig_stop(&r);
		}
	}
	printf("screen-grant benchmark: %d runs, %d frames of %dx%d, %d pointer moves each\n", runs,
	       frames, W, H, moves);
	report("frame CPU, granted", "us", frame[GRANTED], runs);
	report("frame CPU, toplevel", "us", frame[TOPLEVEL], runs);
	report("input latency, granted", "us", input[GRANTED], runs);
	report("input latency, toplevel", "us", input[TOPLEVEL], runs);
	for (int m = 0; m < 2; m++) {
		free(frame[m]);
		free(input[m]);
	}
	return 0;
}
