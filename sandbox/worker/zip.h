/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/worker/zip.h - ZIP: a folder or a selection of one folder's entries
 * written as a zip archive into a pipe, by libarchive's zip writer, as the
 * files are read (no temporary file; the worker's memory holds the list of
 * entries only).
 *
 * Runs in: the worker (and its lanes), inside the sandbox.
 */
#pragma once

#include <stdint.h>

#include "proto.h"
#include "smb.h"

/* Bytes of the paths a walk may keep in memory, in all. */
#define ZIP_MAX_PATH_BYTES (32u * 1024 * 1024)
/* The entry that lists what could not be archived. */
#define ZIP_ERRORS_NAME "smbgate-errors.txt"
/* A long walk tells the gateway it goes on (WALKING) this often at most. */
#define ZIP_WALKING_MS 1000

/*
 * Walks @folder of @share (its entries @names, '\n'-separated, each
 * proto_name_valid(); "" for all), checking @req's limits
 * (PROTO_E_TOO_BIG, PROTO_E_TOO_DEEP) before anything is written; while the
 * walk goes on, calls @walking (may be NULL) with the totals so far every
 * ZIP_WALKING_MS at most, when they grew (a non-zero return stops:
 * returned); then calls @ok once (likewise), then writes the archive into
 * @fd (blocking; the caller closes it). A file that cannot be opened is
 * left out; one that fails midway is completed with zeros; a folder that
 * cannot be listed or is a link the server followed is not entered; each
 * is listed in a last entry ZIP_ERRORS_NAME (*@ret_errors counts them).
 * Returns 0 (*@ret_bytes: the archive's size), a proto_err of the walk
 * (before @ok), or PROTO_E_IO when the archive cannot be written (the
 * reader went away).
 */
int zip_write(struct smb *s, const char *share, const char *folder, const char *names,
	      const struct proto_zip *req, int fd,
	      int (*walking)(void *ud, const struct proto_walking *w),
	      int (*ok)(void *ud, const struct proto_zip_ok *z), void *ud, uint64_t *ret_bytes,
	      uint32_t *ret_errors);
