/*
 * imapd - the IMAP process: svc_run (service.c) on imap_listen (STARTTLS)
 * and imaps_listen (implicit TLS), plus the worker threads for blocking
 * mailbox work.
 *
 * Runs as the unprivileged user that owns the Maildirs.  The config DB is
 * opened read-only and read on every login, so CLI changes apply at once.
 * On SIGTERM the listeners close at once and every session is told
 * "* BYE" (after an answer being streamed); front cuts what is left at its
 * deadline.
 */
#include "imap.h"
#include "jobs.h"
#include "service.h"

static struct imapd D;

/* imapd_init - after the listeners: the workers inherit the blocked signals. */
static void
imapd_init(struct service *svc)
{
	struct imapd *d = (struct imapd *)svc;

	d->jobs = jobs_new(svc->loop, 2);
	imap_idle_init(d);
}

static const struct service_def imapd_def = {
	.name = "imapd",
	.proto = "imap",
	.listeners = 1u << SVC_IMAP | 1u << SVC_IMAPS,
	.refuse_prefix = "* BYE [UNAVAILABLE] ",
	.limit_total = ST_IMAP_MAX_CONNECTIONS,
	.limit_per_ip = ST_IMAP_MAX_CONNECTIONS_PER_IP,
	.start = imap_session_start,
	.init = imapd_init,
};

int
imapd_main(struct svc_env *env)
{
	return svc_run(env, &imapd_def, &D.svc);
}
