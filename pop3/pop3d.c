/*
 * pop3d - the POP3 process: svc_run (service.c) on pop3_listen (STLS) and
 * pop3s_listen (implicit TLS), plus the worker threads that build message
 * lists (pop3-mailbox.c).
 *
 * Runs as the unprivileged user that owns the Maildirs.  The config DB is
 * opened read-only and read on every login, so CLI changes apply at once.
 *
 * On SIGTERM the listeners close at once; a session streaming RETR/TOP
 * finishes that answer, every other one is told "-ERR [SYS/TEMP]" and
 * closed.  A session that has not sent QUIT does not expunge anything
 * (RFC 1939 §6).  Whatever is still open after front's deadline is cut.
 */
#include "pop3.h"
#include "jobs.h"
#include "service.h"

static struct pop3d D;

/* pop3d_init - after the listeners: the workers inherit the blocked signals. */
static void
pop3d_init(struct service *svc)
{
	struct pop3d *d = (struct pop3d *)svc;

	d->jobs = jobs_new(svc->loop, 2);
}

static const struct service_def pop3d_def = {
	.name = "pop3d",
	.proto = "pop3",
	.listeners = 1u << SVC_POP3 | 1u << SVC_POP3S,
	.refuse_prefix = "-ERR [SYS/TEMP] ",
	.limit_total = ST_POP3_MAX_CONNECTIONS,
	.limit_per_ip = ST_POP3_MAX_CONNECTIONS_PER_IP,
	.start = pop3_session_start,
	.init = pop3d_init,
};

int
pop3d_main(struct svc_env *env)
{
	return svc_run(env, &pop3d_def, &D.svc);
}
