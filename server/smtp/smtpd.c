/*
 * smtpd - the SMTP process: svc_run (service.c) with SMTP's listeners and
 * limits, plus the group committer and the mail and queue directories.
 *
 * Runs as the unprivileged user.  Reads the config DB (read-only) for
 * every lookup, so CLI changes apply at once.
 */
#include "smtp.h"
#include "service.h"
#include "log.h"
#include "net.h"
#include "queue.h"

#include <stdlib.h>

static struct smtpd D;

int
smtpd_trusted(struct smtpd *d, const char *ip)
{
	return net_cidr_match(db_setting_str(d->svc.db, ST_TRUSTED_NETWORKS), ip);
}

/* smtpd_init - after the listeners: the commit thread inherits the
 * blocked signals, so a SIGTERM always reaches the loop. */
static void
smtpd_init(struct service *svc)
{
	struct smtpd *d = (struct smtpd *)svc;

	d->mail_dir = xasprintf("%s/mail", svc->conf->data_dir);
	d->queue_dir = xasprintf("%s/queue", svc->conf->data_dir);
	if (queue_dirs(d->queue_dir) < 0)
		fatal("%s", d->queue_dir);
	d->committer = committer_new(svc->loop, d->mail_dir);
}

static const struct service_def smtpd_def = {
	.name = "smtpd",
	.proto = "smtp",
	.listeners = 1u << SVC_SMTP | 1u << SVC_SUBMISSION | 1u << SVC_SUBMISSIONS,
	.refuse_prefix = "421 4.7.0 ",
	.limit_total = ST_SMTP_MAX_CONNECTIONS,
	.limit_per_ip = ST_SMTP_MAX_CONNECTIONS_PER_IP,
	.start = smtp_session_start,
	.init = smtpd_init,
};

int
smtpd_main(struct svc_env *env)
{
	return svc_run(env, &smtpd_def, &D.svc);
}
