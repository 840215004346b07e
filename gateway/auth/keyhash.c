/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/auth/keyhash.c - the keyed hash of the gateway's tables; see keyhash.h.
 */
#include <pthread.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "auth/keyhash.h"

static uint64_t seed;
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

static void seed_init(void)
{
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed) || !seed)
		seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
}

uint64_t gw_keyhash(char kind, const char *a, const char *b, size_t n)
{
	pthread_once(&seed_once, seed_init);
	uint64_t h = 14695981039346656037ull ^ seed;
	h = (h ^ (unsigned char)kind) * 1099511628211ull;
	h = (h ^ n) * 1099511628211ull;
	for (const char *p = a; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ 0x100) * 1099511628211ull; /* a separator no byte can fake */
	for (const char *p = b; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h ^= h >> 31;
	return h ? h : 1;
}
