/*
 * test-admin - server/admin, the library the CLI and the admin pages
 * share: what it accepts and refuses (with a sentence, never an exit),
 * and the admin accounts and sessions under it (db/db-admins.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "buf.h"
#include "db.h"

struct fx {
	char dir[64];
	struct db *db;
};

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));
	const char *err = NULL;
	char *path;

	strcpy(fx->dir, "/tmp/test-admin-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	path = xasprintf("%s/%s", fx->dir, DB_FILENAME);
	assert_int_equal(db_open(path, DB_READWRITE, &fx->db, &err), 0);
	free(path);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char *cmd = xasprintf("rm -rf '%s'", fx->dir);

	db_close(&fx->db);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(fx);
	return 0;
}

/* expect_err - the call failed with a message containing want (read
 * through errp: arguments are evaluated in no fixed order). */
static void
expect_err(int r, char **errp, const char *want)
{
	char *err = *errp;

	*errp = NULL;
	assert_int_equal(r, -1);
	assert_non_null(err);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	free(err);
}

static void
test_validation(void **state)
{
	char *out, *err = NULL;
	uint64_t q;

	assert_int_equal(adm_address("Bob@EXAMPLE.com", &out, &err), 0);
	assert_string_equal(out, "Bob@example.com");
	free(out);
	assert_int_equal(adm_domain("ËXAMPLE.com", &out, &err), 0);
	assert_string_equal(out, "xn--xample-ova.com");
	free(out);
	expect_err(adm_address("no-at-sign", &out, &err), &err, "not a valid address");
	expect_err(adm_domain("bad domain", &out, &err), &err, "not a valid domain name");
	assert_int_equal(adm_quota("2G", &q, &err), 0);
	assert_int_equal(q, 2ULL << 30);
	assert_int_equal(adm_quota("", &q, &err), 0);
	assert_int_equal(q, 0);
	assert_int_equal(adm_quota("none", &q, &err), 0);
	expect_err(adm_quota("lots", &q, &err), &err, "not a size");
	expect_err(adm_password_ok("", &err), &err, "empty password");
	expect_err(adm_password_ok("a\nb", &err), &err, "control character");
	expect_err(adm_admin_name("a b", &err), &err, "admin name");
	assert_int_equal(adm_admin_name("boss@office", &err), 0);
}

static void
test_actions(void **state)
{
	struct fx *fx = *state;
	struct db_user u;
	char *err = NULL;

	assert_int_equal(adm_domain_add(fx->db, "Example.COM", 0, &err), 0);
	expect_err(adm_domain_add(fx->db, "example.com", 0, &err), &err, "already exists");
	expect_err(adm_user_add(fx->db, "a@other.test", "pw", NULL, &err), &err, "does not exist");
	expect_err(adm_user_add(fx->db, "a@example.com", "", NULL, &err), &err, "empty password");
	assert_int_equal(adm_user_add(fx->db, "a@example.com", "pw", "10M", &err), 0);
	assert_int_equal(db_user_get(fx->db, "a@example.com", &u), 1);
	assert_int_equal(u.quota, 10ULL << 20);
	assert_true(strncmp(u.pwhash, "$y$", 3) == 0);
	assert_int_equal(db_check_password("pw", u.pwhash), 1);
	db_user_free(&u);
	assert_int_equal(adm_user_passwd(fx->db, "a@example.com", "pw2", &err), 0);
	assert_int_equal(adm_user_quota(fx->db, "a@example.com", "none", &err), 0);
	assert_int_equal(adm_user_enable(fx->db, "a@example.com", 0, &err), 0);
	assert_int_equal(db_user_get(fx->db, "a@example.com", &u), 1);
	assert_int_equal(u.quota, 0);
	assert_int_equal(u.enabled, 0);
	assert_int_equal(db_check_password("pw2", u.pwhash), 1);
	db_user_free(&u);
	assert_int_equal(adm_alias_add(fx->db, "team@example.com", "a@example.com", &err), 0);
	expect_err(adm_alias_add(fx->db, "team@example.com", "team@example.com", &err), &err, "itself");
	expect_err(adm_domain_del(fx->db, "example.com", &err), &err, "delete");
	assert_int_equal(adm_alias_del(fx->db, "team@example.com", "a@example.com", &err), 0);
	assert_int_equal(adm_user_del(fx->db, "a@example.com", &err), 0);
	assert_int_equal(adm_domain_del(fx->db, "EXAMPLE.com", &err), 0);
	/* a system domain's users are the CLI's (PAM checks) */
	assert_int_equal(adm_domain_add(fx->db, "unix.test", 1, &err), 0);
	expect_err(adm_user_add(fx->db, "root@unix.test", "pw", NULL, &err), &err, "system domain");
}

static void
test_admins_and_sessions(void **state)
{
	struct fx *fx = *state;
	char *err = NULL, *name = NULL, *csrf = NULL;
	const char *dberr;
	int64_t now = (int64_t)time(NULL);

	assert_int_equal(adm_admin_add(fx->db, "boss", "Secret-1", &err), 0);
	expect_err(adm_admin_add(fx->db, "BOSS", "x", &err), &err, "already exists");
	assert_int_equal(adm_admin_check(fx->db, "boss", "Secret-1"), 1);
	assert_int_equal(adm_admin_check(fx->db, "Boss", "Secret-1"), 1);
	assert_int_equal(adm_admin_check(fx->db, "boss", "secret-1"), 0);
	assert_int_equal(adm_admin_check(fx->db, "nobody", "Secret-1"), 0);
	assert_int_equal(db_admin_session_add(fx->db, "k1", "boss", "c1", now + 60, &dberr), 0);
	assert_int_equal(db_admin_session_add(fx->db, "k2", "boss", "c2", now - 1, &dberr), 0);
	assert_int_equal(db_admin_session_get(fx->db, "k1", now, &name, &csrf), 1);
	assert_string_equal(name, "boss");
	assert_string_equal(csrf, "c1");
	free(name);
	free(csrf);
	assert_int_equal(db_admin_session_get(fx->db, "k2", now, &name, &csrf), 0);	/* expired */
	assert_int_equal(db_admin_session_get(fx->db, "k3", now, &name, &csrf), 0);
	assert_int_equal(adm_admin_del(fx->db, "boss", &err), 0);
	assert_int_equal(db_admin_session_get(fx->db, "k1", now, &name, &csrf), 0);	/* ended */
	expect_err(adm_admin_del(fx->db, "boss", &err), &err, "does not exist");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validation),
		cmocka_unit_test_setup_teardown(test_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admins_and_sessions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
