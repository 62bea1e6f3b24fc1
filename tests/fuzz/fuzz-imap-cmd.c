/*
 * fuzz-imap-cmd - libFuzzer target for imap/imap-parse.c.
 *
 * The input is split at CR LF into lines as the session would see them;
 * each line goes through imap_line_literal() (whose answer must agree with
 * the bytes), and the whole input through imap_parse_command() and, if it
 * has a second word, imap_parse_seqset(); every string argument also
 * through imap_mutf7_valid() (a folder name's check).  Checks that the results are
 * coherent: an error text on failure, strings NUL-terminated with their
 * stated length, lists within the depth limit, ranges ordered.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_args(const struct imap_arg *a, size_t n, int depth)
{
	if (depth > IMAP_DEPTH_MAX + 1)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (a[i].type == IMAP_ARG_LIST) {
			check_args(a[i].list, a[i].n, depth + 1);
			continue;
		}
		if (a[i].str == NULL || a[i].str[a[i].len] != '\0')
			abort();
		if (a[i].type == IMAP_ARG_ATOM && (a[i].len == 0 || strlen(a[i].str) != a[i].len))
			abort();
		if (imap_mutf7_valid(a[i].str))
			for (const char *p = a[i].str; *p; p++)
				if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
					abort();	/* valid names are printable ASCII */
	}
}

static void
check_lines(const char *buf, size_t size)
{
	const char *p = buf, *end = buf + size;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((eol ? eol : end) - p);
		uint64_t n;
		int sync;
		if (len && p[len - 1] == '\r')
			len--;
		int r = imap_line_literal(p, len, &n, &sync);
		if (r == 1 && (p[len - 1] != '}' || n > UINT32_MAX || (sync != 0 && sync != 1)))
			abort();
		if (r != -1 && r != 0 && r != 1)
			abort();
		p = eol ? eol + 1 : end;
	}
}

static void
check_seqset(const char *s)
{
	struct imap_seqset set;
	const char *err = NULL;

	if (imap_parse_seqset(s, &set, &err) < 0) {
		if (err == NULL || set.r != NULL)
			abort();
		return;
	}
	if (set.n == 0 || set.n > IMAP_SEQ_RANGES_MAX)
		abort();
	imap_seqset_resolve(&set, 1000);
	for (size_t i = 0; i < set.n; i++)
		if (set.r[i].lo > set.r[i].hi || set.r[i].lo == 0)
			abort();
	imap_seqset_free(&set);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct imap_command c;
	const char *err = NULL;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	check_lines(buf, size);
	if (imap_parse_command(buf, size, &c, &err) < 0) {
		if (err == NULL || *err == '\0')
			abort();
	} else {
		if (c.tag[0] == '\0' || c.name[0] == '\0')
			abort();
		check_args(c.args, c.nargs, 0);
		if (c.nargs > 0 && c.args[0].type == IMAP_ARG_ATOM)
			check_seqset(c.args[0].str);
	}
	imap_command_free(&c);
	free(buf);
	return 0;
}
