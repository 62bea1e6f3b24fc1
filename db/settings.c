/*
 * settings - the mail settings kept in the config database.
 *
 * Every setting is defined once, in setting_defs[], with its type, default,
 * bounds and one line of documentation (`onebox settings` prints them).
 * Values are validated and normalised when set (sizes and integers as
 * decimal, booleans as yes/no, CIDR lists space-separated, ENUM words in
 * lower case), so readers
 * never parse anything but a number or a list.
 *
 * Readers get cached values; the cache is dropped when this handle writes
 * and when PRAGMA data_version shows that another connection committed.
 * A stored value that no longer validates (bounds changed in an upgrade,
 * hand edits) is ignored in favour of the default, with a warning.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "db-int.h"
#include "net.h"

#define KB	((int64_t)1024)
#define MB	(1024 * KB)
#define GB	(1024 * MB)

const struct setting_def setting_defs[] = {
#define SETTING(id, name, type, def, min, max, doc) \
	[ST_##id] = { name, type, def, min, max, doc, NULL },
#define SETTING_ENUM(id, name, def, choices, doc) \
	[ST_##id] = { name, SET_ENUM, def, 0, 0, doc, choices },
#include "settings.def"
#undef SETTING
#undef SETTING_ENUM
	[ST__COUNT] = { NULL, SET_INT, NULL, 0, 0, NULL, NULL },
};

/* fmt_bound - a bound as text, with a K/M/G suffix for sizes. */
static void
fmt_bound(const struct setting_def *d, int64_t v, char *out, size_t len)
{
	if (d->type == SET_SIZE && v > 0)
		str_size_format((uint64_t)v, out, len);
	else
		snprintf(out, len, "%" PRId64, v);
}

static int
parse_number(const struct setting_def *d, const char *s, int64_t *v_r)
{
	uint64_t u;
	char *end;
	long long v;

	if (d->type == SET_SIZE) {
		if (str_size_parse(s, &u) < 0 || u > INT64_MAX)
			return -1;
		*v_r = (int64_t)u;
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -1;
	*v_r = v;
	return 0;
}

static int
parse_bool(const char *s)
{
	static const char *const yes[] = { "yes", "true", "1", "on" };
	static const char *const no[] = { "no", "false", "0", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* enum_index - the position of word s (any case) in d->choices, or -1. */
static int
enum_index(const struct setting_def *d, const char *s)
{
	const char *p = d->choices;
	size_t n = strlen(s);

	for (int i = 0; *p; i++) {
		size_t len = strcspn(p, " ");
		if (len == n && n > 0 && strncasecmp(p, s, n) == 0)
			return i;
		p += len;
		p += strspn(p, " ");
	}
	return -1;
}

/* parse_cidrs - validate a list; *norm_r is the space-joined list. */
static int
parse_cidrs(const struct setting_def *d, const char *s, char **norm_r,
    char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	char *copy = xstrdup(s), *save = NULL;

	buf_adds(&b, "");
	for (char *tok = strtok_r(copy, " \t,", &save); tok;
	    tok = strtok_r(NULL, " \t,", &save)) {
		if (!net_cidr_valid(tok)) {
			snprintf(err, errlen, "%s: '%s' is not an IPv4 or "
			    "IPv6 network (like 192.168.1.0/24)", d->name, tok);
			free(copy);
			buf_free(&b);
			return -1;
		}
		buf_printf(&b, "%s%s", b.len ? " " : "", tok);
	}
	free(copy);
	*norm_r = b.data;
	return 0;
}

/* setting_parse - validate value for d; *norm_r is malloc'd canonical text. */
static int
setting_parse(const struct setting_def *d, const char *value, char **norm_r,
    char *err, size_t errlen)
{
	char lo[32], hi[32];
	int64_t v;
	int b;

	switch (d->type) {
	case SET_STRING:
		*norm_r = xstrdup(value);
		return 0;
	case SET_CIDRS:
		return parse_cidrs(d, value, norm_r, err, errlen);
	case SET_ENUM:
		if (enum_index(d, value) < 0) {
			snprintf(err, errlen, "%s: must be one of: %s", d->name, d->choices);
			return -1;
		}
		*norm_r = str_lower(xstrdup(value));
		return 0;
	case SET_BOOL:
		if ((b = parse_bool(value)) < 0) {
			snprintf(err, errlen, "%s: must be yes or no", d->name);
			return -1;
		}
		*norm_r = xstrdup(b ? "yes" : "no");
		return 0;
	case SET_INT:
	case SET_SIZE:
		break;
	}
	fmt_bound(d, d->min, lo, sizeof(lo));
	fmt_bound(d, d->max, hi, sizeof(hi));
	if (parse_number(d, value, &v) < 0) {
		snprintf(err, errlen, "%s: '%s' is not %s", d->name, value,
		    d->type == SET_SIZE ? "a size (like 25M)" : "a number");
		return -1;
	}
	if (v < d->min || v > d->max) {
		snprintf(err, errlen, "%s: must be between %s and %s",
		    d->name, lo, hi);
		return -1;
	}
	*norm_r = xasprintf("%" PRId64, v);
	return 0;
}

void
db_settings_invalidate(struct db *db)
{
	for (size_t i = 0; i < ST__COUNT; i++) {
		free(db->cache[i]);
		db->cache[i] = NULL;
	}
	db->cache_valid = 0;
}

/* setting_number - the number a valid value of d stands for. */
static int64_t
setting_number(const struct setting_def *d, const char *v)
{
	switch (d->type) {
	case SET_BOOL:
		return parse_bool(v) == 1;
	case SET_INT:
	case SET_SIZE:
		return strtoll(v, NULL, 10);
	case SET_ENUM:
		return enum_index(d, v);
	default:
		return 0;
	}
}

/* settings_store - keep a value read from the table, if it still validates */
static void
settings_store(struct db *db, const char *name, const char *value)
{
	int id = setting_lookup(name);
	char err[256], *norm;

	if (id < 0)
		return;		/* from a newer version, or removed */
	if (setting_parse(&setting_defs[id], value, &norm, err, sizeof(err)) < 0) {
		log_warnx("config db: ignoring stored setting: %s", err);
		return;
	}
	free(db->cache[id]);
	db->cache[id] = norm;
}

/* settings_fill - numbers for every setting, from the cache or the default. */
static void
settings_fill(struct db *db)
{
	for (size_t i = 0; i < ST__COUNT; i++) {
		const struct setting_def *d = &setting_defs[i];
		db->num[i] = setting_number(d, db->cache[i] ? db->cache[i] : d->def);
	}
}

/* settings_load - (re)fill the cache when stale; on error use defaults. */
static void
settings_load(struct db *db)
{
	sqlite3_stmt *st;
	int64_t dv;
	int rc;

	/* A valid cache stays valid until db_changed() (called by the services
	 * once per command or connection) or a local write drops it: checking
	 * PRAGMA data_version on every read cost a fifth of smtpd's CPU. */
	if (db->cache_valid)
		return;
	dv = db_data_version(db);
	db_settings_invalidate(db);
	settings_fill(db);
	if ((st = db_stmt(db, "SELECT name, value FROM settings")) == NULL)
		return;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		settings_store(db, (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_warnx("config db: reading settings: %s",
		    sqlite3_errmsg(db->sq));
		db_settings_invalidate(db);
		settings_fill(db);
		return;
	}
	settings_fill(db);
	db->cache_valid = 1;
	db->dv_cache = dv;
}

int
setting_lookup(const char *name)
{
	for (int i = 0; i < ST__COUNT; i++)
		if (strcmp(setting_defs[i].name, name) == 0)
			return i;
	return -1;
}

const struct setting_def *
setting_find(const char *name)
{
	int id = setting_lookup(name);

	return id < 0 ? NULL : &setting_defs[id];
}

int
db_setting_set(struct db *db, const char *name, const char *value,
    const char **error_r)
{
	const struct setting_def *d = setting_find(name);
	const char *args[2];
	char *norm;
	int r;

	if (d == NULL) {
		*error_r = db_seterr(db, "unknown setting '%s'", name);
		return -1;
	}
	if (setting_parse(d, value, &norm, db->err, sizeof(db->err)) < 0) {
		*error_r = db->err;
		return -1;
	}
	args[0] = d->name;
	args[1] = norm;
	r = db_exec(db, "INSERT OR REPLACE INTO settings (name, value) "
	    "VALUES (?, ?)", 2, args);
	free(norm);
	db_settings_invalidate(db);
	if (r < 0)
		*error_r = db->err;
	return r;
}

int
db_setting_reset(struct db *db, const char *name, const char **error_r)
{
	const struct setting_def *d = setting_find(name);

	if (d == NULL) {
		*error_r = db_seterr(db, "unknown setting '%s'", name);
		return -1;
	}
	db_settings_invalidate(db);
	if (db_exec(db, "DELETE FROM settings WHERE name = ?", 1,
	    &d->name) < 0) {
		*error_r = db->err;
		return -1;
	}
	return 0;
}

const char *
db_setting_str(struct db *db, enum setting_id id)
{
	const char *v;

	settings_load(db);
	v = db->cache[id];
	return v ? v : setting_defs[id].def;
}

int64_t
db_setting_int(struct db *db, enum setting_id id)
{
	settings_load(db);
	return db->num[id];
}
