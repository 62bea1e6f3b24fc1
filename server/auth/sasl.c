/*
 * sasl - SASL PLAIN and LOGIN, protocol-neutral (sasl.h).
 *
 * Every decoded buffer is wiped before it goes out of scope: it may hold
 * a password.  LOGIN's prompts are the customary "Username:" and
 * "Password:" (base64), which clients ignore but some log.
 */
#include "sasl.h"
#include "base64.h"
#include "str.h"

#include <string.h>
#include <strings.h>

#define CH_USERNAME "VXNlcm5hbWU6"	/* "Username:" */
#define CH_PASSWORD "UGFzc3dvcmQ6"	/* "Password:" */

const char *
sasl_offered(void)
{
	return "PLAIN LOGIN";
}

void
sasl_wipe(struct sasl *s)
{
	explicit_bzero(s, sizeof(*s));
	s->step = SASL_STEP_IDLE;
}

/* over - end the exchange with result r (credentials kept for DONE). */
static enum sasl_result
over(struct sasl *s, enum sasl_result r)
{
	if (r != SASL_DONE)
		sasl_wipe(s);
	s->step = SASL_STEP_IDLE;
	return r;
}

/* decode_text - base64 line into out as a C string without NULs; 0 or -1. */
static int
decode_text(const char *line, char *out, size_t outsz)
{
	ssize_t n = base64_decode(line, strlen(line), out, outsz - 1);

	if (n < 0 || memchr(out, '\0', (size_t)n) != NULL) {
		explicit_bzero(out, outsz);
		return -1;
	}
	out[n] = '\0';
	return 0;
}

/* plain - RFC 4616: [authzid] NUL authcid NUL passwd. */
static enum sasl_result
plain(struct sasl *s, const char *line)
{
	char raw[2 * AUTH_USER_MAX + AUTH_PASS_MAX + 4];
	ssize_t n = base64_decode(line, strlen(line), raw, sizeof(raw) - 1);
	char *authc, *pw;
	enum sasl_result r = SASL_BAD_INPUT;

	if (n < 0)
		return over(s, SASL_BAD_INPUT);
	raw[n] = '\0';
	if ((authc = memchr(raw, '\0', (size_t)n)) == NULL)
		goto out;
	authc++;
	if ((pw = memchr(authc, '\0', (size_t)(n - (authc - raw)))) == NULL)
		goto out;
	pw++;
	if (memchr(pw, '\0', (size_t)(n - (pw - raw))) != NULL)
		goto out;
	if (strlen(authc) > AUTH_USER_MAX || strlen(pw) > AUTH_PASS_MAX)
		goto out;
	if (raw[0] != '\0' && strcasecmp(raw, authc) != 0)
		goto out;	/* acting for someone else is not offered */
	str_lcpy(s->user, authc, sizeof(s->user));
	str_lcpy(s->pass, pw, sizeof(s->pass));
	r = SASL_DONE;
out:
	explicit_bzero(raw, sizeof(raw));
	return over(s, r);
}

/* login_user - the user name, then ask for the password. */
static enum sasl_result
login_user(struct sasl *s, const char *line)
{
	if (decode_text(line, s->user, sizeof(s->user)) < 0)
		return over(s, SASL_BAD_INPUT);
	s->step = SASL_STEP_LOGIN_PASS;
	return SASL_CHALLENGE;
}

enum sasl_result
sasl_start(struct sasl *s, const char *mech, const char *initial)
{
	sasl_wipe(s);
	if (strcasecmp(mech, "PLAIN") == 0)
		s->mech = SASL_MECH_PLAIN;
	else if (strcasecmp(mech, "LOGIN") == 0)
		s->mech = SASL_MECH_LOGIN;
	else
		return SASL_BAD_MECH;
	if (initial != NULL && strcmp(initial, "=") == 0)
		initial = "";
	if (s->mech == SASL_MECH_PLAIN) {
		if (initial != NULL)
			return plain(s, initial);
		s->step = SASL_STEP_PLAIN_RESPONSE;
		return SASL_CHALLENGE;
	}
	if (initial != NULL)
		return login_user(s, initial);
	s->step = SASL_STEP_LOGIN_USER;
	return SASL_CHALLENGE;
}

enum sasl_result
sasl_step(struct sasl *s, const char *line)
{
	if (strcmp(line, "*") == 0)
		return over(s, SASL_CANCELLED);
	switch (s->step) {
	case SASL_STEP_PLAIN_RESPONSE:
		return plain(s, line);
	case SASL_STEP_LOGIN_USER:
		return login_user(s, line);
	case SASL_STEP_LOGIN_PASS:
		if (decode_text(line, s->pass, sizeof(s->pass)) < 0)
			return over(s, SASL_BAD_INPUT);
		return over(s, SASL_DONE);
	case SASL_STEP_IDLE:
		break;
	}
	return over(s, SASL_BAD_INPUT);
}

const char *
sasl_challenge(const struct sasl *s)
{
	switch (s->step) {
	case SASL_STEP_LOGIN_USER:
		return CH_USERNAME;
	case SASL_STEP_LOGIN_PASS:
		return CH_PASSWORD;
	case SASL_STEP_PLAIN_RESPONSE:
	case SASL_STEP_IDLE:
		break;
	}
	return "";
}
