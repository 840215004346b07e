/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Integration test: libsmbclient against the real smbd of the Samba fixture
 * (tests/fixtures/). Run under tests/fixtures/with-samba.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <libsmbclient.h>

#include "fixture.h"

#define BIG_SIZE  (3 * 1048576 + 7)
#define READ_SIZE (1024 * 1024)

struct creds {
	const char *user;
	const char *pass;
};

/* Files seeded in the public share by samba-fixture.sh, with their contents. */
static const struct seeded {
	const char *path; /* relative to the share, UTF-8, '/' separated */
	const char *content;
} public_files[] = {
    {"hello.txt", "Hello, world!\n"},
    {"name with spaces.txt", "spaces\n"},
    {"Ünïcødé ファイル.txt", "unicode ✓\n"},
    {"Dossier été/note.txt", "note in dossier\n"},
    {"100% done.txt", "percent\n"},
    {"#hash#.txt", "hash\n"},
    {"a+b=c.txt", "plus\n"},
    {"Tom & Jerry.txt", "ampersand\n"},
    {"it's.txt", "single quote\n"},
    {"nested/level 1/level 2/deep file.txt", "deep\n"},
    {"nested/level 1/sibling.txt", "sibling\n"},
};

/* The exact top-level listing of the public share. */
static const struct {
	const char *name;
	unsigned int type;
} public_top[] = {
    {".", SMBC_DIR},
    {"..", SMBC_DIR},
    {"hello.txt", SMBC_FILE},
    {"name with spaces.txt", SMBC_FILE},
    {"Ünïcødé ファイル.txt", SMBC_FILE},
    {"Dossier été", SMBC_DIR},
    {"100% done.txt", SMBC_FILE},
    {"#hash#.txt", SMBC_FILE},
    {"a+b=c.txt", SMBC_FILE},
    {"Tom & Jerry.txt", SMBC_FILE},
    {"it's.txt", SMBC_FILE},
    {"say \"hi\".txt", SMBC_FILE},
    {"nested", SMBC_DIR},
    {"empty folder", SMBC_DIR},
    {"binary.bin", SMBC_FILE},
    {"big.bin", SMBC_FILE},
};

static void auth_fn(SMBCCTX *ctx, const char *server, const char *share, char *wg, int wglen,
		    char *user, int userlen, char *pass, int passlen)
{
	const struct creds *c = smbc_getOptionUserData(ctx);

	(void)server;
	(void)share;
	snprintf(wg, (size_t)wglen, "%s", FIXTURE_WORKGROUP);
	snprintf(user, (size_t)userlen, "%s", c->user);
	snprintf(pass, (size_t)passlen, "%s", c->pass);
}

/* A fresh, initialised context for USER/PASS; caller frees with ctx_free(). */
static SMBCCTX *ctx_new(struct creds *c)
{
	SMBCCTX *ctx = smbc_new_context();

	assert_non_null(ctx);
	smbc_setDebug(ctx, 0);
	smbc_setOptionUserData(ctx, c);
	smbc_setFunctionAuthDataWithContext(ctx, auth_fn);
	smbc_setOptionNoAutoAnonymousLogin(ctx, 1);
	smbc_setOptionUseKerberos(ctx, 0);
	smbc_setOptionFallbackAfterKerberos(ctx, 1);
	smbc_setOptionUseCCache(ctx, 0);
	smbc_setTimeout(ctx, 10000);
	smbc_setPort(ctx, (uint16_t)fixture_port());
	assert_ptr_equal(smbc_init_context(ctx), ctx);
	smbc_set_context(ctx);
	return ctx;
}

static void ctx_free(SMBCCTX *ctx)
{
	smbc_set_context(NULL);
	assert_int_equal(smbc_free_context(ctx, 1), 0);
}

/* smb://127.0.0.1/SHARE/PATH with every path byte outside [A-Za-z0-9._~/-] percent-encoded. */
static char *url_for(const char *share, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(share) + (path ? strlen(path) : 0);
	char *out = malloc(32 + 3 * n);
	char *o;
	const char *parts[2] = {share, path};

	assert_non_null(out);
	o = out + sprintf(out, "smb://%s/", fixture_require("SAMBA_HOST"));
	for (int p = 0; p < 2; p++) {
		const unsigned char *s = (const unsigned char *)parts[p];

		if (s == NULL)
			continue;
		if (p == 1)
			*o++ = '/';
		for (; *s; s++) {
			if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			    (*s >= '0' && *s <= '9') || strchr("._~-/", *s) != NULL) {
				*o++ = (char)*s;
			} else {
				*o++ = '%';
				*o++ = hex[*s >> 4];
				*o++ = hex[*s & 15];
			}
		}
	}
	*o = '\0';
	return out;
}

/* Read the whole file at URL into a malloc'ed buffer; returns its length or -errno. */
static ssize_t read_all(SMBCCTX *ctx, const char *url, char **ret_buf)
{
	SMBCFILE *f = smbc_getFunctionOpen(ctx)(ctx, url, O_RDONLY, 0);
	char *buf = NULL;
	size_t len = 0;

	if (f == NULL)
		return -errno;
	for (;;) {
		char *nbuf = realloc(buf, len + READ_SIZE);
		ssize_t r;

		assert_non_null(nbuf);
		buf = nbuf;
		r = smbc_getFunctionRead(ctx)(ctx, f, buf + len, READ_SIZE);
		if (r < 0) {
			int e = errno;

			free(buf);
			smbc_getFunctionClose(ctx)(ctx, f);
			return -e;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	assert_int_equal(smbc_getFunctionClose(ctx)(ctx, f), 0);
	*ret_buf = buf;
	return (ssize_t)len;
}

static int group_setup(void **state)
{
	(void)state;
	if (fixture_load() < 0) {
		fprintf(stderr, "SMBGATE_FIXTURE_ENV not usable: run under "
				"tests/fixtures/with-samba.sh\n");
		return -1;
	}
	/* libsmbclient reads $HOME/.smb/smb.conf, else /etc/samba/smb.conf. */
	if (setenv("HOME", fixture_require("SAMBA_CLIENT_HOME"), 1) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	fixture_free();
	return 0;
}

static void test_alice_lists_shares(void **state)
{
	struct creds c = {FIXTURE_ALICE, FIXTURE_ALICE_PASS};
	SMBCCTX *ctx;
	SMBCFILE *dir;
	struct smbc_dirent *de;
	char *url;
	int seen_public = 0, seen_private = 0, seen_ro = 0, seen_hidden = 0, seen_ipc = 0;

	(void)state;
	ctx = ctx_new(&c);
	url = url_for("", NULL);
	dir = smbc_getFunctionOpendir(ctx)(ctx, url);
	assert_non_null(dir);
	while ((de = smbc_getFunctionReaddir(ctx)(ctx, dir)) != NULL) {
		if (strcmp(de->name, "public") == 0) {
			assert_int_equal(de->smbc_type, SMBC_FILE_SHARE);
			seen_public++;
		} else if (strcmp(de->name, "alice_private") == 0) {
			assert_int_equal(de->smbc_type, SMBC_FILE_SHARE);
			seen_private++;
		} else if (strcmp(de->name, "readonly") == 0) {
			assert_int_equal(de->smbc_type, SMBC_FILE_SHARE);
			seen_ro++;
		} else if (strcmp(de->name, "hidden$") == 0) {
			/* Samba lists a '$' share; libsmbclient shows it as a file share. */
			assert_int_equal(de->smbc_type, SMBC_FILE_SHARE);
			seen_hidden++;
		} else if (strcmp(de->name, "IPC$") == 0) {
			assert_int_equal(de->smbc_type, SMBC_IPC_SHARE);
			seen_ipc++;
		} else {
			fail_msg("unexpected share '%s' (type %u)", de->name, de->smbc_type);
		}
	}
	assert_int_equal(smbc_getFunctionClosedir(ctx)(ctx, dir), 0);
	assert_int_equal(seen_public, 1);
	assert_int_equal(seen_private, 1);
	assert_int_equal(seen_ro, 1);
	assert_int_equal(seen_hidden, 1);
	assert_int_equal(seen_ipc, 1);
	free(url);
	ctx_free(ctx);
}

static void test_public_listing_exact(void **state)
{
	struct creds c = {FIXTURE_BOB, FIXTURE_BOB_PASS};
	size_t n = sizeof(public_top) / sizeof(public_top[0]);
	int seen[sizeof(public_top) / sizeof(public_top[0])] = {0};
	SMBCCTX *ctx;
	SMBCFILE *dir;
	struct smbc_dirent *de;
	char *url;

	(void)state;
	ctx = ctx_new(&c);
	url = url_for(FIXTURE_SHARE_PUBLIC, NULL);
	dir = smbc_getFunctionOpendir(ctx)(ctx, url);
	assert_non_null(dir);
	while ((de = smbc_getFunctionReaddir(ctx)(ctx, dir)) != NULL) {
		size_t i;

		for (i = 0; i < n; i++)
			if (strcmp(de->name, public_top[i].name) == 0)
				break;
		if (i == n)
			fail_msg("unexpected entry '%s' in public", de->name);
		assert_int_equal(de->smbc_type, public_top[i].type);
		seen[i]++;
	}
	assert_int_equal(smbc_getFunctionClosedir(ctx)(ctx, dir), 0);
	for (size_t i = 0; i < n; i++) {
		if (seen[i] != 1)
			fail_msg("'%s' seen %d times", public_top[i].name, seen[i]);
	}
	free(url);
	ctx_free(ctx);
}

static void test_nested_listing(void **state)
{
	struct creds c = {FIXTURE_ALICE, FIXTURE_ALICE_PASS};
	SMBCCTX *ctx;
	SMBCFILE *dir;
	struct smbc_dirent *de;
	char *url;
	int files = 0;

	(void)state;
	ctx = ctx_new(&c);
	url = url_for(FIXTURE_SHARE_PUBLIC, "Dossier été");
	dir = smbc_getFunctionOpendir(ctx)(ctx, url);
	assert_non_null(dir);
	while ((de = smbc_getFunctionReaddir(ctx)(ctx, dir)) != NULL) {
		if (strcmp(de->name, ".") == 0 || strcmp(de->name, "..") == 0)
			continue;
		assert_string_equal(de->name, "note.txt");
		assert_int_equal(de->smbc_type, SMBC_FILE);
		files++;
	}
	assert_int_equal(files, 1);
	assert_int_equal(smbc_getFunctionClosedir(ctx)(ctx, dir), 0);
	free(url);
	ctx_free(ctx);
}

static void test_read_seeded_files(void **state)
{
	struct creds c = {FIXTURE_ALICE, FIXTURE_ALICE_PASS};
	SMBCCTX *ctx;

	(void)state;
	ctx = ctx_new(&c);
	for (size_t i = 0; i < sizeof(public_files) / sizeof(public_files[0]); i++) {
		char *url = url_for(FIXTURE_SHARE_PUBLIC, public_files[i].path);
		char *buf = NULL;
		ssize_t len = read_all(ctx, url, &buf);

		if (len < 0)
			fail_msg("reading '%s' (%s): %s", public_files[i].path, url,
				 strerror((int)-len));
		assert_int_equal(len, strlen(public_files[i].content));
		assert_memory_equal(buf, public_files[i].content, (size_t)len);
		free(buf);
		free(url);
	}
	ctx_free(ctx);
}

static void test_read_binary_files(void **state)
{
	struct creds c = {FIXTURE_BOB, FIXTURE_BOB_PASS};
	SMBCCTX *ctx;
	char *url, *buf = NULL;
	ssize_t len;

	(void)state;
	ctx = ctx_new(&c);
	url = url_for(FIXTURE_SHARE_PUBLIC, "binary.bin");
	len = read_all(ctx, url, &buf);
	assert_int_equal(len, 256);
	for (int i = 0; i < 256; i++)
		assert_int_equal((unsigned char)buf[i], i);
	free(buf);
	free(url);

	buf = NULL;
	url = url_for(FIXTURE_SHARE_PUBLIC, "big.bin");
	len = read_all(ctx, url, &buf);
	assert_int_equal(len, BIG_SIZE);
	for (size_t i = 0; i < BIG_SIZE; i++) {
		if ((unsigned char)buf[i] != i % 251)
			fail_msg("big.bin differs at offset %zu", i);
	}
	free(buf);
	free(url);
	ctx_free(ctx);
}

/*
 * '"' is not valid in an SMB name. With "mangled names = no" (public) Samba
 * lists the name as it is (checked in test_public_listing_exact) but opening
 * it fails with NT_STATUS_OBJECT_NAME_INVALID, which libsmbclient gives as
 * EINVAL. With default mangling (readonly) it is listed under an 8.3 mangled
 * name such as "QYKMQW~R.TXT" that can be opened.
 */
static void test_double_quote_names(void **state)
{
	struct creds c = {FIXTURE_ALICE, FIXTURE_ALICE_PASS};
	SMBCCTX *ctx;
	SMBCFILE *dir;
	struct smbc_dirent *de;
	char *url, *buf = NULL, *mangled = NULL;
	ssize_t len;
	int others = 0;

	(void)state;
	ctx = ctx_new(&c);
	url = url_for(FIXTURE_SHARE_PUBLIC, "say \"hi\".txt");
	assert_int_equal(read_all(ctx, url, &buf), -EINVAL);
	free(url);

	url = url_for(FIXTURE_SHARE_READONLY, NULL);
	dir = smbc_getFunctionOpendir(ctx)(ctx, url);
	assert_non_null(dir);
	while ((de = smbc_getFunctionReaddir(ctx)(ctx, dir)) != NULL) {
		if (strcmp(de->name, ".") == 0 || strcmp(de->name, "..") == 0 ||
		    strcmp(de->name, "readme.txt") == 0 || strcmp(de->name, "Ünïcødé dir") == 0) {
			others++;
			continue;
		}
		/* The only other entry is the mangled 8.3 name. */
		assert_null(mangled);
		assert_int_equal(de->smbc_type, SMBC_FILE);
		assert_non_null(strchr(de->name, '~'));
		assert_int_equal(strlen(de->name), 12);
		assert_string_equal(de->name + 8, ".TXT");
		mangled = strdup(de->name);
		assert_non_null(mangled);
	}
	assert_int_equal(smbc_getFunctionClosedir(ctx)(ctx, dir), 0);
	assert_int_equal(others, 4);
	assert_non_null(mangled);
	free(url);

	url = url_for(FIXTURE_SHARE_READONLY, mangled);
	len = read_all(ctx, url, &buf);
	assert_int_equal(len, strlen("mangled\n"));
	assert_memory_equal(buf, "mangled\n", (size_t)len);
	free(buf);
	free(url);
	free(mangled);
	ctx_free(ctx);
}

static void test_alice_private_for_alice(void **state)
{
	struct creds c = {FIXTURE_ALICE, FIXTURE_ALICE_PASS};
	SMBCCTX *ctx;
	char *url, *buf = NULL;
	ssize_t len;

	(void)state;
	ctx = ctx_new(&c);
	url = url_for(FIXTURE_SHARE_ALICE_PRIVATE, "secret.txt");
	len = read_all(ctx, url, &buf);
	assert_int_equal(len, strlen("alice only\n"));
	assert_memory_equal(buf, "alice only\n", (size_t)len);
	free(buf);
	free(url);
	ctx_free(ctx);
}

static void test_alice_private_denied_to_bob(void **state)
{
	struct creds c = {FIXTURE_BOB, FIXTURE_BOB_PASS};
	SMBCCTX *ctx;
	SMBCFILE *dir;
	char *url;
	char *buf = NULL;

	(void)state;
	ctx = ctx_new(&c);
	url = url_for(FIXTURE_SHARE_ALICE_PRIVATE, NULL);
	errno = 0;
	dir = smbc_getFunctionOpendir(ctx)(ctx, url);
	assert_null(dir);
	assert_int_equal(errno, EACCES);
	free(url);

	url = url_for(FIXTURE_SHARE_ALICE_PRIVATE, "secret.txt");
	assert_int_equal(read_all(ctx, url, &buf), -EACCES);
	free(url);
	ctx_free(ctx);
}

static void test_wrong_password(void **state)
{
	struct creds c = {FIXTURE_ALICE, "not-alices-password"};
	SMBCCTX *ctx;
	SMBCFILE *dir;
	char *url;

	(void)state;
	ctx = ctx_new(&c);
	url = url_for(FIXTURE_SHARE_PUBLIC, NULL);
	errno = 0;
	dir = smbc_getFunctionOpendir(ctx)(ctx, url);
	assert_null(dir);
	assert_int_equal(errno, EACCES);
	free(url);

	/* Unknown user: same answer (no user enumeration, no guest fallback). */
	c.user = "mallory";
	url = url_for(FIXTURE_SHARE_PUBLIC, NULL);
	errno = 0;
	dir = smbc_getFunctionOpendir(ctx)(ctx, url);
	assert_null(dir);
	assert_int_equal(errno, EACCES);
	free(url);
	ctx_free(ctx);
}

static void test_readonly_share(void **state)
{
	struct creds c = {FIXTURE_BOB, FIXTURE_BOB_PASS};
	SMBCCTX *ctx;
	SMBCFILE *f;
	char *url, *buf = NULL;
	ssize_t len;

	(void)state;
	ctx = ctx_new(&c);
	url = url_for(FIXTURE_SHARE_READONLY, "readme.txt");
	len = read_all(ctx, url, &buf);
	assert_int_equal(len, strlen("read only\n"));
	assert_memory_equal(buf, "read only\n", (size_t)len);
	free(buf);

	errno = 0;
	f = smbc_getFunctionOpen(ctx)(ctx, url, O_WRONLY | O_TRUNC, 0);
	assert_null(f);
	assert_int_equal(errno, EACCES);
	free(url);

	url = url_for(FIXTURE_SHARE_READONLY, "new file.txt");
	errno = 0;
	f = smbc_getFunctionCreat(ctx)(ctx, url, 0644);
	assert_null(f);
	assert_int_equal(errno, EACCES);
	free(url);

	url = url_for(FIXTURE_SHARE_READONLY, "new dir");
	errno = 0;
	assert_int_equal(smbc_getFunctionMkdir(ctx)(ctx, url, 0755), -1);
	assert_int_equal(errno, EACCES);
	free(url);
	ctx_free(ctx);
}

static void test_hidden_share_readable(void **state)
{
	struct creds c = {FIXTURE_BOB, FIXTURE_BOB_PASS};
	SMBCCTX *ctx;
	char *url, *buf = NULL;
	ssize_t len;

	(void)state;
	ctx = ctx_new(&c);
	url = url_for(FIXTURE_SHARE_HIDDEN, "hidden.txt");
	len = read_all(ctx, url, &buf);
	assert_int_equal(len, strlen("hidden share\n"));
	assert_memory_equal(buf, "hidden share\n", (size_t)len);
	free(buf);
	free(url);
	ctx_free(ctx);
}

static void test_public_write_by_bob_read_by_alice(void **state)
{
	static const char name[] = "bob's 50% écrit #1 & co.txt";
	static const char data[] = "written by bob\n";
	struct creds bob = {FIXTURE_BOB, FIXTURE_BOB_PASS};
	struct creds alice = {FIXTURE_ALICE, FIXTURE_ALICE_PASS};
	SMBCCTX *ctx;
	SMBCFILE *f;
	char *url = url_for(FIXTURE_SHARE_PUBLIC, name);
	char *buf = NULL;
	ssize_t len;

	(void)state;
	ctx = ctx_new(&bob);
	f = smbc_getFunctionOpen(ctx)(ctx, url, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_non_null(f);
	assert_int_equal(smbc_getFunctionWrite(ctx)(ctx, f, data, strlen(data)), strlen(data));
	assert_int_equal(smbc_getFunctionClose(ctx)(ctx, f), 0);
	ctx_free(ctx);

	ctx = ctx_new(&alice);
	len = read_all(ctx, url, &buf);
	assert_int_equal(len, strlen(data));
	assert_memory_equal(buf, data, (size_t)len);
	free(buf);
	assert_int_equal(smbc_getFunctionUnlink(ctx)(ctx, url), 0);
	errno = 0;
	assert_int_equal(read_all(ctx, url, &buf), -ENOENT);
	ctx_free(ctx);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alice_lists_shares),
	    cmocka_unit_test(test_public_listing_exact),
	    cmocka_unit_test(test_nested_listing),
	    cmocka_unit_test(test_read_seeded_files),
	    cmocka_unit_test(test_read_binary_files),
	    cmocka_unit_test(test_double_quote_names),
	    cmocka_unit_test(test_alice_private_for_alice),
	    cmocka_unit_test(test_alice_private_denied_to_bob),
	    cmocka_unit_test(test_wrong_password),
	    cmocka_unit_test(test_readonly_share),
	    cmocka_unit_test(test_hidden_share_readable),
	    cmocka_unit_test(test_public_write_by_bob_read_by_alice),
	};

	return cmocka_run_group_tests_name("integration/shares", tests, group_setup,
					   group_teardown);
}
