// SPDX-License-Identifier: MIT
/*
 * The image builder's cache: unchanged inputs are not rebuilt, a changed
 * input is, and a package apt does not know fails naming it. Runs with its
 * own cache directory (INLAY_CACHE) so it never touches the user's.
 *
 *   test_mkimage MKIMAGE_SH INIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define MISSING_PKG "inlay-no-such-package"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		tap_bail("writing %s: %s", path, strerror(errno));
}

/* Runs mkimage; returns its status, the directory it printed and its stderr. */
static int mkimage(const char *script, const char *init, const char *list, char **dir, char **err)
{
	char *argv[] = {(char *)script, "--init", (char *)init, "--list", (char *)list, "t", NULL};
	char *out = NULL;
	int st = harness_run(argv, &out, err);

	*dir = strdup(harness_last_line(out));
	free(out);
	return st;
}

int main(int argc, char **argv)
{
	char tmp[] = "/tmp/inlay-mkimage-XXXXXX", list[64], bad[64], init[64], cmd[256];
	char *d1, *d2, *d3, *d4, *e1, *e2, *e3, *e4;
	int st;

	if (argc != 3) {
		fprintf(stderr, "usage: %s MKIMAGE_SH INIT\n", argv[0]);
		return 2;
	}
	if (!mkdtemp(tmp))
		tap_bail("mkdtemp: %s", strerror(errno));
	setenv("INLAY_CACHE", tmp, 1);
	snprintf(list, sizeof(list), "%s/t.list", tmp);
	snprintf(bad, sizeof(bad), "%s/bad.list", tmp);
	snprintf(init, sizeof(init), "%s/init", tmp);
	write_file(list, "busybox-static\n");
	write_file(bad, "busybox-static\n" MISSING_PKG "\n");
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", argv[2], init);
	if (system(cmd))
		tap_bail("copying %s", argv[2]);

	st = mkimage(argv[1], init, list, &d1, &e1);
	tap_ok(st == 0 && strstr(e1, "building"), "a first run builds the image (status %d)", st);
	snprintf(cmd, sizeof(cmd), "%s/initramfs.cpio", d1);
	tap_ok(access(cmd, R_OK) == 0, "the image is %s", cmd);

	st = mkimage(argv[1], init, list, &d2, &e2);
	tap_ok(st == 0 && strstr(e2, "cached") && !strstr(e2, "building") && !strcmp(d1, d2),
	       "unchanged inputs: no rebuild, same image");

	/* A different init binary is a changed input. */
	snprintf(cmd, sizeof(cmd), "printf x >> '%s'", init);
	if (system(cmd))
		tap_bail("changing %s", init);
	st = mkimage(argv[1], init, list, &d3, &e3);
	tap_ok(st == 0 && strstr(e3, "building") && strcmp(d1, d3),
	       "a changed input: rebuilt into a new image");

	st = mkimage(argv[1], init, bad, &d4, &e4);
	tap_ok(st != 0 && strstr(e4, "'" MISSING_PKG "'") && !strstr(e4, "building"),
	       "a missing package fails before building, naming it (status %d)", st);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", tmp);
	free(d1), free(d2), free(d3), free(d4);
	free(e1), free(e2), free(e3), free(e4);
	return tap_done();
}
