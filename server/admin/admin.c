/*
 * admin - validation and actions shared by the CLI and the admin pages
 * (see admin.h).  Moved here from server/ctl/, whose helpers exited.
 */
#include "admin.h"
#include "addr.h"
#include "buf.h"
#include "db.h"
#include "str.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* fail - set *err_r; returns -1. */
static int
fail(char **err_r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(char **err_r, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	*err_r = b.data;
	return -1;
}

int
adm_address(const char *s, char **out_r, char **err_r)
{
	struct mailaddr a;
	const char *err;
	char out[ADDR_FORMAT_MAX];

	if (addr_parse(s, ADDR_ALLOW_UTF8, &a, &err) < 0)
		return fail(err_r, "'%s': not a valid address (%s)", s, err);
	if (addr_domain_to_ascii(a.domain, &err) < 0)
		return fail(err_r, "'%s': not a valid international domain name (%s)", s, err);
	addr_format(&a, out, sizeof(out));
	*out_r = xstrdup(out);
	return 0;
}

int
adm_domain(const char *s, char **out_r, char **err_r)
{
	char d[ADDR_DOMAIN_MAX + 1];
	const char *err;

	/* stored and compared as A-labels, as the SMTP server sees them */
	if (strlen(s) > ADDR_DOMAIN_MAX || !addr_domain_valid(s, ADDR_ALLOW_UTF8))
		return fail(err_r, "'%s': not a valid domain name", s);
	str_lcpy(d, s, sizeof(d));
	if (addr_domain_to_ascii(str_lower(d), &err) < 0)
		return fail(err_r, "'%s': not a valid international domain name (%s)", s, err);
	*out_r = xstrdup(d);
	return 0;
}

int
adm_quota(const char *s, uint64_t *q_r, char **err_r)
{
	uint64_t v;

	if (s == NULL || s[0] == '\0' || strcasecmp(s, "none") == 0 || strcasecmp(s, "unlimited") == 0) {
		*q_r = 0;
		return 0;
	}
	if (str_size_parse(s, &v) < 0 || v > INT64_MAX)
		return fail(err_r, "'%s': not a size (like 500M, 2G, or none)", s);
	*q_r = v;
	return 0;
}

int
adm_password_ok(const char *pw, char **err_r)
{
	if (pw == NULL || pw[0] == '\0')
		return fail(err_r, "empty password");
	if (strlen(pw) > ADM_PASSWORD_MAX)
		return fail(err_r, "password too long (at most %d bytes)", ADM_PASSWORD_MAX);
	for (const char *p = pw; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return fail(err_r, "the password holds a control character");
	return 0;
}

int
adm_admin_name(const char *s, char **err_r)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._@-") != n)
		return fail(err_r, "'%s': an admin name is 1 to 64 letters, digits, '.', '_', '@' or '-'", s);
	return 0;
}

/* db_result - turn a db/ result into ours.  The message is taken through
 * errp, after the call: the order arguments are evaluated in is not fixed. */
static int
db_result(int r, const char *const *errp, char **err_r)
{
	return r < 0 ? fail(err_r, "%s", *errp ? *errp : "database error") : 0;
}

/* hash - the yescrypt hash of a valid password; malloc'd, or NULL + error. */
static char *
hash(const char *pw, char **err_r)
{
	char *h;

	if (adm_password_ok(pw, err_r) < 0)
		return NULL;
	if ((h = db_hash_password(pw)) == NULL)
		fail(err_r, "cannot hash the password (libcrypt)");
	return h;
}

int
adm_domain_add(struct db *db, const char *name, int system, char **err_r)
{
	const char *err = NULL;
	char *d;
	int r;

	if (adm_domain(name, &d, err_r) < 0)
		return -1;
	r = db_result(db_domain_add(db, d, system, &err), &err, err_r);
	free(d);
	return r;
}

int
adm_domain_del(struct db *db, const char *name, char **err_r)
{
	const char *err = NULL;
	char *d;
	int r;

	if (adm_domain(name, &d, err_r) < 0)
		return -1;
	r = db_result(db_domain_del(db, d, &err), &err, err_r);
	free(d);
	return r;
}

/* user_domain - fail unless the address's domain is ours and not a
 * system domain. */
static int
user_domain(struct db *db, const char *addr, char **err_r)
{
	const char *dom = strrchr(addr, '@') + 1;
	struct db_domain d;
	int r = db_domain_get(db, dom, &d), system;

	if (r < 0)
		return fail(err_r, "%s", db_errmsg(db));
	if (r == 0)
		return fail(err_r, "domain %s does not exist; add it first", dom);
	system = d.system;
	db_domain_free(&d);
	if (system)
		return fail(err_r, "%s is a system domain: its users log in with their Unix password "
		    "(add them with onebox user add)", dom);
	return 0;
}

int
adm_user_add(struct db *db, const char *address, const char *password, const char *quota, char **err_r)
{
	const char *err = NULL;
	char *addr = NULL, *h = NULL;
	uint64_t q;
	int r = -1;

	if (adm_address(address, &addr, err_r) < 0 || adm_quota(quota, &q, err_r) < 0 ||
	    user_domain(db, addr, err_r) < 0 || (h = hash(password, err_r)) == NULL)
		goto out;
	r = db_result(db_user_add(db, addr, h, q, &err), &err, err_r);
out:
	free(h);
	free(addr);
	return r;
}

int
adm_user_del(struct db *db, const char *address, char **err_r)
{
	const char *err = NULL;
	char *addr;
	int r;

	if (adm_address(address, &addr, err_r) < 0)
		return -1;
	r = db_result(db_user_del(db, addr, &err), &err, err_r);
	free(addr);
	return r;
}

int
adm_user_passwd(struct db *db, const char *address, const char *password, char **err_r)
{
	const char *err = NULL;
	char *addr = NULL, *h = NULL;
	int r = -1;

	if (adm_address(address, &addr, err_r) < 0 || user_domain(db, addr, err_r) < 0 ||
	    (h = hash(password, err_r)) == NULL)
		goto out;
	r = db_result(db_user_passwd(db, addr, h, &err), &err, err_r);
out:
	free(h);
	free(addr);
	return r;
}

int
adm_user_quota(struct db *db, const char *address, const char *quota, char **err_r)
{
	const char *err = NULL;
	char *addr;
	uint64_t q;
	int r;

	if (adm_address(address, &addr, err_r) < 0)
		return -1;
	r = adm_quota(quota, &q, err_r) < 0 ? -1 : db_result(db_user_quota(db, addr, q, &err), &err, err_r);
	free(addr);
	return r;
}

int
adm_user_enable(struct db *db, const char *address, int enabled, char **err_r)
{
	const char *err = NULL;
	char *addr;
	int r;

	if (adm_address(address, &addr, err_r) < 0)
		return -1;
	r = db_result(db_user_enable(db, addr, enabled, &err), &err, err_r);
	free(addr);
	return r;
}

int
adm_alias_add(struct db *db, const char *alias, const char *target, char **err_r)
{
	const char *err = NULL;
	char *a = NULL, *t = NULL;
	int r = -1;

	if (adm_address(alias, &a, err_r) == 0 && adm_address(target, &t, err_r) == 0)
		r = db_result(db_alias_add(db, a, t, &err), &err, err_r);
	free(a);
	free(t);
	return r;
}

int
adm_alias_del(struct db *db, const char *alias, const char *target, char **err_r)
{
	const char *err = NULL;
	char *a = NULL, *t = NULL;
	int r = -1;

	if (adm_address(alias, &a, err_r) == 0 &&
	    (target == NULL || target[0] == '\0' || adm_address(target, &t, err_r) == 0))
		r = db_result(db_alias_del(db, a, t, &err), &err, err_r);
	free(a);
	free(t);
	return r;
}

int
adm_admin_add(struct db *db, const char *name, const char *password, char **err_r)
{
	const char *err = NULL;
	char *h;
	int r;

	if (adm_admin_name(name, err_r) < 0 || (h = hash(password, err_r)) == NULL)
		return -1;
	r = db_result(db_admin_add(db, name, h, &err), &err, err_r);
	free(h);
	return r;
}

int
adm_admin_del(struct db *db, const char *name, char **err_r)
{
	const char *err = NULL;

	return db_result(db_admin_del(db, name, &err), &err, err_r);
}

int
adm_admin_hash(struct db *db, const char *name, char **hash_r)
{
	/* an unknown name is checked against a real hash of a random
	 * password, so it costs the same time as a known one */
	static char *dummy;
	char *h = NULL, rnd[33];
	int r = db_admin_hash(db, name, &h);

	*hash_r = NULL;
	if (r < 0)
		return -1;
	if (dummy == NULL) {
		str_random_hex(rnd, 16);
		dummy = db_hash_password(rnd);
	}
	if (r != 1) {
		free(h);
		h = xstrdup(dummy ? dummy : "*");
	}
	*hash_r = h;
	return r == 1;
}

int
adm_admin_check(struct db *db, const char *name, const char *password)
{
	char *h;
	int r = adm_admin_hash(db, name, &h), ok;

	if (r < 0)
		return -1;
	ok = db_check_password(password, h);
	free(h);
	return r == 1 && ok;
}
