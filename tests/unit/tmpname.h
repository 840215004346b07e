/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/tmpname.h - tmp_name(): valid names of upload temporaries, for
 * the tests of the upload journal and of the orphans. Include it after
 * <cmocka.h>.
 */
#pragma once

#include <stdio.h>

#include "proto.h"

/* The @i-th temporary name (valid); each call's buffer lasts 8 calls. */
static inline const char *tmp_name(unsigned i)
{
	static char buf[8][PROTO_TMP_NAME_LEN + 1];
	static unsigned k;
	char *b = buf[k++ % 8];

	snprintf(b, sizeof(buf[0]), PROTO_TMP_PREFIX "%032x.tmp", i);
	assert_true(proto_tmp_name_valid(b));
	return b;
}
