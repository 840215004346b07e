/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/auth/lastshare.c - the share each login name last worked in; see
 * lastshare.h.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/keyhash.h"
#include "auth/lastshare.h"

/* Kept instead of a share named as the user part of its login name. */
#define HOME "\x01"

static struct {
	pthread_mutex_t lock;
	struct {
		uint64_t key; /* 0: free */
		char share[PROTO_MAX_NAME + 1];
	} slot[GW_LASTSHARE_SLOTS];
} t = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *user_part(const char *login)
{
	const char *bs = strchr(login, '\\');
	return bs ? bs + 1 : login;
}

void gw_lastshare_get(size_t server, const char *login, char out[PROTO_MAX_NAME + 1])
{
	uint64_t key = gw_keyhash('h', login, "", server);
	unsigned i = (unsigned)(key % GW_LASTSHARE_SLOTS);

	pthread_mutex_lock(&t.lock);
	if (t.slot[i].key == key)
		memcpy(out, t.slot[i].share, PROTO_MAX_NAME + 1);
	else
		out[0] = '\0';
	pthread_mutex_unlock(&t.lock);
	if (strcmp(out, HOME) == 0) {
		const char *u = user_part(login);
		snprintf(out, PROTO_MAX_NAME + 1, "%s", strlen(u) <= PROTO_MAX_NAME ? u : "");
	}
}

void gw_lastshare_set(size_t server, const char *login, const char *share)
{
	uint64_t key = gw_keyhash('h', login, "", server);
	unsigned i = (unsigned)(key % GW_LASTSHARE_SLOTS);

	if (strlen(share) > PROTO_MAX_NAME)
		share = "";
	else if (*share && strcasecmp(share, user_part(login)) == 0)
		share = HOME;
	pthread_mutex_lock(&t.lock);
	if (*share) {
		t.slot[i].key = key;
		snprintf(t.slot[i].share, sizeof(t.slot[i].share), "%s", share);
	} else if (t.slot[i].key == key) { /* another name's entry stays */
		t.slot[i].key = 0;
		t.slot[i].share[0] = '\0';
	}
	pthread_mutex_unlock(&t.lock);
}
