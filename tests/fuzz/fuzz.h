/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/fuzz/fuzz.h - what every fuzz target and the plain driver share:
 * the libFuzzer entry point and CHECK(), the target's assertion.
 *
 * Runs in: the fuzz binaries (libFuzzer's or run-corpus.c's), never in the
 * product.
 */
#ifndef SMBGATE_FUZZ_H
#define SMBGATE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The target: takes @size bytes at @data (not kept), returns 0. A broken
 * invariant aborts through CHECK(). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort, naming the file, line and condition, when @cond is false: the
 * fuzzer (or the smoke test) then reports the input. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
