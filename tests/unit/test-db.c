/*
 * test-db - the config database: migrations, CRUD, resolution, settings,
 * passwords.  Each test gets a fresh database in a temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "db.h"
#include "migrate.h"

static const char *cur_path;	/* the DB file of the running test */

struct fx {
	char dir[64];
	char *path;
	struct db *db;
};

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));
	const char *err = NULL;

	strcpy(fx->dir, "/tmp/test-db-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fx->path = xasprintf("%s/%s", fx->dir, DB_FILENAME);
	cur_path = fx->path;
	assert_int_equal(db_open(fx->path, DB_READWRITE, &fx->db, &err), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char *cmd;

	db_close(&fx->db);
	cmd = xasprintf("rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(fx->path);
	free(fx);
	return 0;
}

#define OK(call) do { const char *err_ = NULL; \
	int r_ = (call); \
	if (r_ != 0) fail_msg("%s: %s", #call, err_ ? err_ : "?"); } while (0)
#define ERR(call, substr) do { const char *err_ = NULL; \
	assert_int_equal((call), -1); assert_non_null(err_); \
	if (strstr(err_, substr) == NULL) \
		fail_msg("%s: error '%s' lacks '%s'", #call, err_, substr); \
	} while (0)

/* raw_alias - insert an alias row behind the API's back, as an older
 * version or a hand edit could have: the resolver must survive loops. */
static void
raw_alias(const char *address, const char *target)
{
	sqlite3 *h;
	char *sql = sqlite3_mprintf("INSERT INTO aliases (address, target) VALUES (%Q, %Q)", address, target);
	assert_int_equal(sqlite3_open(cur_path, &h), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	sqlite3_free(sql);
}

/* fixture - the test world used by the resolve tests */
static void
fixture(struct db *db)
{
	char name[64], next[64];

	OK(db_domain_add(db, "example.com", 0, &err_));
	OK(db_domain_add(db, "Example.ORG", 0, &err_));
	OK(db_domain_add(db, "sys.example", 1, &err_));
	OK(db_user_add(db, "bob@example.com", "$y$x", 0, &err_));
	OK(db_user_add(db, "alice@example.com", "$y$x", 0, &err_));
	OK(db_user_add(db, "Carol@EXAMPLE.com", "$y$x", 0, &err_));
	OK(db_user_add(db, "dis@example.com", "$y$x", 0, &err_));
	OK(db_user_enable(db, "dis@example.com", 0, &err_));
	OK(db_user_add(db, "root@sys.example", "", 0, &err_));
	OK(db_alias_add(db, "team@example.com", "bob@example.com", &err_));
	OK(db_alias_add(db, "team@example.com", "alice@example.com", &err_));
	OK(db_alias_add(db, "team@example.com", "ext@other.net", &err_));
	OK(db_alias_add(db, "nested@example.com", "team@example.com", &err_));
	OK(db_alias_add(db, "nested@example.com", "carol@example.com", &err_));
	OK(db_alias_add(db, "nested@example.com", "BOB@example.com", &err_));
	/* loop1 <-> loop2, and loop3 -> { bob, loop4 -> loop3 } */
	OK(db_alias_add(db, "loop1@example.com", "bob@example.com", &err_));
	OK(db_alias_add(db, "loop2@example.com", "loop1@example.com", &err_));
	ERR(db_alias_add(db, "loop1@example.com", "loop2@example.com", &err_), "would create an alias loop");
	raw_alias("loop1@example.com", "loop2@example.com");
	OK(db_alias_del(db, "loop1@example.com", "bob@example.com", &err_));
	OK(db_alias_add(db, "loop3@example.com", "bob@example.com", &err_));
	OK(db_alias_add(db, "loop4@example.com", "loop3@example.com", &err_));
	ERR(db_alias_add(db, "loop3@example.com", "loop4@example.com", &err_), "would create an alias loop");
	raw_alias("loop3@example.com", "loop4@example.com");
	OK(db_alias_add(db, "off@example.com", "dis@example.com", &err_));
	OK(db_alias_add(db, "fwd@example.com", "someone@gmail.com", &err_));
	/* chain d0 -> d1 -> ... -> d11 -> alice: 12 levels */
	OK(db_alias_add(db, "d11@example.com", "alice@example.com", &err_));
	for (int i = 10; i >= 0; i--) {
		snprintf(name, sizeof(name), "d%d@example.com", i);
		snprintf(next, sizeof(next), "d%d@example.com", i + 1);
		OK(db_alias_add(db, name, next, &err_));
	}
	OK(db_catchall_set(db, "example.org", "team@example.com", &err_));
}

static void
test_migrate(void **state)
{
	struct fx *fx = *state;
	struct db *db2 = NULL;
	const char *err = NULL;

	assert_int_equal(db_user_version(fx->db), db_schema_version());
	/* reopening (read-write and read-only) does not migrate again */
	db_close(&fx->db);
	assert_int_equal(db_open(fx->path, DB_READWRITE, &fx->db, &err), 0);
	assert_int_equal(db_open(fx->path, DB_READONLY, &db2, &err), 0);
	assert_int_equal(db_user_version(db2), db_schema_version());
	db_close(&db2);
	assert_null(db2);
	/* read-only alone, with no -wal/-shm left by a writer */
	db_close(&fx->db);
	assert_int_equal(db_open(fx->path, DB_READONLY, &db2, &err), 0);
	assert_int_equal(db_setting_int(db2, ST_MAX_RECIPIENTS), 100);
	assert_int_equal(db_changed(db2), 0);
	db_close(&db2);
	assert_int_equal(db_open(fx->path, DB_READWRITE, &fx->db, &err), 0);
	/* a read-only open of a missing file fails with a message */
	assert_int_equal(db_open("/nonexistent/x.db", DB_READONLY, &db2,
	    &err), -1);
	assert_null(db2);
	assert_non_null(strstr(err, "/nonexistent/x.db"));
}

static void
count_domain(const struct db_domain *d, void *ctx)
{
	struct buf *b = ctx;

	buf_printf(b, "%s:%d:%s;", d->name, d->system,
	    d->catchall ? d->catchall : "-");
}

static void
test_domains(void **state)
{
	struct db *db = ((struct fx *)*state)->db;
	struct db_domain d;
	struct buf b = BUF_INIT;

	OK(db_domain_add(db, "B.example", 0, &err_));
	OK(db_domain_add(db, "a.example", 1, &err_));
	ERR(db_domain_add(db, "b.EXAMPLE", 0, &err_), "already exists");
	ERR(db_domain_add(db, "bad domain", 0, &err_), "not a valid domain");
	ERR(db_domain_add(db, "-bad.example", 0, &err_), "not a valid domain");
	assert_int_equal(db_domain_get(db, "B.Example", &d), 1);
	assert_string_equal(d.name, "b.example");
	assert_int_equal(d.system, 0);
	assert_null(d.catchall);
	db_domain_free(&d);
	assert_int_equal(db_domain_get(db, "c.example", &d), 0);
	ERR(db_catchall_set(db, "b.example", "Postmaster@A.Example", &err_),
	    "neither a user nor an alias");
	OK(db_user_add(db, "Postmaster@a.example", "", 0, &err_));
	OK(db_catchall_set(db, "b.example", "Postmaster@A.Example", &err_));
	ERR(db_catchall_set(db, "c.example", "x@a.example", &err_),
	    "does not exist");
	ERR(db_catchall_set(db, "b.example", "nobody", &err_), "not an address");
	assert_int_equal(db_domain_list(db, count_domain, &b), 0);
	assert_string_equal(b.data,
	    "a.example:1:-;b.example:0:Postmaster@a.example;");
	OK(db_catchall_clear(db, "b.example", &err_));
	OK(db_user_del(db, "postmaster@a.example", &err_));
	OK(db_user_add(db, "x@b.example", "", 0, &err_));
	ERR(db_domain_del(db, "b.example", &err_), "has 1 user");
	OK(db_user_del(db, "X@b.example", &err_));
	OK(db_alias_add(db, "al@b.example", "x@elsewhere.net", &err_));
	ERR(db_domain_del(db, "b.example", &err_), "has 1 alias");
	OK(db_alias_del(db, "al@b.example", NULL, &err_));
	OK(db_domain_del(db, "B.EXAMPLE", &err_));
	ERR(db_domain_del(db, "b.example", &err_), "does not exist");
	buf_free(&b);
}

static void
list_user(const struct db_user *u, void *ctx)
{
	buf_printf(ctx, "%s:%" PRIu64 ":%d:%d;", u->address, u->quota,
	    u->enabled, u->system);
}

static void
test_users(void **state)
{
	struct db *db = ((struct fx *)*state)->db;
	struct db_user u;
	struct buf b = BUF_INIT;

	OK(db_domain_add(db, "example.com", 0, &err_));
	OK(db_domain_add(db, "sys.example", 1, &err_));
	OK(db_user_add(db, "Bob@Example.COM", "$y$h1", 1000, &err_));
	ERR(db_user_add(db, "bob@example.com", "", 0, &err_),
	    "user bob@example.com already exists");
	ERR(db_user_add(db, "bob@example.org", "", 0, &err_),
	    "domain example.org does not exist; add it with: onebox domain "
	    "add example.org");
	ERR(db_user_add(db, "bob", "", 0, &err_), "not a valid address");
	OK(db_alias_add(db, "team@example.com", "bob@example.com", &err_));
	ERR(db_user_add(db, "team@example.com", "", 0, &err_), "is an alias");
	OK(db_user_add(db, "root@sys.example", NULL, 0, &err_));
	OK(db_user_add(db, "pam@example.com", "", 0, &err_));
	assert_int_equal(db_user_get(db, "pam@example.com", &u), 1);
	assert_int_equal(u.system, 1);
	db_user_free(&u);
	OK(db_user_del(db, "pam@example.com", &err_));

	assert_int_equal(db_user_get(db, "BOB@example.com", &u), 1);
	assert_string_equal(u.address, "Bob@example.com");
	assert_string_equal(u.localpart, "Bob");
	assert_string_equal(u.domain, "example.com");
	assert_string_equal(u.pwhash, "$y$h1");
	assert_int_equal(u.quota, 1000);
	assert_int_equal(u.enabled, 1);
	assert_int_equal(u.system, 0);
	db_user_free(&u);
	assert_int_equal(db_user_get(db, "nobody@example.com", &u), 0);

	OK(db_user_passwd(db, "bob@example.com", "$y$h2", &err_));
	OK(db_user_quota(db, "bob@example.com", 0, &err_));
	OK(db_user_enable(db, "bob@example.com", 0, &err_));
	ERR(db_user_passwd(db, "nobody@example.com", "", &err_),
	    "user nobody@example.com does not exist");
	ERR(db_user_del(db, "nobody@example.com", &err_), "does not exist");
	assert_int_equal(db_user_list(db, NULL, list_user, &b), 0);
	assert_string_equal(b.data,
	    "Bob@example.com:0:0:0;root@sys.example:0:1:1;");
	buf_reset(&b);
	assert_int_equal(db_user_list(db, "sys.example", list_user, &b), 0);
	assert_string_equal(b.data, "root@sys.example:0:1:1;");
	buf_free(&b);
}

static void
list_alias(const char *a, const char *t, void *ctx)
{
	buf_printf(ctx, "%s>%s;", a, t);
}

static void
test_aliases(void **state)
{
	struct db *db = ((struct fx *)*state)->db;
	struct buf b = BUF_INIT;

	OK(db_domain_add(db, "example.com", 0, &err_));
	OK(db_domain_add(db, "example.org", 0, &err_));
	OK(db_user_add(db, "bob@example.com", "", 0, &err_));
	OK(db_alias_add(db, "sales@example.com", "bob@example.com", &err_));
	OK(db_alias_add(db, "sales@example.com", "x@EXTERNAL.net", &err_));
	OK(db_alias_add(db, "info@example.org", "sales@example.com", &err_));
	ERR(db_alias_add(db, "Sales@example.com", "BOB@example.com", &err_),
	    "already exists");
	ERR(db_alias_add(db, "bob@example.com", "x@y.net", &err_),
	    "is a user");
	ERR(db_alias_add(db, "a@nowhere.net", "bob@example.com", &err_),
	    "domain nowhere.net does not exist");
	ERR(db_alias_add(db, "a@example.com", "a@example.com", &err_),
	    "itself");
	ERR(db_alias_add(db, "a@example.com", "typo@example.com", &err_),
	    "neither a user nor an alias");
	ERR(db_alias_add(db, "a@example.com", "nodomain", &err_),
	    "not a valid address");
	assert_int_equal(db_alias_list(db, NULL, list_alias, &b), 0);
	assert_string_equal(b.data, "info@example.org>sales@example.com;"
	    "sales@example.com>bob@example.com;"
	    "sales@example.com>x@external.net;");
	buf_reset(&b);
	assert_int_equal(db_alias_list(db, "Example.ORG", list_alias, &b), 0);
	assert_string_equal(b.data, "info@example.org>sales@example.com;");
	OK(db_alias_del(db, "sales@example.com", "X@external.net", &err_));
	ERR(db_alias_del(db, "sales@example.com", "X@external.net", &err_),
	    "does not exist");
	OK(db_alias_del(db, "info@example.org", NULL, &err_));
	ERR(db_alias_del(db, "info@example.org", NULL, &err_),
	    "alias info@example.org does not exist");
	buf_free(&b);
}

struct resolve_case {
	const char *name;
	const char *address;
	enum db_resolve result;
	const char *targets;	/* "addr/L addr/E ..." sorted, or NULL */
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
targets_text(const struct db_targets *t, struct buf *b)
{
	char **v = xcalloc(t->n + 1, sizeof(*v));

	for (size_t i = 0; i < t->n; i++)
		v[i] = xasprintf("%s/%c", t->v[i].address,
		    t->v[i].route.kind == ROUTE_LOCAL ? 'L' : 'E');
	qsort(v, t->n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < t->n; i++) {
		buf_printf(b, "%s%s", i ? " " : "", v[i]);
		free(v[i]);
	}
	buf_adds(b, "");
	free(v);
}

static const struct resolve_case resolve_cases[] = {
	{ "user", "bob@example.com", DB_RESOLVE_OK, "bob@example.com/L" },
	{ "user mixed case", "CAROL@Example.Com", DB_RESOLVE_OK,
	  "Carol@example.com/L" },
	{ "system user", "root@sys.example", DB_RESOLVE_OK,
	  "root@sys.example/L" },
	{ "disabled user", "dis@example.com", DB_RESOLVE_DISABLED, NULL },
	{ "alias fan-out", "team@example.com", DB_RESOLVE_OK,
	  "alice@example.com/L bob@example.com/L ext@other.net/E" },
	{ "nested alias, deduplicated", "Nested@example.com", DB_RESOLVE_OK,
	  "Carol@example.com/L alice@example.com/L bob@example.com/L "
	  "ext@other.net/E" },
	{ "pure loop", "loop1@example.com", DB_RESOLVE_LOOP, NULL },
	{ "loop with a way out", "loop3@example.com", DB_RESOLVE_OK,
	  "bob@example.com/L" },
	{ "loop entered from the other side", "loop4@example.com",
	  DB_RESOLVE_OK, "bob@example.com/L" },
	{ "alias to disabled user", "off@example.com", DB_RESOLVE_DISABLED,
	  NULL },
	{ "external target", "fwd@example.com", DB_RESOLVE_OK,
	  "someone@gmail.com/E" },
	{ "too deep", "d0@example.com", DB_RESOLVE_LOOP, NULL },
	{ "deep but within limit", "d2@example.com", DB_RESOLVE_OK,
	  "alice@example.com/L" },
	{ "catch-all", "anything@EXAMPLE.org", DB_RESOLVE_OK,
	  "alice@example.com/L bob@example.com/L ext@other.net/E" },
	{ "unknown, no catch-all", "nobody@example.com", DB_RESOLVE_UNKNOWN,
	  NULL },
	{ "not local", "bob@other.net", DB_RESOLVE_NOTLOCAL, NULL },
	{ "no domain", "bob", DB_RESOLVE_NOTLOCAL, NULL },
};

static void
test_resolve(void **state)
{
	struct db *db = ((struct fx *)*state)->db;
	struct db_targets t;
	struct buf b = BUF_INIT;

	fixture(db);
	for (size_t i = 0; i < sizeof(resolve_cases) /
	    sizeof(resolve_cases[0]); i++) {
		const struct resolve_case *c = &resolve_cases[i];
		enum db_resolve r = db_resolve(db, c->address, &t);

		buf_reset(&b);
		targets_text(&t, &b);
		if (r != c->result)
			fail_msg("%s: result %d, expected %d (%s)", c->name,
			    r, c->result, b.data);
		if (strcmp(b.data, c->targets ? c->targets : "") != 0)
			fail_msg("%s: targets '%s', expected '%s'", c->name,
			    b.data, c->targets ? c->targets : "");
		db_targets_free(&t);
	}
	buf_free(&b);
}

static void
test_resolve_fanout_limit(void **state)
{
	struct db *db = ((struct fx *)*state)->db;
	struct db_targets t;
	char target[64];

	OK(db_domain_add(db, "example.com", 0, &err_));
	for (int i = 0; i < 1001; i++) {
		snprintf(target, sizeof(target), "t%d@far.net", i);
		OK(db_alias_add(db, "big@example.com", target, &err_));
	}
	assert_int_equal(db_resolve(db, "big@example.com", &t),
	    DB_RESOLVE_LOOP);
	assert_int_equal(t.n, 0);
	OK(db_alias_del(db, "big@example.com", "t0@far.net", &err_));
	assert_int_equal(db_resolve(db, "big@example.com", &t), DB_RESOLVE_OK);
	assert_int_equal(t.n, 1000);
	db_targets_free(&t);
}

static void
test_sender_allowed(void **state)
{
	static const struct {
		const char *name, *user, *sender;
		int allowed;
	} cases[] = {
		{ "own address", "bob@example.com", "bob@example.com", 1 },
		{ "own, other case", "bob@example.com", "BOB@Example.com", 1 },
		{ "alias to user, not allowed", "bob@example.com",
		  "team@example.com", 0 },
		{ "alias allowed", "alice@example.com", "team@example.com", 1 },
		{ "alias allowed, other case", "ALICE@example.com",
		  "Team@example.com", 1 },
		{ "nested alias, not allowed", "Carol@example.com",
		  "nested@example.com", 0 },
		{ "alias not to user", "Carol@example.com", "team@example.com",
		  0 },
		{ "another user", "bob@example.com", "alice@example.com", 0 },
		{ "catch-all is not a sender", "bob@example.com",
		  "x@example.org", 0 },
		{ "unknown", "bob@example.com", "x@example.com", 0 },
		{ "foreign", "bob@example.com", "bob@gmail.com", 0 },
	};
	struct db *db = ((struct fx *)*state)->db;
	const char *err;

	fixture(db);
	/* the right is explicit, and not tied to being a target */
	OK(db_alias_sender_add(db, "team@example.com", "alice@example.com", &err_));
	assert_int_equal(db_alias_sender_add(db, "bob@example.com",
	    "alice@example.com", &err), -1);
	assert_int_equal(db_alias_sender_add(db, "team@example.com",
	    "nobody@example.com", &err), -1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = db_sender_allowed(db, cases[i].user, cases[i].sender);
		if (r != cases[i].allowed)
			fail_msg("%s: %d", cases[i].name, r);
	}
	OK(db_alias_sender_del(db, "team@example.com", "alice@example.com", &err_));
	assert_int_equal(db_sender_allowed(db, "alice@example.com", "team@example.com"), 0);
	assert_int_equal(db_alias_sender_del(db, "team@example.com",
	    "alice@example.com", &err), -1);
	/* deleting the user takes its rights with it */
	OK(db_alias_sender_add(db, "team@example.com", "alice@example.com", &err_));
	OK(db_user_del(db, "alice@example.com", &err_));
	OK(db_user_add(db, "alice@example.com", "$y$x", 0, &err_));
	assert_int_equal(db_sender_allowed(db, "alice@example.com", "team@example.com"), 0);
}

static void
test_settings(void **state)
{
	static const struct {
		const char *name, *key, *value, *error, *stored;
	} cases[] = {
		{ "int", "max_recipients", "200", NULL, "200" },
		{ "int low", "max_recipients", "0", "max_recipients: must be "
		  "between 1 and 10000", NULL },
		{ "int high", "max_recipients", "10001", "between 1 and 10000",
		  NULL },
		{ "int junk", "max_recipients", "12x", "not a number", NULL },
		{ "size suffix", "max_message_size", "10M", NULL, "10485760" },
		{ "size plain", "max_message_size", "2048", NULL, "2048" },
		{ "size low", "max_message_size", "1000",
		  "max_message_size: must be between 1K and 2G", NULL },
		{ "size high", "max_message_size", "3G", "between 1K and 2G",
		  NULL },
		{ "cidrs", "trusted_networks", "10.0.0.0/8, ::1 192.168.1.5/32",
		  NULL, "10.0.0.0/8 ::1 192.168.1.5/32" },
		{ "cidrs v6", "trusted_networks", "2001:db8::/32", NULL,
		  "2001:db8::/32" },
		{ "cidrs empty", "trusted_networks", "", NULL, "" },
		{ "cidrs bad prefix", "trusted_networks", "10.0.0.0/33",
		  "'10.0.0.0/33' is not", NULL },
		{ "cidrs bad host", "trusted_networks", "example.com",
		  "trusted_networks: 'example.com' is not", NULL },
		{ "enum", "smtp_bare_line_ends", "Normalize", NULL, "normalize" },
		{ "enum bad", "smtp_bare_line_ends", "norm", "smtp_bare_line_ends: "
		  "must be one of: reject normalize", NULL },
		{ "enum empty", "smtp_bare_line_ends", "", "must be one of", NULL },
		{ "unknown", "no_such_key", "1", "unknown setting 'no_such_key'",
		  NULL },
	};
	struct db *db = ((struct fx *)*state)->db;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *err = NULL;
		int r = db_setting_set(db, cases[i].key, cases[i].value, &err);

		if (cases[i].error == NULL) {
			if (r != 0)
				fail_msg("%s: %s", cases[i].name, err);
			assert_string_equal(db_setting_str(db, setting_lookup(cases[i].key)),
			    cases[i].stored);
		} else if (r != -1 || strstr(err, cases[i].error) == NULL)
			fail_msg("%s: r=%d err=%s", cases[i].name, r,
			    err ? err : "(null)");
	}
	/* every default validates and is within its bounds */
	for (const struct setting_def *d = setting_defs; d->name; d++) {
		OK(db_setting_reset(db, d->name, &err_));
		assert_string_equal(db_setting_str(db, setting_lookup(d->name)), d->def);
		OK(db_setting_set(db, d->name, d->def, &err_));
	}
	assert_int_equal(db_setting_int(db, ST_MAX_MESSAGE_SIZE), 26214400);
	assert_int_equal(db_setting_int(db, ST_SMTP_IDLE_TIMEOUT), 300);
	assert_string_equal(db_setting_str(db, ST_TRUSTED_NETWORKS), "");
	assert_int_equal(db_setting_int(db, ST_SMTP_BARE_LINE_ENDS), 0);
	OK(db_setting_set(db, "smtp_bare_line_ends", "normalize", &err_));
	assert_int_equal(db_setting_int(db, ST_SMTP_BARE_LINE_ENDS), 1);
	assert_null(setting_find("nope"));
}

static void
test_settings_two_connections(void **state)
{
	struct fx *fx = *state;
	struct db *ro = NULL;
	const char *err = NULL;

	assert_int_equal(db_open(fx->path, DB_READONLY, &ro, &err), 0);
	assert_int_equal(db_setting_int(ro, ST_MAX_RECIPIENTS), 100);
	assert_int_equal(db_changed(ro), 0);
	OK(db_setting_set(fx->db, "max_recipients", "7", &err_));
	/* the reader's cache holds until it asks db_changed, which reports
	 * the change once and drops the cache */
	assert_int_equal(db_setting_int(ro, ST_MAX_RECIPIENTS), 100);
	assert_int_equal(db_changed(ro), 1);
	assert_int_equal(db_setting_int(ro, ST_MAX_RECIPIENTS), 7);
	assert_int_equal(db_changed(ro), 0);
	OK(db_domain_add(fx->db, "example.com", 0, &err_));
	assert_int_equal(db_changed(ro), 1);
	assert_int_equal(db_changed(fx->db), 0);	/* own writes */
	OK(db_setting_reset(fx->db, "max_recipients", &err_));
	assert_int_equal(db_setting_int(fx->db, ST_MAX_RECIPIENTS), 100);
	assert_int_equal(db_changed(ro), 1);
	assert_int_equal(db_setting_int(ro, ST_MAX_RECIPIENTS), 100);
	/* a read-only handle cannot write */
	assert_int_equal(db_setting_set(ro, "max_recipients", "5", &err), -1);
	db_close(&ro);
}

static void
test_password(void **state)
{
	char *h = db_hash_password("s3cret pass");
	char *h2 = db_hash_password("s3cret pass");

	assert_non_null(h);
	assert_non_null(h2);
	assert_int_equal(strncmp(h, "$y$", 3), 0);
	assert_string_not_equal(h, h2);		/* salted */
	assert_int_equal(db_check_password("s3cret pass", h), 1);
	assert_int_equal(db_check_password("s3cret pasS", h), 0);
	assert_int_equal(db_check_password("", h), 0);
	assert_int_equal(db_check_password("s3cret pass", ""), 0);
	assert_int_equal(db_check_password("s3cret pass", "!"), 0);
	assert_int_equal(db_check_password("s3cret pass", NULL), 0);
	free(h);
	free(h2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aliases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_fanout_limit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sender_allowed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_two_connections,
		    setup, teardown),
		cmocka_unit_test(test_password),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
