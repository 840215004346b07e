/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sandbox/shared/proto.c - encode, decode and validate the gateway <-> worker
 * messages. Pure functions, no I/O; see proto.h.
 *
 * Runs in: both ends: the gateway process and the worker.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "proto.h"

struct spec {
	uint16_t type;
	const char *name;
	size_t body;	/* exact body size */
	unsigned n_str; /* exact number of strings */
	size_t str_cap[PROTO_MAX_STRINGS];
	bool fd;       /* carries one fd */
	bool str_utf8; /* strings must be valid UTF-8 */
};

/* clang-format off */
static const struct spec specs[] = {
	{PROTO_AUTH,    "AUTH",    sizeof(struct proto_auth), 5, {PROTO_MAX_NAME, PROTO_MAX_CRED, PROTO_MAX_CRED, PROTO_MAX_CRED, PROTO_MAX_NAME}, false, true},
	{PROTO_SHARES,  "SHARES",  0, 0, {0}, false, true},
	{PROTO_STAT,    "STAT",    0, 2, {PROTO_MAX_NAME, PROTO_MAX_PATH}, false, true},
	{PROTO_LIST,    "LIST",    0, 2, {PROTO_MAX_NAME, PROTO_MAX_PATH}, false, true},
	{PROTO_READ,    "READ",    sizeof(struct proto_range), 2, {PROTO_MAX_NAME, PROTO_MAX_PATH}, true, true},
	{PROTO_WRITE,   "WRITE",   sizeof(struct proto_write_req), 3, {PROTO_MAX_NAME, PROTO_MAX_PATH, PROTO_TMP_NAME_LEN}, true, true},
	{PROTO_MKDIR,   "MKDIR",   0, 2, {PROTO_MAX_NAME, PROTO_MAX_PATH}, false, true},
	{PROTO_RENAME,  "RENAME",  sizeof(struct proto_flags), 3, {PROTO_MAX_NAME, PROTO_MAX_PATH, PROTO_MAX_PATH}, false, true},
	{PROTO_COPY,    "COPY",    sizeof(struct proto_flags), 3, {PROTO_MAX_NAME, PROTO_MAX_PATH, PROTO_MAX_PATH}, false, true},
	{PROTO_UNLINK,  "UNLINK",  0, 2, {PROTO_MAX_NAME, PROTO_MAX_PATH}, false, true},
	{PROTO_RMDIR,   "RMDIR",   sizeof(struct proto_flags), 2, {PROTO_MAX_NAME, PROTO_MAX_PATH}, false, true},
	{PROTO_LANE,    "LANE",    0, 0, {0}, false, true},
	{PROTO_CHECK,   "CHECK",   0, 1, {PROTO_MAX_CRED}, false, true},
	{PROTO_DROP,    "DROP",    0, 3, {PROTO_MAX_NAME, PROTO_MAX_PATH, PROTO_TMP_NAME_LEN}, false, true},
	{PROTO_MOUNT,   "MOUNT",   0, 0, {0}, false, true},
	{PROTO_STATVFS, "STATVFS", 0, 1, {PROTO_MAX_NAME}, false, true},
	{PROTO_UTIMES,  "UTIMES",  sizeof(struct proto_times), 2, {PROTO_MAX_NAME, PROTO_MAX_PATH}, false, true},
	{PROTO_FOLLOWED, "FOLLOWED", 0, 2, {PROTO_MAX_NAME, PROTO_MAX_PATH}, false, true},
	{PROTO_WRITABLE, "WRITABLE", 0, 2, {PROTO_MAX_NAME, PROTO_MAX_PATH}, false, true},
	{PROTO_ASIDE,   "ASIDE",   sizeof(struct proto_flags), 3, {PROTO_MAX_NAME, PROTO_MAX_PATH, PROTO_TMP_NAME_LEN}, false, true},
	{PROTO_ZIP,     "ZIP",     sizeof(struct proto_zip), 3, {PROTO_MAX_NAME, PROTO_MAX_PATH, PROTO_ZIP_MAX_NAMES}, true, true},
	{PROTO_SEARCH,  "SEARCH",  sizeof(struct proto_search), 3, {PROTO_MAX_NAME, PROTO_MAX_PATH, PROTO_SEARCH_MAX_PATTERN}, false, true},
	{PROTO_TUS_CREATE, "TUS_CREATE", sizeof(struct proto_flags), 3, {PROTO_MAX_NAME, PROTO_MAX_PATH, PROTO_TMP_NAME_LEN}, false, true},
	{PROTO_TUS_APPEND, "TUS_APPEND", sizeof(struct proto_tus), 3, {PROTO_MAX_NAME, PROTO_MAX_PATH, PROTO_TMP_NAME_LEN}, true, true},
	{PROTO_TUS_INFO, "TUS_INFO", 0, 3, {PROTO_MAX_NAME, PROTO_MAX_PATH, PROTO_TMP_NAME_LEN}, false, true},
	{PROTO_HELLO,   "HELLO",   sizeof(struct proto_hello), 0, {0}, false, true},
	{PROTO_ERROR,   "ERROR",   sizeof(struct proto_error), 1, {1024}, false, true},
	{PROTO_STAT_OK, "STAT_OK", sizeof(struct proto_stat), 0, {0}, false, true},
	{PROTO_ENTRIES, "ENTRIES", sizeof(struct proto_entries), 0, {0}, false, true},
	{PROTO_READ_OK, "READ_OK", sizeof(struct proto_read_ok), 0, {0}, false, true},
	{PROTO_END,     "END",     sizeof(struct proto_end), 0, {0}, false, true},
	{PROTO_STATVFS_OK, "STATVFS_OK", sizeof(struct proto_statvfs), 0, {0}, false, true},
	{PROTO_ZIP_OK,  "ZIP_OK",  sizeof(struct proto_zip_ok), 0, {0}, false, true},
	{PROTO_FOUND,   "FOUND",   sizeof(struct proto_entry_rec), 1, {PROTO_MAX_PATH}, false, true},
	{PROTO_WALKING, "WALKING", sizeof(struct proto_walking), 0, {0}, false, true},
};
/* clang-format on */

static const struct spec *spec_of(uint16_t type)
{
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		if (specs[i].type == type)
			return &specs[i];
	return NULL;
}

bool proto_type_has_fd(uint16_t type)
{
	const struct spec *s = spec_of(type);
	return s && s->fd;
}

unsigned proto_fds(uint16_t type, uint16_t request)
{
	if (!(type & 1))
		return proto_type_has_fd(type) ? 1 : 0;
	return type == PROTO_END && request == PROTO_LANE ? 1 : 0;
}

const char *proto_type_name(uint16_t type)
{
	const struct spec *s = spec_of(type);
	return s ? s->name : "?";
}

static const char *err_name(uint32_t code)
{
	static const char *const names[] = {
	    [PROTO_E_NOT_FOUND] = "not_found",
	    [PROTO_E_ACCESS] = "access_denied",
	    [PROTO_E_EXISTS] = "exists",
	    [PROTO_E_NOT_EMPTY] = "not_empty",
	    [PROTO_E_NOT_DIR] = "not_a_directory",
	    [PROTO_E_IS_DIR] = "is_a_directory",
	    [PROTO_E_NO_SPACE] = "no_space",
	    [PROTO_E_BAD_NAME] = "bad_name",
	    [PROTO_E_UNREACHABLE] = "server_unreachable",
	    [PROTO_E_TIMEOUT] = "timeout",
	    [PROTO_E_PROTOCOL] = "protocol_error",
	    [PROTO_E_AUTH] = "auth_failed",
	    [PROTO_E_IO] = "io_error",
	    [PROTO_E_INVALID] = "invalid_request",
	    [PROTO_E_TOO_BIG] = "too_many_entries",
	    [PROTO_E_LINK] = "contains_link",
	    [PROTO_E_BAD_ENTRY] = "unusable_name",
	    [PROTO_E_TOO_DEEP] = "too_deep",
	    [PROTO_E_OFFSET] = "offset_mismatch",
	    [PROTO_E_OVERLAP] = "overlap",
	    [PROTO_E_RESERVED_NAME] = "reserved_name",
	};
	if (code >= 1 && code <= PROTO_E_MAX && names[code])
		return names[code];
	return NULL;
}

const char *proto_err_name(uint32_t code)
{
	const char *n = err_name(code);
	return n ? n : "io_error";
}

bool proto_err_known(uint32_t code)
{
	return err_name(code) != NULL;
}

bool proto_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t n;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i - 1 < n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000))
			return false; /* overlong */
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

bool proto_tmp_name_valid(const char *name)
{
	const size_t pl = sizeof(PROTO_TMP_PREFIX) - 1;

	if (strnlen(name, PROTO_TMP_NAME_LEN + 1) != PROTO_TMP_NAME_LEN ||
	    memcmp(name, PROTO_TMP_PREFIX, pl) != 0 ||
	    strcmp(name + pl + PROTO_TMP_HEX, ".tmp") != 0)
		return false;
	for (size_t i = pl; i < pl + PROTO_TMP_HEX; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return true;
}

/* The string of @type that must name an upload's temporary, or -1. */
static int tmp_name_index(uint16_t type)
{
	return type == PROTO_WRITE || type == PROTO_DROP || type == PROTO_TUS_CREATE ||
		       type == PROTO_TUS_APPEND || type == PROTO_TUS_INFO || type == PROTO_ASIDE
		   ? 2
		   : -1;
}

/* Whether @path is a path inside a share as FOUND carries it: segments that
 * proto_name_valid() accepts, joined by single '/'. */
static bool rel_path_valid(const char *path)
{
	char seg[PROTO_MAX_NAME + 1];

	if (!*path)
		return false;
	for (const char *p = path;;) {
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == 0 || l > PROTO_MAX_NAME)
			return false;
		memcpy(seg, p, l);
		seg[l] = '\0';
		if (!proto_name_valid(seg))
			return false;
		if (!e)
			return true;
		p = e + 1;
	}
}

bool proto_name_valid(const char *name)
{
	size_t len = strnlen(name, PROTO_MAX_NAME + 1);

	if (len == 0 || len > PROTO_MAX_NAME)
		return false;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	if (strpbrk(name, "/\\"))
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false; /* control characters, as proto.h promises */
	return proto_utf8_valid(name, len);
}

/* Whether @base (@len bytes) is a DOS device name: CON, PRN, AUX, NUL,
 * COM1-9, LPT1-9, COM/LPT and a superscript digit (U+00B9, U+00B2, U+00B3),
 * in any case. */
static bool dos_device(const char *base, size_t len)
{
	static const char *const three[] = {"CON", "PRN", "AUX", "NUL"};
	const unsigned char *d = (const unsigned char *)base + 3;

	if (len < 3)
		return false;
	if (len == 3) {
		for (size_t i = 0; i < sizeof(three) / sizeof(three[0]); i++)
			if (strncasecmp(base, three[i], 3) == 0)
				return true;
		return false;
	}
	if (strncasecmp(base, "COM", 3) != 0 && strncasecmp(base, "LPT", 3) != 0)
		return false;
	if (len == 4)
		return d[0] >= '1' && d[0] <= '9';
	return len == 5 && d[0] == 0xc2 && (d[1] == 0xb9 || d[1] == 0xb2 || d[1] == 0xb3);
}

bool proto_name_creatable(const char *name)
{
	size_t len = strlen(name), base;

	if (len == 0 || name[len - 1] == '.' || name[len - 1] == ' ')
		return false;
	/* Windows takes "NUL.txt" and "NUL .txt" for NUL: the part before the
	 * first dot, trailing spaces left out. */
	base = strcspn(name, ".");
	while (base > 0 && name[base - 1] == ' ')
		base--;
	return !dos_device(name, base);
}

int proto_encode(void *buf, size_t bufsize, uint16_t type, uint32_t seq, const void *body,
		 size_t body_len, const char *const *strs, unsigned n_str)
{
	const struct spec *s = spec_of(type);
	struct proto_hdr hdr = {.type = type, .seq = seq};
	size_t total = sizeof(hdr) + body_len;
	uint8_t *p = buf;

	if (!s || body_len != s->body || n_str != s->n_str || type == PROTO_ENTRIES)
		return -EINVAL;
	for (unsigned i = 0; i < n_str; i++) {
		size_t l = strnlen(strs[i], s->str_cap[i] + 1);
		if (l > s->str_cap[i] || (s->str_utf8 && !proto_utf8_valid(strs[i], l)))
			return -EINVAL;
		total += l + 1;
	}
	if (tmp_name_index(type) >= 0 && !proto_tmp_name_valid(strs[tmp_name_index(type)]))
		return -EINVAL;
	if (total > PROTO_MAX_MSG || total > bufsize)
		return -EMSGSIZE;
	hdr.len = (uint32_t)(total - sizeof(hdr));
	memcpy(p, &hdr, sizeof(hdr));
	p += sizeof(hdr);
	if (body_len) {
		memcpy(p, body, body_len);
		p += body_len;
	}
	for (unsigned i = 0; i < n_str; i++) {
		size_t l = strlen(strs[i]) + 1;
		memcpy(p, strs[i], l);
		p += l;
	}
	return (int)total;
}

/* The checks of a stat's fields beyond its type: reserved 0, nanoseconds
 * under a second. */
static bool stat_valid(const struct proto_stat *st)
{
	return st->reserved == 0 && st->mtime_ns < 1000000000u && st->ctime_ns < 1000000000u;
}

struct proto_stat proto_entry_stat(const struct proto_entry_rec *rec)
{
	return (struct proto_stat){.ftype = rec->ftype,
				   .mtime_ns = rec->mtime_ns,
				   .size = rec->size,
				   .mtime = rec->mtime,
				   .ctime = rec->ctime,
				   .ctime_ns = rec->ctime_ns,
				   .file_id = rec->file_id};
}

static bool rec_valid(const struct proto_entry_rec *rec)
{
	struct proto_stat st = proto_entry_stat(rec);

	return rec->reserved == 0 && stat_valid(&st);
}

static int decode_entries(struct proto_msg *m, const uint8_t *p, size_t left)
{
	uint32_t n = 0;

	m->rec = p;
	m->rec_len = left;
	while (left > 0) {
		struct proto_entry_rec rec;
		if (left < sizeof(rec))
			return -EBADMSG;
		memcpy(&rec, p, sizeof(rec));
		if (!rec_valid(&rec) || rec.ftype < PROTO_FT_FILE || rec.ftype > PROTO_FT_SHARE)
			return -EBADMSG;
		p += sizeof(rec);
		left -= sizeof(rec);
		const char *name = (const char *)p;
		size_t l = strnlen(name, left);
		if (l == left || !proto_name_valid(name))
			return -EBADMSG;
		p += l + 1;
		left -= l + 1;
		if (rec.ftype == PROTO_FT_SHARE) {
			/* a share's comment: free text, bounded, no control characters */
			const char *comment = (const char *)p;
			l = strnlen(comment, left);
			if (l == left || !proto_comment_valid(comment))
				return -EBADMSG;
			p += l + 1;
			left -= l + 1;
		}
		n++;
	}
	return n == m->u.entries.count ? 0 : -EBADMSG;
}

/* Whether the fixed body of @m (m->u, its size already checked) breaks a rule
 * of its type: a reserved field not 0, an unknown flag, a limit out of range.
 * ENTRIES's records are checked by decode_entries(). */
static bool body_bad(const struct proto_msg *m)
{
	switch (m->hdr.type) {
	case PROTO_AUTH:
		return m->u.auth.reserved || (m->u.auth.flags & ~PROTO_AUTH_SHOW_HIDDEN) ||
		       m->u.auth.min_protocol > m->u.auth.max_protocol ||
		       m->u.auth.max_protocol > 5 || m->u.auth.encryption > 2 ||
		       m->u.auth.timeout < 1 || m->u.auth.timeout > 3600;
	case PROTO_ERROR:
		return !proto_err_known(m->u.error.code);
	case PROTO_STAT_OK:
		return !stat_valid(&m->u.stat) || m->u.stat.ftype < PROTO_FT_FILE ||
		       m->u.stat.ftype > PROTO_FT_SHARE;
	case PROTO_READ_OK:
		return !stat_valid(&m->u.read_ok.st) || m->u.read_ok.st.ftype != PROTO_FT_FILE;
	case PROTO_WRITE:
		return m->u.write.reserved || (m->u.write.flags & ~PROTO_F_OVERWRITE);
	case PROTO_RENAME:
	case PROTO_COPY:
	case PROTO_TUS_CREATE:
		return m->u.flags.flags & ~PROTO_F_OVERWRITE;
	case PROTO_RMDIR:
		return m->u.flags.flags & ~PROTO_F_RECURSIVE;
	case PROTO_ASIDE:
		return m->u.flags.flags < PROTO_ASIDE_PUT || m->u.flags.flags > PROTO_ASIDE_BACK;
	case PROTO_STATVFS_OK:
		return m->u.statvfs.avail > m->u.statvfs.total;
	case PROTO_END:
		/* created: 0 or 1, or SEARCH's two flags */
		return (m->u.end.created & ~(PROTO_SEARCH_STOPPED | PROTO_SEARCH_TOO_DEEP)) ||
		       m->u.end.skipped > PROTO_MAX_LIST_ENTRIES;
	case PROTO_ZIP:
		return m->u.zip.reserved || (m->u.zip.flags & ~PROTO_ZIP_F_ALL) ||
		       m->u.zip.max_entries < 1 || m->u.zip.max_entries > PROTO_MAX_LIST_ENTRIES ||
		       m->u.zip.max_depth < 1 || m->u.zip.max_depth > 256;
	case PROTO_ZIP_OK:
		return m->u.zip_ok.reserved || m->u.zip_ok.entries > PROTO_MAX_LIST_ENTRIES;
	case PROTO_WALKING:
		return m->u.walking.reserved || m->u.walking.entries > PROTO_MAX_LIST_ENTRIES;
	case PROTO_SEARCH:
		return m->u.search.reserved || m->u.search.max_results < 1 ||
		       m->u.search.max_results > PROTO_MAX_LIST_ENTRIES ||
		       m->u.search.max_depth < 1 || m->u.search.max_depth > 256 ||
		       m->u.search.deadline_ms < 1 || m->u.search.deadline_ms > 600000;
	case PROTO_FOUND:
		return !rec_valid(&m->u.found) || m->u.found.ftype < PROTO_FT_FILE ||
		       m->u.found.ftype > PROTO_FT_DIR;
	case PROTO_TUS_APPEND:
		return m->u.tus.reserved || (m->u.tus.flags & ~PROTO_F_OVERWRITE) ||
		       m->u.tus.offset > m->u.tus.length;
	default:
		return false;
	}
}

/* Reads the @s->n_str NUL-terminated strings of @m at @p (@left bytes, all of
 * which they must fill): each under its cap, valid UTF-8, then the checks
 * of the temporary's name and of FOUND's path. Points m->str into @p. */
static int decode_strings(struct proto_msg *m, const struct spec *s, const uint8_t *p, size_t left)
{
	for (unsigned i = 0; i < s->n_str; i++) {
		const char *str = (const char *)p;
		size_t l = strnlen(str, left);
		if (l == left || l > s->str_cap[i])
			return -EBADMSG;
		if (s->str_utf8 && !proto_utf8_valid(str, l))
			return -EBADMSG;
		m->str[i] = str;
		p += l + 1;
		left -= l + 1;
	}
	if (left != 0)
		return -EBADMSG;
	if (tmp_name_index(m->hdr.type) >= 0 &&
	    !proto_tmp_name_valid(m->str[tmp_name_index(m->hdr.type)]))
		return -EBADMSG;
	if (m->hdr.type == PROTO_FOUND && !rel_path_valid(m->str[0]))
		return -EBADMSG;
	m->n_str = s->n_str;
	return 0;
}

int proto_decode(const void *buf, size_t len, struct proto_msg *ret)
{
	struct proto_msg m = {0};
	const uint8_t *p = buf;
	const struct spec *s;
	size_t left;

	if (len < sizeof(m.hdr) || len > PROTO_MAX_MSG)
		return -EBADMSG;
	memcpy(&m.hdr, p, sizeof(m.hdr));
	s = spec_of(m.hdr.type);
	if (!s || m.hdr.reserved != 0 || m.hdr.len != len - sizeof(m.hdr))
		return -EBADMSG;
	p += sizeof(m.hdr);
	left = len - sizeof(m.hdr);
	if (left < s->body)
		return -EBADMSG;
	m.body = p;
	m.body_len = s->body;
	if (s->body)
		memcpy(&m.u, p, s->body);
	p += s->body;
	left -= s->body;
	if (body_bad(&m))
		return -EBADMSG;
	if (m.hdr.type == PROTO_ENTRIES) {
		if (decode_entries(&m, p, left) < 0)
			return -EBADMSG;
	} else if (decode_strings(&m, s, p, left) < 0) {
		return -EBADMSG;
	}
	*ret = m;
	return 0;
}

void proto_entries_init(struct proto_entries_builder *b, void *buf, size_t size, uint32_t seq)
{
	struct proto_hdr hdr = {.type = PROTO_ENTRIES, .seq = seq};

	b->buf = buf;
	b->size = size < PROTO_MAX_MSG ? size : PROTO_MAX_MSG;
	b->used = sizeof(hdr) + sizeof(struct proto_entries);
	b->count = 0;
	memcpy(b->buf, &hdr, sizeof(hdr));
}

bool proto_comment_valid(const char *comment)
{
	size_t len = strnlen(comment, PROTO_MAX_COMMENT + 1);

	if (len > PROTO_MAX_COMMENT || !proto_utf8_valid(comment, len))
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)comment[i] < 0x20 || comment[i] == 0x7f)
			return false;
	return true;
}

int proto_entries_add_comment(struct proto_entries_builder *b, uint32_t ftype, uint64_t size,
			      int64_t mtime, const char *name, const char *comment)
{
	struct proto_entry_rec rec = {.ftype = ftype, .size = size, .mtime = mtime};

	return proto_entries_add_rec(b, &rec, name, comment);
}

int proto_entries_add_rec(struct proto_entries_builder *b, const struct proto_entry_rec *in,
			  const char *name, const char *comment)
{
	struct proto_entry_rec rec = *in;
	uint32_t ftype = rec.ftype;
	size_t l, cl = 0;

	rec.reserved = 0;
	if (ftype < PROTO_FT_FILE || ftype > PROTO_FT_SHARE || !rec_valid(&rec) ||
	    !proto_name_valid(name))
		return -EINVAL;
	if (ftype == PROTO_FT_SHARE) {
		if (!comment)
			comment = "";
		if (!proto_comment_valid(comment))
			return -EINVAL;
		cl = strlen(comment) + 1;
	}
	l = strlen(name) + 1;
	if (b->used + sizeof(rec) + l + cl > b->size)
		return -EMSGSIZE;
	memcpy(b->buf + b->used, &rec, sizeof(rec));
	b->used += sizeof(rec);
	memcpy(b->buf + b->used, name, l);
	b->used += l;
	if (cl) {
		memcpy(b->buf + b->used, comment, cl);
		b->used += cl;
	}
	b->count++;
	return 0;
}

int proto_entries_add(struct proto_entries_builder *b, uint32_t ftype, uint64_t size, int64_t mtime,
		      const char *name)
{
	return proto_entries_add_comment(b, ftype, size, mtime, name, NULL);
}

size_t proto_entries_finish(struct proto_entries_builder *b)
{
	struct proto_hdr hdr;
	struct proto_entries e = {.count = b->count};

	memcpy(&hdr, b->buf, sizeof(hdr));
	hdr.len = (uint32_t)(b->used - sizeof(hdr));
	memcpy(b->buf, &hdr, sizeof(hdr));
	memcpy(b->buf + sizeof(hdr), &e, sizeof(e));
	return b->used;
}

int proto_entries_next_comment(const struct proto_msg *m, size_t *pos, struct proto_entry_rec *rec,
			       const char **name, const char **comment)
{
	const char *c = "";

	if (m->hdr.type != PROTO_ENTRIES || *pos >= m->rec_len)
		return 0;
	memcpy(rec, m->rec + *pos, sizeof(*rec));
	*name = (const char *)(m->rec + *pos + sizeof(*rec));
	*pos += sizeof(*rec) + strlen(*name) + 1;
	if (rec->ftype == PROTO_FT_SHARE) {
		c = (const char *)(m->rec + *pos);
		*pos += strlen(c) + 1;
	}
	if (comment)
		*comment = c;
	return 1;
}

int proto_entries_next(const struct proto_msg *m, size_t *pos, struct proto_entry_rec *rec,
		       const char **name)
{
	return proto_entries_next_comment(m, pos, rec, name, NULL);
}
