/*
 * test-str - the size formatter and parser (server/lib/str.c) agree: every
 * formatted size parses back to the same number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "str.h"

static const struct {
	uint64_t v;
	const char *text;
} sizes[] = {
	{ 0, "0" }, { 1, "1" }, { 1000, "1000" }, { 1024, "1K" }, { 1536, "1536" },
	{ 26214400, "25M" }, { 2147483648ULL, "2G" }, { 1099511627776ULL, "1T" },
	{ 1125899906842624ULL, "1024T" }, { 1048577, "1048577" },
};

static void
test_size_format_and_parse(void **state)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char out[32];
		uint64_t back;

		str_size_format(sizes[i].v, out, sizeof(out));
		assert_string_equal(out, sizes[i].text);
		assert_int_equal(str_size_parse(out, &back), 0);
		assert_int_equal(back, sizes[i].v);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_format_and_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
