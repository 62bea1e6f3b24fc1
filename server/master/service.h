/*
 * service - what the master hands to each child process it forks.
 *
 * The master (root) reads the config, binds every listener and loads the
 * TLS context, then forks one process per service.  A child gets this
 * environment, drops privileges (unless the service is marked root), and
 * runs its own event loop.  A child never returns to the master's code.
 */
#ifndef ONEBOX_SERVICE_H
#define ONEBOX_SERVICE_H

#include "config.h"
#include "db.h"

#include <openssl/ssl.h>
#include <sys/types.h>

struct front;

struct listener {
	enum conf_service svc;
	struct conf_addr addr;
	int fd;
	struct front *front;	/* in a service process: who accepts here */
};

struct svc_env {
	const struct conf *conf;
	struct listener *listeners;	/* all of them; a service picks its own */
	size_t nlisteners;
	SSL_CTX *tls;			/* server context (cert + key loaded) */
	char *db_path;			/* data_dir/db/onebox.db */
	char *auth_path;		/* data_dir/run/auth.sock */
	int auth_fd;			/* its listening socket (bound by the master) */
	int authd_pam_fd;		/* authd's end of the authd-pamd socketpair */
	int pamd_fd;			/* pamd's end */
	uid_t uid;			/* the unprivileged user */
	gid_t gid;
};

/*
 * The running service process (smtpd, pop3d, imapd): what svc_run()
 * sets up for every protocol, and the list of its sessions (session.h).
 */
struct auth_client;
struct ev_loop;
struct front_peer;
struct session;

struct service {
	const struct service_def *def;
	struct svc_env *env;
	const struct conf *conf;
	struct ev_loop *loop;
	struct db *db;			/* the config DB, read-only */
	struct auth_client *auth;	/* authd */
	SSL_CTX *tls;			/* server context, or NULL */
	struct front *front;		/* listeners, limits, stop */
	struct session *sessions;
};

/* What differs between services: svc_run() does the rest. */
struct service_def {
	const char *name;		/* "smtpd": the process, in log lines */
	const char *proto;		/* "smtp": authd's service name, front's log lines */
	unsigned listeners;		/* 1u << SVC_x for each kind of listener served */
	/* refuse_prefix - a connection over the limits is told
	 * "<prefix><why>, try again later" (not on implicit-TLS listeners) */
	const char *refuse_prefix;
	enum setting_id limit_total;	/* connections in all */
	enum setting_id limit_per_ip;	/* connections from one address */
	/* start - make a session for fd (session_start) */
	void (*start)(struct service *svc, int fd, const struct front_peer *peer);
	/* init - NULL or called once the listeners are up (the signal mask is
	 * set: start threads here), before the loop runs */
	void (*init)(struct service *svc);
	/* stop - NULL or called on SIGTERM after the sessions were asked to
	 * finish (now=0) or closed (now=1): for a service whose connections
	 * are not sessions (httpd) */
	void (*stop)(struct service *svc, int now);
	/* fini - NULL or called after the loop, before the DB is closed */
	void (*fini)(struct service *svc);
};

/* svc_run - the main of a service process: loop, read-only DB, auth
 * client, listeners (front.c), def->init, run until stopped.  svc is the
 * protocol's (static) service; returns the exit status. */
int svc_run(struct svc_env *env, const struct service_def *def, struct service *svc);

/* Service entry points: run the loop, return an exit status. */
int smtpd_main(struct svc_env *env);
int authd_main(struct svc_env *env);
int pamd_main(struct svc_env *env);
int pop3d_main(struct svc_env *env);
int imapd_main(struct svc_env *env);
int httpd_main(struct svc_env *env);
int queued_main(struct svc_env *env);

/* svc_drop_privs - become env->uid/gid for good (fatal on failure), then
 * svc_die_with_master() again (a credential change clears the parent-death
 * signal); a no-op with a debug line when not started as root. */
void svc_drop_privs(const struct svc_env *env, const char *name);
/* the master's pid: a child whose parent is no longer it exits */
extern pid_t svc_master_pid;
/* svc_die_with_master - SIGTERM when the master dies (PR_SET_PDEATHSIG),
 * and _exit(0) at once if it is already gone.  Must be called again after
 * any change of uid or gid, which clears the setting. */
void svc_die_with_master(void);
/* svc_setup_child - process name, parent-death signal, default signals. */
void svc_setup_child(const char *name);

#endif
