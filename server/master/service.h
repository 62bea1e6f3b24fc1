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

#include "conf.h"

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

/* Service entry points: run the loop, return an exit status. */
int smtpd_main(struct svc_env *env);
int authd_main(struct svc_env *env);
int pamd_main(struct svc_env *env);
int pop3d_main(struct svc_env *env);

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
