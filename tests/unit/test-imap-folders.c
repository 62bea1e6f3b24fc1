/*
 * test-imap-folders - the folder store IMAP uses (server/mail/index-folder.c):
 * names to Maildir++ directories and back, the standard folders at first
 * login only, create with parents, delete (children refused, quota given
 * back), rename of a subtree and of INBOX, subscriptions; and modified
 * UTF-7 validation (imap/imap-parse.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "index.h"
#include "maildir.h"
#include "imap/imap-parse.h"

static char root[256];

static int
setup(void **state)
{
	strcpy(root, "/tmp/test-imap-folders-XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	return index_folders_init(root);
}

static int
teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static int
exists(const char *rel)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return stat(path, &st) == 0;
}

static char *
names(void)
{
	struct index_folder *f;
	struct buf b = BUF_INIT;
	size_t n;

	assert_int_equal(index_folder_list(root, &f, &n), 0);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s%s%s", i ? " " : "", f[i].name, f[i].has_children ? "+" : "",
		    f[i].special_use ? "*" : "");
	index_folders_free(f, n);
	return b.data;
}

static void
test_dir_mapping(void **state)
{
	char *d;

	assert_string_equal(d = index_folder_dir("/r", "inbox"), "/r");
	free(d);
	assert_string_equal(d = index_folder_dir("/r", "A/B"), "/r/.A.B");
	free(d);
	assert_string_equal(d = index_folder_dir("/r", "Dr. Who\\x"), "/r/.Dr\\2e Who\\5cx");
	free(d);
	assert_null(index_folder_dir("/r", "a//b"));
	assert_null(index_folder_dir("/r", "/a"));
	assert_null(index_folder_dir("/r", "a/"));
	assert_null(index_folder_dir("/r", "a*"));
	assert_null(index_folder_dir("/r", ""));
}

static void
test_standard_folders_once(void **state)
{
	char *n = names();

	assert_string_equal(n, "INBOX Archive* Drafts* Junk* Sent* Trash*");
	free(n);
	assert_true(exists(".Junk/maildirfolder"));
	assert_int_equal(index_folder_delete(root, "Junk"), 0);
	assert_int_equal(index_folders_init(root), 0);	/* a later login */
	n = names();
	assert_string_equal(n, "INBOX Archive* Drafts* Sent* Trash*");
	free(n);
}

static void
test_create_delete_rename(void **state)
{
	char *n;

	assert_int_equal(index_folder_create(root, "W/2024/Q1"), 0);
	assert_true(exists(".W/cur") && exists(".W.2024/cur") && exists(".W.2024.Q1/cur"));
	assert_int_equal(index_folder_create(root, "W"), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(index_folder_create(root, "INBOX"), -1);
	assert_int_equal(index_folder_delete(root, "W"), -1);
	assert_int_equal(errno, ENOTEMPTY);
	assert_int_equal(index_folder_rename(root, "W", "X/Y"), 0);
	n = names();
	assert_string_equal(n, "INBOX Archive* Drafts* Junk* Sent* Trash* X+ X/Y+ X/Y/2024+ X/Y/2024/Q1");
	free(n);
	assert_int_equal(index_folder_delete(root, "X/Y/2024/Q1"), 0);
	assert_int_equal(index_folder_delete(root, "X/Y/2024/Q1"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(index_folder_delete(root, "INBOX"), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(index_folder_rename(root, "Sent", "Drafts"), -1);
	assert_int_equal(errno, EEXIST);
}

static void
test_rename_inbox_and_quota(void **state)
{
	char path[600];
	uint64_t bytes, count;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cur/1.M1P1.x,S=5,W=6:2,S", root);
	assert_non_null(f = fopen(path, "w"));
	fputs("abcd\n", f);
	fclose(f);
	assert_int_equal(maildir_quota_set(root, 0), 0);
	assert_int_equal(index_folder_rename(root, "INBOX", "Old"), 0);
	assert_false(exists("cur/1.M1P1.x,S=5,W=6:2,S"));
	assert_true(exists(".Old/cur/1.M1P1.x,S=5,W=6:2,S"));
	assert_int_equal(maildir_quota_usage(root, &bytes, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(index_folder_delete(root, "Old"), 0);
	assert_int_equal(maildir_quota_usage(root, &bytes, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(bytes, 0);
}

static void
test_subscriptions(void **state)
{
	char **s;
	size_t n;

	assert_int_equal(index_subscribe(root, "News", 1), 0);
	assert_int_equal(index_subscribe(root, "News", 1), 0);
	assert_int_equal(index_subscribe(root, "Junk", 0), 0);
	assert_int_equal(index_subscriptions(root, &s, &n), 0);
	assert_int_equal(n, 6);
	assert_string_equal(s[0], "INBOX");
	assert_string_equal(s[5], "News");
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(s[i], "Junk");
	index_names_free(s, n);
}

static void
test_mutf7(void **state)
{
	static const char *const good[] = { "INBOX", "Entw&APw-rfe", "&-", "a&-b", "&Jjo-", "&ZeVnLIqe-", "" };
	static const char *const bad[] = { "&", "&Jjo", "&A-", "&AAAA-", "caf\xc3\xa9", "tab\there", "&!-" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!imap_mutf7_valid(good[i]))
			fail_msg("'%s' refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (imap_mutf7_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir_mapping),
		cmocka_unit_test_setup_teardown(test_standard_folders_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_delete_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_inbox_and_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscriptions, setup, teardown),
		cmocka_unit_test(test_mutf7),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
