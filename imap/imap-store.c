/*
 * imap-store - the commands that change the selected mailbox: STORE and
 * UID STORE (RFC 3501 §6.4.6), EXPUNGE and UID EXPUNGE (RFC 4315 §2.1),
 * COPY and UID COPY (§6.4.7), MOVE and UID MOVE (RFC 6851).
 *
 * Flags and keywords live in the Maildir file names (index_set_flags_kw
 * renames); keywords are letters a-z named by the user's keyword table
 * (index.h), so at most 26 per user: STORE of a 27th answers NO [LIMIT].
 * A new keyword is announced with FLAGS and PERMANENTFLAGS.  With the
 * RFC 7162 modifier (UNCHANGEDSINCE m), a message changed since m is left
 * alone and listed in the tagged [MODIFIED set]; once CONDSTORE is on,
 * the FETCH answers carry each message's MODSEQ.
 *
 * COPY hard-links each file into the target's cur/ with a new unique name
 * and makes the directory durable (fsync) before the tagged OK; MOVE is
 * that, then an expunge of the sources, reported by untagged EXPUNGEs.
 * The copies' UIDs come from a sync of the target's index, for COPYUID
 * (RFC 4315 UIDPLUS).  (That sync runs in the loop: cheap for a folder
 * already indexed; the first sync of a big folder never opened before
 * would stall the process briefly.)
 */
#include "imap.h"
#include "log.h"
#include "maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum store_mode { STORE_SET, STORE_ADD, STORE_REMOVE };

void
imap_keywords_load(struct imap_session *s)
{
	index_names_free(s->kwnames, s->nkw);
	s->kwnames = NULL;
	s->nkw = 0;
	if (index_keywords(s->root, &s->kwnames, &s->nkw) < 0)
		log_warn("%016llx imap keywords of %s", (unsigned long long)s->base.id, s->root);
}

void
imap_flag_names(struct imap_session *s, struct buf *out)
{
	buf_adds(out, "\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	for (size_t i = 0; i < s->nkw; i++)
		buf_printf(out, " %s", s->kwnames[i]);
}

/* keyword_ok - a flag-keyword (RFC 3501 atom) we can store. */
static int
keyword_ok(const char *k)
{
	for (const char *p = k; *p; p++)
		if (*p == '%' || *p == '*' || *p == ']' || *p == '\\' || *p == '[')
			return 0;
	return *k != '\0' && strlen(k) <= 128;
}

/* keyword_bit - the bit of keyword k; -1 unknown (and not created), -2 full. */
static int
keyword_bit(struct imap_session *s, const char *k, int create, int *grew_r)
{
	int bit;

	for (size_t i = 0; i < s->nkw; i++)
		if (strcasecmp(s->kwnames[i], k) == 0)
			return (int)i;
	if (!create)
		return -1;
	if ((bit = index_keyword_add(s->root, k)) < 0)
		return errno == ENOSPC ? -2 : -3;
	imap_keywords_load(s);
	*grew_r = 1;
	return (size_t)bit < s->nkw ? bit : -3;
}

int
imap_parse_flags(struct imap_session *s, const struct imap_arg *a, size_t n, int create, uint32_t *flags_r,
    uint32_t *kw_r, int *grew_r)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} names[] = {
		{ "\\Seen", IDX_SEEN }, { "\\Answered", IDX_ANSWERED }, { "\\Flagged", IDX_FLAGGED },
		{ "\\Deleted", IDX_DELETED }, { "\\Draft", IDX_DRAFT },
	};

	if (n == 1 && a[0].type == IMAP_ARG_LIST)
		return imap_parse_flags(s, a[0].list, a[0].n, create, flags_r, kw_r, grew_r);
	*flags_r = *kw_r = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k;
		if (a[i].type != IMAP_ARG_ATOM)
			return -1;
		if (a[i].str[0] != '\\') {
			if (!keyword_ok(a[i].str))
				return -1;
			int bit = keyword_bit(s, a[i].str, create, grew_r);
			if (bit == -2)
				return -2;
			if (bit >= 0)
				*kw_r |= 1u << bit;
			continue;
		}
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcasecmp(a[i].str, names[k].name) == 0)
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			return -1;	/* \Recent or an unknown system flag */
		*flags_r |= names[k].bit;
	}
	return 0;
}

/* tell_flags - the flag list grew: FLAGS and PERMANENTFLAGS again. */
void
imap_tell_flags(struct imap_session *s)
{
	struct buf b = BUF_INIT;

	imap_flag_names(s, &b);
	imap_reply(s, "* FLAGS (%s)", b.data);
	imap_reply(s, "* OK [PERMANENTFLAGS (%s \\*)] Flags permitted", b.data);
	buf_free(&b);
}

static int
store_mode(const char *item, enum store_mode *mode_r, int *silent_r)
{
	size_t len = strlen(item);

	*mode_r = item[0] == '+' ? STORE_ADD : item[0] == '-' ? STORE_REMOVE : STORE_SET;
	item += *mode_r != STORE_SET;
	len -= *mode_r != STORE_SET;
	*silent_r = len == 12 && strcasecmp(item, "FLAGS.SILENT") == 0;
	return *silent_r || strcasecmp(item, "FLAGS") == 0 ? 0 : -1;
}

/* imap_modifier_num - "(NAME n)" (a STORE or FETCH modifier): n, which
 * is 0 .. 2^63-1; -1 if the list is not that. */
int
imap_modifier_num(const struct imap_arg *a, const char *name, uint64_t *n_r)
{
	const char *p;
	uint64_t v = 0;

	if (a->type != IMAP_ARG_LIST || a->n != 2 || !imap_arg_atom(&a->list[0], name) ||
	    a->list[1].type != IMAP_ARG_ATOM)
		return -1;
	for (p = a->list[1].str; *p >= '0' && *p <= '9' && v <= (UINT64_MAX >> 1) / 10; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (*p != '\0' || p == a->list[1].str || v > (UINT64_MAX >> 1))
		return -1;
	*n_r = v;
	return 0;
}

/* store_answer - the untagged FETCH of a stored (or refused) message. */
static void
store_answer(struct imap_session *s, uint32_t i, int uid, int silent, uint64_t modseq)
{
	struct imap_msg *m = &s->mbox.msgs[i];
	struct buf b = BUF_INIT;

	buf_printf(&b, "* %u FETCH (", i + 1);
	if (uid || s->qresync)
		buf_printf(&b, "UID %u ", m->uid);	/* QRESYNC: RFC 7162 §3.2.4 */
	if (!silent) {
		buf_adds(&b, "FLAGS ");
		imap_flags_out(s, &b, m);
	}
	if (s->condstore)
		buf_printf(&b, "%sMODSEQ (%llu)", silent ? "" : " ", (unsigned long long)modseq);
	buf_addc(&b, ')');
	imap_reply(s, "%s", b.data);
	buf_free(&b);
}

void
imap_cmd_store(struct imap_session *s, const struct imap_command *c)
{
	struct imap_mailbox *mb = &s->mbox;
	int uid = strncmp(c->name, "UID ", 4) == 0, silent, failed = 0;
	enum store_mode mode;
	uint32_t flags, kw, *idx;
	size_t n;
	int grew = 0, r, conditional = 0;
	size_t o = 0;		/* 1 when a modifier comes before the item */
	size_t nargs = c->nargs;
	uint64_t unchangedsince = 0;
	struct buf modified = BUF_INIT;

	if (c->args[1].type == IMAP_ARG_LIST) {
		if (imap_modifier_num(&c->args[1], "UNCHANGEDSINCE", &unchangedsince) < 0 || c->nargs < 4) {
			imap_bad(s, "STORE takes (UNCHANGEDSINCE modseq) as its modifier");
			return;
		}
		conditional = s->condstore = 1;
		o = 1;
	} else if (nargs == 4 && c->args[2].type == IMAP_ARG_LIST &&
	    imap_modifier_num(&c->args[3], "UNCHANGEDSINCE", &unchangedsince) == 0) {
		/* imapflow (Node; many phone and web apps) puts the modifier
		 * after the flag list: unambiguous there, so taken */
		conditional = s->condstore = 1;
		nargs = 3;
	}
	if (c->args[1 + o].type != IMAP_ARG_ATOM || store_mode(c->args[1 + o].str, &mode, &silent) < 0) {
		imap_bad(s, "STORE takes a set, FLAGS, +FLAGS or -FLAGS (.SILENT) and flags");
		return;
	}
	if (mb->readonly) {
		imap_tagged(s, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
	if (imap_msgset(s, &c->args[0], uid, &idx, &n) < 0)
		return;
	r = imap_parse_flags(s, c->args + 2 + o, nargs - 2 - o, mode != STORE_REMOVE, &flags, &kw, &grew);
	if (grew)
		imap_tell_flags(s);
	if (r < 0) {
		free(idx);
		if (r == -2)
			imap_tagged(s, "NO [LIMIT] Too many keywords (at most %d)", INDEX_KEYWORDS_MAX);
		else
			imap_bad(s, "STORE takes a set, FLAGS, +FLAGS or -FLAGS (.SILENT) and flags");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct imap_msg *m = &mb->msgs[idx[i]];
		uint32_t stored = m->flags & IDX_STORED_FLAGS;
		uint32_t want = mode == STORE_SET ? flags : mode == STORE_ADD ? stored | flags : stored & ~flags;
		uint32_t wkw = mode == STORE_SET ? kw : mode == STORE_ADD ? m->kw | kw : m->kw & ~kw;
		struct index_msg im;
		uint64_t modseq = 0;
		if ((s->condstore || conditional) && index_get(mb->ix, m->uid, &im) == 0) {
			modseq = im.modseq;
			index_msg_clear(&im);
		}
		if (conditional && modseq > unchangedsince) {
			/* changed since the client looked: not stored (RFC 7162 §3.1.3) */
			buf_printf(&modified, "%s%u", modified.len ? "," : "", uid ? m->uid : idx[i] + 1);
			continue;
		}
		if ((want != stored || wkw != m->kw) && index_set_flags_kw(mb->ix, m->uid, want, wkw) < 0) {
			failed = 1;
			continue;
		}
		if (want != stored || wkw != m->kw)
			modseq = index_highestmodseq(mb->ix);
		m->flags = want | (m->flags & IDX_RECENT);
		m->kw = wkw;
		if (!silent || s->condstore)
			store_answer(s, idx[i], uid, silent, modseq);
	}
	free(idx);
	if (modified.len)
		imap_tagged(s, "OK [MODIFIED %s] Conditional STORE failed for some messages", modified.data);
	else if (failed)
		imap_tagged(s, "NO Some messages could not be changed (removed meanwhile?)");
	else
		imap_tagged(s, "OK %sSTORE completed", uid ? "UID " : "");
	buf_free(&modified);
}

/* ---- expunge ---- */

/* expunge - remove the messages at the ascending indexes idx from the
 * index and the Maildir, and tell the client, highest first (so each
 * number is right when it is read).  0/-1. */
static int
expunge(struct imap_session *s, const uint32_t *idx, size_t n)
{
	struct imap_mailbox *mb = &s->mbox;
	uint32_t *uids = xcalloc(n ? n : 1, sizeof(*uids));
	int r;

	for (size_t i = 0; i < n; i++)
		uids[i] = mb->msgs[idx[i]].uid;
	r = index_expunge(mb->ix, uids, n);
	if (r == 0 && s->qresync)
		imap_vanished(s, uids, n, 0);
	free(uids);
	if (r < 0)
		return -1;
	for (size_t i = n; i-- > 0;) {
		if (!s->qresync)
			imap_reply(s, "* %u EXPUNGE", idx[i] + 1);
		memmove(&mb->msgs[idx[i]], &mb->msgs[idx[i] + 1], (mb->n - idx[i] - 1) * sizeof(*mb->msgs));
		mb->n--;
	}
	return 0;
}

void
imap_cmd_expunge(struct imap_session *s, const struct imap_command *c)
{
	struct imap_mailbox *mb = &s->mbox;
	int uid = strncmp(c->name, "UID ", 4) == 0;
	uint32_t *set = NULL, *idx;
	size_t nset = 0, n = 0;

	if (mb->readonly) {
		imap_tagged(s, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
	if (uid && imap_msgset(s, &c->args[0], 1, &set, &nset) < 0)
		return;
	idx = xcalloc(mb->n ? mb->n : 1, sizeof(*idx));
	for (size_t i = 0, k = 0; i < mb->n; i++) {
		while (uid && k < nset && set[k] < i)
			k++;
		if ((mb->msgs[i].flags & IDX_DELETED) && (!uid || (k < nset && set[k] == i)))
			idx[n++] = (uint32_t)i;
	}
	if (expunge(s, idx, n) < 0)
		imap_tagged(s, "NO [SERVERBUG] Some messages could not be removed");
	else
		imap_tagged(s, "OK %sEXPUNGE completed", uid ? "UID " : "");
	free(idx);
	free(set);
}

/* ---- copy and move ---- */

int
imap_folder_uids(const char *dir, char (*bases)[INDEX_UNIQUE_MAX], size_t n, uint32_t *uids,
    uint32_t *uidvalidity_r)
{
	struct mbox_index *ix;
	const char *err;
	int r = 0;

	if (index_open(dir, &ix, &err) < 0)
		return -1;
	if (index_sync(ix, 0) < 0)
		r = -1;
	for (size_t i = 0; i < n && r == 0; i++)
		if (index_uid_of(ix, bases[i], &uids[i]) != 0)
			r = -1;
	*uidvalidity_r = index_uidvalidity(ix);
	index_close(&ix);
	return r;
}

/* copyuid - "COPYUID v src dst " for the answer, or "" if the UIDs are unknown. */
static char *
copyuid(struct imap_session *s, const char *dir, const uint32_t *idx, char (*bases)[INDEX_UNIQUE_MAX], size_t n)
{
	uint32_t *uids = xcalloc(n ? n : 1, sizeof(*uids)), v;
	struct buf b = BUF_INIT;

	if (n == 0 || imap_folder_uids(dir, bases, n, uids, &v) < 0) {
		free(uids);
		return xstrdup("");
	}
	buf_printf(&b, "[COPYUID %u ", v);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%u", i ? "," : "", s->mbox.msgs[idx[i]].uid);
	buf_addc(&b, ' ');
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%u", i ? "," : "", uids[i]);
	buf_adds(&b, "] ");
	free(uids);
	return b.data;
}

static int
sync_dir(const char *dir)
{
	char *cur = xasprintf("%s/cur", dir);
	int fd = open(cur, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = -1;

	free(cur);
	if (fd >= 0) {
		r = fsync(fd);
		close(fd);
	}
	return r;
}

void
imap_cmd_copy(struct imap_session *s, const struct imap_command *c)
{
	struct imap_mailbox *mb = &s->mbox;
	int uid = strncmp(c->name, "UID ", 4) == 0, move = strstr(c->name, "MOVE") != NULL, failed = 0;
	const char *name = imap_folder_arg(s, &c->args[1]);
	uint64_t bytes = 0;
	int64_t total = 0, count = 0;
	uint32_t *idx;
	size_t n;
	char *dir, *code = NULL, (*bases)[INDEX_UNIQUE_MAX];

	if (name == NULL)
		return;
	if (move && mb->readonly) {
		imap_tagged(s, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
	dir = index_folder_dir(s->root, name);
	if (access(dir, F_OK) < 0) {
		free(dir);
		imap_tagged(s, "NO [TRYCREATE] No such mailbox");
		return;
	}
	if (imap_msgset(s, &c->args[0], uid, &idx, &n) < 0) {
		free(dir);
		return;
	}
	bases = xcalloc(n ? n : 1, sizeof(*bases));
	for (size_t i = 0; i < n && !failed; i++) {
		/* a message already gone elsewhere (1) is left out */
		int r = index_copy_to(mb->ix, mb->msgs[idx[i]].uid, dir, &bytes, bases[count]);
		failed = r < 0;
		if (r == 0) {
			idx[count] = idx[i];
			total += (int64_t)bytes;
			count++;
		}
	}
	if (!failed && count > 0 && sync_dir(dir) < 0)
		failed = 1;
	if (count > 0 && maildir_quota_add(s->root, total, count) < 0)
		log_warn("%016llx imap quota update in %s", (unsigned long long)s->base.id, s->root);
	if (!failed)
		code = copyuid(s, dir, idx, bases, (size_t)count);
	if (failed)
		imap_tagged(s, "NO [SERVERBUG] Cannot copy the messages");
	else if (move) {
		/* RFC 6851 §4.3: COPYUID in an untagged OK before the expunges */
		if (*code)
			imap_reply(s, "* OK %sMoved", code);
		if (expunge(s, idx, (size_t)count) < 0)
			imap_tagged(s, "NO [SERVERBUG] Copied, but the originals could not be removed");
		else
			imap_tagged(s, "OK %sMOVE completed", uid ? "UID " : "");
	} else
		imap_tagged(s, "OK %s%sCOPY completed", code, uid ? "UID " : "");
	free(code);
	free(bases);
	free(idx);
	free(dir);
}
