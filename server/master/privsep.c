/*
 * privsep - the privilege drop of every unprivileged child.
 *
 * Order matters (see OpenSMTPD's dispatcher.c): groups first, then gid,
 * then uid, then check that root cannot be regained.  The parent-death
 * signal is (re)armed after the drop: Linux clears it on any change of
 * credentials (prctl(2)), so one set before setresuid() would be lost and
 * the service would outlive a master killed with SIGKILL.
 */
#include "service.h"
#include "log.h"

#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

void
svc_drop_privs(const struct svc_env *env, const char *name)
{
	if (geteuid() != 0) {
		log_debug("%s: not root, running as uid %d", name, (int)geteuid());
		return;
	}
	if (setgroups(1, &env->gid) < 0)
		fatal("%s: setgroups", name);
	if (setresgid(env->gid, env->gid, env->gid) < 0)
		fatal("%s: setresgid", name);
	if (setresuid(env->uid, env->uid, env->uid) < 0)
		fatal("%s: setresuid", name);
	if (env->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		fatalx("%s: could regain root after dropping privileges", name);
	svc_die_with_master();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		log_warn("%s: PR_SET_NO_NEW_PRIVS", name);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		log_warn("%s: PR_SET_DUMPABLE", name);
}

pid_t svc_master_pid;

void
svc_die_with_master(void)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0)
		fatal("PR_SET_PDEATHSIG");
	/* the master died before PR_SET_PDEATHSIG took effect (comparing
	 * with 1 would be wrong when the master itself is pid 1) */
	if (getppid() != svc_master_pid)
		_exit(0);
}

void
svc_setup_child(const char *name)
{
	sigset_t none;

	log_setproc(name);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	/* for the children that stay root; svc_drop_privs arms it again */
	svc_die_with_master();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
}
