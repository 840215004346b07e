/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/unit/openfds.h - how many fds this process has open, for the unit
 * tests that prove nothing leaks (test-fdpass.c, test-pinhole.c).
 */
#ifndef SMBGATE_TEST_OPENFDS_H
#define SMBGATE_TEST_OPENFDS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

/* The entries of /proc/self/fd (the listing's own fd among them: compare
 * two counts, never a count with a number). Aborts when it cannot be read. */
static inline unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	if (!d) {
		perror("/proc/self/fd");
		abort();
	}
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

#endif
