/*
 * test-maildir - Maildir++ paths, two-phase delivery, quota, tmp cleaning.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "maildir.h"

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static int
setup_dir(void **state)
{
	char tmpl[] = "/tmp/test-maildir.XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	*state = xasprintf("%s/mail/example.org/user", d);
	assert_int_equal(maildir_create(*state), 0);
	return 0;
}

static int
teardown_dir(void **state)
{
	char *dir = *state;
	char *top = xstrdup(dir);

	*strstr(top, "/mail/") = '\0';
	nftw(top, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(top);
	free(dir);
	return 0;
}

static int
count_files(const char *dir, const char *sub)
{
	char *p = xasprintf("%s/%s", dir, sub);
	DIR *d = opendir(p);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	free(p);
	return n;
}

/* Deliver "body" into dir/new; returns the unique name (caller frees). */
static char *
deliver(const char *dir, const char *body)
{
	struct maildir_tmp t;
	int fd = maildir_tmp_create(dir, &t);
	size_t n = strlen(body), lf = 0;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, n), (ssize_t)n);
	close(fd);
	for (size_t i = 0; i < n; i++)
		lf += body[i] == '\n';
	t.size = n;
	t.vsize = n + lf;
	assert_int_equal(maildir_tmp_publish(&t), 0);
	char *u = xstrdup(t.unique);
	maildir_tmp_free(&t);
	return u;
}

static void
test_path(void **state)
{
	static const struct {
		const char *name, *local, *domain, *want;
	} cases[] = {
		{ "plain", "bob", "example.org", "/d/mail/example.org/bob" },
		{ "lowered", "Bob.Smith", "EXAMPLE.org",
		    "/d/mail/example.org/bob.smith" },
		{ "empty local", "", "example.org", NULL },
		{ "empty domain", "bob", "", NULL },
		{ "dot", ".", "example.org", NULL },
		{ "dotdot", "..", "example.org", NULL },
		{ "dotdot domain", "bob", "..", NULL },
		{ "leading dot", ".bob", "example.org", NULL },
		{ "slash", "a/../../etc", "example.org", NULL },
		{ "slash domain", "bob", "x/y", NULL },
		{ "null local", NULL, "example.org", NULL },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = maildir_path("/d", cases[i].local, cases[i].domain);
		print_message("case %s\n", cases[i].name);
		if (cases[i].want == NULL)
			assert_null(p);
		else
			assert_string_equal(p, cases[i].want);
		free(p);
	}
}

static void
test_unique(void **state)
{
	char a[128], b[128];
	(void)state;

	maildir_unique(a, sizeof(a));
	maildir_unique(b, sizeof(b));
	assert_string_not_equal(a, b);
	assert_null(strchr(a, '/'));
	assert_null(strchr(a, ':'));
	assert_null(strchr(a, ','));
	assert_non_null(strstr(a, ".M"));
	assert_non_null(strchr(a, 'Q'));
	assert_non_null(strchr(a, 'R'));
	assert_true(strlen(a) <= 70);
	for (const char *p = a; *p; p++)
		assert_true(*p > 0x20 && *p < 0x7f);	/* UIDL charset */
}

static void
test_name_sizes(void **state)
{
	static const struct {
		const char *name, *file;
		int ret;
		uint64_t s, w;
	} cases[] = {
		{ "both", "123.M1P2.h,S=10,W=12", 0, 10, 12 },
		{ "with flags", "123.h,S=10,W=12:2,RS", 0, 10, 12 },
		{ "reversed", "123.h,W=12,S=10:2,", 0, 10, 12 },
		{ "no W", "123.h,S=10", -1, 10, 0 },
		{ "none", "123.h", -1, 0, 0 },
		{ "after colon ignored", "123.h:2,S=5,W=6", -1, 0, 0 },
		{ "bad digits", "123.h,S=1x,W=2", -1, 0, 2 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t s = 99, w = 99;
		print_message("case %s\n", cases[i].name);
		assert_int_equal(maildir_name_sizes(cases[i].file, &s, &w),
		    cases[i].ret);
		assert_int_equal(s, cases[i].s);
		assert_int_equal(w, cases[i].w);
	}
}

static void
test_publish(void **state)
{
	const char *dir = *state;
	char *u = deliver(dir, "Subject: x\n\nbody\n");
	char *p = xasprintf("%s/new/%s,S=17,W=20", dir, u);
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 17);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(count_files(dir, "tmp"), 0);
	assert_int_equal(count_files(dir, "new"), 1);
	free(p);
	free(u);
}

static void
test_link(void **state)
{
	const char *dir = *state;
	char *dir2 = xasprintf("%s2", dir);
	struct maildir_tmp t, t2;
	int fd;

	assert_int_equal(maildir_create(dir2), 0);
	fd = maildir_tmp_create(dir, &t);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "a\n", 2), 2);
	close(fd);
	t.size = 2;
	t.vsize = 3;
	assert_int_equal(maildir_tmp_link(&t, dir2, &t2), 0);
	assert_string_not_equal(t.unique, t2.unique);
	assert_int_equal(t2.size, 2);
	assert_int_equal(t2.vsize, 3);
	assert_int_equal(maildir_tmp_publish(&t), 0);
	assert_int_equal(maildir_tmp_publish(&t2), 0);
	char *p1 = xasprintf("%s/new/%s,S=2,W=3", dir, t.unique);
	char *p2 = xasprintf("%s/new/%s,S=2,W=3", dir2, t2.unique);
	struct stat s1, s2;
	assert_int_equal(stat(p1, &s1), 0);
	assert_int_equal(stat(p2, &s2), 0);
	assert_int_equal(s1.st_ino, s2.st_ino);
	assert_int_equal(s1.st_nlink, 2);
	maildir_tmp_free(&t);
	maildir_tmp_free(&t2);
	free(p1);
	free(p2);
	free(dir2);
}

static void
test_abort(void **state)
{
	const char *dir = *state;
	struct maildir_tmp t;
	int fd = maildir_tmp_create(dir, &t);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(count_files(dir, "tmp"), 1);
	maildir_tmp_abort(&t);
	maildir_tmp_free(&t);
	assert_null(t.dir);
	assert_int_equal(count_files(dir, "tmp"), 0);
	assert_int_equal(count_files(dir, "new"), 0);
}

static char *
slurp(const char *path)
{
	struct buf b = BUF_INIT;
	char tmp[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		buf_add(&b, tmp, (size_t)n);
	close(fd);
	return b.data;
}

static void
test_quota(void **state)
{
	const char *dir = *state;
	char *sub = xasprintf("%s/.Sent", dir);
	char *msz = xasprintf("%s/maildirsize", dir);
	uint64_t bytes, count;

	free(deliver(dir, "12345\n"));		/* 6 bytes */
	free(deliver(dir, "1234567890\n"));	/* 11 bytes */
	assert_int_equal(maildir_create(sub), 0);
	free(deliver(sub, "abc\n"));		/* 4 bytes */
	/* A foreign file without S=: sized by stat. */
	char *foreign = xasprintf("%s/cur/123.foreign:2,S", dir);
	int fd = open(foreign, O_WRONLY | O_CREAT, 0600);
	assert_int_equal(write(fd, "xy", 2), 2);
	close(fd);

	/* Missing file: recalculated. */
	assert_int_equal(maildir_quota_add(dir, 5, 1), 0);	/* no-op */
	assert_int_equal(maildir_quota_usage(dir, &bytes, &count), 0);
	assert_int_equal(bytes, 23);
	assert_int_equal(count, 4);
	char *data = slurp(msz);
	assert_string_equal(data, "0S\n23 4\n");
	free(data);

	/* Appended lines are summed. */
	assert_int_equal(maildir_quota_add(dir, 100, 1), 0);
	assert_int_equal(maildir_quota_add(dir, -6, -1), 0);
	assert_int_equal(maildir_quota_usage(dir, &bytes, &count), 0);
	assert_int_equal(bytes, 117);
	assert_int_equal(count, 4);

	/* The limit line is kept across a recalculation. */
	assert_int_equal(maildir_quota_set(dir, 1000000), 0);
	data = slurp(msz);
	assert_string_equal(data, "1000000S\n23 4\n");
	free(data);

	/* Too large: recalculated from the directories and shrunk. */
	for (int i = 0; i < 1400; i++)
		assert_int_equal(maildir_quota_add(dir, 1, 0), 0);
	assert_int_equal(maildir_quota_usage(dir, &bytes, &count), 0);
	assert_int_equal(bytes, 23);
	assert_int_equal(count, 4);
	data = slurp(msz);
	assert_string_equal(data, "1000000S\n23 4\n");
	free(data);

	/* Negative sum: recalculated. */
	assert_int_equal(maildir_quota_add(dir, -1000, 0), 0);
	assert_int_equal(maildir_quota_usage(dir, &bytes, &count), 0);
	assert_int_equal(bytes, 23);
	free(foreign);
	free(msz);
	free(sub);
}

static void
test_clean_tmp(void **state)
{
	const char *dir = *state;
	struct maildir_tmp old, fresh, mid;
	struct timespec ts[2];
	int fd;

	fd = maildir_tmp_create(dir, &old);
	close(fd);
	fd = maildir_tmp_create(dir, &fresh);
	close(fd);
	fd = maildir_tmp_create(dir, &mid);
	close(fd);
	char *p = xasprintf("%s/tmp/%s", dir, old.unique);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 37 * 3600;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	free(p);
	p = xasprintf("%s/tmp/%s", dir, mid.unique);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 35 * 3600;
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	free(p);

	maildir_clean_tmp(dir);
	assert_int_equal(count_files(dir, "tmp"), 2);
	p = xasprintf("%s/tmp/%s", dir, old.unique);
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	maildir_tmp_free(&old);
	maildir_tmp_free(&fresh);
	maildir_tmp_free(&mid);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_unique),
		cmocka_unit_test(test_name_sizes),
		cmocka_unit_test_setup_teardown(test_publish, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_link, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_abort, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_quota, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_clean_tmp, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
