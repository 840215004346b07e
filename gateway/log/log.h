/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/log/log.h - the gateway's structured log lines: one line per event on
 * stderr (journald keeps it under systemd), written with a single write(2)
 * so that lines of concurrent threads never mix:
 *
 *   smbgate: event=NAME key=value key="value with spaces" ...
 *
 * A value is written bare when it is made of printable ASCII other than
 * space, '"', '\\' and '='; otherwise between double quotes, with '"' and
 * '\\' escaped by a backslash and control bytes as \xNN (UTF-8 kept as it
 * is). The events and their keys are listed in docs/operations.md. Never
 * give a password or a token to these functions.
 *
 * Runs in: the gateway process (any thread).
 */
#pragma once

#include <stdint.h>
#include <stddef.h>

#define GW_LOG_MAX 2048 /* a longer line is cut, ending in "..." */

struct gw_log {
	char buf[GW_LOG_MAX + 8];
	size_t len;
};

/* Starts the line "smbgate: event=@event" in @l (caller's storage). */
void gw_log_begin(struct gw_log *l, const char *event);

/* Adds " @key=@value" (@key: bare [a-z_]; a NULL @value is written as "-"). */
void gw_log_str(struct gw_log *l, const char *key, const char *value);
/* The same for a value of @len bytes (not NUL-terminated). */
void gw_log_strn(struct gw_log *l, const char *key, const char *value, size_t len);
void gw_log_u64(struct gw_log *l, const char *key, uint64_t value);
void gw_log_i64(struct gw_log *l, const char *key, int64_t value);

/* Ends the line with '\n' and writes it to stderr in one write(2). */
void gw_log_end(struct gw_log *l);
