/*
 * test-html - the escaping formatter and the form decoder
 * (server/lib/html.c), case by case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

static void
test_printf_escapes_by_default(void **state)
{
	struct buf b = BUF_INIT;

	html_printf(&b, "<p title=\"%s\">%s %r %d %zu %%</p>", "a\"b", "<x>&'", "<b>", -3, (size_t)7);
	assert_string_equal(b.data, "<p title=\"a&quot;b\">&lt;x&gt;&amp;&#39; <b> -3 7 %</p>");
	buf_free(&b);
}

static const struct {
	const char *body;
	int ok;
	const char *name, *value;
} forms[] = {
	{ "a=1&b=2", 0, "b", "2" },
	{ "a=x+y%20z", 0, "a", "x y z" },
	{ "a=%3Cscript%3E", 0, "a", "<script>" },
	{ "a=1&a=2", 0, "a", "1" },
	{ "flag&a=", 0, "flag", "" },
	{ "&&a=1&&", 0, "a", "1" },
	{ "a=%zz", -1, NULL, NULL },
	{ "a=%4", -1, NULL, NULL },
	{ "a=%", -1, NULL, NULL },
	{ "a=%00", -1, NULL, NULL },
};

static void
test_form_parse(void **state)
{
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct form f;
		int r = form_parse(&f, forms[i].body, strlen(forms[i].body), 10);

		assert_int_equal(r, forms[i].ok);
		if (r == 0) {
			assert_non_null(form_get(&f, forms[i].name));
			assert_string_equal(form_get(&f, forms[i].name), forms[i].value);
			form_free(&f);
		}
	}
}

static void
test_form_field_cap(void **state)
{
	struct form f;

	assert_int_equal(form_parse(&f, "a=1&b=2&c=3", 11, 2), -1);
	assert_int_equal(form_parse(&f, "a=1&b=2", 7, 2), 0);
	form_free(&f);
}

static void
test_url_esc(void **state)
{
	struct buf b = BUF_INIT;
	char *back;

	url_esc(&b, "a b&c=d/é");
	assert_string_equal(b.data, "a%20b%26c%3Dd%2F%C3%A9");
	back = url_decode(b.data, b.len, 0);
	assert_string_equal(back, "a b&c=d/é");
	free(back);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_printf_escapes_by_default),
		cmocka_unit_test(test_form_parse),
		cmocka_unit_test(test_form_field_cap),
		cmocka_unit_test(test_url_esc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
