/*
 * test-index - the per-folder mailbox index: UIDs, sync with the Maildir,
 * flags, expunge, rebuild and recovery, and a 100,000-message timing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>

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
#include "index.h"
#include "log.h"
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
	char tmpl[] = "/tmp/test-index.XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	*state = xstrdup(d);
	return 0;
}

static int
teardown_dir(void **state)
{
	nftw(*state, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(*state);
	return 0;
}

/* Write a message file dir/rel with body. */
static void
put(const char *dir, const char *rel, const char *body)
{
	char *p = xasprintf("%s/%s", dir, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	close(fd);
	free(p);
}

static int
exists(const char *dir, const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel);
	int r = access(p, F_OK) == 0;

	free(p);
	return r;
}

static struct mbox_index *
open_ix(const char *dir)
{
	struct mbox_index *ix;
	const char *err = NULL;

	assert_int_equal(index_open(dir, &ix, &err), 0);
	assert_non_null(ix);
	return ix;
}

/* Open, sync, and list. */
static struct mbox_index *
open_list(const char *dir, int move, struct index_msg **m, size_t *n)
{
	struct mbox_index *ix = open_ix(dir);

	assert_int_equal(index_sync(ix, move), 0);
	assert_int_equal(index_list(ix, m, n), 0);
	assert_int_equal(index_count(ix), *n);
	return ix;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Set a directory's mtime 10 s into the past. */
static void
backdate(const char *dir, const char *sub)
{
	char *p = xasprintf("%s/%s", dir, sub);
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= 10;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	free(p);
}

static void
test_name_flags(void **state)
{
	static const struct {
		const char *name, *file;
		uint32_t flags;
	} cases[] = {
		{ "none", "cur/1.x,S=1,W=2", 0 },
		{ "empty info", "cur/1.x,S=1,W=2:2,", 0 },
		{ "seen", "cur/1.x:2,S", IDX_SEEN },
		{ "all", "cur/1.x:2,DFRST", IDX_SEEN | IDX_ANSWERED |
		    IDX_FLAGGED | IDX_DELETED | IDX_DRAFT },
		{ "keywords ignored", "cur/1.x:2,Sab", IDX_SEEN },
		{ "colon in dir ignored", "a:2,S/1.x", 0 },
		{ "old info", "cur/1.x:1,S", 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %s\n", cases[i].name);
		assert_int_equal(index_name_flags(cases[i].file),
		    cases[i].flags);
	}
}

static void
test_create(void **state)
{
	const char *dir = *state;
	char *folder = xasprintf("%s/a/b", dir);
	struct mbox_index *ix = open_ix(folder);

	assert_true(exists(folder, "tmp") && exists(folder, "new") &&
	    exists(folder, "cur") && exists(folder, INDEX_FILE_NAME));
	assert_int_not_equal(index_uidvalidity(ix), 0);
	assert_int_equal(index_uidnext(ix), 1);
	assert_int_equal(index_count(ix), 0);
	assert_true(index_highestmodseq(ix) >= 1);
	assert_int_equal(index_sync(ix, 1), 0);
	assert_int_equal(index_count(ix), 0);
	index_close(&ix);
	assert_null(ix);
	free(folder);
}

static void
test_sync_order(void **state)
{
	const char *dir = *state;
	static const char *const files[] = {	/* delivery order: 3 1 4 2 0 */
		"new/300.M1P1Q1Rx.h,S=2,W=3",
		"new/100.M5P1Q1Rx.h,S=2,W=3",
		"new/200.M1P1Q1Rx.h,S=2,W=3",
		"new/100.M9P1Q1Rx.h,S=2,W=3",
		"new/100.M10P1Q1Rx.h,S=2,W=3",
	};
	static const char *const want[] = {
		"100.M5P1Q1Rx.h", "100.M9P1Q1Rx.h", "100.M10P1Q1Rx.h",
		"200.M1P1Q1Rx.h", "300.M1P1Q1Rx.h",
	};
	struct index_msg *m;
	size_t n;

	assert_int_equal(maildir_create(dir), 0);
	for (size_t i = 0; i < 5; i++)
		put(dir, files[i], "a\n");
	put(dir, "cur/50.foreign:2,S", "x\ny\n");	/* no sizes in name */
	struct mbox_index *ix = open_list(dir, 0, &m, &n);
	assert_int_equal(n, 6);
	assert_string_equal(m[0].base, "50.foreign");
	assert_int_equal(m[0].size, 4);
	assert_int_equal(m[0].vsize, 6);
	assert_int_equal(m[0].flags, IDX_SEEN);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(m[i + 1].uid, i + 2);
		assert_string_equal(m[i + 1].base, want[i]);
		assert_int_equal(m[i + 1].size, 2);
		assert_int_equal(m[i + 1].vsize, 3);
		assert_int_equal(strncmp(m[i + 1].filename, "new/", 4), 0);
	}
	assert_int_equal(index_uidnext(ix), 7);
	index_msgs_free(m, n);

	/* move_new_to_cur: same UIDs, files in cur/ with ":2,". */
	assert_int_equal(index_sync(ix, 1), 0);
	assert_int_equal(index_list(ix, &m, &n), 0);
	assert_int_equal(n, 6);
	assert_string_equal(m[1].filename, "cur/100.M5P1Q1Rx.h,S=2,W=3:2,");
	assert_int_equal(m[1].uid, 2);
	assert_true(exists(dir, m[1].filename));
	char *path = index_msg_path(ix, &m[1]);
	assert_int_equal(access(path, R_OK), 0);
	free(path);
	index_msgs_free(m, n);
	index_close(&ix);
}

static void
test_uid_not_reused(void **state)
{
	const char *dir = *state;
	struct index_msg *m;
	size_t n;
	uint64_t bytes, count;

	assert_int_equal(maildir_create(dir), 0);
	put(dir, "new/1.M1P1.h,S=10,W=11", "123456789\n");
	put(dir, "new/2.M1P1.h,S=10,W=11", "123456789\n");
	put(dir, "new/3.M1P1.h,S=10,W=11", "123456789\n");
	assert_int_equal(maildir_quota_usage(dir, &bytes, &count), 0);
	assert_int_equal(bytes, 30);
	struct mbox_index *ix = open_list(dir, 1, &m, &n);
	assert_int_equal(n, 3);
	uint64_t ms = index_highestmodseq(ix);
	uint32_t del[] = { 3, 2, 99 };
	assert_int_equal(index_expunge(ix, del, 3), 0);
	assert_false(exists(dir, m[2].filename));
	assert_false(exists(dir, m[1].filename));
	assert_true(exists(dir, m[0].filename));
	assert_int_equal(index_count(ix), 1);
	assert_true(index_highestmodseq(ix) > ms);
	assert_int_equal(maildir_quota_usage(dir, &bytes, &count), 0);
	assert_int_equal(bytes, 10);
	assert_int_equal(count, 1);
	index_msgs_free(m, n);

	put(dir, "new/4.M1P1.h,S=1,W=2", "\n");
	assert_int_equal(index_sync(ix, 1), 0);
	assert_int_equal(index_list(ix, &m, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(m[0].uid, 1);
	assert_int_equal(m[1].uid, 4);
	assert_int_equal(index_uidnext(ix), 5);
	index_msgs_free(m, n);
	index_close(&ix);
}

/* Expunge in a ".Sub" folder is charged to the Maildir++ root. */
static void
test_subfolder_quota(void **state)
{
	const char *dir = *state;
	char *sub = xasprintf("%s/.Sent/", dir);
	uint64_t bytes, count;

	assert_int_equal(maildir_create(dir), 0);
	assert_int_equal(maildir_create(sub), 0);
	put(dir, "new/1.M1P1.h,S=10,W=11", "123456789\n");
	put(sub, "new/2.M1P1.h,S=5,W=6", "1234\n");
	assert_int_equal(maildir_quota_usage(dir, &bytes, &count), 0);
	assert_int_equal(bytes, 15);
	struct mbox_index *ix = open_ix(sub);
	assert_int_equal(index_sync(ix, 1), 0);
	uint32_t uid = 1;
	assert_int_equal(index_expunge(ix, &uid, 1), 0);
	assert_int_equal(index_count(ix), 0);
	assert_int_equal(maildir_quota_usage(dir, &bytes, &count), 0);
	assert_int_equal(bytes, 10);
	assert_int_equal(count, 1);
	char *msz = xasprintf("%s/maildirsize", sub);
	assert_int_equal(access(msz, F_OK), -1);
	free(msz);
	index_close(&ix);
	free(sub);
}

static void
test_external_changes(void **state)
{
	const char *dir = *state;
	struct index_msg *m;
	size_t n;

	assert_int_equal(maildir_create(dir), 0);
	put(dir, "cur/1.M1P1.h,S=1,W=2:2,", "\n");
	put(dir, "cur/2.M1P1.h,S=1,W=2:2,", "\n");
	struct mbox_index *ix = open_list(dir, 1, &m, &n);
	index_msgs_free(m, n);
	uint64_t ms = index_highestmodseq(ix);

	/* Another client deletes one and flags the other. */
	char *a = xasprintf("%s/cur/1.M1P1.h,S=1,W=2:2,", dir);
	char *b = xasprintf("%s/cur/2.M1P1.h,S=1,W=2:2,", dir);
	char *b2 = xasprintf("%s/cur/2.M1P1.h,S=1,W=2:2,FS", dir);
	assert_int_equal(unlink(a), 0);
	assert_int_equal(rename(b, b2), 0);
	assert_int_equal(index_sync(ix, 1), 0);
	assert_int_equal(index_list(ix, &m, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].uid, 2);
	assert_int_equal(m[0].flags, IDX_FLAGGED | IDX_SEEN);
	assert_string_equal(m[0].filename, "cur/2.M1P1.h,S=1,W=2:2,FS");
	assert_true(m[0].modseq > ms);
	assert_int_equal(index_highestmodseq(ix), m[0].modseq);
	index_msgs_free(m, n);
	index_close(&ix);
	free(a);
	free(b);
	free(b2);
}

/* After a sync of old directories, only a directory change rescans. */
static void
test_mtime_skip(void **state)
{
	const char *dir = *state;

	assert_int_equal(maildir_create(dir), 0);
	put(dir, "new/1.M1P1.h,S=1,W=2", "\n");
	put(dir, "cur/2.M1P1.h,S=1,W=2:2,", "\n");
	backdate(dir, "new");
	backdate(dir, "cur");
	struct mbox_index *ix = open_ix(dir);
	assert_int_equal(index_sync(ix, 0), 0);
	assert_int_equal(index_count(ix), 2);

	/* A file slipped in with new/'s mtime restored is not seen: this
	 * proves the scan was skipped. */
	char *nd = xasprintf("%s/new", dir);
	struct stat st;
	assert_int_equal(stat(nd, &st), 0);
	put(dir, "new/0.M1P1.h,S=1,W=2", "\n");
	struct timespec ts[2] = { st.st_mtim, st.st_mtim };
	assert_int_equal(utimensat(AT_FDCWD, nd, ts, 0), 0);
	assert_int_equal(index_sync(ix, 0), 0);
	assert_int_equal(index_count(ix), 2);
	free(nd);

	/* A delivery changes new/'s mtime: noticed. */
	put(dir, "new/3.M1P1.h,S=1,W=2", "\n");
	assert_int_equal(index_sync(ix, 0), 0);
	assert_int_equal(index_count(ix), 4);

	/* Messages left in new/ are moved when asked, even if unchanged. */
	backdate(dir, "new");
	backdate(dir, "cur");
	assert_int_equal(index_sync(ix, 0), 0);
	assert_int_equal(index_sync(ix, 1), 0);
	assert_true(exists(dir, "cur/3.M1P1.h,S=1,W=2:2,"));
	assert_true(exists(dir, "cur/1.M1P1.h,S=1,W=2:2,"));
	index_close(&ix);
}

static void
test_set_flags(void **state)
{
	const char *dir = *state;
	struct index_msg m;

	assert_int_equal(maildir_create(dir), 0);
	put(dir, "cur/1.M1P1.h,S=1,W=2:2,Sa", "\n");
	put(dir, "new/2.M1P1.h,S=1,W=2", "\n");
	struct mbox_index *ix = open_ix(dir);
	assert_int_equal(index_sync(ix, 0), 0);

	assert_int_equal(index_set_flags(ix, 1, IDX_FLAGGED | IDX_DRAFT |
	    IDX_RECENT), 0);
	assert_int_equal(index_get(ix, 1, &m), 0);
	assert_string_equal(m.filename, "cur/1.M1P1.h,S=1,W=2:2,DFa");
	assert_int_equal(m.flags, IDX_FLAGGED | IDX_DRAFT);
	assert_true(exists(dir, m.filename));
	assert_false(exists(dir, "cur/1.M1P1.h,S=1,W=2:2,Sa"));
	uint64_t ms = m.modseq;
	assert_int_equal(index_highestmodseq(ix), ms);
	index_msg_clear(&m);

	/* Unchanged: no modseq bump. */
	assert_int_equal(index_set_flags(ix, 1, IDX_FLAGGED | IDX_DRAFT), 0);
	assert_int_equal(index_highestmodseq(ix), ms);

	/* A message in new/ moves to cur/. */
	assert_int_equal(index_set_flags(ix, 2, IDX_SEEN | IDX_ANSWERED |
	    IDX_DELETED), 0);
	assert_int_equal(index_get(ix, 2, &m), 0);
	assert_string_equal(m.filename, "cur/2.M1P1.h,S=1,W=2:2,RST");
	assert_true(exists(dir, m.filename));
	index_msg_clear(&m);

	assert_int_equal(index_get(ix, 42, &m), 1);
	assert_int_equal(index_set_flags(ix, 42, IDX_SEEN), -1);
	/* A sync after our own renames changes nothing. */
	ms = index_highestmodseq(ix);
	assert_int_equal(index_sync(ix, 1), 0);
	assert_int_equal(index_highestmodseq(ix), ms);
	assert_int_equal(index_count(ix), 2);
	index_close(&ix);
}

/* Deliver three messages, flag one; returns the uidvalidity. */
static uint32_t
fill_three(const char *dir, struct index_msg **m, size_t *n)
{
	assert_int_equal(maildir_create(dir), 0);
	put(dir, "new/1.M1P1.h,S=1,W=2", "\n");
	put(dir, "new/2.M1P1.h,S=1,W=2", "\n");
	put(dir, "new/3.M1P1.h,S=1,W=2", "\n");
	struct mbox_index *ix = open_ix(dir);
	assert_int_equal(index_sync(ix, 1), 0);
	assert_int_equal(index_set_flags(ix, 2, IDX_SEEN), 0);
	assert_int_equal(index_list(ix, m, n), 0);
	uint32_t uv = index_uidvalidity(ix);
	index_close(&ix);
	return uv;
}

static void
assert_same_msgs(const struct index_msg *a, size_t na,
    const struct index_msg *b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_string_equal(a[i].base, b[i].base);
		assert_int_equal(a[i].uid, b[i].uid);
		assert_int_equal(a[i].flags, b[i].flags);
		assert_string_equal(a[i].filename, b[i].filename);
	}
}

static void
test_reopen_stable(void **state)
{
	const char *dir = *state;
	struct index_msg *m, *m2;
	size_t n, n2;
	uint32_t uv = fill_three(dir, &m, &n);
	struct mbox_index *ix = open_list(dir, 1, &m2, &n2);

	assert_int_equal(index_uidvalidity(ix), uv);
	assert_same_msgs(m, n, m2, n2);
	assert_int_equal(m2[1].flags, IDX_SEEN);

	/* A second handle on the same folder sees the same thing. */
	struct index_msg *m3;
	size_t n3;
	struct mbox_index *ix2 = open_list(dir, 1, &m3, &n3);
	assert_same_msgs(m, n, m3, n3);
	index_msgs_free(m3, n3);
	index_close(&ix2);
	index_msgs_free(m, n);
	index_msgs_free(m2, n2);
	index_close(&ix);
}

/* The IMAP cache: absent, put in one batch, read back, no modseq change;
 * an index of version 1 (no body/mime columns) gains them on open. */
static void
test_cache(void **state)
{
	const char *dir = *state;
	struct index_msg *m;
	size_t n;
	uint32_t uv = fill_three(dir, &m, &n), *miss;
	struct mbox_index *ix = open_ix(dir);
	struct index_cache c[2] = { 0 }, got = { 0 };
	uint32_t uids[2] = { 1, 3 };
	uint64_t hm = index_highestmodseq(ix);

	index_msgs_free(m, n);
	assert_int_equal(index_cache_get(ix, 1, &got), 1);
	assert_int_equal(index_cache_missing(ix, 1, 3, &miss, &n), 0);
	assert_int_equal(n, 3);
	free(miss);
	buf_adds(&c[0].envelope, "(env 1)");
	buf_adds(&c[0].mime, "\x01blob");
	buf_adds(&c[1].bodystructure, "(bs 3)");
	buf_adds(&c[1].mime, "x");
	assert_int_equal(index_cache_put(ix, uids, c, 2), 0);
	assert_int_equal(index_cache_missing(ix, 1, 3, &miss, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(miss[0], 2);
	free(miss);
	assert_int_equal(index_cache_get(ix, 1, &got), 0);
	assert_int_equal(got.envelope.len, 7);
	assert_memory_equal(got.envelope.data, "(env 1)", 7);
	assert_int_equal(got.bodystructure.len, 0);
	assert_int_equal(index_cache_get(ix, 3, &got), 0);
	assert_int_equal(got.envelope.len, 0);
	assert_memory_equal(got.bodystructure.data, "(bs 3)", 6);
	index_close(&ix);
	ix = open_ix(dir);
	assert_int_equal(index_highestmodseq(ix), hm);
	assert_int_equal(index_uidvalidity(ix), uv);
	index_close(&ix);

	/* make it a version 1 file again, then open it */
	sqlite3 *db;
	char *path = xasprintf("%s/%s", dir, INDEX_FILE_NAME);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "ALTER TABLE messages DROP COLUMN mime;"
	    "ALTER TABLE messages DROP COLUMN body;"
	    "UPDATE meta SET value = 1 WHERE key = 'version'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(path);
	ix = open_ix(dir);
	assert_int_equal(index_uidvalidity(ix), uv);
	assert_int_equal(index_cache_get(ix, 1, &got), 1);
	assert_int_equal(index_cache_put(ix, uids, c, 1), 0);
	assert_int_equal(index_cache_get(ix, 1, &got), 0);
	assert_memory_equal(got.envelope.data, "(env 1)", 7);
	index_close(&ix);
	index_cache_clear(&c[0]);
	index_cache_clear(&c[1]);
	index_cache_clear(&got);
}

static void
test_rebuild_deleted(void **state)
{
	const char *dir = *state;
	struct index_msg *m, *m2;
	size_t n, n2;
	uint32_t uv = fill_three(dir, &m, &n);
	char *db = xasprintf("%s/%s", dir, INDEX_FILE_NAME);

	assert_int_equal(unlink(db), 0);
	struct mbox_index *ix = open_list(dir, 1, &m2, &n2);
	assert_int_not_equal(index_uidvalidity(ix), uv);
	assert_true(index_uidvalidity(ix) > uv);
	/* UIDL (base), flags and here also UIDs survive. */
	assert_same_msgs(m, n, m2, n2);
	index_msgs_free(m, n);
	index_msgs_free(m2, n2);
	index_close(&ix);
	free(db);
}

static void
test_rebuild_corrupt(void **state)
{
	const char *dir = *state;
	struct index_msg *m, *m2;
	size_t n, n2;
	uint32_t uv = fill_three(dir, &m, &n);
	char *db = xasprintf("%s/%s", dir, INDEX_FILE_NAME);
	char junk[8192];

	memset(junk, 'x', sizeof(junk));
	int fd = open(db, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	log_setlevel(LOG_LVL_ERROR);
	struct mbox_index *ix = open_list(dir, 1, &m2, &n2);
	log_setlevel(LOG_LVL_INFO);
	assert_true(index_uidvalidity(ix) > uv);
	assert_same_msgs(m, n, m2, n2);

	/* The bad file was kept aside for inspection. */
	DIR *d = opendir(dir);
	struct dirent *de;
	int aside = 0;
	while ((de = readdir(d)) != NULL)
		aside += strstr(de->d_name, ".corrupt-") != NULL;
	closedir(d);
	assert_true(aside >= 1);
	index_msgs_free(m, n);
	index_msgs_free(m2, n2);
	index_close(&ix);
	free(db);
}

/* Damage inside the b-trees of a valid file: found by open or sync. */
static void
test_corrupt_pages(void **state)
{
	const char *dir = *state;
	char name[128], junk[4096];
	char *db = xasprintf("%s/%s", dir, INDEX_FILE_NAME);
	struct stat st;

	assert_int_equal(maildir_create(dir), 0);
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "cur/%d.M1P1Q%dR0.h,S=1,W=2:2,S",
		    1000 + i, i);
		put(dir, name, "\n");
	}
	struct mbox_index *ix = open_ix(dir);
	assert_int_equal(index_sync(ix, 1), 0);
	uint32_t uv = index_uidvalidity(ix);
	index_close(&ix);		/* checkpoints the WAL into the file */
	assert_int_equal(stat(db, &st), 0);
	assert_true(st.st_size > 5 * 4096);
	memset(junk, 0x5a, sizeof(junk));
	int fd = open(db, O_WRONLY);
	for (off_t off = 4096; off + 4096 <= st.st_size; off += 4096)
		assert_int_equal(pwrite(fd, junk, sizeof(junk), off), 4096);
	close(fd);

	ix = open_ix(dir);
	assert_int_equal(index_sync(ix, 1), 0);
	assert_int_equal(index_count(ix), 2000);
	assert_true(index_uidvalidity(ix) > uv);
	index_close(&ix);
	free(db);
}

static void
test_large(void **state)
{
	const char *dir = *state;
	enum { N = 100000 };
	char name[128];
	struct index_msg *m;
	size_t n;

	assert_int_equal(maildir_create(dir), 0);
	double t0 = now_s();
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "new/%d.M%dP1Q%dRabcdef01.host,"
		    "S=2,W=3", 1700000000 + i / 1000, i % 1000, i);
		put(dir, name, "a\n");
	}
	double t1 = now_s();
	struct mbox_index *ix = open_ix(dir);
	assert_int_equal(index_sync(ix, 1), 0);
	double t2 = now_s();
	assert_int_equal(index_count(ix), N);
	index_close(&ix);
	print_message("100k: create files %.2fs, first sync %.2fs\n",
	    t1 - t0, t2 - t1);
	assert_true(t2 - t1 < 30.0);

	for (int pass = 0; pass < 2; pass++) {
		double t3 = now_s();
		ix = open_ix(dir);
		assert_int_equal(index_sync(ix, 1), 0);
		double t4 = now_s();
		print_message("100k: reopen + no-change sync %.3fs\n", t4 - t3);
		assert_true(t4 - t3 < 1.0);
		assert_int_equal(index_count(ix), N);
		index_close(&ix);
	}
	/* Directories untouched for a while: the scan is skipped. */
	backdate(dir, "new");
	backdate(dir, "cur");
	ix = open_ix(dir);
	assert_int_equal(index_sync(ix, 1), 0);	/* records the mtimes */
	index_close(&ix);
	double t6 = now_s();
	ix = open_ix(dir);
	assert_int_equal(index_sync(ix, 1), 0);
	print_message("100k: reopen + skipped sync %.4fs\n", now_s() - t6);
	assert_true(now_s() - t6 < 0.5);
	index_close(&ix);

	ix = open_ix(dir);
	double t5 = now_s();
	assert_int_equal(index_list(ix, &m, &n), 0);
	print_message("100k: list %.3fs\n", now_s() - t5);
	assert_int_equal(n, N);
	assert_int_equal(m[0].uid, 1);
	assert_string_equal(m[0].base, "1700000000.M0P1Q0Rabcdef01.host");
	assert_string_equal(m[N - 1].base, "1700000099.M999P1Q99999Rabcdef01.host");
	index_msgs_free(m, n);
	index_close(&ix);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_flags),
		cmocka_unit_test_setup_teardown(test_create, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_sync_order, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_uid_not_reused, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_subfolder_quota, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_external_changes, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_mtime_skip, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_set_flags, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_reopen_stable, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_cache, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_rebuild_deleted, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_rebuild_corrupt, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_corrupt_pages, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_large, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
