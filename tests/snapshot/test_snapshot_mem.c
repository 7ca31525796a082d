// SPDX-License-Identifier: MIT
/*
 * The memory file: written sparse (holes for untouched and all-zero pages),
 * mapped privately by each clone (writes stay in the clone), and saved again
 * from such a private mapping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snap_mem.h"
#include "vmm/layout.h"

#define MEM_SIZE (4ULL << 20)
#define PAGE	 4096

static char path[64];

static int file_setup(void **state)
{
	snprintf(path, sizeof(path), "/tmp/inlay-snapmem-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	*state = (void *)(intptr_t)fd;
	return 0;
}

static int file_teardown(void **state)
{
	close((int)(intptr_t)*state);
	return unlink(path);
}

/* Bytes of @fd that are data, as SEEK_DATA/SEEK_HOLE see them. */
static uint64_t data_bytes(int fd, uint64_t size)
{
	uint64_t total = 0;
	off_t off = 0;
	for (;;) {
		off_t d = lseek(fd, off, SEEK_DATA);
		if (d < 0)
			break;
		off_t h = lseek(fd, d, SEEK_HOLE);
		total += (uint64_t)(h - d);
		off = h;
		if ((uint64_t)off >= size)
			break;
	}
	return total;
}

static void test_sparse(void **state)
{
	int fd = (int)(intptr_t)*state;
	struct guest_mem m;
	assert_int_equal(guest_mem_init(&m, MEM_SIZE), 0);
	memset(m.host + 5 * PAGE, 0xaa, 2 * PAGE); /* two pages of data */
	memset(m.host + 100 * PAGE, 0, PAGE);	   /* touched, but all zero */
	m.host[MEM_SIZE - 1] = 1;		   /* the last byte */
	uint64_t data;
	assert_int_equal(snap_mem_write(&m, fd, &data), 0);
	assert_int_equal(data, 3 * PAGE);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, MEM_SIZE);
	assert_true(data_bytes(fd, MEM_SIZE) <= 4 * PAGE);
	uint8_t *back = malloc(MEM_SIZE);
	assert_non_null(back);
	assert_int_equal(pread(fd, back, MEM_SIZE, 0), MEM_SIZE);
	assert_memory_equal(back, m.host, MEM_SIZE);
	free(back);
	guest_mem_finish(&m);
}

/* Two private mappings of one file: each sees its own writes only, the file none. */
static void test_private_clones(void **state)
{
	int fd = (int)(intptr_t)*state;
	struct guest_mem m, a, b;
	assert_int_equal(guest_mem_init(&m, MEM_SIZE), 0);
	memset(m.host + PAGE, 0x11, PAGE);
	uint64_t data;
	assert_int_equal(snap_mem_write(&m, fd, &data), 0);
	guest_mem_finish(&m);

	assert_int_equal(guest_mem_init_file(&a, MEM_SIZE, dup(fd)), 0);
	assert_int_equal(guest_mem_init_file(&b, MEM_SIZE, dup(fd)), 0);
	assert_int_equal(a.host[PAGE], 0x11);
	a.host[PAGE] = 0x22;
	a.host[3 * PAGE] = 0x33; /* a page that is a hole in the file */
	assert_int_equal(b.host[PAGE], 0x11);
	assert_int_equal(b.host[3 * PAGE], 0);
	uint8_t byte;
	assert_int_equal(pread(fd, &byte, 1, PAGE), 1);
	assert_int_equal(byte, 0x11);

	/* Saving a clone picks up its own writes, also in the file's holes. */
	char again[64];
	snprintf(again, sizeof(again), "/tmp/inlay-snapmem2-XXXXXX");
	int fd2 = mkstemp(again);
	assert_true(fd2 >= 0);
	assert_int_equal(snap_mem_write(&a, fd2, &data), 0);
	assert_int_equal(data, 2 * PAGE);
	assert_int_equal(pread(fd2, &byte, 1, 3 * PAGE), 1);
	assert_int_equal(byte, 0x33);
	close(fd2);
	unlink(again);
	guest_mem_finish(&a);
	guest_mem_finish(&b);
}

static void test_gpa(void **state)
{
	struct guest_mem m;
	assert_int_equal(guest_mem_init(&m, MEM_SIZE), 0);
	assert_true(guest_mem_gpa(&m, m.host) == 0);
	assert_true(guest_mem_gpa(&m, m.host + 0x1234) == 0x1234);
	assert_true(guest_mem_gpa(&m, m.host + MEM_SIZE) == UINT64_MAX);
	assert_true(guest_mem_gpa(&m, m.host - 1) == UINT64_MAX);
	guest_mem_finish(&m);
	/* A bad size is refused, and the fd taken either way. */
	int fd = open("/dev/null", O_RDONLY);
	assert_int_not_equal(guest_mem_init_file(&m, 12345, fd), 0);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sparse, file_setup, file_teardown),
	    cmocka_unit_test_setup_teardown(test_private_clones, file_setup, file_teardown),
	    cmocka_unit_test(test_gpa),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
