/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/fuzz/fuzz-cfg.c - fuzz target of the configuration parser,
 * cfg_load() (config/cfg.c, over libinih).
 *
 * The input is the file's content (in a memfd, loaded through its
 * /proc/self/fd path). cfg_load() must not crash or read out of bounds; it
 * returns 0 and a configuration, or a negative errno and a message that is
 * one line without control characters and names the file. On success the configuration holds
 * at least one server, each with a name and a host, the names distinct, and
 * cfg_server_find() finds each by its name.
 *
 * Built with libFuzzer (clang -fsanitize=fuzzer) or with run-corpus.c, a
 * plain driver that runs as a meson test; see README.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	struct cfg *c = NULL;
	int fd = memfd_create("fuzz-cfg", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	memset(err, 'x', sizeof(err));
	int r = cfg_load(path, &c, err, sizeof(err));
	close(fd);
	if (r < 0) {
		CHECK(c == NULL);
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(strstr(err, path) != NULL);
		for (const char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				fprintf(stderr, "message: %s\n", err);
				CHECK(!"a control character in the message");
			}
		return 0;
	}
	CHECK(r == 0 && c != NULL);
	CHECK(c->n_servers >= 1);
	for (size_t i = 0; i < c->n_servers; i++) {
		CHECK(c->servers[i].name && *c->servers[i].name);
		CHECK(c->servers[i].host && *c->servers[i].host);
		CHECK(cfg_server_find(c, c->servers[i].name) == &c->servers[i]);
	}
	cfg_free(c);
	return 0;
}
