/*
 * discovery-parse - reading the Autodiscover request.  Not an XML parser:
 * the request is a fixed schema and onebox needs one element of it, so it
 * looks for the element's start tag and takes the text up to the next
 * '<'.  Whatever it returns is then checked by addr.c like any address.
 */
#include "discovery.h"

#include <string.h>

static const char *
mem_find(const char *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle);

	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return hay + i;
	return NULL;
}

/* start_tag - p points at "EMailAddress>": 1 if a '<' opens it, directly
 * or through a namespace prefix ("<a:EMailAddress>"). */
static int
start_tag(const char *body, const char *p)
{
	const char *q = p;

	if (q > body && q[-1] == '<')
		return 1;
	if (q == body || q[-1] != ':')
		return 0;
	for (q -= 2; q >= body && *q != '<'; q--)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
		    *q == '_' || *q == '-' || *q == '.'))
			return 0;
	return q >= body && q + 1 < p - 1;
}

int
discovery_pox_email(const char *body, size_t len, char *out, size_t outsz)
{
	static const char tag[] = "EMailAddress>";
	const char *p = body, *end = body + len, *s, *e;

	while ((p = mem_find(p, (size_t)(end - p), tag)) != NULL && !start_tag(body, p))
		p += sizeof(tag) - 1;
	if (p == NULL)
		return -1;
	s = p + sizeof(tag) - 1;
	for (e = s; e < end && *e != '<'; e++)
		if (*e == '&' || ((unsigned char)*e < 0x20 && *e != ' ' && *e != '\t' && *e != '\r' &&
		    *e != '\n') || *e == 0x7f)
			return -1;
	while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	if (e == s || (size_t)(e - s) >= outsz)
		return -1;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	return 0;
}
