/*
 * admin - the admin actions, one library for the `onebox` CLI and the
 * admin pages, so the two can never disagree about what is valid.
 *
 * Each function validates its input the one way (addresses through addr.c,
 * domains as A-labels, sizes through str.c, passwords hashed with
 * yescrypt), then writes through db/, and returns 0, or -1 with *err_r set
 * to a malloc'd sentence naming what is wrong (the caller frees it): the
 * CLI prints it and exits 1, a page shows it next to the form.  Nothing
 * here exits, prints or reads a terminal.
 *
 * The password actions take the password in clear and hash it here; the
 * caller wipes its copy.  Hashing takes tens of milliseconds (yescrypt).
 */
#ifndef ONEBOX_ADMIN_H
#define ONEBOX_ADMIN_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define ADM_PASSWORD_MAX 1024

/* ---- validation: the canonical form (malloc'd), or an error ---- */
int adm_address(const char *s, char **out_r, char **err_r);
int adm_domain(const char *s, char **out_r, char **err_r);
/* adm_quota - "25M", "1G", "0", "none", "unlimited" -> bytes (0: none). */
int adm_quota(const char *s, uint64_t *q_r, char **err_r);
/* adm_password_ok - not empty, not over ADM_PASSWORD_MAX, no control characters. */
int adm_password_ok(const char *pw, char **err_r);
/* adm_admin_name - an admin name: 1 to 64 of [A-Za-z0-9._@-]. */
int adm_admin_name(const char *s, char **err_r);

/* ---- domains ---- */
int adm_domain_add(struct db *db, const char *name, int system, char **err_r);
int adm_domain_del(struct db *db, const char *name, char **err_r);

/* ---- users (password users; PAM users are the CLI's: they need the
 * Unix account checks) ---- */
/* adm_user_add - address, password, quota text (NULL or "" = none).
 * Refused for a system domain (its users log in through PAM). */
int adm_user_add(struct db *db, const char *address, const char *password, const char *quota,
    char **err_r);
int adm_user_del(struct db *db, const char *address, char **err_r);
int adm_user_passwd(struct db *db, const char *address, const char *password, char **err_r);
int adm_user_quota(struct db *db, const char *address, const char *quota, char **err_r);
int adm_user_enable(struct db *db, const char *address, int enabled, char **err_r);

/* ---- aliases ---- */
int adm_alias_add(struct db *db, const char *alias, const char *target, char **err_r);
/* adm_alias_del - one target, or all of them when target is NULL or "". */
int adm_alias_del(struct db *db, const char *alias, const char *target, char **err_r);

/* ---- admin accounts ---- */
int adm_admin_add(struct db *db, const char *name, const char *password, char **err_r);
int adm_admin_del(struct db *db, const char *name, char **err_r);
/* adm_admin_check - 1 if name is an admin with that password, 0 if not
 * (unknown names cost a hash too, so timing tells nothing), -1 on error. */
int adm_admin_check(struct db *db, const char *name, const char *password);
/* adm_admin_hash - adm_admin_check in two halves, for a caller that hashes
 * in another thread: the stored hash of name in *hash_r (malloc'd; for an
 * unknown name a real hash of a random password) and 1, or 0 for an
 * unknown name, -1 on error.  Then name is an admin with password when
 * this returned 1 and db_check_password(password, *hash_r) does. */
int adm_admin_hash(struct db *db, const char *name, char **hash_r);

#endif
