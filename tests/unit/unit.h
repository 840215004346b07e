/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/unit.h - what several unit tests use: ARRAY() and exact_copy().
 * Include it after <cmocka.h>.
 */
#pragma once

#include <stdlib.h>
#include <string.h>

#define ARRAY(a) (sizeof(a) / sizeof((a)[0]))

/* @s in a heap buffer of exactly its size (NUL included), so that a read
 * past its end shows under ASan. Caller frees. */
static inline char *exact_copy(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	assert_non_null(p);
	memcpy(p, s, n);
	return p;
}
