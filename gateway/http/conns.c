/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/http/conns.c - deadlines and fair shares for client connections
 * (gateway process: libmicrohttpd's threads and one watchdog thread).
 * See conns.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http/conns.h"

#define ADDR_BUCKETS	1024
#define WATCH_PERIOD_MS 500

enum phase {
	PHASE_HEADERS, /* waiting for the request line and headers */
	PHASE_BODY,    /* the request's body is being received */
	PHASE_ANSWER,  /* the gateway handles the request and answers */
};

/* How many connections one address holds. */
struct addr_count {
	unsigned char key[16];
	unsigned n;
	struct addr_count *next;
};

struct conn {
	struct gw_conns *table;
	int fd;
	unsigned char key[16];
	enum phase phase;
	int64_t deadline_ms;	 /* PHASE_HEADERS: when the headers must be in */
	int64_t window_start_ms; /* PHASE_BODY: the current rate window */
	uint64_t window_bytes;
	int64_t enter_ms; /* in the handler since */
	bool in_handler;
	bool cut;
	struct conn *prev, *next;
};

struct gw_conns {
	struct gw_conns_limits lim;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t watchdog;
	bool stopping;
	struct conn *head;
	unsigned open;
	uint64_t cut;
	struct addr_count *addrs[ADDR_BUCKETS];
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An address as 16 bytes (IPv4 as ::ffff:a.b.c.d); false for other families. */
static bool addr_key(const struct sockaddr *sa, unsigned char key[16])
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	if (sa->sa_family == AF_INET) {
		memset(key, 0, 10);
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	return false;
}

static void key_text(const unsigned char key[16], char buf[INET6_ADDRSTRLEN])
{
	static const unsigned char v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (memcmp(key, v4, 12) == 0)
		inet_ntop(AF_INET, key + 12, buf, INET6_ADDRSTRLEN);
	else
		inet_ntop(AF_INET6, key, buf, INET6_ADDRSTRLEN);
}

static size_t addr_bucket(const unsigned char key[16])
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % ADDR_BUCKETS;
}

/* The count of @key (lock held); NULL when the address holds nothing. */
static struct addr_count *addr_find(struct gw_conns *t, const unsigned char key[16])
{
	for (struct addr_count *a = t->addrs[addr_bucket(key)]; a; a = a->next)
		if (memcmp(a->key, key, 16) == 0)
			return a;
	return NULL;
}

/* Adds @delta to the count of @key (lock held); false when out of memory. */
static bool addr_add(struct gw_conns *t, const unsigned char key[16], int delta)
{
	size_t b = addr_bucket(key);
	struct addr_count **pp = &t->addrs[b];

	while (*pp && memcmp((*pp)->key, key, 16) != 0)
		pp = &(*pp)->next;
	if (!*pp) {
		if (delta <= 0)
			return true;
		*pp = calloc(1, sizeof(**pp));
		if (!*pp)
			return false;
		memcpy((*pp)->key, key, 16);
	}
	struct addr_count *a = *pp;
	if (delta < 0 && a->n <= (unsigned)-delta) {
		*pp = a->next;
		free(a);
		return true;
	}
	a->n = (unsigned)((int)a->n + delta);
	return true;
}

/* Shuts the connection down (lock held); its own thread then closes it. */
static void cut(struct gw_conns *t, struct conn *k, const char *why)
{
	char text[INET6_ADDRSTRLEN];

	k->cut = true;
	t->cut++;
	shutdown(k->fd, SHUT_RDWR);
	key_text(k->key, text);
	fprintf(stderr, "smbgate: closing a connection from %s: %s\n", text, why);
}

static void check(struct gw_conns *t, struct conn *k, int64_t now)
{
	const int64_t window = GW_CONNS_RATE_WINDOW * 1000;

	if (k->cut || k->in_handler)
		return;
	if (k->phase == PHASE_HEADERS && now >= k->deadline_ms) {
		cut(t, k, "the request line and headers took too long");
	} else if (k->phase == PHASE_BODY && t->lim.min_body_rate &&
		   now - k->window_start_ms >= window) {
		if (k->window_bytes < t->lim.min_body_rate * GW_CONNS_RATE_WINDOW) {
			cut(t, k, "the request body came too slowly");
			return;
		}
		k->window_start_ms = now;
		k->window_bytes = 0;
	}
}

static void *watchdog(void *arg)
{
	struct gw_conns *t = arg;

	pthread_mutex_lock(&t->lock);
	while (!t->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += WATCH_PERIOD_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&t->wake, &t->lock, &ts);
		int64_t now = now_ms();
		for (struct conn *k = t->head; k; k = k->next)
			check(t, k, now);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int gw_conns_new(const struct gw_conns_limits *lim, struct gw_conns **ret)
{
	pthread_condattr_t ca;
	struct gw_conns *t;
	int r;

	if (!lim || !ret || lim->header_timeout == 0 || lim->reserve >= lim->limit)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->lim = *lim;
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->wake, &ca);
	pthread_condattr_destroy(&ca);
	r = pthread_create(&t->watchdog, NULL, watchdog, t);
	if (r != 0) {
		pthread_cond_destroy(&t->wake);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return -r;
	}
	*ret = t;
	return 0;
}

void gw_conns_free(struct gw_conns *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = true;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->watchdog, NULL);
	while (t->head) {
		struct conn *k = t->head;
		t->head = k->next;
		free(k);
	}
	for (size_t i = 0; i < ADDR_BUCKETS; i++)
		while (t->addrs[i]) {
			struct addr_count *a = t->addrs[i];
			t->addrs[i] = a->next;
			free(a);
		}
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* The connection that has waited longest for its request line and headers
 * (lock held): the one to close when the gateway is full. NULL when every
 * connection is busy with a request. */
static struct conn *longest_waiting(struct gw_conns *t)
{
	struct conn *pick = NULL;

	for (struct conn *k = t->head; k; k = k->next)
		if (k->phase == PHASE_HEADERS && !k->cut && !k->in_handler &&
		    (!pick || k->deadline_ms < pick->deadline_ms))
			pick = k;
	return pick;
}

enum MHD_Result gw_conns_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct gw_conns *t = cls;
	unsigned char key[16];
	enum MHD_Result ok = MHD_YES;

	(void)addrlen;
	if (!addr_key(addr, key))
		return MHD_YES;
	pthread_mutex_lock(&t->lock);
	const struct addr_count *a = addr_find(t, key);
	unsigned held = a ? a->n : 0;
	if (held >= t->lim.per_address)
		ok = MHD_NO;
	else if (t->open >= t->lim.limit - t->lim.reserve && held >= GW_CONNS_LIGHT)
		ok = MHD_NO; /* the rest is kept for addresses that hold little */
	else if (t->open >= t->lim.limit) {
		/* Full of connections: the one that waited longest for a request
		 * makes room (idle ones cannot lock newcomers out); when every
		 * one is busy with a request, the newcomer waits its turn. */
		struct conn *k = longest_waiting(t);
		if (k && t->open < t->lim.limit + GW_CONNS_SPARE)
			cut(t, k,
			    "the gateway is full: closing the connection that waited longest "
			    "for a request");
		else
			ok = MHD_NO;
	}
	pthread_mutex_unlock(&t->lock);
	return ok;
}

static void started(struct gw_conns *t, struct MHD_Connection *c, void **socket_context)
{
	const union MHD_ConnectionInfo *fdi =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	const union MHD_ConnectionInfo *ai =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct conn *k = calloc(1, sizeof(*k));

	if (!k || !fdi || !ai || !addr_key(ai->client_addr, k->key)) {
		free(k);
		return; /* not watched: libmicrohttpd's own timeout still applies */
	}
	k->table = t;
	k->fd = fdi->connect_fd;
	k->phase = PHASE_HEADERS;
	pthread_mutex_lock(&t->lock);
	if (!addr_add(t, k->key, +1)) {
		pthread_mutex_unlock(&t->lock);
		free(k);
		return;
	}
	k->deadline_ms = now_ms() + (int64_t)t->lim.header_timeout * 1000;
	k->next = t->head;
	if (t->head)
		t->head->prev = k;
	t->head = k;
	t->open++;
	pthread_mutex_unlock(&t->lock);
	*socket_context = k;
}

static void closed(struct gw_conns *t, struct conn *k)
{
	pthread_mutex_lock(&t->lock);
	if (k->prev)
		k->prev->next = k->next;
	else
		t->head = k->next;
	if (k->next)
		k->next->prev = k->prev;
	addr_add(t, k->key, -1);
	t->open--;
	pthread_mutex_unlock(&t->lock);
	free(k);
}

void gw_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		     enum MHD_ConnectionNotificationCode code)
{
	struct gw_conns *t = cls;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = NULL;
		started(t, c, socket_context);
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
		closed(t, *socket_context);
		*socket_context = NULL;
	}
}

static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

void gw_conns_headers_done(struct MHD_Connection *c, bool body)
{
	struct conn *k = conn_of(c);

	if (!k)
		return;
	pthread_mutex_lock(&k->table->lock);
	k->phase = body ? PHASE_BODY : PHASE_ANSWER;
	k->window_start_ms = now_ms();
	k->window_bytes = 0;
	pthread_mutex_unlock(&k->table->lock);
}

void gw_conns_handler_enter(struct MHD_Connection *c)
{
	struct conn *k = conn_of(c);

	if (!k)
		return;
	pthread_mutex_lock(&k->table->lock);
	k->in_handler = true;
	k->enter_ms = now_ms();
	pthread_mutex_unlock(&k->table->lock);
}

void gw_conns_handler_leave(struct MHD_Connection *c, size_t body_bytes, bool body_done)
{
	struct conn *k = conn_of(c);

	if (!k)
		return;
	pthread_mutex_lock(&k->table->lock);
	if (k->in_handler) {
		/* The gateway's own time is not the client's. */
		k->window_start_ms += now_ms() - k->enter_ms;
		k->in_handler = false;
	}
	k->window_bytes += body_bytes;
	if (body_done && k->phase == PHASE_BODY)
		k->phase = PHASE_ANSWER;
	pthread_mutex_unlock(&k->table->lock);
}

void gw_conns_request_done(struct MHD_Connection *c)
{
	struct conn *k = conn_of(c);

	if (!k)
		return;
	pthread_mutex_lock(&k->table->lock);
	k->phase = PHASE_HEADERS; /* a kept-alive connection waits for the next request */
	k->in_handler = false;
	k->deadline_ms = now_ms() + (int64_t)k->table->lim.header_timeout * 1000;
	pthread_mutex_unlock(&k->table->lock);
}

unsigned gw_conns_open(struct gw_conns *t)
{
	pthread_mutex_lock(&t->lock);
	unsigned n = t->open;
	pthread_mutex_unlock(&t->lock);
	return n;
}

uint64_t gw_conns_cut(struct gw_conns *t)
{
	pthread_mutex_lock(&t->lock);
	uint64_t n = t->cut;
	pthread_mutex_unlock(&t->lock);
	return n;
}
