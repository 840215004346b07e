/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/log/log.c - the structured log lines (log.h).
 *
 * Runs in: the gateway process (any thread).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log/log.h"

static void put(struct gw_log *l, const char *s, size_t n)
{
	if (l->len >= GW_LOG_MAX)
		return;
	if (n > GW_LOG_MAX - l->len) {
		n = GW_LOG_MAX - l->len;
		memcpy(l->buf + l->len, s, n);
		l->len = GW_LOG_MAX;
		memcpy(l->buf + l->len, "...", 3);
		l->len += 3;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static bool bare(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
}

void gw_log_begin(struct gw_log *l, const char *event)
{
	l->len = 0;
	put(l, "smbgate: event=", 15);
	put(l, event, strlen(event));
}

void gw_log_strn(struct gw_log *l, const char *key, const char *value, size_t len)
{
	bool quote = len == 0;

	put(l, " ", 1);
	put(l, key, strlen(key));
	put(l, "=", 1);
	for (size_t i = 0; i < len && !quote; i++)
		quote = !bare((unsigned char)value[i]);
	if (!quote) {
		put(l, value, len);
		return;
	}
	put(l, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		char esc[5];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(l, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02X", c);
			put(l, esc, 4);
		} else {
			put(l, (const char *)&value[i], 1);
		}
	}
	put(l, "\"", 1);
}

void gw_log_str(struct gw_log *l, const char *key, const char *value)
{
	if (!value)
		value = "-";
	gw_log_strn(l, key, value, strlen(value));
}

void gw_log_u64(struct gw_log *l, const char *key, uint64_t value)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, value);
	gw_log_str(l, key, num);
}

void gw_log_i64(struct gw_log *l, const char *key, int64_t value)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRId64, value);
	gw_log_str(l, key, num);
}

void gw_log_end(struct gw_log *l)
{
	size_t off = 0;

	l->buf[l->len++] = '\n';
	while (off < l->len) {
		ssize_t n = write(STDERR_FILENO, l->buf + off, l->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
}
