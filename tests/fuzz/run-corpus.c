/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tests/fuzz/run-corpus.c - a plain driver for a libFuzzer target, so that
 * the target runs as an ordinary test with any compiler.
 *
 *   run-corpus [-a] [-n N] [-s SEED] FILE|DIR...
 *
 * Feeds every file given (every regular file of a directory, in name order)
 * to LLVMFuzzerTestOneInput(), then N inputs made by mutating those files
 * with a deterministic pseudo-random generator (bit flips, interesting
 * values, inserts, deletes, truncations, splices; half of them with the
 * header's len fixed up so they get past the first check). -a: every given
 * file must be accepted by proto_decode() (the seed corpus is all valid).
 * Each input is copied to a buffer of exactly its size, so an out-of-bounds
 * read shows under ASan or valgrind.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "proto.h"

#define INPUT_CAP (PROTO_MAX_MSG + 16)

struct input {
	char *path;
	uint8_t *data;
	size_t size;
};

static struct input *inputs;
static size_t n_inputs;
static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static size_t rng_below(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

static int load_file(const char *path)
{
	struct input in = {0};
	FILE *f = fopen(path, "rbe");
	uint8_t *data = malloc(INPUT_CAP);
	size_t n;

	if (!f || !data) {
		fprintf(stderr, "run-corpus: %s: %s\n", path, strerror(errno));
		free(data);
		if (f)
			fclose(f);
		return -1;
	}
	n = fread(data, 1, INPUT_CAP, f);
	fclose(f);
	in.path = strdup(path);
	in.data = data;
	in.size = n;
	inputs = realloc(inputs, (n_inputs + 1) * sizeof(*inputs));
	if (!inputs || !in.path) {
		fprintf(stderr, "run-corpus: out of memory\n");
		return -1;
	}
	inputs[n_inputs++] = in;
	return 0;
}

static int load_path(const char *path)
{
	struct stat st;
	struct dirent **list;
	int n, r = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "run-corpus: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(path);
	n = scandir(path, &list, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "run-corpus: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char p[PATH_MAX];

		if (r == 0 && list[i]->d_name[0] != '.' &&
		    (size_t)snprintf(p, sizeof(p), "%s/%s", path, list[i]->d_name) < sizeof(p) &&
		    stat(p, &st) == 0 && S_ISREG(st.st_mode))
			r = load_file(p);
		free(list[i]);
	}
	free(list);
	return r;
}

/* Runs one input from a buffer of exactly its size. */
static void run_one(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		abort();
	memcpy(copy, data, size);
	LLVMFuzzerTestOneInput(copy, size);
	free(copy);
}

static const uint32_t interesting[] = {
    0,	  1,	  2,	  3,	  4,	   5,	       6,	    7,		 0x7f,
    0x80, 0xff,	  0x100,  0x3600, 3600,	   3601,       1024,	    1025,	 4096,
    4097, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000u, 0xffffffffu,
};
static const uint8_t bytes[] = {0,    '/',  '.',  '\\', '\n', 0x7f, 0x80, 0xbf, 0xc0,
				0xc3, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 'a'};

/* Mutates @buf (*@size bytes, INPUT_CAP room) in place. */
static void mutate(uint8_t *buf, size_t *size)
{
	unsigned rounds = 1 + (unsigned)rng_below(4);

	for (unsigned k = 0; k < rounds; k++) {
		size_t n = *size, at = rng_below(n ? n : 1);

		switch (rng_below(9)) {
		case 0: /* flip a bit */
			if (n)
				buf[at] ^= (uint8_t)(1u << rng_below(8));
			break;
		case 1: /* a random byte */
			if (n)
				buf[at] = (uint8_t)rng();
			break;
		case 2: /* an interesting byte */
			if (n)
				buf[at] = bytes[rng_below(sizeof(bytes))];
			break;
		case 3: /* an interesting 16- or 32-bit value, at a 4-aligned offset mostly */
			if (n >= 4) {
				uint32_t v = interesting[rng_below(sizeof(interesting) /
								   sizeof(interesting[0]))];
				size_t w = rng_below(2) ? 4 : 2;
				at = rng_below(4) ? rng_below(n / 4) * 4 : rng_below(n - 3);
				memcpy(buf + at, &v, w);
			}
			break;
		case 4: /* insert bytes */
			if (n < INPUT_CAP - 64) {
				size_t l = 1 + rng_below(rng_below(4) ? 4 : 64);
				memmove(buf + at + l, buf + at, n - at);
				for (size_t i = 0; i < l; i++)
					buf[at + i] = rng_below(2) ? bytes[rng_below(sizeof(bytes))]
								   : (uint8_t)rng();
				*size = n + l;
			}
			break;
		case 5: /* delete bytes */
			if (n) {
				size_t l = 1 + rng_below(rng_below(4) ? 4 : 64);
				if (l > n - at)
					l = n - at;
				memmove(buf + at, buf + at + l, n - at - l);
				*size = n - l;
			}
			break;
		case 6: /* truncate */
			*size = rng_below(n + 1);
			break;
		case 7: /* splice the tail of another input */
			if (n_inputs) {
				const struct input *o = &inputs[rng_below(n_inputs)];
				size_t from = rng_below(o->size + 1), l = o->size - from;
				if (at + l > INPUT_CAP)
					l = INPUT_CAP - at;
				memcpy(buf + at, o->data + from, l);
				*size = at + l;
			}
			break;
		case 8: /* another known type */
			if (n >= 2) {
				static const uint16_t types[] = {1,  2,	 3,  4,	 5,  6,	 7,  8, 9,
								 10, 11, 12, 14, 16, 18, 20, 22};
				memcpy(buf, &types[rng_below(sizeof(types) / sizeof(types[0]))], 2);
			}
			break;
		default:
			break;
		}
	}
	/* mostly keep the header consistent, so the input reaches the body checks */
	if (*size >= sizeof(struct proto_hdr) && rng_below(4) != 0) {
		uint32_t len = (uint32_t)(*size - sizeof(struct proto_hdr));
		memcpy(buf + offsetof(struct proto_hdr, len), &len, sizeof(len));
		if (rng_below(8) != 0)
			memset(buf + offsetof(struct proto_hdr, reserved), 0, 2);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: run-corpus [-a] [-n N] [-s SEED] FILE|DIR...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long n_mut = 0, accepted = 0, by_type[32] = {0};
	bool all_valid = false;
	uint8_t *buf;
	int c;

	rng_state = 0x5eed5eed5eedull;
	while ((c = getopt(argc, argv, "an:s:")) != -1) {
		switch (c) {
		case 'a':
			all_valid = true;
			break;
		case 'n':
			n_mut = strtoul(optarg, NULL, 10);
			break;
		case 's':
			rng_state = strtoull(optarg, NULL, 0) | 1;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	for (int i = optind; i < argc; i++)
		if (load_path(argv[i]) < 0)
			return 1;
	if (n_inputs == 0) {
		fprintf(stderr, "run-corpus: no input files\n");
		return 1;
	}

	for (size_t i = 0; i < n_inputs; i++) {
		struct proto_msg m;

		if (proto_decode(inputs[i].data, inputs[i].size, &m) == 0) {
			accepted++;
		} else if (all_valid) {
			fprintf(stderr, "run-corpus: %s: not a valid message\n", inputs[i].path);
			return 1;
		}
		run_one(inputs[i].data, inputs[i].size);
	}
	printf("run-corpus: %zu files, %lu accepted\n", n_inputs, accepted);

	buf = malloc(INPUT_CAP);
	if (!buf)
		return 1;
	accepted = 0;
	for (unsigned long k = 0; k < n_mut; k++) {
		const struct input *in = &inputs[rng_below(n_inputs)];
		size_t size = in->size;
		struct proto_msg m;

		memcpy(buf, in->data, size);
		mutate(buf, &size);
		if (proto_decode(buf, size, &m) == 0) {
			accepted++;
			by_type[m.hdr.type < 32 ? m.hdr.type : 0]++;
		}
		run_one(buf, size);
	}
	if (n_mut) {
		printf("run-corpus: %lu mutated inputs, %lu accepted:", n_mut, accepted);
		for (unsigned t = 1; t < 32; t++)
			if (by_type[t])
				printf(" %s=%lu", proto_type_name((uint16_t)t), by_type[t]);
		printf("\n");
	}
	free(buf);
	for (size_t i = 0; i < n_inputs; i++) {
		free(inputs[i].path);
		free(inputs[i].data);
	}
	free(inputs);
	return 0;
}
