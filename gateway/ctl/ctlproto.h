/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gateway/ctl/ctlproto.h - the control socket's protocol, between smbgatectl and
 * the gateway (control.c). Only constants: both sides use jansson.
 *
 * Transport: an AF_UNIX SOCK_SEQPACKET socket at [gateway] control_socket,
 * mode 0600 in a folder of mode 0700; the gateway answers only a peer whose
 * SO_PEERCRED uid is 0 or its own. Each message is one JSON object of at most
 * CTL_MAX_MSG bytes (no NUL, no framing: a message is a datagram).
 *
 * One request at a time per connection; the client may send another after
 * the final answer of the previous one. Each request is answered by zero or
 * more item messages, then exactly one final message holding "done": true:
 *
 *   {"v":1,"cmd":"sessions"}
 *     -> {"session":{"id":1,"user":"alice","server":"files","address":"10.0.0.5",
 *                    "since":"2026-01-02T10:00:00Z","age_s":192,"idle_s":5,
 *                    "pid":1234,"bytes_in":0,"bytes_out":14,"in_flight":0,
 *                    "mounted":"off"}}          (one per live session)
 *     -> {"done":true,"count":N}
 *   {"v":1,"cmd":"kill","ids":[1,2]}            (1..CTL_MAX_IDS ids)
 *   {"v":1,"cmd":"kill","user":"alice"[,"server":"files"]}
 *     -> {"done":true,"ended":N,"unknown":[ids not found]}
 *   {"v":1,"cmd":"exec","user":"alice"[,"server":"files"],"argv":["ls","-l"]}
 *     with exactly 3 fds: the caller's stdin, stdout, stderr
 *     -> {"done":true,"exit":N}   when the command ends (no time limit)
 *   anything wrong, at any point
 *     -> {"done":true,"error":{"code":"...","message":"..."}}
 *
 * Error codes: "permission_denied" (peer not root: the connection is then
 * closed), "busy" (CTL_MAX_CONNS connections open), "bad_request" (not JSON,
 * too big, unknown "v" or "cmd", bad arguments), "unexpected_fds",
 * "no_such_server", "no_session" (exec: the user has no live session),
 * "exec_failed".
 *
 * File descriptors: a request may carry up to FDPASS_MAX fds by SCM_RIGHTS
 * (sandbox/shared/fdpass.h). Each command says how many it takes (today's
 * take none: a request with fds is refused and its fds closed). That is the
 * room for "exec": its request will carry the caller's stdin, stdout and
 * stderr, its item messages report progress, and its final message carries
 * "exit": STATUS.
 */
#pragma once

#define CTL_PROTO_VERSION 1
#define CTL_MAX_MSG	  (64 * 1024) /* bytes of one message, either way */
#define CTL_MAX_CONNS	  4	      /* connections served at once */
#define CTL_TIMEOUT_MS	  10000	      /* a connection's idle limit; a message's send limit */
#define CTL_MAX_IDS	  64	      /* ids in one kill request */
