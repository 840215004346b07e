/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/auth/auth.c - login, logout, and authentication of every other API
 * request (session cookie, Bearer token, or HTTP Basic reusing the user's
 * sandbox). Repeated failures from one address are slowed down.
 *
 * Runs in: the gateway process (HTTP threads).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/canonuser.h"
#include "auth/keyhash.h"
#include "auth/lastshare.h"
#include "auth/sbxsession.h"
#include "auth/session.h"
#include "cfg.h"
#include "client.h"
#include "http/body.h"
#include "http/reply.h"
#include "http/request.h"
#include "log/log.h"
#include "log/metrics.h"
#include "pinhole.h"
#include "proto.h"
#include "spawn.h"

/* ---- slowing down repeated failures ----
 *
 * Failures are counted per client address and per canonical user (on one
 * server; canonuser.h), so that "X\Y\bob" and "BOB" share bob's count.
 * Logins being checked count too, so that parallel requests cannot all be
 * free. Past a key's free failures its logins go one at a time, each after
 * its wait (1, 2, 4, 8, then 16 s): while one is waiting or being checked,
 * the others get 429 at once (Retry-After), nothing counted, nothing sent to
 * the server. That holds for a user name from any number of addresses, and
 * for an address retrying names that already failed from it.
 *
 * Names new to a busy address do not wait for that one: they take turns of
 * their own, RL_NEW_GAP s apart (at most RL_MAX_DELAY s ahead), so that an
 * attacker behind a shared address (an office NAT, a proxy) slows the
 * address's first-time users to one login a second, never to a 429.
 *
 * A known device skips every wait: an (address, user) pair that logged in
 * before (for a day), or a browser showing the device cookie given at its
 * login (a keyed hash of user, server and expiry: nothing kept here). It
 * stops being known after RL_FREE_FAILS failures of its own. So an attacker
 * who knows alice's name slows everyone but alice's own machines.
 *
 * A success clears its user's count only (never the address's: an
 * attacker's own account between guesses clears nothing). Everything is in
 * one fixed table under the keyed hash of keyhash.h; a full neighbourhood
 * drops its entry that ends first. Per process (DESIGN.md).
 */

#define RL_SLOTS	4096
#define RL_PROBE	8	    /* slots looked at for one key */
#define RL_FREE_FAILS	5	    /* failures before any delay */
#define RL_MAX_DELAY	16	    /* seconds; also the furthest turn of a new name */
#define RL_NEW_GAP	1	    /* seconds between logins of names new to a busy address */
#define RL_FORGET_AFTER 900	    /* seconds a count lasts after its last failure */
#define RL_KNOWN_FOR	(24 * 3600) /* seconds a device stays known after a success */

static struct {
	pthread_mutex_t lock;
	struct {
		uint64_t key; /* 0: free */
		unsigned fails;
		unsigned pending; /* logins let through, not ended yet */
		bool busy;	  /* a slowed login holds the key's one-at-a-time turn */
		time_t until;	  /* forgotten from then on */
		time_t turn_new;  /* an address's next turn for names new to it */
	} slot[RL_SLOTS];
} rl = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The slot of @key, made when @make (lock held); RL_SLOTS when not found. */
static unsigned rl_find(uint64_t key, bool make, time_t now)
{
	unsigned first = (unsigned)(key % RL_SLOTS), pick = RL_SLOTS;

	for (unsigned i = 0; i < RL_PROBE; i++) {
		unsigned j = (first + i) % RL_SLOTS;
		if (rl.slot[j].key && now >= rl.slot[j].until && !rl.slot[j].pending)
			rl.slot[j].key = 0; /* forgotten */
		if (rl.slot[j].key == key && key)
			return j;
		if (pick == RL_SLOTS || (rl.slot[pick].key && !rl.slot[j].key) ||
		    (rl.slot[pick].key && rl.slot[j].until < rl.slot[pick].until))
			pick = j;
	}
	if (!make)
		return RL_SLOTS;
	memset(&rl.slot[pick], 0, sizeof(rl.slot[pick]));
	rl.slot[pick].key = key;
	rl.slot[pick].until = now + RL_FORGET_AFTER;
	return pick;
}

/* The wait of a login on slot @i: 0 within the free failures. */
static unsigned rl_step(unsigned i)
{
	unsigned f = rl.slot[i].fails + rl.slot[i].pending;

	if (f < RL_FREE_FAILS)
		return 0;
	f -= RL_FREE_FAILS;
	return f >= 4 ? RL_MAX_DELAY : 1u << f;
}

/* What rl_begin() gives a login, for rl_end(). */
struct rl_ticket {
	uint64_t akey, ukey, pkey, fkey, dkey; /* address, user, pair, failed pair, device */
	bool counted;			       /* not a known device: holds pending */
	bool held_u, held_a;		       /* holds the user's, the address's turn */
};

/* Whether @a and @b, @n bytes each, are equal; in time independent of where they differ. */
static bool ct_equal(const char *a, const char *b, size_t n)
{
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* The device cookie of @user on @server expiring at @exp: "<exp>.<mac>". */
static void rl_device_value(const char *user, size_t server, unsigned long long exp, char out[64])
{
	char e[24];

	snprintf(e, sizeof(e), "%llx", exp);
	snprintf(out, 64, "%s.%016llx", e, (unsigned long long)gw_keyhash('D', user, e, server));
}

/* Whether @cookie (may be NULL) is a live device cookie of @user on @server. */
static bool rl_device_ok(const char *cookie, const char *user, size_t server, time_t now)
{
	char want[64];
	unsigned long long exp;
	char *end;

	if (!cookie || strlen(cookie) >= sizeof(want))
		return false;
	exp = strtoull(cookie, &end, 16);
	if (end == cookie || *end != '.' || exp <= (unsigned long long)now)
		return false;
	rl_device_value(user, server, exp, want);
	return strlen(cookie) == strlen(want) && ct_equal(cookie, want, strlen(want));
}

/* Whether the device of @k is known: a pair or cookie without too many failures. */
static bool rl_known(const struct rl_ticket *k, bool cookie_ok, time_t now)
{
	unsigned i = rl_find(k->pkey, false, now);

	if (i != RL_SLOTS && rl.slot[i].fails < RL_FREE_FAILS)
		return true;
	if (!cookie_ok)
		return false;
	i = rl_find(k->dkey, false, now);
	return i == RL_SLOTS || rl.slot[i].fails < RL_FREE_FAILS;
}

/*
 * A login of canonical @user on @server from @addr (@device: its device
 * cookie, may be NULL) begins. Returns 0 with its ticket in *@k and the
 * seconds it waits in *@ret_delay; every 0 must be followed by one
 * rl_end(). Or -EAGAIN when another slowed login holds its user's or its
 * address's turn, or a new name's turn would be too far away: *@ret_delay
 * says when to try again, nothing is counted.
 */
static int rl_begin(const char *addr, const char *user, size_t server, const char *device,
		    struct rl_ticket *k, unsigned *ret_delay)
{
	time_t now = time(NULL), ta = now;
	bool cookie_ok = rl_device_ok(device, user, server, now);

	*k = (struct rl_ticket){
	    .akey = gw_keyhash('a', addr, "", 0),
	    .ukey = gw_keyhash('u', user, "", server),
	    .pkey = gw_keyhash('k', addr, user, server),
	    .fkey = gw_keyhash('f', addr, user, server),
	    .dkey = cookie_ok ? gw_keyhash('d', device, user, server) : 0,
	};
	*ret_delay = 0;
	pthread_mutex_lock(&rl.lock);
	k->counted = !rl_known(k, cookie_ok, now);
	if (!k->counted) {
		pthread_mutex_unlock(&rl.lock);
		return 0;
	}
	unsigned iu = rl_find(k->ukey, true, now), ia = rl_find(k->akey, true, now);
	bool new_name = rl_find(k->fkey, false, now) == RL_SLOTS;
	unsigned su = rl_step(iu), sa = rl_step(ia), wa = sa;
	int err = 0;
	if (su && rl.slot[iu].busy)
		err = -EAGAIN;
	if (sa && new_name) {
		ta = rl.slot[ia].turn_new > now + RL_NEW_GAP ? rl.slot[ia].turn_new
							     : now + RL_NEW_GAP;
		wa = (unsigned)(ta - now);
		if (ta > now + RL_MAX_DELAY)
			err = -EAGAIN;
	} else if (sa && rl.slot[ia].busy) {
		err = -EAGAIN;
	}
	if (err) {
		pthread_mutex_unlock(&rl.lock);
		*ret_delay = su > wa ? su : wa;
		return err;
	}
	k->held_u = su > 0;
	k->held_a = sa > 0 && !new_name;
	rl.slot[iu].busy |= k->held_u;
	rl.slot[ia].busy |= k->held_a;
	if (sa && new_name)
		rl.slot[ia].turn_new = ta;
	rl.slot[iu].pending++;
	rl.slot[ia].pending++;
	pthread_mutex_unlock(&rl.lock);
	*ret_delay = su > wa ? su : wa;
	return 0;
}

/* One more failure on slot @key (made if need be). */
static void rl_fail(uint64_t key, time_t now)
{
	unsigned i = rl_find(key, true, now);

	rl.slot[i].fails++;
	rl.slot[i].until = now + RL_FORGET_AFTER;
}

/*
 * The end of a login rl_begin() let through: @outcome 1 the server refused
 * the password, 0 it took it, -1 neither (no sandbox, a limit, a timeout).
 */
static void rl_end(const struct rl_ticket *k, int outcome)
{
	time_t now = time(NULL);
	unsigned i;

	pthread_mutex_lock(&rl.lock);
	if (k->counted) {
		uint64_t keys[] = {k->akey, k->ukey};
		bool held[] = {k->held_a, k->held_u};
		for (size_t j = 0; j < 2; j++) {
			i = rl_find(keys[j], false, now);
			if (i != RL_SLOTS && rl.slot[i].pending > 0)
				rl.slot[i].pending--;
			if (i != RL_SLOTS && held[j])
				rl.slot[i].busy = false;
		}
	}
	if (outcome > 0) {
		rl_fail(k->akey, now);
		rl_fail(k->ukey, now);
		rl_fail(k->fkey, now);
		if (!k->counted) { /* a known device's own failures end its being known */
			i = rl_find(k->pkey, false, now);
			if (i != RL_SLOTS)
				rl.slot[i].fails++;
			else if (k->dkey)
				rl_fail(k->dkey, now);
		}
	} else if (outcome == 0) {
		i = rl_find(k->ukey, false, now);
		if (i != RL_SLOTS && !rl.slot[i].pending)
			rl.slot[i].fails = 0;
		i = rl_find(k->pkey, true, now);
		rl.slot[i].fails = 0;
		rl.slot[i].until = now + RL_KNOWN_FOR;
		if (k->dkey && (i = rl_find(k->dkey, false, now)) != RL_SLOTS)
			rl.slot[i].key = 0;
	}
	pthread_mutex_unlock(&rl.lock);
}

/* 429 for a login rl_begin() refused. */
static enum MHD_Result reply_busy_address(struct gw_req *r, struct MHD_Connection *c,
					  unsigned delay)
{
	char ra[16];

	snprintf(ra, sizeof(ra), "%u", delay ? delay : 1);
	return gw_reply_error_with(
	    r, c, MHD_HTTP_TOO_MANY_REQUESTS, (const char *const[]){"Retry-After", ra, NULL},
	    "too_many_attempts",
	    "too many failed logins for this user or from this address: they are checked "
	    "one at a time; try again in %s s",
	    ra);
}

/* Sleeps @delay seconds (0: not at all), with a log line saying so: the
 * line is how an administrator (and the tests) tell a slowed login from a
 * slow file server. */
static void rl_wait(unsigned delay, const char *addr, const char *via)
{
	struct gw_log l;

	if (!delay)
		return;
	gw_log_begin(&l, "login_slowed");
	gw_log_str(&l, "addr", addr);
	gw_log_str(&l, "via", via);
	gw_log_u64(&l, "seconds", delay);
	gw_log_end(&l);
	sleep(delay);
}

/* ---- sessions with a sandbox ---- */

void gw_sbx_free(void *p)
{
	struct gw_sbx *g = p;

	if (!g)
		return;
	if (g->c) {
		struct sbx *b = sbxc_sbx(g->c);
		struct gw_log l;
		gw_log_begin(&l, "sandbox_exit");
		gw_log_i64(&l, "sandbox", b->pid);
		gw_log_str(&l, "server", g->gw->cfg->servers[g->server].name);
		gw_log_str(&l, "reason", g->why ? g->why : "ended");

		gw_log_end(&l);
	}
	sbxc_free(g->c);
	pinhole_remove(g->gw->pinhole, g->pin);
	gw_metrics_sandbox(g->gw->metrics, -1);
	free(g);
}

void gw_session_failed(struct gw *gw, struct gw_session *s)
{
	gw_sessions_end_why(gw->sessions, s, "sandbox_failed");
}

void gw_session_ended(const struct gw_session *s, const char *why)
{
	struct gw_sbx *g = gw_session_sbx(s);
	struct gw_log l;

	gw_log_begin(&l, "session_end");
	gw_log_str(&l, "reason", why);
	gw_log_str(&l, "user", gw_session_user(s));
	if (g)
		gw_log_str(&l, "server", g->gw->cfg->servers[gw_session_server(s)].name);
	gw_log_u64(&l, "session", gw_session_id(s));
	gw_log_u64(&l, "age_s", gw_session_age(s));
	gw_log_end(&l);
	if (g)
		g->why = why;
	if (g && g->c) {
		char share[PROTO_MAX_NAME + 1];
		sbxc_last_share(g->c, share);
		if (*share)
			gw_lastshare_set(gw_session_server(s), gw_session_user(s), share);
	}
}

/* event=login_failed: never the user name (a password typed into its field
 * must not reach the log), the address and what went wrong. */
static void log_login_failed(struct gw *gw, size_t server, const char *addr, const char *via,
			     int err)
{
	struct gw_log l;

	gw_log_begin(&l, "login_failed");
	gw_log_str(&l, "server", gw->cfg->servers[server].name);
	gw_log_str(&l, "addr", addr);
	gw_log_str(&l, "via", via);
	gw_log_str(&l, "reason",
		   err == PROTO_E_AUTH ? "auth_failed"
		   : err == -EBUSY     ? "too_many_sessions"
		   : err == -EUSERS    ? "too_many_user_sessions"
		   : err == -EAGAIN    ? "no_sandbox"
		   : err == -ETIMEDOUT ? "timeout"
		   : err < 0	       ? "sandbox_failed"
				       : "file_server_error");
	gw_log_end(&l);
}

/*
 * Spawns a sandbox for @server and logs in there as @login_name (as typed;
 * @canon: its canonical user, under which the session is kept). On success
 * returns 0, a session reference in *@ret and its token in @token. Else a
 * negative errno (-EBUSY, -EUSERS, -EAGAIN: limits; anything else: no
 * sandbox), or a positive proto_err of the login (PROTO_E_AUTH...).
 */
static int open_session(struct gw *gw, size_t server, const char *login_name, const char *canon,
			const char *password, const char *workgroup, const char *addr,
			const char *via, struct gw_session **ret, char token[GW_TOKEN_LEN + 1])
{
	const struct cfg_server *srv = &gw->cfg->servers[server];
	char domain[GW_MAX_CREDENTIAL + 1], user[GW_MAX_CREDENTIAL + 1];
	struct gw_sbx *g = NULL;
	struct sbx *b = NULL;
	int r;

	/* DOMAIN\user, user@realm or user (canonuser.h) */
	if (gw_login_split(login_name, workgroup && *workgroup ? workgroup : srv->workgroup, domain,
			   user, sizeof(user)) < 0)
		return PROTO_E_AUTH;

	r = gw_sessions_reserve(gw->sessions, canon, server);
	if (r < 0)
		return r;
	int64_t t0 = gw_now_us();
	r = sbx_spawn(gw->spawner, server, canon, &b);
	if (r < 0)
		goto fail;
	g = calloc(1, sizeof(*g));
	if (!g) {
		sbx_free(b);
		r = -ENOMEM;
		goto fail;
	}
	g->gw = gw;
	g->server = server;
	if (gw->cfg->smb_socket != CFG_SMB_SOCKET_HANDOFF && b->smbsock_fd >= 0) {
		close(b->smbsock_fd); /* relay only: the worker has no end of it */
		b->smbsock_fd = -1;
	}
	g->pin = pinhole_add(gw->pinhole, b->listen_fd, b->smbsock_fd, srv->host, srv->port);
	b->listen_fd = b->smbsock_fd = -1;
	if (g->pin < 0) {
		r = (int)g->pin;
		sbx_free(b);
		free(g);
		g = NULL;
		goto fail;
	}
	r = sbxc_new(b, srv->timeout, &g->c);
	if (r < 0) {
		pinhole_remove(gw->pinhole, g->pin);
		free(g);
		g = NULL;
		goto fail;
	}
	gw_metrics_sandbox(gw->metrics, +1);
	gw_metrics_spawn(gw->metrics, (double)(gw_now_us() - t0) / 1e6);
	struct gw_log l;
	gw_log_begin(&l, "sandbox_spawn");
	gw_log_i64(&l, "sandbox", b->pid);
	gw_log_str(&l, "server", srv->name);
	gw_log_i64(&l, "ms", (gw_now_us() - t0) / 1000);
	gw_log_end(&l);
	char hint[PROTO_MAX_NAME + 1];
	gw_lastshare_get(server, canon, hint);
	r = sbxc_auth(g->c, srv, domain, user, password, hint);
	if (r == PROTO_E_AUTH && *hint)
		gw_lastshare_set(server, canon, ""); /* the share may be what was refused */
	if (r != 0)
		goto fail;
	/* The table takes the sandbox and the reservation, even when it fails. */
	pid_t pid = b->pid;
	g->why = "login_failed";
	r = gw_sessions_add(gw->sessions, canon, server, g, token, ret);
	if (r == 0) {
		g->why = NULL;
		gw_log_begin(&l, "login");
		gw_log_str(&l, "user", canon);
		if (strcmp(canon, login_name) != 0)
			gw_log_str(&l, "typed", login_name);
		gw_log_str(&l, "server", srv->name);
		gw_log_str(&l, "addr", addr);
		gw_log_str(&l, "via", via);
		gw_log_u64(&l, "session", gw_session_id(*ret));
		gw_log_i64(&l, "sandbox", pid);
		gw_log_end(&l);
	} else {
		log_login_failed(gw, server, addr, via, r);
	}
	return r;
fail:
	log_login_failed(gw, server, addr, via, r);
	if (g) {
		g->why = "login_failed";
		gw_sbx_free(g);
	}
	gw_sessions_unreserve(gw->sessions, canon, server);
	return r;
}

static enum MHD_Result reply_open_error(struct gw_req *r, struct MHD_Connection *c, int err)
{
	if (err == -EBUSY)
		return gw_reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, "too_many_sessions",
				      "the gateway has reached its session limit; try again later");
	if (err == -EUSERS)
		return gw_reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, "too_many_sessions",
				      "this user has too many sessions open; log out of one");
	if (err == -EAGAIN)
		return gw_reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, "no_sandbox",
				      "no sandbox can be created now; try again later");
	if (err == -ETIMEDOUT)
		return gw_reply_sbx_error(r, c, err);
	if (err < 0)
		return gw_reply_error(r, c, MHD_HTTP_BAD_GATEWAY, "sandbox_failed",
				      "the session's sandbox could not be started");
	return gw_reply_sbx_error(r, c, err);
}

/* The session cookie for @token, in @buf (wiped by the caller). */
static void make_cookie(const struct gw *gw, const char *token, char buf[GW_TOKEN_LEN + 128])
{
	snprintf(buf, GW_TOKEN_LEN + 128, "smbgate_session=%s; HttpOnly; SameSite=Strict; Path=/%s",
		 token, gw->tls ? "; Secure" : "");
}

/* The device cookie of @canon on @server, in @buf: it makes this browser a
 * known device of that user (no waits after a storm of wrong passwords). */
static void make_device_cookie(const struct gw *gw, const char *canon, size_t server, char buf[192])
{
	char v[64];

	rl_device_value(canon, server, (unsigned long long)time(NULL) + RL_KNOWN_FOR * 30ULL, v);
	snprintf(buf, 192,
		 "smbgate_device=%s; HttpOnly; SameSite=Strict; Path=/api/v1/login; Max-Age=%u%s",
		 v, RL_KNOWN_FOR * 30, gw->tls ? "; Secure" : "");
}

/* Whether a JSON string holds no "\u0000" (C would cut it short there). */
bool gw_json_text(json_t *v)
{
	return strlen(json_string_value(v)) == json_string_length(v);
}

_Static_assert(BODY_MAX_CREDENTIAL == GW_MAX_CREDENTIAL, "body.h and request.h agree");
_Static_assert(BODY_MAX_WORKGROUP == CFG_MAX_WORKGROUP, "body.h and cfg.h agree");

enum MHD_Result gw_api_login(struct gw_req *r, struct MHD_Connection *c)
{
	struct gw *gw = r->gw;
	struct body_login b = {0};
	char addr[64], token[GW_TOKEN_LEN + 1];
	size_t server = 0;
	enum MHD_Result ret;

	gw_client_addr(c, addr);
	if (!r->body)
		return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
				      "expected a JSON body {\"username\", \"password\"}");
	int derr = body_login_decode(r->body, r->body_len, &b);
	explicit_bzero(r->body, r->body_len);
	if (derr == -ENOMEM)
		return MHD_NO;
	if (derr == -EBADMSG)
		return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
				      "the body is not a JSON object");
	if (derr < 0)
		return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "bad_request",
				      "expected {\"username\": string, \"password\": string, "
				      "\"server\"?: string, \"workgroup\"?: string}");
	if (b.server) {
		const struct cfg_server *srv = cfg_server_find(gw->cfg, b.server);
		if (!srv) {
			body_login_clear(&b);
			return gw_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "unknown_server",
					      "no such server");
		}
		server = (size_t)(srv - gw->cfg->servers);
	}
	struct gw_session *s = NULL;
	const char *login_name = b.username;
	char canon[GW_CANON_USER_MAX + 1];
	struct rl_ticket k;
	unsigned delay;
	if (gw_canon_user(login_name, canon) < 0) {
		body_login_clear(&b);
		return gw_reply_error(r, c, MHD_HTTP_UNAUTHORIZED, "auth_failed",
				      "wrong user name or password");
	}
	if (rl_begin(addr, canon, server,
		     MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "smbgate_device"), &k,
		     &delay) < 0) {
		body_login_clear(&b);
		return reply_busy_address(r, c, delay);
	}
	rl_wait(delay, addr, "password");
	int err = open_session(gw, server, login_name, canon, b.password, b.workgroup, addr,
			       "password", &s, token);
	explicit_bzero(b.password, strlen(b.password));
	rl_end(&k, err == 0 ? 0 : err == PROTO_E_AUTH ? 1 : -1);
	if (err != 0) {
		body_login_clear(&b);
		return reply_open_error(r, c, err);
	}
	/* Logged only once the server accepted it: a password typed in the
	 * user name field never reaches the log. */
	snprintf(r->user, sizeof(r->user), "%.*s", (int)sizeof(r->user) - 1, canon);
	json_t *ans = json_pack("{s:s,s:s,s:s,s:s,s:I}", "token", token, "user", canon, "typed",
				login_name, "server", gw->cfg->servers[server].name, "expires_in",
				(json_int_t)gw_session_expires_in(s));
	body_login_clear(&b);
	/* Held, as an authenticated request holds it, until the answer is sent:
	 * the login is the session's first request (its address, its bytes). */
	r->session = s;
	gw_session_request_begin(s, addr);
	char cookie[GW_TOKEN_LEN + 128], device[192];
	make_cookie(gw, token, cookie);
	explicit_bzero(token, sizeof(token));
	make_device_cookie(gw, canon, server, device);
	const char *const hdrs[] = {MHD_HTTP_HEADER_SET_COOKIE, cookie, MHD_HTTP_HEADER_SET_COOKIE,
				    device, NULL};
	ret = gw_reply_json_with(r, c, MHD_HTTP_OK, ans, hdrs);
	explicit_bzero(cookie, sizeof(cookie));
	return ret;
}

enum MHD_Result gw_api_logout(struct gw_req *r, struct MHD_Connection *c)
{
	struct gw_session *s = gw_authenticate(r, c, SIZE_MAX);

	if (!s)
		return MHD_YES;
	gw_sessions_end_why(r->gw->sessions, s, "logout");
	/* The last reference: the sandbox and the credentials go before the answer. */
	gw_release_session(r);
	static const char *const hdrs[] = {
	    MHD_HTTP_HEADER_SET_COOKIE,
	    "smbgate_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0", NULL};
	return gw_reply_empty_with(r, c, MHD_HTTP_NO_CONTENT, hdrs);
}

/* Methods that only read: GET, HEAD, and WebDAV's OPTIONS and PROPFIND. */
static bool changes_state(const struct gw_req *r)
{
	static const char *const safe[] = {"GET", "HEAD", "OPTIONS", "PROPFIND"};

	for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
		if (strcmp(r->method, safe[i]) == 0)
			return false;
	return true;
}

/* Credentials a browser sends by itself (the cookie; Basic it cached) must
 * not serve another site: a request that changes state and says it comes
 * from another origin is refused. */
static bool same_origin(struct MHD_Connection *c)
{
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *sep;

	if (!origin)
		return true; /* curl and friends; old browsers send the headers below */
	sep = strstr(origin, "://");
	return host && sep && strcasecmp(sep + 3, host) == 0;
}

/* Cookie-authenticated requests that change state need a header a cross-site
 * form cannot send: Content-Type: application/json or X-Requested-With. */
static bool csrf_ok(struct gw_req *r, struct MHD_Connection *c)
{
	if (!changes_state(r))
		return true;
	if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Requested-With"))
		return true;
	const char *ct =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	return ct && strncasecmp(ct, "application/json", 16) == 0;
}

/* ---- HTTP Basic: one login for parallel first requests ----
 *
 * WebDAV clients open several connections at once, each with the same Basic
 * credentials and no session yet. The first request of a (user, server,
 * password) starts the login; the others wait for it and then take its
 * session as a later request would (the sandbox checks their password), or
 * its failure. Only a keyed hash of the three is kept, never the password; a
 * collision merely makes a request wait for a login that is not its own, after
 * which its own password is checked as usual.
 */

struct pending {
	struct pending *next;
	uint64_t key;
	unsigned waiters;
	bool done;
	int err; /* the login's result */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t done;
	struct pending *head;
} pend = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL};

static uint64_t pending_key(const char *user, const char *pass, size_t server)
{
	return gw_keyhash('p', user, pass, server);
}

/*
 * Joins the login under way for @key and waits for its end: returns true and
 * its result in *@ret_err. Else (none under way) registers this request's own
 * login in *@ret_mine, to be ended with pending_end(), and returns false.
 */
static bool pending_join(uint64_t key, int *ret_err, struct pending **ret_mine)
{
	struct pending *p;

	pthread_mutex_lock(&pend.lock);
	for (p = pend.head; p && p->key != key; p = p->next)
		;
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (p) {
			p->key = key;
			p->next = pend.head;
			pend.head = p;
		}
		pthread_mutex_unlock(&pend.lock);
		*ret_mine = p; /* NULL without memory: a login of its own, alone */
		return false;
	}
	p->waiters++;
	while (!p->done)
		pthread_cond_wait(&pend.done, &pend.lock);
	*ret_err = p->err;
	if (--p->waiters == 0)
		free(p);
	pthread_mutex_unlock(&pend.lock);
	return true;
}

static void pending_end(struct pending *mine, int err)
{
	if (!mine)
		return;
	pthread_mutex_lock(&pend.lock);
	for (struct pending **pp = &pend.head; *pp; pp = &(*pp)->next)
		if (*pp == mine) {
			*pp = mine->next;
			break;
		}
	mine->done = true;
	mine->err = err;
	pthread_cond_broadcast(&pend.done);
	if (mine->waiters == 0)
		free(mine);
	pthread_mutex_unlock(&pend.lock);
}

/* A live session of @user on @server whose sandbox takes @pass: a reference, or
 * NULL (*@ret_err: 0 none, else the check's error). */
static struct gw_session *reuse(struct gw *gw, const char *user, const char *pass, size_t server,
				int *ret_err)
{
	struct gw_session *s = gw_sessions_find_user(gw->sessions, user, server);
	int err = 0;

	if (s) {
		struct gw_sbx *g = gw_session_sbx(s);
		err = sbxc_check(g->c, pass);
		if (err == 0)
			gw_session_touch(s);
		if (err < 0)
			gw_session_failed(gw, s);
		if (err != 0) {
			gw_session_put(s);
			s = NULL;
		}
	}
	*ret_err = err;
	return s;
}

static struct gw_session *by_basic(struct gw_req *r, struct MHD_Connection *c, size_t server)
{
	struct gw *gw = r->gw;
	char *pass = NULL, addr[64], token[GW_TOKEN_LEN + 1];
	char *user = MHD_basic_auth_get_username_password(c, &pass);
	struct gw_session *s = NULL;
	int err = PROTO_E_AUTH;
	unsigned busy_delay = 0;

	if (server == SIZE_MAX)
		server = 0;
	if (!user || !pass || !body_text_ok(user, GW_MAX_CREDENTIAL) ||
	    strlen(pass) > GW_MAX_CREDENTIAL) {
		if (pass) {
			explicit_bzero(pass, strlen(pass));
			MHD_free(pass);
		}
		if (user)
			MHD_free(user);
		gw_reply_error(r, c, MHD_HTTP_UNAUTHORIZED, "unauthorized",
			       "malformed Basic credentials");
		return NULL;
	}
	gw_client_addr(c, addr);
	char canon[GW_CANON_USER_MAX + 1];
	if (gw_canon_user(user, canon) < 0)
		err = PROTO_E_AUTH; /* no account in it: refused as a wrong one */
	else /* the user's sandbox, if one is running, checks the password itself */
		s = reuse(gw, canon, pass, server, &err);
	if (!s && *canon) {
		struct pending *mine = NULL;
		int first = 0;
		bool own = true;
		if (pending_join(pending_key(user, pass, server), &first, &mine)) {
			/* Another request's login with these credentials ended: its
			 * failure is this one's too; its session is checked as usual
			 * (gone already, or another password: a login of its own). */
			err = first;
			own = false;
			if (first == 0) {
				s = reuse(gw, canon, pass, server, &err);
				own = !s;
			}
		}
		struct rl_ticket k;
		unsigned delay = 0;
		if (own &&
		    rl_begin(addr, canon, server,
			     MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "smbgate_device"), &k,
			     &delay) < 0) {
			err = -EALREADY; /* answered below; not the waiting requests' answer */
			own = false;
			busy_delay = delay;
		}
		if (own) {
			rl_wait(delay, addr, "basic");
			err = open_session(gw, server, user, canon, pass, NULL, addr, "basic", &s,
					   token);
			explicit_bzero(token, sizeof(token));
			rl_end(&k, err == 0 ? 0 : err == PROTO_E_AUTH ? 1 : -1);
		}
		pending_end(mine, err);
	}
	explicit_bzero(pass, strlen(pass));
	MHD_free(pass);
	if (err == 0)
		snprintf(r->user, sizeof(r->user), "%.*s", (int)sizeof(r->user) - 1, canon);
	MHD_free(user);
	if (err != 0) {
		if (err == PROTO_E_AUTH)
			gw_reply_error(r, c, MHD_HTTP_UNAUTHORIZED, "auth_failed",
				       "wrong user name or password");
		else if (err == -EALREADY) /* this one's or the one it waited for */
			reply_busy_address(r, c, busy_delay);
		else
			reply_open_error(r, c, err);
		return NULL;
	}
	return s;
}

static struct gw_session *authenticate_ref(struct gw_req *r, struct MHD_Connection *c,
					   size_t server)
{
	struct gw *gw = r->gw;
	const char *auth =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *token = NULL;
	struct gw_session *s;

	if (auth && strncasecmp(auth, "Basic ", 6) == 0) {
		if (changes_state(r) && !same_origin(c)) {
			gw_reply_error(r, c, MHD_HTTP_FORBIDDEN, "csrf",
				       "a request from another site cannot change anything here");
			return NULL;
		}
		return by_basic(r, c, server);
	}
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
		token = auth + 7;
	else if (!auth)
		token = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "smbgate_session");
	if (!token) {
		gw_reply_error(r, c, MHD_HTTP_UNAUTHORIZED, "unauthorized",
			       auth ? "unsupported Authorization scheme" : "log in first");
		return NULL;
	}
	s = gw_sessions_get(gw->sessions, token);
	if (!s) {
		gw_reply_error(r, c, MHD_HTTP_UNAUTHORIZED, "unauthorized",
			       "the session has ended or the token is not valid; log in again");
		return NULL;
	}
	snprintf(r->user, sizeof(r->user), "%s", gw_session_user(s));
	if (!auth && (!csrf_ok(r, c) || (changes_state(r) && !same_origin(c)))) {
		gw_session_put(s);
		gw_reply_error(r, c, MHD_HTTP_FORBIDDEN, "csrf",
			       "requests that change something need the X-Requested-With header "
			       "or a JSON body");
		return NULL;
	}
	if (server != SIZE_MAX && gw_session_server(s) != server) {
		gw_reply_error(r, c, MHD_HTTP_FORBIDDEN, "wrong_server",
			       "this session is logged in to server '%s'",
			       gw->cfg->servers[gw_session_server(s)].name);
		gw_session_put(s);
		return NULL;
	}
	return s;
}

struct gw_session *gw_authenticate(struct gw_req *r, struct MHD_Connection *c, size_t server)
{
	if (!r->session) {
		r->session = authenticate_ref(r, c, server);
		if (r->session) {
			char addr[64];

			gw_client_addr(c, addr);
			gw_session_request_begin(r->session, addr);
		}
	}
	return r->session;
}

void gw_release_session(struct gw_req *r)
{
	if (!r->session)
		return;
	gw_session_request_end(r->session, r->bytes_in, r->bytes_out);
	gw_session_put(r->session);
	r->session = NULL;
}
