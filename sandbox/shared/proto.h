/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/shared/proto.h - THE wire protocol between the gateway and a sandboxed
 * smbgate-worker, over one AF_UNIX SOCK_SEQPACKET socket per sandbox.
 *
 * A message is one datagram: a fixed header, then a fixed-size body whose
 * layout depends on the type, then zero or more NUL-terminated strings (the
 * count also depends on the type). Requests (gateway -> worker) have even
 * types, answers (worker -> gateway) odd ones. Every answer echoes the seq of
 * the request it answers; the worker handles one request at a time.
 *
 * File contents never travel in messages: a READ or WRITE request carries one
 * pipe end by SCM_RIGHTS, and the bytes go through the pipe.
 *
 * This module is pure: encode, decode and validate, no I/O. The gateway
 * decodes everything the worker sends with proto_decode() and treats any
 * failure as a protocol violation (the sandbox is killed).
 *
 * Runs in: both ends: the gateway process and the worker.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 2: WRITE names its temporary; DROP. 3: STATVFS, UTIMES. 4: ZIP, SEARCH, TUS_*.
 * 5: WALKING. 6: FOLLOWED. 8: WRITABLE. 9: stats and entries carry the times in
 * full and the file id. 10: ASIDE (a COPY of a folder over another keeps the old
 * one aside until the copy is done). */
#define PROTO_VERSION 10

/* Caps, checked on both sides. */
#define PROTO_MAX_MSG	       65536 /* one datagram, header included */
#define PROTO_MAX_PATH	       4096  /* a path inside a share, bytes */
#define PROTO_MAX_NAME	       1024  /* one file or share name, bytes */
#define PROTO_MAX_CRED	       512   /* user, domain or password, bytes */
#define PROTO_MAX_STRINGS      5
#define PROTO_MAX_COMMENT      256    /* a share's comment, bytes */
#define PROTO_MAX_LIST_ENTRIES 100000 /* entries of one listing, all batches */

/*
 * The temporary an upload writes beside its target before renaming it over
 * the target. The gateway chooses its name (random) and sends it in WRITE, so
 * that it knows what to remove should the worker die mid-upload (DROP).
 * Exactly PROTO_TMP_PREFIX, PROTO_TMP_HEX lowercase hex digits, ".tmp": see
 * proto_tmp_name_valid(). Clients of the gateway can never name it.
 */
#define PROTO_TMP_PREFIX   ".~smbgate-new-"
#define PROTO_TMP_HEX	   32
#define PROTO_TMP_NAME_LEN (sizeof(PROTO_TMP_PREFIX) - 1 + PROTO_TMP_HEX + 4)

enum proto_type {
	/* requests: even */
	PROTO_AUTH = 2,	   /* body: struct proto_auth; strings: server, domain, user, password,
			      share (the share to check them on and keep connected; "": none).
			      First request, once. -> END | ERROR */
	PROTO_SHARES = 4,  /* list the server's disk shares. -> ENTRIES..., END | ERROR */
	PROTO_STAT = 6,	   /* strings: share, path. -> STAT_OK | ERROR */
	PROTO_LIST = 8,	   /* strings: share, path. -> ENTRIES..., END | ERROR */
	PROTO_READ = 10,   /* body: offset, length; strings: share, path; fd: pipe write end.
			      -> READ_OK (bytes follow in the pipe, then EOF), END | ERROR */
	PROTO_WRITE = 12,  /* body: flags, size; strings: share, path, temporary (a name
			      proto_tmp_name_valid() accepts: the file written beside path,
			      then renamed over it); fd: pipe read end.
			      -> END (body: created, bytes) | ERROR */
	PROTO_MKDIR = 14,  /* strings: share, path. -> END | ERROR */
	PROTO_RENAME = 16, /* body: flags; strings: share, from, to. -> END | ERROR */
	PROTO_COPY = 18,   /* body: flags; strings: share, from, to. -> END | ERROR */
	PROTO_UNLINK = 20, /* strings: share, path. -> END | ERROR */
	PROTO_RMDIR = 22,  /* body: flags; strings: share, path. -> END | ERROR */
	PROTO_CHECK = 24,  /* strings: password. Is it the one of AUTH? -> END | ERROR (AUTH) */
	PROTO_LANE = 26,   /* a second channel: the worker forks a copy with its own SMB
			      connections. -> END carrying one fd (a SOCK_SEQPACKET socket
			      on which the copy first sends HELLO) | ERROR */
	PROTO_DROP = 28,   /* strings: share, path, temporary, as in WRITE: removes the
			      temporary that an upload to path left when its worker died.
			      -> END | ERROR (NOT_FOUND: no such temporary) */
	PROTO_MOUNT = 30,  /* start the FUSE server of /shares/SERVER now ([sandbox] mounts =
			      on-demand). -> END (also when it runs already) | ERROR
			      (NOT_FOUND: this sandbox has no mount) */
	/* 40-49: WebDAV */
	PROTO_STATVFS = 40,  /* strings: share. The share's size and free space (RFC 4331
				quota). -> STATVFS_OK | ERROR */
	PROTO_UTIMES = 42,   /* body: struct proto_times; strings: share, path. Sets the
				modification and access times. -> END | ERROR */
	PROTO_FOLLOWED = 44, /* strings: share, path (a folder). Whether it is a link the
				server followed (smb_followed_link(): the rule of the
				recursive delete, zip and search walks). -> END (it is
				not) | ERROR (LINK: it is; or why it could not be told) */
	PROTO_WRITABLE = 46, /* strings: share, path. Whether the user may write there
				(a WebDAV LOCK needs it): a file is opened for writing,
				not truncated, and closed; a folder (a share's root too)
				gets an empty temporary created in it and removed.
				-> END (it may) | ERROR (ACCESS, NOT_FOUND...) */
	PROTO_ASIDE = 48,    /* body: flags (one PROTO_ASIDE_* op); strings: share, path
				(not the share's root), temporary (as WRITE's, chosen by
				the gateway). What replaces path one request at a time
				(the COPY of a folder) deletes nothing before it is in
				place: PUT renames path (a file or a folder) to the
				temporary beside it (NOT_FOUND: no path; EXISTS: the
				temporary exists); then DROP removes the temporary (a
				folder with its content, never through a link: LINK) once
				the new content is in place, or BACK removes what is at
				path now, likewise, and renames the temporary back.
				-> END | ERROR */
	/* 50-59: zip, search, tus */
	PROTO_ZIP = 50,	       /* body: struct proto_zip; strings: share, folder, names (the
				  entries of folder to archive, '\n'-separated; "" for the
				  whole folder's content); fd: pipe write end. The worker
				  walks the tree first (limits; WALKING now and then while
				  that takes long), answers ZIP_OK, writes the zip archive
				  into the pipe, closes it.
				  -> WALKING..., ZIP_OK, END (bytes: archive bytes,
				  skipped: files and folders listed in smbgate-errors.txt)
				  | ERROR */
	PROTO_SEARCH = 52,     /* body: struct proto_search; strings: share, folder, pattern.
				  -> FOUND..., END (bytes: results, skipped: folders that
				  could not be listed, created: PROTO_SEARCH_STOPPED when
				  it stopped early: at max_results results when bytes =
				  max_results, else at the deadline; PROTO_SEARCH_TOO_DEEP
				  when folders at max_depth were not looked into) | ERROR */
	PROTO_TUS_CREATE = 54, /* body: flags (OVERWRITE); strings: share, path, temporary
				  (as WRITE's). Checks the target, creates the empty
				  temporary beside it. -> END | ERROR */
	PROTO_TUS_APPEND = 56, /* body: struct proto_tus; strings: share, path, temporary;
				  fd: pipe read end. Appends what the pipe carries (until
				  EOF, at most length - offset) to the temporary, whose
				  size must be offset (else OFFSET); when it then holds
				  length bytes, renames it over path (as WRITE).
				  -> END (bytes: the temporary's size after; created: the
				  target did not exist, when renamed) | ERROR */
	PROTO_TUS_INFO = 58,   /* strings: share, path, temporary.
				  -> STAT_OK (the temporary's size) | ERROR */

	/* answers: odd */
	PROTO_HELLO = 1,       /* body: version. Sent once by the worker when it starts. */
	PROTO_ERROR = 3,       /* body: error code; strings: message (no secrets). */
	PROTO_STAT_OK = 5,     /* body: struct proto_stat */
	PROTO_ENTRIES = 7,     /* body: count; then count records, see proto_entries_next() */
	PROTO_READ_OK = 9,     /* body: struct proto_stat of the file, length that follows */
	PROTO_END = 11,	       /* body: struct proto_end */
	PROTO_STATVFS_OK = 41, /* body: struct proto_statvfs */
	PROTO_ZIP_OK = 51,  /* body: struct proto_zip_ok: the walk's totals; the archive follows */
	PROTO_FOUND = 53,   /* body: struct proto_entry_rec; strings: path (relative to the
			       folder searched; every segment proto_name_valid()) */
	PROTO_WALKING = 55, /* body: struct proto_walking: ZIP's walk goes on, the totals so
			       far; each one's entries more than the last one's, at most
			       one a second. The gateway's timeout counts from the last
			       message: it applies to silence, not to the whole walk. */
};

/* The ops of ASIDE (its flags: exactly one of them). */
#define PROTO_ASIDE_PUT	 1u
#define PROTO_ASIDE_DROP 2u
#define PROTO_ASIDE_BACK 3u

/* Flags of WRITE, RENAME, COPY and RMDIR. */
#define PROTO_F_OVERWRITE 0x1u /* WRITE/RENAME/COPY: replace an existing target */
#define PROTO_F_RECURSIVE 0x2u /* RMDIR: remove the content too */
#define PROTO_F_ALL	  (PROTO_F_OVERWRITE | PROTO_F_RECURSIVE)

/* The stable set of errors the worker reports. Values are wire values. */
enum proto_err {
	PROTO_E_NOT_FOUND = 1,
	PROTO_E_ACCESS = 2, /* access denied, read-only share */
	PROTO_E_EXISTS = 3,
	PROTO_E_NOT_EMPTY = 4,
	PROTO_E_NOT_DIR = 5,
	PROTO_E_IS_DIR = 6,
	PROTO_E_NO_SPACE = 7,
	PROTO_E_BAD_NAME = 8,	 /* invalid name for the server, or from the server */
	PROTO_E_UNREACHABLE = 9, /* the file server could not be reached */
	PROTO_E_TIMEOUT = 10,
	PROTO_E_PROTOCOL = 11,	/* a protocol error, ours or the server's */
	PROTO_E_AUTH = 12,	/* wrong user name or password */
	PROTO_E_IO = 13,	/* anything else */
	PROTO_E_INVALID = 14,	/* a request the worker refuses (bad state, bad args) */
	PROTO_E_TOO_BIG = 15,	/* a listing over PROTO_MAX_LIST_ENTRIES */
	PROTO_E_LINK = 16,	/* a recursive delete met a link to a folder it cannot remove
				   without touching what the link points to */
	PROTO_E_BAD_ENTRY = 17, /* the folder holds a name that cannot be read (the folder
				   cannot be listed) or used (nor deleted recursively) */
	PROTO_E_TOO_DEEP = 25,	/* ZIP, RMDIR: the tree is deeper than allowed */
	PROTO_E_OFFSET = 26,	/* TUS_APPEND: the temporary's size is not the offset */
	PROTO_E_OVERLAP = 27,	/* RENAME/COPY: the target is the source (perhaps in another
				   spelling), inside it, or holds it */
	/* a new name the server would mangle: see proto_name_creatable() */
	PROTO_E_RESERVED_NAME = 28,
};
#define PROTO_E_MAX PROTO_E_RESERVED_NAME

enum proto_ftype {
	PROTO_FT_FILE = 1,
	PROTO_FT_DIR = 2,
	PROTO_FT_SHARE = 3,
};

struct proto_hdr {
	uint16_t type;
	uint16_t reserved; /* 0 */
	uint32_t seq;
	uint32_t len; /* payload bytes after this header; equals datagram size - header */
};

/* AUTH: how to reach the server. "server" is the name the worker connects to
 * (port 445 of its own network namespace: the pinhole). */
struct proto_auth {
	uint32_t min_protocol; /* enum cfg_protocol */
	uint32_t max_protocol;
	uint32_t encryption; /* enum cfg_encryption */
	uint32_t timeout;    /* seconds, 1..3600 */
	uint32_t flags;	     /* PROTO_AUTH_SHOW_HIDDEN */
	uint32_t reserved;
};
#define PROTO_AUTH_SHOW_HIDDEN 0x1u

/*
 * What the server says of a file, at the resolution it gives (SMB2: 100 ns):
 * every write through the gateway changes one of them, which the ETag is made
 * of (gateway/http/httputil.h gw_etag()). Samba reports the change time as the
 * modification time; the file id is the file's inode on its disk: a new one
 * for each upload, which is written beside and renamed over the old file.
 */
struct proto_stat {
	uint32_t ftype;	   /* enum proto_ftype */
	uint32_t mtime_ns; /* 0..999999999, the rest of mtime */
	uint64_t size;
	int64_t mtime;	   /* seconds since the epoch, UTC */
	int64_t ctime;	   /* the change time (SMB ChangeTime), seconds; 0: not known */
	uint32_t ctime_ns; /* 0..999999999 */
	uint32_t reserved; /* 0 */
	uint64_t file_id;  /* the server's file id (SMB IndexNumber); 0: not known */
};

struct proto_range {
	uint64_t offset;
	uint64_t length; /* UINT64_MAX: to the end */
};

struct proto_write_req {
	uint32_t flags;
	uint32_t reserved;
	uint64_t size; /* bytes the pipe will carry; UINT64_MAX when not known */
};

/* A WRITE of unknown size (size UINT64_MAX) comes in frames, so that a body
 * cut short is never taken for a whole one: each frame a uint32_t length
 * (host order) then that many bytes; a frame of length 0 ends the body, and
 * EOF follows it. EOF anywhere else: the upload was cut short. */
#define PROTO_WRITE_UNKNOWN UINT64_MAX

/* ZIP */
#define PROTO_ZIP_DEFLATE   0x1u /* deflate (else stored) */
#define PROTO_ZIP_ZIP64	    0x2u /* zip64 records for every entry (else only where needed) */
#define PROTO_ZIP_F_ALL	    (PROTO_ZIP_DEFLATE | PROTO_ZIP_ZIP64)
#define PROTO_ZIP_MAX_NAMES 60000 /* bytes of ZIP's names string */
struct proto_zip {
	uint32_t flags;
	uint32_t max_entries; /* 1..PROTO_MAX_LIST_ENTRIES: files and folders in all */
	uint32_t max_depth;   /* 1..256: folders above an entry, at most (counting the
				 one named in names: "a/b/c.txt" has 2) */
	uint32_t reserved;
};

struct proto_zip_ok {
	uint32_t entries; /* files and folders to archive */
	uint32_t reserved;
	uint64_t bytes; /* the files' sizes, summed, as listed */
};

/* WALKING */
struct proto_walking {
	uint32_t entries; /* files and folders walked so far */
	uint32_t reserved;
	uint64_t bytes; /* the files' sizes so far */
};

/* SEARCH */
#define PROTO_SEARCH_MAX_PATTERN 1024
#define PROTO_SEARCH_STOPPED	 0x1u /* END's created: stopped at a limit or the deadline */
#define PROTO_SEARCH_TOO_DEEP	 0x2u /* END's created: folders left at max_depth */
struct proto_search {
	uint32_t max_results; /* 1..PROTO_MAX_LIST_ENTRIES */
	uint32_t max_depth;   /* 1..256 */
	uint32_t deadline_ms; /* 1..600000 */
	uint32_t reserved;
};

/* TUS_APPEND */
struct proto_tus {
	uint64_t offset; /* the temporary's size now */
	uint64_t length; /* the upload's total size */
	uint32_t flags;	 /* PROTO_F_OVERWRITE */
	uint32_t reserved;
};

struct proto_flags {
	uint32_t flags;
};

/* STATVFS_OK: bytes, as the file server reports them for the share. */
struct proto_statvfs {
	uint64_t total;
	uint64_t avail; /* at most total */
};

/* UTIMES: seconds since the epoch, UTC. */
struct proto_times {
	int64_t mtime;
	int64_t atime;
};

struct proto_error {
	uint32_t code; /* enum proto_err */
};

struct proto_hello {
	uint32_t version;
};

struct proto_entries {
	uint32_t count;
};

struct proto_read_ok {
	struct proto_stat st;
	uint64_t length; /* bytes that follow in the pipe */
};

struct proto_end {
	uint32_t created; /* WRITE/COPY/RENAME: 1 when the target did not exist; SEARCH: flags */
	uint32_t skipped; /* LIST: entries left out (names that cannot be passed on),
			     at most PROTO_MAX_LIST_ENTRIES; else 0 */
	uint64_t bytes;	  /* READ/WRITE/COPY: bytes transferred; LIST/SHARES: entries */
};

/* One record of an ENTRIES message: this fixed part, then the NUL-terminated
 * name; a share's record then has its NUL-terminated comment (maybe empty). */
struct proto_entry_rec {
	uint32_t ftype;
	uint32_t mtime_ns; /* the fields of struct proto_stat, same checks */
	uint64_t size;
	int64_t mtime;
	int64_t ctime;
	uint32_t ctime_ns;
	uint32_t reserved;
	uint64_t file_id;
};

/* A decoded message: pointers into the caller's buffer (not owned). */
struct proto_msg {
	struct proto_hdr hdr;
	const void *body; /* body_len bytes, aligned copy in body_buf */
	size_t body_len;
	unsigned n_str;
	const char *str[PROTO_MAX_STRINGS];
	/* ENTRIES only: the records after the count */
	const uint8_t *rec;
	size_t rec_len;
	union {
		struct proto_auth auth;
		struct proto_stat stat;
		struct proto_range range;
		struct proto_write_req write;
		struct proto_flags flags;
		struct proto_error error;
		struct proto_hello hello;
		struct proto_entries entries;
		struct proto_read_ok read_ok;
		struct proto_end end;
		struct proto_statvfs statvfs;
		struct proto_times times;
		struct proto_zip zip;
		struct proto_zip_ok zip_ok;
		struct proto_walking walking;
		struct proto_search search;
		struct proto_entry_rec found;
		struct proto_tus tus;
	} u; /* the body, copied out aligned */
};

/* Whether a message of @type carries exactly one fd (READ, WRITE). */
bool proto_type_has_fd(uint16_t type);

/*
 * The fds a message of @type carries, exactly: a request as its spec says
 * (READ, WRITE: 1); an answer by the request it answers, @request: the END
 * of a LANE carries the new lane's socket (1), every other answer none.
 * Both sides check every message they receive against it.
 */
unsigned proto_fds(uint16_t type, uint16_t request);

/* Name of a type for logs ("READ"), or "?"; static storage. */
const char *proto_type_name(uint16_t type);

/* Stable name of an error code ("not_found"), or "io_error"; static storage. */
const char *proto_err_name(uint32_t code);
/* Whether @code is an error code of enum proto_err (the set has gaps). */
bool proto_err_known(uint32_t code);

/*
 * Encodes a message into @buf (@bufsize bytes). @body is @body_len bytes (must
 * be the size the type requires); @strs are @n_str strings, each within its
 * cap. Returns the datagram size, or -EINVAL (a type, size or string the
 * protocol does not allow), -EMSGSIZE (does not fit PROTO_MAX_MSG or @bufsize).
 */
int proto_encode(void *buf, size_t bufsize, uint16_t type, uint32_t seq, const void *body,
		 size_t body_len, const char *const *strs, unsigned n_str);

/*
 * Validates a datagram of @len bytes in @buf and fills *@ret with pointers
 * into @buf (which must outlive the use of *@ret). Checks: size bounds, a
 * known type, reserved fields zero, header len matches, the body size of the
 * type, the number of strings, every string NUL-terminated in bounds, within
 * its cap and valid UTF-8, no byte left over; for ENTRIES every record (names
 * valid UTF-8, no '/', not "." or "..", non-empty). Returns 0, or -EBADMSG
 * leaving *@ret untouched.
 */
int proto_decode(const void *buf, size_t len, struct proto_msg *ret);

/*
 * ENTRIES building: start with proto_entries_init() on a buffer of
 * PROTO_MAX_MSG bytes, add records while proto_entries_add() returns 0
 * (-EMSGSIZE: full, send it and start another; -EINVAL: a name the protocol
 * refuses), then proto_entries_finish() returns the datagram size.
 */
struct proto_entries_builder {
	uint8_t *buf;
	size_t size;
	size_t used;
	uint32_t count;
};
void proto_entries_init(struct proto_entries_builder *b, void *buf, size_t size, uint32_t seq);
int proto_entries_add(struct proto_entries_builder *b, uint32_t ftype, uint64_t size, int64_t mtime,
		      const char *name);
/* The same with every field of @rec (its reserved field is ignored), and a
 * share's @comment as proto_entries_add_comment() takes it. */
int proto_entries_add_rec(struct proto_entries_builder *b, const struct proto_entry_rec *rec,
			  const char *name, const char *comment);
/* The same with a share's @comment (NULL: empty; ignored for other types);
 * -EINVAL also for a comment proto_comment_valid() refuses. */
int proto_entries_add_comment(struct proto_entries_builder *b, uint32_t ftype, uint64_t size,
			      int64_t mtime, const char *name, const char *comment);
size_t proto_entries_finish(struct proto_entries_builder *b);

/*
 * Iterates the records of a decoded ENTRIES message. *@pos starts at 0.
 * Returns 1 and fills @rec/@name (pointing into the message), or 0 at the end.
 * Only valid on a message proto_decode() accepted.
 */
int proto_entries_next(const struct proto_msg *m, size_t *pos, struct proto_entry_rec *rec,
		       const char **name);
/* The same, also giving the comment of a share ("" for other types). */
int proto_entries_next_comment(const struct proto_msg *m, size_t *pos, struct proto_entry_rec *rec,
			       const char **name, const char **comment);

/* The stat of an entry record (the same fields). */
struct proto_stat proto_entry_stat(const struct proto_entry_rec *rec);

/* Whether @comment is acceptable as a share's comment: valid UTF-8, at most
 * PROTO_MAX_COMMENT bytes, no control characters. */
bool proto_comment_valid(const char *comment);

/* Whether @s (@len bytes) is valid UTF-8 without NUL (no overlongs, no surrogates). */
bool proto_utf8_valid(const char *s, size_t len);

/* Whether @name is the name of an upload's temporary: exactly PROTO_TMP_PREFIX,
 * PROTO_TMP_HEX lowercase hex digits and ".tmp" (PROTO_TMP_NAME_LEN bytes).
 * proto_encode() and proto_decode() refuse a WRITE or DROP without one. */
bool proto_tmp_name_valid(const char *name);

/* Whether @name is acceptable as one file or share name: valid UTF-8, 1..PROTO_MAX_NAME
 * bytes, no '/', '\\' or control characters... see proto.c; not "." or "..". */
bool proto_name_valid(const char *name);

/*
 * Whether a file or folder may be created under @name (one segment, already
 * proto_name_valid()): not a name that Windows file servers cannot store and
 * Samba shows under an 8.3 name ("CSHOFG~F.TXT") in listings, which makes
 * sync tools delete and re-create it on every run. Refused: a trailing '.'
 * or ' '; the DOS device names CON, PRN, AUX, NUL, COM1-COM9, LPT1-LPT9 and
 * COM/LPT with a superscript 1, 2 or 3, in any case, alone or followed by
 * spaces and/or an extension ("nul.txt", "Com1 .tar.gz"). The rule of
 * creation only: an existing such name is still read, renamed and deleted.
 * Every operation that makes a name calls it (the worker's smb.c for every
 * interface, and the FUSE server): PROTO_E_RESERVED_NAME.
 */
bool proto_name_creatable(const char *name);
