/*
 * db - the config database (data_dir/db/onebox.db): domains, users, aliases,
 * catch-alls and settings.
 *
 * SQLite in WAL mode with versioned migrations (db/migrate.c).  One writer
 * (the admin side: the `onebox` CLI, later the admin page); the mail
 * processes open it read-only and query it on every lookup, so a change is
 * seen by the running daemon at once, without a restart or a signal.
 *
 * Addresses passed in are expected to be normalised by addr.c (domain in
 * lower case); local parts are compared case-insensitively here.
 *
 * A handle belongs to one thread at a time (SQLITE_OPEN_NOMUTEX); open one
 * per thread.  The schema is created and migrated by the first
 * DB_READWRITE open (db/migrate.h); a DB_READONLY open of a missing or
 * older database fails, so the daemon should open it read-write once at
 * start (as the service user) or expect `onebox` to have been run.
 *
 * Functions return 0 on success and -1 on error with *error_r pointing to a
 * message that stays valid until the next call on the same db.  Lookups
 * return 1 (found) / 0 (not found) / -1 (error).
 */
#ifndef ONEBOX_DB_H
#define ONEBOX_DB_H

#include <stdint.h>
#include <stddef.h>

#include "route.h"

struct db;

#define DB_DIR "db"		/* under data_dir, owned by the service user */
#define DB_FILENAME "onebox.db"

enum db_mode { DB_READONLY, DB_READWRITE };

/* db_open - open (and with DB_READWRITE create and migrate) the database at path. */
int db_open(const char *path, enum db_mode mode, struct db **db_r, const char **error_r);
void db_close(struct db **db);
/* db_errmsg - the last error message of this handle. */
const char *db_errmsg(struct db *db);

/* ---- domains ---- */
struct db_domain {
	char *name;
	int system;		/* users authenticate through PAM */
	char *catchall;		/* NULL if none */
	int allow_outside_senders;	/* clients that are neither trusted nor
					 * authenticated may use its addresses as
					 * sender on port 25 */
};
int db_domain_add(struct db *db, const char *name, int system, const char **error_r);
int db_domain_del(struct db *db, const char *name, const char **error_r);	/* refuses if it has users */
int db_domain_get(struct db *db, const char *name, struct db_domain *d_r);	/* 1/0/-1 */
/* db_domain_list - calls cb for each domain, sorted by name. */
int db_domain_list(struct db *db, void (*cb)(const struct db_domain *d, void *ctx), void *ctx);
void db_domain_free(struct db_domain *d);
/* db_domain_primary - the domain of a bare <postmaster> (RFC 5321 §4.5.1):
 * the longest local domain that hostname is or is in (mail.example.com ->
 * example.com), else the oldest local domain.  1 with *name_r (malloc'd),
 * 0 when there is no domain, -1 on a DB error. */
int db_domain_primary(struct db *db, const char *hostname, char **name_r);
/* db_domain_set_outside_senders - set allow_outside_senders (0/1). */
int db_domain_set_outside_senders(struct db *db, const char *name, int allow, const char **error_r);
int db_catchall_set(struct db *db, const char *domain, const char *target, const char **error_r);
int db_catchall_clear(struct db *db, const char *domain, const char **error_r);

/* ---- users ---- */
struct db_user {
	char *address;		/* localpart@domain, as stored */
	char *localpart;
	char *domain;
	char *pwhash;		/* crypt(3) string ($y$...), "" for PAM users */
	uint64_t quota;		/* bytes, 0 = unlimited */
	int enabled;
	int system;		/* authenticates through PAM: the domain is a
				 * system domain, or pwhash is "" */
};
int db_user_add(struct db *db, const char *address, const char *pwhash, uint64_t quota, const char **error_r);
int db_user_del(struct db *db, const char *address, const char **error_r);
int db_user_passwd(struct db *db, const char *address, const char *pwhash, const char **error_r);
int db_user_quota(struct db *db, const char *address, uint64_t quota, const char **error_r);
int db_user_enable(struct db *db, const char *address, int enabled, const char **error_r);
int db_user_get(struct db *db, const char *address, struct db_user *u_r);	/* 1/0/-1 */
/* db_user_list - all users, or those of one domain (domain may be NULL). */
int db_user_list(struct db *db, const char *domain, void (*cb)(const struct db_user *u, void *ctx), void *ctx);
void db_user_free(struct db_user *u);

/* ---- aliases: one address to many targets (local or external) ---- */
int db_alias_add(struct db *db, const char *address, const char *target, const char **error_r);
/* db_alias_del - remove one target, or all of them when target is NULL. */
int db_alias_del(struct db *db, const char *address, const char *target, const char **error_r);
int db_alias_list(struct db *db, const char *domain,
    void (*cb)(const char *address, const char *target, void *ctx), void *ctx);
/* db_alias_sender_add - let user (a local user) use alias as envelope
 * sender; db_alias_sender_del - take it back (user NULL: everyone). */
int db_alias_sender_add(struct db *db, const char *alias, const char *user, const char **error_r);
int db_alias_sender_del(struct db *db, const char *alias, const char *user, const char **error_r);
/* db_alias_sender_list - the users allowed to send as alias. */
int db_alias_sender_list(struct db *db, const char *alias,
    void (*cb)(const char *user, void *ctx), void *ctx);

/* ---- recipient resolution ---- */
struct db_target {
	char *address;		/* final address */
	struct route route;	/* ROUTE_LOCAL (a local user's mailbox, with its
				 * quota) or ROUTE_REMOTE (an external address) */
};
struct db_targets {
	struct db_target *v;
	size_t n;
};
enum db_resolve {
	DB_RESOLVE_ERROR = -1,
	DB_RESOLVE_NOTLOCAL = 0,	/* the domain is not one of ours */
	DB_RESOLVE_UNKNOWN = 1,		/* our domain, no such user/alias and no catch-all */
	DB_RESOLVE_OK = 2,		/* targets filled (deduplicated) */
	DB_RESOLVE_LOOP = 3,		/* alias loop or expansion too deep/large */
	DB_RESOLVE_DISABLED = 4,	/* the user exists but is disabled */
};
/*
 * db_resolve - expand address: user → itself; alias → its targets,
 * recursively (depth ≤ 10, ≤ 1000 targets, loops detected); neither → the
 * domain's catch-all; else UNKNOWN.  Targets in a non-local domain are
 * external.
 */
enum db_resolve db_resolve(struct db *db, const char *address, struct db_targets *t_r);
void db_targets_free(struct db_targets *t);

/* db_sender_allowed - 1 if user (an authenticated address) may use sender as
 * envelope sender: its own address, or an alias that lists the user among
 * its senders (db_alias_sender_add; off by default: an alias that
 * delivers to a user does not let the user send as it). 0/-1. */
int db_sender_allowed(struct db *db, const char *user, const char *sender);

/* ---- settings: mail settings, key table with defaults in db/settings.c ---- */
enum setting_type { SET_INT, SET_SIZE, SET_BOOL, SET_STRING, SET_CIDRS, SET_ENUM };
struct setting_def {
	const char *name;
	enum setting_type type;
	const char *def;	/* default, as text */
	int64_t min, max;	/* for INT/SIZE */
	const char *doc;
	const char *choices;	/* for ENUM: the words, space separated */
};
/* enum setting_id: ST_MAX_RECIPIENTS, ... one per line of settings.def */
enum setting_id {
#define SETTING(id, name, type, def, min, max, doc) ST_##id,
#define SETTING_ENUM(id, name, def, choices, doc) ST_##id,
#include "settings.def"
#undef SETTING
#undef SETTING_ENUM
	ST__COUNT
};
extern const struct setting_def setting_defs[];	/* [ST__COUNT + 1], NULL-name terminated */
/* setting_lookup - the id of a setting named by the admin, or -1. */
int setting_lookup(const char *name);
const struct setting_def *setting_find(const char *name);
/* db_setting_set - validate and store; error names the key and the bound. */
int db_setting_set(struct db *db, const char *name, const char *value, const char **error_r);
int db_setting_reset(struct db *db, const char *name, const char **error_r);
/* db_setting_str - current value as text (default if unset); valid until the
 * next db_setting_* call on this db. */
const char *db_setting_str(struct db *db, enum setting_id id);
/* db_setting_int - the number of an INT, SIZE or BOOL setting, the position
 * of an ENUM's word in its list (0 for others), parsed once when the
 * settings are (re)loaded. */
int64_t db_setting_int(struct db *db, enum setting_id id);

/* db_changed - 1 if another connection changed the DB since the last call
 * (PRAGMA data_version), and then the settings cache is dropped.  Settings
 * are cached until then: a service calls this once per command or
 * connection, which is when a CLI change must become visible. */
int db_changed(struct db *db);

/* ---- admin accounts (the admin page) and their sessions ---- */
/* Names are compared without case.  A session is stored under the hash
 * of its cookie (db_admin_session_* take that hash), so reading the DB
 * gives no usable session. */
int db_admin_add(struct db *db, const char *name, const char *pwhash, const char **error_r);
/* db_admin_del - also ends the admin's sessions. */
int db_admin_del(struct db *db, const char *name, const char **error_r);
/* db_admin_hash - the admin's password hash (malloc'd); 1/0/-1. */
int db_admin_hash(struct db *db, const char *name, char **hash_r);
int db_admin_list(struct db *db, void (*cb)(const char *name, void *ctx), void *ctx);
int db_admin_session_add(struct db *db, const char *id, const char *admin, const char *csrf,
    int64_t expires, const char **error_r);
/* db_admin_session_get - a session that has not expired at now: 1 with
 * *admin_r and *csrf_r (malloc'd), 0, -1.  Expired sessions are deleted. */
int db_admin_session_get(struct db *db, const char *id, int64_t now, char **admin_r, char **csrf_r);
int db_admin_session_del(struct db *db, const char *id);

/* password hashing (yescrypt through libcrypt) */
/* db_hash_password - malloc'd "$y$..." hash, or NULL on error. */
char *db_hash_password(const char *password);
/* db_check_password - 1 if password matches hash, else 0 (constant-time compare). */
int db_check_password(const char *password, const char *hash);

#endif
