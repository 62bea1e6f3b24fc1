/*
 * imap-append - APPEND (RFC 3501 §6.3.11): a message literal streamed
 * into the target folder's tmp/, never held in memory.
 *
 * The session sees "tag APPEND mailbox [flags] [date] {n}" end a line
 * (imap_append_literal): the folder, flags, date, size (max_message_size)
 * and quota are checked before a byte is taken; a synchronizing literal
 * that fails them is refused instead of "+ Ready", a non-synchronizing
 * one is read and dropped (its bytes are on their way).  Accepted bytes
 * go to a tmp/ file with CR LF turned into LF (the Maildir convention);
 * the command's last line must then be empty.  The file is fsync'ed,
 * given its date, renamed into cur/ with its flags (into new/ without
 * any, so it is \Recent for the next session that selects the folder),
 * and the directory fsync'ed, all before the tagged OK: an OK'd message
 * survives a crash, and a crash before it leaves only a tmp/ file that
 * maildir_clean_tmp() removes.  The OK carries APPENDUID (RFC 4315): the
 * UID a sync of the folder's index gave the file.
 */
#include "imap.h"
#include "log.h"
#include "maildir.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct imap_append {
	struct maildir_tmp t;
	int fd;
	char *dir;		/* the folder */
	uint32_t flags;
	uint32_t kw;		/* keyword bits: letters 'a' + bit */
	int64_t date;		/* 0: now */
	uint64_t size, lfs;	/* bytes stored (LF ends), and their LFs */
	int pending_cr;		/* a CR ended the last chunk */
	int failed;		/* a write failed: answer NO at the end */
	int discard;		/* refused: the bytes are dropped */
	char *refusal;		/* the NO text when discarding */
};

/* parse_datetime - "dd-Mon-yyyy hh:mm:ss +zzzz" into seconds. */
static int
parse_datetime(const char *s, int64_t *t_r)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec" };
	struct tm tm;
	char m[4], sign;
	int d, y, hh, mm, ss, zone, used = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%2d-%3[A-Za-z]-%4d %2d:%2d:%2d %c%4d%n", &d, m, &y, &hh, &mm, &ss, &sign, &zone, &used) != 8 ||
	    s[used] != '\0' || (sign != '+' && sign != '-') || d < 1 || d > 31 || y < 1900 || hh > 23 || mm > 59 ||
	    ss > 60 || zone > 1459)
		return -1;
	for (tm.tm_mon = 0; tm.tm_mon < 12 && strcasecmp(mon[tm.tm_mon], m) != 0; tm.tm_mon++)
		;
	if (tm.tm_mon == 12)
		return -1;
	tm.tm_mday = d;
	tm.tm_year = y - 1900;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	int offset = (zone / 100 * 60 + zone % 100) * 60;
	*t_r = (int64_t)timegm(&tm) - (sign == '+' ? offset : -offset);
	return 0;
}

void
imap_append_free(struct imap_session *s)
{
	struct imap_append *a = s->append;

	if (a == NULL)
		return;
	if (a->fd >= 0) {
		close(a->fd);
		maildir_tmp_abort(&a->t);
	}
	maildir_tmp_free(&a->t);
	free(a->dir);
	free(a->refusal);
	free(a);
	s->append = NULL;
}

/* check - the folder, flags, date; NULL if fine, else the refusal (static). */
static const char *
check(struct imap_session *s, const struct imap_command *c, struct imap_append *a, uint64_t size)
{
	const char *name = imap_arg_astring(&c->args[0]);
	size_t i = 1;

	if (name == NULL)
		return "BAD Missing mailbox name";
	if (i < c->nargs && c->args[i].type == IMAP_ARG_LIST) {
		int grew = 0, r = imap_parse_flags(s, &c->args[i], 1, 1, &a->flags, &a->kw, &grew);
		if (grew && s->state == IMAP_S_SELECTED)
			imap_tell_flags(s);
		if (r == -2)
			return "NO [LIMIT] Too many keywords";
		if (r < 0)
			return "BAD Invalid flags";
		i++;
	}
	if (i < c->nargs) {
		if (c->args[i].type != IMAP_ARG_QUOTED || parse_datetime(c->args[i].str, &a->date) < 0)
			return "BAD Invalid date-time";
		i++;
	}
	if (i != c->nargs)
		return "BAD APPEND takes a mailbox, flags, a date and the message";
	if (!index_folder_is_inbox(name) && (!imap_mutf7_valid(name) || !index_folder_name_valid(name)))
		return "NO [CANNOT] Invalid mailbox name";
	a->dir = index_folder_dir(s->root, imap_folder_name(s, name));
	if (access(a->dir, F_OK) < 0)
		return "NO [TRYCREATE] No such mailbox";
	if (size > (uint64_t)db_setting_int(s->d->svc.db, ST_MAX_MESSAGE_SIZE))
		return "NO [TOOBIG] Message too big";
	if (size == 0)
		return "NO Empty message";
	return NULL;
}

/* over_quota - 1 if size more bytes would pass the user's quota. */
static int
over_quota(struct imap_session *s, uint64_t size)
{
	struct db_user u;
	uint64_t bytes, count, quota = 0;

	if (db_user_get(s->d->svc.db, s->user, &u) == 1) {
		quota = u.quota;
		db_user_free(&u);
	}
	if (quota == 0 || maildir_quota_usage(s->root, &bytes, &count) < 0)
		return 0;
	if (bytes + size > quota && maildir_quota_refresh(s->root, 15 * 60) == 0 &&
	    maildir_quota_usage(s->root, &bytes, &count) < 0)
		return 0;
	return bytes + size > quota;
}

static size_t
append_chunk(struct session *b, const char *data, size_t len)
{
	struct imap_session *s = (struct imap_session *)b;
	struct imap_append *a = s->append;
	char out[16384];
	size_t n = 0;

	if (a->discard || a->failed)
		return len;
	for (size_t i = 0; i < len; i++) {
		if (a->pending_cr && data[i] != '\n')
			out[n++] = '\r';	/* a bare CR is kept */
		a->pending_cr = data[i] == '\r';
		if (!a->pending_cr)
			out[n++] = data[i];
		a->lfs += data[i] == '\n';
		if (n >= sizeof(out) - 1) {
			if (write(a->fd, out, n) != (ssize_t)n)
				a->failed = 1;
			a->size += n;
			n = 0;
		}
	}
	if (n && write(a->fd, out, n) != (ssize_t)n)
		a->failed = 1;
	a->size += n;
	return len;
}

static void
append_done(struct session *b)
{
	struct imap_session *s = (struct imap_session *)b;
	struct imap_append *a = s->append;

	if (a->pending_cr && !a->discard && write(a->fd, "\r", 1) != 1)
		a->failed = 1;
	a->size += a->pending_cr;
	a->pending_cr = 0;
	/* the command ends with the next line */
}

/* commit - make the message durable in its folder; 0/-1. */
static int
commit(struct imap_append *a)
{
	static const struct {
		char letter;
		uint32_t flag;
	} letters[] = {
		{ 'D', IDX_DRAFT }, { 'F', IDX_FLAGGED }, { 'R', IDX_ANSWERED }, { 'S', IDX_SEEN }, { 'T', IDX_DELETED },
	};
	char *from, *to, *cur, fl[8 + INDEX_KEYWORDS_MAX];
	size_t nf = 0;
	int r = -1;

	a->t.size = a->size;
	a->t.vsize = a->size + a->lfs;
	if (a->date) {
		struct timespec ts[2] = { { (time_t)a->date, 0 }, { (time_t)a->date, 0 } };
		futimens(a->fd, ts);
	}
	if (fsync(a->fd) < 0)
		return -1;
	close(a->fd);
	a->fd = -1;
	for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++)
		if (a->flags & letters[i].flag)
			fl[nf++] = letters[i].letter;
	for (int i = 0; i < INDEX_KEYWORDS_MAX; i++)
		if (a->kw & (1u << i))
			fl[nf++] = (char)('a' + i);
	fl[nf] = '\0';
	maildir_tmp_paths(&a->t, &from, &to);
	cur = nf ? xasprintf("%s/cur/%s:2,%s", a->dir, strrchr(to, '/') + 1, fl) : xstrdup(to);
	if (rename(from, cur) == 0) {
		a->t.published = 1;
		char *d = xasprintf("%s/%s", a->dir, nf ? "cur" : "new");
		int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = dfd >= 0 && fsync(dfd) == 0 ? 0 : -1;
		if (dfd >= 0)
			close(dfd);
		free(d);
		if (r < 0)
			unlink(cur);
	}
	free(from);
	free(to);
	free(cur);
	return r;
}

void
imap_append_finish(struct imap_session *s, const char *rest)
{
	struct imap_append *a = s->append;

	if (a->discard)
		imap_tagged(s, "%s", a->refusal);
	else if (*rest != '\0')
		imap_bad(s, "Nothing may follow the message (MULTIAPPEND is not supported)");
	else if (a->failed || commit(a) < 0) {
		log_warn("%016llx imap append to %s", (unsigned long long)s->base.id, a->dir);
		imap_tagged(s, "NO [SERVERBUG] Cannot store the message");
	} else {
		char base[INDEX_UNIQUE_MAX];
		uint32_t uid, uidvalidity;
		maildir_quota_add(s->root, (int64_t)a->size, 1);
		str_lcpy(base, a->t.unique, sizeof(base));
		if (imap_folder_uids(a->dir, &base, 1, &uid, &uidvalidity) == 0)
			imap_tagged(s, "OK [APPENDUID %u %u] APPEND completed", uidvalidity, uid);
		else
			imap_tagged(s, "OK APPEND completed");
	}
	imap_append_free(s);
}

int
imap_append_literal(struct imap_session *s, const char *cmd, size_t len, uint64_t size, int sync)
{
	struct imap_command c;
	const char *err, *refusal;
	struct imap_append *a;
	size_t n = len;

	/* the command so far, without the {n} (or RFC 3516 literal8 ~{n}:
	 * a message that may hold NUL): is this APPEND's message? */
	while (n > 0 && cmd[n - 1] != '{')
		n--;
	if (n > 0)
		n--;
	if (n > 0 && cmd[n - 1] == '~')
		n--;
	while (n > 0 && cmd[n - 1] == ' ')
		n--;
	if (imap_parse_command(cmd, n, &c, &err) < 0 || strcmp(c.name, "APPEND") != 0 || c.nargs == 0 ||
	    s->state < IMAP_S_AUTH) {
		imap_command_free(&c);
		return 0;
	}
	a = xcalloc(1, sizeof(*a));
	a->fd = -1;
	s->append = a;
	refusal = check(s, &c, a, size);
	if (refusal == NULL && over_quota(s, size))
		refusal = "NO [OVERQUOTA] Quota exceeded";
	if (refusal == NULL && (a->fd = maildir_tmp_create(a->dir, &a->t)) < 0)
		refusal = "NO [SERVERBUG] Cannot store the message";
	imap_command_free(&c);
	if (refusal && sync) {
		imap_tagged(s, "%s", refusal);
		imap_append_free(s);
		return -1;
	}
	if (refusal) {
		a->discard = 1;
		a->refusal = xstrdup(refusal);
	} else if (sync)
		imap_reply(s, "+ Ready for the message");
	session_read_bytes(&s->base, size, append_chunk, append_done);
	return 1;
}
