/*
 * smtp-deliver - the SMTP side of delivery: where a recipient is checked
 * and a finished message is handed on.
 *
 * A recipient resolves (db_resolve) to final addresses, each with a route
 * (route.h).  When the data has arrived, the message becomes an envelope
 * (envelope.h) and handoff (handoff.h) gives each route's module its
 * recipients: local delivery and the outbound queue, in one group commit;
 * the scanner and relay pools plug in here.  A foreign recipient
 * is accepted only from a client that may relay (authenticated or in
 * trusted_networks); an alias of ours may point outside for anyone.  This file only builds the envelope, calls them and
 * turns the recipients' statuses into the one reply after the final dot.
 * The 250 is sent only from delivery_done(), after the files are durable.
 */
#include "smtp.h"
#include "deliver.h"
#include "envelope.h"
#include "handoff.h"
#include "log.h"
#include "str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct delivery {
	struct envelope env;
};

static int
relay_allowed(struct smtp_session *s)
{
	return s->auth_user || smtpd_trusted(s->d, s->base.peer.ip);
}

/* remote_target - a foreign recipient from a client that may relay: one
 * final address, routed to the outbound queue. */
static void
remote_target(struct smtp_rcpt *r)
{
	r->targets.v = xcalloc(1, sizeof(*r->targets.v));
	r->targets.v[0].address = xstrdup(r->addr);
	r->targets.v[0].route.kind = ROUTE_REMOTE;
	r->targets.n = 1;
}

/*
 * postmaster_of - RFC 5321 §4.5.1: a bare <postmaster> is accepted from
 * anyone and means ours: postmaster@ the primary domain (db.h), resolved
 * like any address (its user, alias or catch-all).  When none of these
 * exists the client gets 550 and the admin a log line asking for the
 * alias: mail for the postmaster is never given to a guessed mailbox.
 * 0 with pm filled, or -1 with the reply sent.
 */
static int
postmaster_of(struct smtp_session *s, struct mailaddr *pm)
{
	char host[ADDR_DOMAIN_MAX + 1], *dom;
	int rc;

	str_lcpy(host, s->d->svc.conf->hostname, sizeof(host));
	if ((rc = db_domain_primary(s->d->svc.db, str_lower(host), &dom)) <= 0) {
		if (rc < 0)
			smtp_reply(s, "451 4.3.0 <postmaster>: Temporary lookup failure");
		else
			smtp_reply(s, "550 5.1.1 <postmaster>: no local domain to deliver to");
		return -1;
	}
	str_lcpy(pm->domain, dom, sizeof(pm->domain));
	free(dom);
	return 0;
}

int
smtp_rcpt_check(struct smtp_session *s, const struct mailaddr *a, struct smtp_rcpt *r)
{
	struct mailaddr pm;

	if (a->domain[0] == '\0') {
		pm = *a;
		if (postmaster_of(s, &pm) < 0)
			return -1;
		a = &pm;
	}
	addr_format(a, r->addr, sizeof(r->addr));
	enum db_resolve res = a->literal ? DB_RESOLVE_NOTLOCAL : db_resolve(s->d->svc.db, r->addr, &r->targets);
	switch (res) {
	case DB_RESOLVE_OK:
		break;
	case DB_RESOLVE_NOTLOCAL:
		if (!relay_allowed(s)) {
			smtp_reply(s, "554 5.7.1 <%s>: Relay access denied", r->addr);
			return -1;
		}
		/* the queue delivers by MX: an address literal or a name like
		 * "localhost" would only lead back here or nowhere */
		if (a->literal || strchr(a->domain, '.') == NULL) {
			smtp_reply(s, "554 5.7.1 <%s>: Relay access denied: not a domain mail can be sent to", r->addr);
			return -1;
		}
		remote_target(r);
		return 0;
	case DB_RESOLVE_UNKNOWN:
		if (a == &pm)
			log_warnx("%016llx smtp <postmaster> refused: %s is neither a user nor an alias; add "
			    "one (onebox alias add %s ADDRESS)", (unsigned long long)s->base.id, r->addr, r->addr);
		smtp_reply(s, "550 5.1.1 <%s>: Recipient address rejected: User unknown", r->addr);
		return -1;
	case DB_RESOLVE_DISABLED:
		smtp_reply(s, "550 5.2.1 <%s>: Mailbox disabled", r->addr);
		return -1;
	case DB_RESOLVE_LOOP:
		smtp_reply(s, "550 5.4.6 <%s>: Alias loop detected", r->addr);
		return -1;
	default:
		smtp_reply(s, "451 4.3.0 <%s>: Temporary lookup failure", r->addr);
		return -1;
	}
	for (size_t i = 0; i < r->targets.n; i++) {
		const struct db_target *t = &r->targets.v[i];
		if (t->route.kind == ROUTE_LOCAL && local_over_quota(s->d->svc.conf->data_dir, t->address, t->route.quota, s->declared_size)) {
			smtp_reply(s, "452 4.2.2 <%s>: Mailbox full", r->addr);
			db_targets_free(&r->targets);
			return -1;
		}
	}
	return 0;
}

int
smtp_sender_check(struct smtp_session *s, const struct mailaddr *from)
{
	struct db_domain dom;
	int rc, allow;

	if (s->base.peer.svc != SVC_SMTP || from->local[0] == '\0' || from->literal || relay_allowed(s))
		return 0;
	if ((rc = db_domain_get(s->d->svc.db, from->domain, &dom)) == 0)
		return 0;
	if (rc < 0) {
		smtp_reply(s, "451 4.3.0 <%s>: Temporary lookup failure", s->from_text);
		s->from_text[0] = '\0';
		return -1;
	}
	allow = dom.allow_outside_senders;
	db_domain_free(&dom);
	if (allow)
		return 0;
	log_info("%016llx smtp mail from=<%s> address=%s status=rejected reason=\"local domain sender "
	    "from an outside client\"", (unsigned long long)s->base.id, s->from_text, s->base.peer.ip);
	smtp_reply(s, "550 5.7.1 <%s>: Sender address is in a domain of this server, but the client is "
	    "neither authenticated nor trusted: use submission (port 587 or 465) with a login", s->from_text);
	s->from_text[0] = '\0';
	return -1;
}

/* build_envelope - the transaction as an envelope: one recipient per target. */
static void
build_envelope(struct smtp_session *s, struct envelope *env)
{
	envelope_init(env, s->qid, s->from_text);
	env->smtputf8 = s->smtputf8;
	env->body8 = s->body8;
	env->spool_fd = s->spool_fd;
	env->size = s->data_size;
	env->lines = s->data_lines;
	for (size_t i = 0; i < s->nrcpts; i++) {
		const struct smtp_rcpt *r = &s->rcpts[i];
		for (size_t j = 0; j < r->targets.n; j++)
			envelope_add_rcpt(env, r->addr, r->targets.v[j].address, &r->targets.v[j].route);
	}
}

static void
delivery_free(struct smtp_session *s)
{
	if (s->dlv == NULL)
		return;
	envelope_free(&s->dlv->env);
	free(s->dlv);
	s->dlv = NULL;
}

static void
log_rcpts(struct smtp_session *s, const struct envelope *env)
{
	for (size_t i = 0; i < env->nrcpts; i++) {
		const struct envelope_rcpt *r = &env->rcpts[i];
		const char *st = rcpt_status_name(r->status);
		if (r->route.kind == ROUTE_REMOTE && r->status == RCPT_DELIVERED)
			st = "queued";
		log_info("%016llx smtp id=%s from=<%s> to=<%s> orig_to=<%s> size=%llu route=%s status=%s",
		    (unsigned long long)s->base.id, env->qid, env->sender, r->final, r->orcpt,
		    (unsigned long long)env->size, route_kind_name(r->route.kind), st);
	}
}

/* delivery_done - ok: every recipient is durable somewhere (handoff.h);
 * one still pending (a route nothing took) makes the client keep it. */
static void
delivery_done(struct envelope *env, int ok, void *arg)
{
	struct smtp_session *s = arg;

	log_rcpts(s, env);
	delivery_free(s);
	s->state = SMTP_S_READY;
	if (s->gone) {
		smtp_session_close(s);
		return;
	}
	if (ok) {
		s->cmds_without_message = 0;
		smtp_reply(s, "250 2.0.0 Ok: queued as %s", s->qid);
		io_flush(s->base.io);
	}
	else
		smtp_reply(s, "451 4.3.0 Local error while storing the message, try again later");
	smtp_transaction_reset(s);
	if (s->base.ending) {
		smtp_session_shutdown(s);
		return;
	}
	io_resume_read(s->base.io);
	smtp_process(s);
}

static void
deliver_fail(struct smtp_session *s, const char *reply)
{
	smtp_reply(s, "%s", reply);
	smtp_transaction_reset(s);
	s->state = SMTP_S_READY;
}

/* bare_line_ends_refused - 1 (logged) when the data held a bare CR or LF
 * and smtp_bare_line_ends says reject: such a message may read differently
 * to each program that handles it (SMTP smuggling, header confusion). */
static int
bare_line_ends_refused(struct smtp_session *s)
{
	const struct dot_unstuff *u = &s->data_unstuff;

	if (u->bare_cr == 0 && u->bare_lf == 0)
		return 0;
	if (db_setting_int(s->d->svc.db, ST_SMTP_BARE_LINE_ENDS) == SMTP_BARE_NORMALIZE)
		return 0;
	log_info("%016llx smtp id=%s status=rejected reason=\"bare line ends\" bare_cr=%llu bare_lf=%llu",
	    (unsigned long long)s->base.id, s->qid, (unsigned long long)u->bare_cr, (unsigned long long)u->bare_lf);
	return 1;
}

void
smtp_deliver(struct smtp_session *s)
{
	const struct envelope_rcpt *full;
	struct delivery *d;

	if (s->data_too_big) {
		log_info("%016llx smtp id=%s status=rejected reason=\"message too big\"", (unsigned long long)s->base.id, s->qid);
		deliver_fail(s, "552 5.3.4 Message size exceeds fixed maximum message size");
		return;
	}
	if (s->data_err) {
		deliver_fail(s, "451 4.3.0 Local error in processing, try again later");
		return;
	}
	if (bare_line_ends_refused(s)) {
		deliver_fail(s, "550 5.6.0 Message contains bare CR or bare LF");
		return;
	}
	d = xcalloc(1, sizeof(*d));
	s->dlv = d;
	build_envelope(s, &d->env);
	if ((full = local_over_quota_env(s->d->svc.conf->data_dir, &d->env)) != NULL) {
		log_info("%016llx smtp id=%s to=<%s> status=rejected reason=\"over quota\"",
		    (unsigned long long)s->base.id, s->qid, full->final);
		delivery_free(s);
		deliver_fail(s, "452 4.2.2 Mailbox full");
		return;
	}
	if (handoff(s->d->svc.conf->data_dir, s->d->queue_dir, s->d->committer, &d->env, delivery_done, s) < 0) {
		delivery_free(s);
		deliver_fail(s, "451 4.3.0 Local error while storing the message, try again later");
		return;
	}
	smtp_data_abort(s);	/* the spool copy is no longer needed */
	s->state = SMTP_S_COMMIT;
	io_pause_read(s->base.io);
}
