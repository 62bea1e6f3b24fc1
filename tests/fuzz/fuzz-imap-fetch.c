/*
 * fuzz-imap-fetch - libFuzzer target for the argument parsers of FETCH
 * (items, sections, partials: imap-fetch.c), the command modifiers of
 * FETCH and STORE (imap_modifier_num) and SEARCH's case folding
 * (imap-search-fold.c).
 *
 * The input is a command line (after "t "): parsed by imap_parse_command;
 * FETCH's second argument goes through imap_fetch_items_valid, every list
 * through imap_modifier_num, every string through imap_search_fold, whose
 * result must be folded already (folding twice changes nothing) and no
 * shorter than its input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_fold(const char *s, size_t n)
{
	struct buf a = BUF_INIT, b = BUF_INIT;

	imap_search_fold(s, n, &a);
	imap_search_fold(a.data ? a.data : "", a.len, &b);
	if (a.len < n || a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
		abort();
	buf_free(&a);
	buf_free(&b);
}

static void
walk(const struct imap_arg *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v;
		if (a[i].type == IMAP_ARG_LIST) {
			if (imap_modifier_num(&a[i], "CHANGEDSINCE", &v) == 0 && v > (UINT64_MAX >> 1))
				abort();
			walk(a[i].list, a[i].n);
		} else
			check_fold(a[i].str, a[i].len);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_command c;
	const char *err;
	char *cmd = malloc(size + 2);

	memcpy(cmd, "t ", 2);
	memcpy(cmd + 2, data, size);
	if (imap_parse_command(cmd, size + 2, &c, &err) == 0) {
		if ((strcmp(c.name, "FETCH") == 0 || strcmp(c.name, "UID FETCH") == 0) && c.nargs >= 2) {
			int r = imap_fetch_items_valid(&c.args[1], c.name[0] == 'U');
			if (r != 0 && r != -1)
				abort();
		}
		walk(c.args, c.nargs);
	}
	imap_command_free(&c);
	free(cmd);
	return 0;
}
