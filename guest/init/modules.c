// SPDX-License-Identifier: MIT
#include "modules.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Debian's modules.dep is about 1 MiB; anything far larger is not one. */
#define MODULES_DEP_MAX (16u << 20)
/* modules.dep lists the whole closure, so chains are short; this bounds loops. */
#define MODULES_DEPTH_MAX 32

struct module {
	char *path; /* relative to the modules directory */
	char *deps; /* space separated paths, as in modules.dep */
	char name[64];
	bool loaded;
};

struct module_db {
	char dir[128];
	char *text;
	struct module *mods;
	size_t n;
};

static void module_name_of(const char *path, char *out, size_t size)
{
	const char *base = strrchr(path, '/');
	size_t i = 0;

	base = base ? base + 1 : path;
	for (; base[i] && base[i] != '.' && i + 1 < size; i++)
		out[i] = base[i] == '-' ? '_' : base[i];
	out[i] = '\0';
}

static int read_file(const char *path, char **out)
{
	struct stat st;
	ssize_t got = 0;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size < 0 || (size_t)st.st_size > MODULES_DEP_MAX) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)(st.st_size - got));
		if (r <= 0) {
			free(buf);
			close(fd);
			return r < 0 ? -errno : -EIO;
		}
		got += r;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	return 0;
}

/* Splits the text into "path: deps" lines; the db keeps pointers into it. */
static int module_db_parse(struct module_db *db)
{
	size_t lines = 1;

	for (const char *p = db->text; *p; p++)
		lines += *p == '\n';
	db->mods = calloc(lines, sizeof(*db->mods));
	if (!db->mods)
		return -ENOMEM;
	for (char *line = db->text, *next; line && *line; line = next) {
		char *colon;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		db->mods[db->n].path = line;
		db->mods[db->n].deps = colon + 1;
		module_name_of(line, db->mods[db->n].name, sizeof(db->mods[db->n].name));
		db->n++;
	}
	return 0;
}

static struct module *module_find(struct module_db *db, const char *name, bool is_path)
{
	char want[64];

	if (!is_path)
		module_name_of(name, want, sizeof(want));
	for (size_t i = 0; i < db->n; i++) {
		if (is_path ? !strcmp(db->mods[i].path, name) : !strcmp(db->mods[i].name, want))
			return &db->mods[i];
	}
	return NULL;
}

static int module_insert(const struct module_db *db, const struct module *m)
{
	char path[512];
	int fd, ret = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", db->dir, m->path) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
		ret = -errno;
	close(fd);
	return ret;
}

static int module_load_one(struct module_db *db, struct module *m, unsigned depth)
{
	char deps[1024];
	char *save = NULL;
	int ret;

	if (m->loaded)
		return 0;
	if (depth > MODULES_DEPTH_MAX)
		return -ELOOP;
	if (strlen(m->deps) >= sizeof(deps))
		return -E2BIG;
	strcpy(deps, m->deps);
	for (char *dep = strtok_r(deps, " \t", &save); dep; dep = strtok_r(NULL, " \t", &save)) {
		struct module *d = module_find(db, dep, true);
		if (!d) {
			fprintf(stderr, "inlay-init: %s needs %s, which modules.dep lacks\n",
				m->name, dep);
			return -ENOENT;
		}
		ret = module_load_one(db, d, depth + 1);
		if (ret)
			return ret;
	}
	ret = module_insert(db, m);
	if (ret) {
		fprintf(stderr, "inlay-init: loading module %s: %s\n", m->name, strerror(-ret));
		return ret;
	}
	m->loaded = true;
	return 0;
}

int modules_load(const char *const *names, size_t n)
{
	struct module_db db = {0};
	struct utsname uts;
	char dep_path[192];
	int ret;

	if (!n)
		return 0;
	if (uname(&uts) < 0)
		return -errno;
	snprintf(db.dir, sizeof(db.dir), "/lib/modules/%s", uts.release);
	snprintf(dep_path, sizeof(dep_path), "%s/modules.dep", db.dir);
	ret = read_file(dep_path, &db.text);
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		fprintf(stderr, "inlay-init: reading %s: %s\n", dep_path, strerror(-ret));
		return ret;
	}
	ret = module_db_parse(&db);
	for (size_t i = 0; !ret && i < n; i++) {
		struct module *m = module_find(&db, names[i], false);
		if (!m) {
			fprintf(stderr, "inlay-init: no module %s in %s\n", names[i], dep_path);
			ret = -ENOENT;
			break;
		}
		ret = module_load_one(&db, m, 0);
	}
	free(db.mods);
	free(db.text);
	return ret;
}
