/*
 * test-imap-parse - the IMAP command syntax (imap/imap-parse.c): literal
 * announcements at line ends, whole commands as argument trees, sequence
 * sets.
 *
 * Table-driven: each command row is parsed from an exactly-sized heap
 * buffer (so AddressSanitizer sees a read past the end), and its tree is
 * printed back in a canonical form that the row gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "imap/imap-parse.h"

/* ---- literal announcements ---- */

struct lit_case {
	const char *line;
	int r;
	uint64_t size;
	int sync;
};

static const struct lit_case lit_cases[] = {
	{ "a LOGIN {5}", 1, 5, 1 },
	{ "a LOGIN {5+}", 1, 5, 0 },
	{ "a LOGIN {0}", 1, 0, 1 },
	{ "a LOGIN \"x {5}\"", 0, 0, 0 },
	{ "a LOGIN \"x\\\" {5}", 0, 0, 0 },	/* still inside the quotes */
	{ "a LOGIN \"x\\\\\" {5}", 1, 5, 1 },	/* an escaped backslash closed them */
	{ "a NOOP", 0, 0, 0 },
	{ "a LOGIN {}", -1, 0, 0 },
	{ "a LOGIN {5x}", -1, 0, 0 },
	{ "a LOGIN {+}", -1, 0, 0 },
	{ "a LOGIN {5++}", -1, 0, 0 },
	{ "a LOGIN {4294967295}", 1, 4294967295u, 1 },
	{ "a LOGIN {4294967296}", -1, 0, 0 },
	{ "a LOGIN {99999999999999999999999}", -1, 0, 0 },
	{ "}", 0, 0, 0 },
};

static void
test_line_literal(void **state)
{
	for (size_t i = 0; i < sizeof(lit_cases) / sizeof(lit_cases[0]); i++) {
		const struct lit_case *t = &lit_cases[i];
		size_t len = strlen(t->line);
		char *line = malloc(len);
		uint64_t size = 0;
		int sync = -1;

		memcpy(line, t->line, len);
		int r = imap_line_literal(line, len, &size, &sync);
		if (r != t->r)
			fail_msg("%s: got %d, want %d", t->line, r, t->r);
		if (r == 1 && (size != t->size || sync != t->sync))
			fail_msg("%s: size %llu sync %d", t->line, (unsigned long long)size, sync);
		free(line);
	}
}

/* ---- commands ---- */

struct cmd_case {
	const char *name;
	const char *cmd;
	size_t len;		/* 0: strlen */
	const char *tag;	/* expected tag ("" if none) */
	const char *cname;	/* expected name (success) */
	const char *tree;	/* expected arguments, printed (success) */
	const char *error;	/* substring of the error (failure) */
};

static const struct cmd_case cases[] = {
	{ "no args", "a1 NOOP", 0, "a1", "NOOP", "", NULL },
	{ "lower-case name", "x capability", 0, "x", "CAPABILITY", "", NULL },
	{ "login atoms", "a LOGIN alice secret", 0, "a", "LOGIN", "A(alice) A(secret)", NULL },
	{ "quoted with escapes", "a LOGIN \"al ice\" \"p\\\"w\\\\\"", 0, "a", "LOGIN", "Q(al ice) Q(p\"w\\)", NULL },
	{ "empty quoted", "a LOGIN \"\" \"\"", 0, "a", "LOGIN", "Q() Q()", NULL },
	{ "literal", "a LOGIN {5}\r\nalice {3+}\r\npw!", 0, "a", "LOGIN", "L(alice) L(pw!)", NULL },
	{ "literal empty", "a LOGIN {0}\r\n x", 0, "a", "LOGIN", "L() A(x)", NULL },
	{ "list", "a FETCH 1:* (UID FLAGS)", 0, "a", "FETCH", "A(1:*) (A(UID) A(FLAGS))", NULL },
	{ "nested lists", "a X ((a) () (b (c)))", 0, "a", "X", "((A(a)) () (A(b) (A(c))))", NULL },
	{ "uid command", "a uid fetch 1 FLAGS", 0, "a", "UID FETCH", "A(1) A(FLAGS)", NULL },
	{ "section atom", "a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To)]<0.100> UID)", 0, "a", "FETCH",
	  "A(1) (A(BODY.PEEK[HEADER.FIELDS (From To)]<0.100>) A(UID))", NULL },
	{ "flags", "a STORE 1 +FLAGS (\\Seen $Junk)", 0, "a", "STORE", "A(1) A(+FLAGS) (A(\\Seen) A($Junk))", NULL },
	{ "wildcards", "a LIST \"\" %/*", 0, "a", "LIST", "Q() A(%/*)", NULL },
	{ "utf-8 quoted", "a LOGIN \"j\xc3\xb6rg\" x", 0, "a", "LOGIN", "Q(j\xc3\xb6rg) A(x)", NULL },
	{ "tag with ]", "a] NOOP", 0, "a]", "NOOP", "", NULL },
	{ "no tag", " NOOP", 0, "", NULL, NULL, "tag" },
	{ "tag only", "abc", 0, "", NULL, NULL, "tag" },
	{ "tag with +", "a+ NOOP", 0, "", NULL, NULL, "tag" },
	{ "tag with *", "* NOOP", 0, "", NULL, NULL, "tag" },
	{ "no name", "a ", 0, "a", NULL, NULL, "Missing command" },
	{ "bad name char", "a NO*OP", 0, "a", NULL, NULL, "command name" },
	{ "uid alone", "a UID", 0, "a", NULL, NULL, "after UID" },
	{ "two spaces", "a LOGIN  x y", 0, "a", NULL, NULL, "Extra space" },
	{ "trailing space", "a NOOP ", 0, "a", NULL, NULL, "Extra space" },
	{ "unclosed quote", "a LOGIN \"x y", 0, "a", NULL, NULL, "closing quote" },
	{ "bad escape", "a LOGIN \"\\n\" y", 0, "a", NULL, NULL, "escape" },
	{ "CR in quoted", "a LOGIN \"a\rb\" y", 0, "a", NULL, NULL, "Invalid character" },
	{ "NUL in atom", "a LOGIN x\0y z", 13, "a", NULL, NULL, "Invalid character" },
	{ "NUL in literal", "a LOGIN {3}\r\nx\0y z", 19, "a", NULL, NULL, "NUL" },
	{ "NUL in quoted", "a LOGIN \"x\0\" z", 14, "a", NULL, NULL, "Invalid character" },
	{ "short literal", "a LOGIN {9}\r\nabc", 0, "a", NULL, NULL, "shorter" },
	{ "literal not at line end", "a LOGIN {3}abc", 0, "a", NULL, NULL, "end its line" },
	{ "unclosed list", "a X (a b", 0, "a", NULL, NULL, "Missing )" },
	{ "stray )", "a X a)", 0, "a", NULL, NULL, "Missing space" },
	{ "lone )", "a X )", 0, "a", NULL, NULL, "Unexpected )" },
	{ "space in list", "a X ( a)", 0, "a", NULL, NULL, "Extra space" },
	{ "unclosed bracket", "a FETCH 1 BODY[TEXT", 0, "a", NULL, NULL, "]" },
	{ "too deep", "a X (((((((((a)))))))))", 0, "a", NULL, NULL, "deeply" },
	{ "8 deep is fine", "a X ((((((((a))))))))", 0, "a", "X", "((((((((A(a)))))))))", NULL },
	{ "brace in atom", "a X a{b", 0, "a", NULL, NULL, "Missing space" },
};

static void
print_args(struct buf *b, const struct imap_arg *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addc(b, ' ');
		switch (a[i].type) {
		case IMAP_ARG_ATOM:
			buf_printf(b, "A(%s)", a[i].str);
			break;
		case IMAP_ARG_QUOTED:
			buf_printf(b, "Q(%s)", a[i].str);
			break;
		case IMAP_ARG_LITERAL:
			buf_printf(b, "L(%s)", a[i].str);
			break;
		case IMAP_ARG_LIST:
			buf_addc(b, '(');
			print_args(b, a[i].list, a[i].n);
			buf_addc(b, ')');
			break;
		}
	}
}

static void
run_case(const struct cmd_case *t, size_t len)
{
	char *cmd = malloc(len ? len : 1);
	struct imap_command c;
	const char *err;
	struct buf b = BUF_INIT;
	int r;

	memcpy(cmd, t->cmd, len);
	r = imap_parse_command(cmd, len, &c, &err);
	if (strcmp(c.tag, t->tag) != 0)
		fail_msg("%s: tag '%s', want '%s'", t->name, c.tag, t->tag);
	if (t->error) {
		if (r != -1 || err == NULL || strstr(err, t->error) == NULL)
			fail_msg("%s: r=%d err=%s, want error with '%s'", t->name, r, err ? err : "-", t->error);
	} else {
		if (r != 0)
			fail_msg("%s: failed: %s", t->name, err);
		print_args(&b, c.args, c.nargs);
		if (strcmp(c.name, t->cname) != 0 || strcmp(b.data ? b.data : "", t->tree) != 0)
			fail_msg("%s: got %s [%s], want %s [%s]", t->name, c.name, b.data ? b.data : "", t->cname,
			    t->tree);
	}
	buf_free(&b);
	imap_command_free(&c);
	free(cmd);
}

static void
test_commands(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cmd_case *t = &cases[i];
		run_case(t, t->len ? t->len : strlen(t->cmd));
	}
}

/* every prefix of every command parses or fails cleanly */
static void
test_prefixes(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cmd_case *t = &cases[i];
		size_t len = t->len ? t->len : strlen(t->cmd);
		for (size_t n = 0; n <= len; n++) {
			char *cmd = malloc(n ? n : 1);
			struct imap_command c;
			const char *err;
			memcpy(cmd, t->cmd, n);
			if (imap_parse_command(cmd, n, &c, &err) < 0)
				assert_non_null(err);
			imap_command_free(&c);
			free(cmd);
		}
	}
}

static void
test_too_many_args(void **state)
{
	struct buf b = BUF_INIT;
	struct imap_command c;
	const char *err;

	buf_adds(&b, "a X (");
	for (int i = 0; i < IMAP_ARGS_MAX + 1; i++)
		buf_adds(&b, i ? " x" : "x");
	buf_adds(&b, ")");
	assert_int_equal(imap_parse_command(b.data, b.len, &c, &err), -1);
	assert_non_null(strstr(err, "Too many arguments"));
	imap_command_free(&c);
	buf_free(&b);
}

/* ---- sequence sets ---- */

static void
test_seqset(void **state)
{
	struct imap_seqset set;
	const char *err;

	assert_int_equal(imap_parse_seqset("1,3:5,9:7,*", &set, &err), 0);
	assert_int_equal(set.n, 4);
	assert_int_equal(set.r[2].lo, 7);
	assert_int_equal(set.r[2].hi, 9);
	imap_seqset_resolve(&set, 20);
	assert_true(imap_seqset_has(&set, 1));
	assert_false(imap_seqset_has(&set, 2));
	assert_true(imap_seqset_has(&set, 4));
	assert_true(imap_seqset_has(&set, 20));
	assert_false(imap_seqset_has(&set, 19));
	imap_seqset_free(&set);

	assert_int_equal(imap_parse_seqset("5:*", &set, &err), 0);
	imap_seqset_resolve(&set, 3);	/* 5:* is 3:5 in a mailbox of 3 */
	assert_true(imap_seqset_has(&set, 3));
	assert_false(imap_seqset_has(&set, 2));
	imap_seqset_free(&set);

	static const char *const bad[] = { "", "0", "1,", ",1", "1:", ":1", "1::2", "a", "-1", "1 2",
		"4294967295", "99999999999", "1,,2", "*:" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (imap_parse_seqset(bad[i], &set, &err) != -1)
			fail_msg("'%s' accepted", bad[i]);
		assert_null(set.r);
	}
	assert_int_equal(imap_parse_seqset("4294967294", &set, &err), 0);
	imap_seqset_free(&set);
}

static void
test_seqset_range_limit(void **state)
{
	struct buf b = BUF_INIT;
	struct imap_seqset set;
	const char *err;

	for (int i = 0; i < IMAP_SEQ_RANGES_MAX; i++)
		buf_printf(&b, "%s%d", i ? "," : "", 2 * i + 1);
	assert_int_equal(imap_parse_seqset(b.data, &set, &err), 0);
	assert_int_equal(set.n, IMAP_SEQ_RANGES_MAX);
	imap_seqset_free(&set);
	buf_adds(&b, ",99999");
	assert_int_equal(imap_parse_seqset(b.data, &set, &err), -1);
	assert_non_null(strstr(err, "Too many ranges"));
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_literal),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_too_many_args),
		cmocka_unit_test(test_seqset),
		cmocka_unit_test(test_seqset_range_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
