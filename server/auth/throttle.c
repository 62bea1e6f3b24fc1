/*
 * throttle - the login throttle (throttle.h).
 *
 * Open addressing with a bounded probe: an entry lives in one of PROBE
 * slots after its hash, so a lookup costs at most PROBE comparisons and
 * the table never grows.  Evicting the oldest of those few slots instead
 * of the globally oldest entry is what keeps it O(1); with a secret hash
 * key an attacker who wants a victim's count evicted must flood the whole
 * table, as with any bounded table.
 */
#include "throttle.h"
#include "buf.h"
#include "log.h"
#include "str.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>

#define PROBE 8
#define HMAC_KEY_LEN 32

struct slot {
	uint8_t key[THROTTLE_KEY_LEN];
	uint32_t count;
	uint32_t used;
	uint64_t first;		/* start of the window */
};

struct throttle {
	struct slot *slots;
	size_t mask;
	uint8_t hkey[HMAC_KEY_LEN];
};

struct throttle *
throttle_new(size_t nslots)
{
	struct throttle *t = xcalloc(1, sizeof(*t));

	if (nslots == 0)
		nslots = THROTTLE_DEFAULT_SLOTS;
	if (nslots < PROBE || (nslots & (nslots - 1)) != 0)
		log_panic("throttle_new: %zu slots is not a power of two >= %d", nslots, PROBE);
	t->slots = xcalloc(nslots, sizeof(*t->slots));
	t->mask = nslots - 1;
	if (getrandom(t->hkey, sizeof(t->hkey), 0) != (ssize_t)sizeof(t->hkey))
		log_panic("throttle_new: getrandom failed");
	return t;
}

void
throttle_free(struct throttle **t)
{
	if (*t == NULL)
		return;
	free((*t)->slots);
	explicit_bzero((*t)->hkey, sizeof((*t)->hkey));
	free(*t);
	*t = NULL;
}

void
throttle_addr_key(const char *ip, char *out, size_t outsz)
{
	unsigned char a[16];
	char txt[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, ip, a) == 1) {
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			inet_ntop(AF_INET, a + 12, out, (socklen_t)outsz);
			return;
		}
		memset(a + 8, 0, 8);
		inet_ntop(AF_INET6, a, txt, sizeof(txt));
		snprintf(out, outsz, "%s/64", txt);
		return;
	}
	if (inet_pton(AF_INET, ip, a) == 1) {
		inet_ntop(AF_INET, a, out, (socklen_t)outsz);
		return;
	}
	str_lcpy(out, ip, outsz);
}

/* digest - the table key of (kind, text). */
static void
digest(const struct throttle *t, char kind, const char *text, uint8_t out[THROTTLE_KEY_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t n = strlen(text);
	char *msg = xmalloc(n + 2);

	msg[0] = kind;
	msg[1] = '\0';
	memcpy(msg + 2, text, n);
	if (HMAC(EVP_sha256(), t->hkey, sizeof(t->hkey), (unsigned char *)msg, n + 2, md, &mdlen) == NULL)
		log_panic("throttle: HMAC failed");
	memcpy(out, md, THROTTLE_KEY_LEN);
	free(msg);
}

static size_t
home(const struct throttle *t, const uint8_t *key)
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return (size_t)h & t->mask;
}

static struct slot *
lookup(struct throttle *t, const uint8_t *key)
{
	size_t h = home(t, key);

	for (size_t i = 0; i < PROBE; i++) {
		struct slot *s = &t->slots[(h + i) & t->mask];
		if (s->used && memcmp(s->key, key, THROTTLE_KEY_LEN) == 0)
			return s;
	}
	return NULL;
}

/* get - key's entry, made if missing (never evicting keep), with its
 * window restarted if it has passed. */
static struct slot *
get(struct throttle *t, const uint8_t *key, uint64_t now, uint64_t window, const struct slot *keep)
{
	struct slot *s = lookup(t, key), *victim = NULL;
	size_t h = home(t, key);

	for (size_t i = 0; s == NULL && i < PROBE; i++) {
		struct slot *c = &t->slots[(h + i) & t->mask];
		if (c == keep)
			continue;
		if (!c->used || now - c->first >= window) {
			victim = c;
			break;
		}
		if (victim == NULL || c->first < victim->first)
			victim = c;
	}
	if (s == NULL) {
		s = victim;
		memcpy(s->key, key, THROTTLE_KEY_LEN);
		s->used = 1;
		s->count = 0;
		s->first = now;
	}
	if (now - s->first >= window) {
		s->count = 0;
		s->first = now;
	}
	return s;
}

static void
user_key(const struct throttle *t, const char *user, uint8_t out[THROTTLE_KEY_LEN])
{
	char *low = str_lower(xstrdup(user));

	digest(t, 'u', low, out);
	free(low);
}

enum throttle_verdict
throttle_begin(struct throttle *t, const char *ip, const char *user,
    const struct throttle_limits *lim, uint64_t now_ms, struct throttle_ticket *tk_r)
{
	char net[INET6_ADDRSTRLEN + 8];
	struct slot *a, *u;

	throttle_addr_key(ip, net, sizeof(net));
	digest(t, 'a', net, tk_r->key[0]);
	user_key(t, user, tk_r->key[1]);
	a = get(t, tk_r->key[0], now_ms, lim->window_ms, NULL);
	u = get(t, tk_r->key[1], now_ms, lim->window_ms, a);
	if (a->count >= (uint32_t)lim->max_addr)
		return THROTTLE_ADDR;
	if (u->count >= (uint32_t)lim->max_user)
		return THROTTLE_USER;
	a->count++;
	u->count++;
	tk_r->first[0] = a->first;
	tk_r->first[1] = u->first;
	return THROTTLE_OK;
}

void
throttle_end(struct throttle *t, const struct throttle_ticket *tk, int failed)
{
	if (failed)
		return;
	for (int i = 0; i < 2; i++) {
		struct slot *s = lookup(t, tk->key[i]);
		/* the same window, not a new entry or a restarted count */
		if (s && s->first == tk->first[i] && s->count > 0)
			s->count--;
	}
}

void
throttle_count(struct throttle *t, const char *ip, const char *user, uint64_t now_ms,
    uint64_t window_ms, int *addr_r, int *user_r)
{
	char net[INET6_ADDRSTRLEN + 8];
	uint8_t key[THROTTLE_KEY_LEN];
	struct slot *s;

	throttle_addr_key(ip, net, sizeof(net));
	digest(t, 'a', net, key);
	s = lookup(t, key);
	*addr_r = s && now_ms - s->first < window_ms ? (int)s->count : 0;
	user_key(t, user, key);
	s = lookup(t, key);
	*user_r = s && now_ms - s->first < window_ms ? (int)s->count : 0;
}
