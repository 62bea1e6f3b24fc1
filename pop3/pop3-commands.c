/*
 * pop3-commands - the command table: which state each command is valid in
 * (the check), and what it does (the proceed).
 *
 * States (RFC 1939 §3): AUTHORIZATION takes USER PASS AUTH APOP STLS CAPA
 * QUIT; TRANSACTION takes STAT LIST UIDL RETR TOP DELE RSET NOOP CAPA
 * QUIT.  A command in the wrong state, an unknown command and bad
 * arguments are "-ERR" and count towards POP3_MAX_ERRORS (session_count_error).
 */
#include "pop3.h"
#include "log.h"
#include "str.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

struct pop3_cmdtab {
	enum pop3_cmd cmd;
	/* check: returns 0 to proceed, -1 if it answered */
	int (*check)(struct pop3_session *s, struct pop3_command *c);
	void (*proceed)(struct pop3_session *s, struct pop3_command *c);
};

/* ---- checks ---- */

static int
check_authorization(struct pop3_session *s, struct pop3_command *c)
{
	if (s->state == POP3_S_AUTHORIZATION)
		return 0;
	pop3_reply(s, "-ERR Already logged in");
	return -1;
}

static int
check_transaction(struct pop3_session *s, struct pop3_command *c)
{
	if (s->state == POP3_S_TRANSACTION)
		return 0;
	pop3_reply(s, "-ERR Not logged in");
	return -1;
}

/* check_message - transaction state and an existing, undeleted message. */
static int
check_message(struct pop3_session *s, struct pop3_command *c)
{
	if (check_transaction(s, c) < 0)
		return -1;
	if (!c->has_num || pop3_mailbox_msg(s, c->num) != NULL)
		return 0;
	if (c->num <= s->mbox.n)
		pop3_reply(s, "-ERR Message %u already deleted", c->num);
	else
		pop3_reply(s, "-ERR No such message");
	return -1;
}

static int
check_stls(struct pop3_session *s, struct pop3_command *c)
{
	if (check_authorization(s, c) < 0)
		return -1;
	if (s->base.tls) {
		pop3_reply(s, "-ERR TLS already active");
		return -1;
	}
	if (s->d->svc.tls == NULL) {
		pop3_reply(s, "-ERR [SYS/TEMP] TLS not available");
		return -1;
	}
	return 0;
}

/* ---- AUTHORIZATION ---- */

static void
do_capa(struct pop3_session *s, struct pop3_command *c)
{
	int authz = s->state == POP3_S_AUTHORIZATION;

	pop3_reply(s, "+OK Capability list follows");
	pop3_reply(s, "TOP");
	pop3_reply(s, "UIDL");
	pop3_reply(s, "RESP-CODES");
	pop3_reply(s, "AUTH-RESP-CODE");
	pop3_reply(s, "PIPELINING");
	if (authz && pop3_auth_allowed(s)) {
		pop3_reply(s, "USER");
		pop3_reply(s, "SASL %s", sasl_offered());
	}
	if (authz && !s->base.tls && s->d->svc.tls)
		pop3_reply(s, "STLS");
	pop3_reply(s, "IMPLEMENTATION onebox");
	pop3_reply(s, ".");
}

static void
do_stls(struct pop3_session *s, struct pop3_command *c)
{
	pop3_reply(s, "+OK Begin TLS negotiation");
	session_starttls(&s->base, s->d->svc.tls);
}

static void
do_apop(struct pop3_session *s, struct pop3_command *c)
{
	pop3_reply(s, "-ERR APOP not supported, use USER/PASS or AUTH PLAIN over TLS");
}

/* ---- TRANSACTION ---- */

static void
do_stat(struct pop3_session *s, struct pop3_command *c)
{
	struct pop3_mailbox *mb = &s->mbox;

	pop3_reply(s, "+OK %zu %llu", mb->n - mb->ndeleted,
	    (unsigned long long)(mb->octets - mb->octets_deleted));
}

static void
do_list(struct pop3_session *s, struct pop3_command *c)
{
	struct pop3_mailbox *mb = &s->mbox;

	if (c->has_num) {
		pop3_reply(s, "+OK %u %llu", c->num, (unsigned long long)mb->msgs[c->num - 1].vsize);
		return;
	}
	pop3_reply(s, "+OK %zu messages (%llu octets)", mb->n - mb->ndeleted,
	    (unsigned long long)(mb->octets - mb->octets_deleted));
	pop3_send_listing(s, 0);
}

static void
do_uidl(struct pop3_session *s, struct pop3_command *c)
{
	char id[POP3_UIDL_MAX + 1];

	if (c->has_num) {
		pop3_uidl(s->mbox.msgs[c->num - 1].base, id);
		pop3_reply(s, "+OK %u %s", c->num, id);
		return;
	}
	pop3_reply(s, "+OK Unique-ID listing follows");
	pop3_send_listing(s, 1);
}

/* send_message - RETR (lines = UINT64_MAX) and TOP. */
static void
send_message(struct pop3_session *s, uint32_t num, uint64_t lines)
{
	struct pop3_msg *m = &s->mbox.msgs[num - 1];
	int fd = pop3_mailbox_open_msg(s, m);

	if (fd < 0) {
		log_warnx("%016llx pop3 cannot open message uid=%u file=%s: %s", (unsigned long long)s->base.id,
		    m->uid, m->filename, strerror(errno));
		pop3_reply(s, "-ERR [SYS/TEMP] Cannot read message %u, it may have been removed", num);
		return;
	}
	if (lines == UINT64_MAX) {
		s->nretr++;
		pop3_reply(s, "+OK %llu octets", (unsigned long long)m->vsize);
	} else {
		s->ntop++;
		pop3_reply(s, "+OK Top of message follows");
	}
	pop3_send_message(s, fd, lines);
}

static void
do_retr(struct pop3_session *s, struct pop3_command *c)
{
	send_message(s, c->num, UINT64_MAX);
}

static void
do_top(struct pop3_session *s, struct pop3_command *c)
{
	/* c->lines has at most 19 digits: never UINT64_MAX */
	send_message(s, c->num, c->lines);
}

static void
do_dele(struct pop3_session *s, struct pop3_command *c)
{
	struct pop3_msg *m = &s->mbox.msgs[c->num - 1];

	m->deleted = 1;
	s->mbox.ndeleted++;
	s->mbox.octets_deleted += m->vsize;
	pop3_reply(s, "+OK Message %u deleted", c->num);
}

static void
do_rset(struct pop3_session *s, struct pop3_command *c)
{
	struct pop3_mailbox *mb = &s->mbox;

	for (size_t i = 0; i < mb->n; i++)
		mb->msgs[i].deleted = 0;
	mb->ndeleted = 0;
	mb->octets_deleted = 0;
	pop3_reply(s, "+OK %zu messages (%llu octets)", mb->n, (unsigned long long)mb->octets);
}

static void
do_noop(struct pop3_session *s, struct pop3_command *c)
{
	pop3_reply(s, "+OK");
}

static void
do_quit(struct pop3_session *s, struct pop3_command *c)
{
	size_t n = s->mbox.ndeleted;

	if (s->state != POP3_S_TRANSACTION) {
		pop3_reply(s, "+OK Bye");
		pop3_close_after_reply(s);
		return;
	}
	/* the UPDATE state (RFC 1939 §6) */
	if (pop3_mailbox_update(s) < 0) {
		log_warnx("%016llx pop3 update failed user=%s", (unsigned long long)s->base.id, s->user);
		pop3_reply(s, "-ERR [SYS/TEMP] Some deleted messages were not removed");
	} else {
		log_info("%016llx pop3 logout user=%s retr=%lu top=%lu deleted=%zu", (unsigned long long)s->base.id,
		    s->user, s->nretr, s->ntop, n);
		pop3_reply(s, "+OK Bye, %zu messages deleted", n);
	}
	pop3_mailbox_close(s);
	pop3_close_after_reply(s);
}

static const struct pop3_cmdtab commands[] = {
	{ POP3_CMD_USER, check_authorization, pop3_cmd_user },
	{ POP3_CMD_PASS, check_authorization, pop3_cmd_pass },
	{ POP3_CMD_AUTH, check_authorization, pop3_cmd_auth },
	{ POP3_CMD_APOP, check_authorization, do_apop },
	{ POP3_CMD_STLS, check_stls, do_stls },
	{ POP3_CMD_CAPA, NULL, do_capa },
	{ POP3_CMD_QUIT, NULL, do_quit },
	{ POP3_CMD_STAT, check_transaction, do_stat },
	{ POP3_CMD_LIST, check_message, do_list },
	{ POP3_CMD_UIDL, check_message, do_uidl },
	{ POP3_CMD_RETR, check_message, do_retr },
	{ POP3_CMD_TOP, check_message, do_top },
	{ POP3_CMD_DELE, check_message, do_dele },
	{ POP3_CMD_RSET, check_transaction, do_rset },
	{ POP3_CMD_NOOP, check_transaction, do_noop },
};

void
pop3_command(struct pop3_session *s, char *line, size_t len)
{
	struct pop3_command c;
	const char *err;

	log_debug("%016llx pop3 command \"%.*s\"", (unsigned long long)s->base.id,
	    str_casecmp_prefix(line, "PASS") || str_casecmp_prefix(line, "AUTH ") ? 4 : (int)len, line);
	if (pop3_parse_command(line, len, &c, &err) < 0) {
		pop3_reply(s, "-ERR %s", err);
		pop3_count_error(s);
		return;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct pop3_cmdtab *t = &commands[i];
		if (t->cmd != c.cmd)
			continue;
		if (t->check && t->check(s, &c) < 0) {
			pop3_count_error(s);
			return;
		}
		t->proceed(s, &c);
		return;
	}
	pop3_reply(s, "-ERR Unknown command");
	pop3_count_error(s);
}
