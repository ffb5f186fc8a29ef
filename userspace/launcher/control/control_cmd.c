// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the control socket's command language. A leaf: it acts only
 * through struct control_ops and never blocks on the connection.
 *
 * Answers are one line: "ok" or "error" and key=value pairs. Error codes
 * are errno names, so scripts can tell them apart without parsing the
 * message, which is quoted and may contain spaces.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
/* How much of an unknown command an error message quotes. */
#define QUOTE_MAX	32

enum cmd_kind {
	CMD_PAUSE, CMD_RESUME, CMD_STATUS, CMD_SAVE, CMD_RESET, CMD_FORK,
	CMD_MIGRATE
};

static const struct {
	const char *name;
	enum cmd_kind kind;
} commands[] = {
	{ "pause", CMD_PAUSE },
	{ "resume", CMD_RESUME },
	{ "status", CMD_STATUS },
	{ "save", CMD_SAVE },
	{ "reset", CMD_RESET },
	{ "fork", CMD_FORK },
	{ "migrate", CMD_MIGRATE },
};

static bool answer(char *out, size_t size, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool answer(char *out, size_t size, bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, size, fmt, ap);
	va_end(ap);
	return ok;
}

/*
 * @s quoted for a message: printable ASCII only (a client's bytes must
 * not break the one-line answer), at most QUOTE_MAX characters.
 */
static void quote(char *dst, const char *s, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < n && j < QUOTE_MAX; i++) {
		unsigned char c = s[i];

		dst[j++] = (c < 0x20 || c > 0x7e || c == '"' || c == '\\') ?
			   '?' : c;
	}
	if (i < n)
		dst[j++] = '~';	/* cut */
	dst[j] = '\0';
}

static const struct {
	int err;
	const char *name;
} codes[] = {
	{ EALREADY, "EALREADY" },
	{ ENOSYS, "ENOSYS" },
	{ EMSGSIZE, "EMSGSIZE" },
	{ EINVAL, "EINVAL" },
	{ ENOENT, "ENOENT" },
	{ EACCES, "EACCES" },
	{ ENOSPC, "ENOSPC" },
	{ EOPNOTSUPP, "EOPNOTSUPP" },
	{ EBUSY, "EBUSY" },
	{ ECONNREFUSED, "ECONNREFUSED" },
	{ EPIPE, "EPIPE" },
	{ ECONNRESET, "ECONNRESET" },
	{ ETIMEDOUT, "ETIMEDOUT" },
	{ EPROTO, "EPROTO" },
	{ ENETUNREACH, "ENETUNREACH" },
	{ EREMOTEIO, "EREMOTEIO" },
};

static bool error_answer(char *out, size_t size, int err, const char *msg)
{
	const char *code = "EIO";	/* anything the table does not name */
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(codes); i++)
		if (codes[i].err == err)
			code = codes[i].name;
	return answer(out, size, false, "error code=%s msg=\"%s\"", code, msg);
}

static bool status_answer(const struct control_ops *ops, char *out, size_t size)
{
	struct control_status st;

	memset(&st, 0, sizeof(st));
	ops->status(ops->ctx, &st);
	return answer(out, size, true,
		      "ok state=%s vcpus=%d exits=%llu memory=%llu",
		      st.paused ? "paused" : "running", st.vcpus,
		      (unsigned long long)st.exits,
		      (unsigned long long)st.memory);
}

/* A message or path made safe for the one-line answer, in place. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e ||
		    *s == '"' || *s == '\\')
			*s = '?';
}

/*
 * The next word of @arg (@len bytes) into @word, NUL-terminated; @arg and
 * @len move past it. Returns false if there is none.
 */
static bool next_word(const char **arg, size_t *len, char *word)
{
	size_t n;

	while (*len && (**arg == ' ' || **arg == '\t'))
		(*arg)++, (*len)--;
	for (n = 0; n < *len && (*arg)[n] != ' ' && (*arg)[n] != '\t'; n++)
		;
	if (!n)
		return false;
	memcpy(word, *arg, n);	/* n < CONTROL_LINE_MAX: the whole line is */
	word[n] = '\0';
	*arg += n;
	*len -= n;
	return true;
}

static bool ops_error(char *out, size_t size, int ret, char *err)
{
	sanitize(err);
	return error_answer(out, size, -ret, err);
}

/* save FILE: the VM as it is now, paused or running, into FILE. */
static bool save_command(const struct control_ops *ops, const char *arg,
			 size_t len, char *out, size_t size)
{
	char path[CONTROL_LINE_MAX], err[CONTROL_ANSWER_MAX - 64];
	int ret;

	if (!next_word(&arg, &len, path))
		return error_answer(out, size, EINVAL, "save needs a FILE");
	if (next_word(&arg, &len, err))
		return error_answer(out, size, EINVAL, "save takes one FILE");
	err[0] = '\0';
	ret = ops->save(ops->ctx, path, err, sizeof(err));
	if (ret)
		return ops_error(out, size, ret, err);
	sanitize(path);
	return answer(out, size, true, "ok saved=%s", path);
}

/*
 * fork N FILE: N children of the VM as it is now, through the snapshot
 * FILE (lvrun --fork-from FILE --count N); the VM itself runs on.
 */
static bool fork_command(const struct control_ops *ops, const char *arg,
			 size_t len, char *out, size_t size)
{
	char num[CONTROL_LINE_MAX], path[CONTROL_LINE_MAX];
	char err[CONTROL_ANSWER_MAX - 64], *end;
	long count;
	pid_t pid;
	int ret;

	if (!next_word(&arg, &len, num) || !next_word(&arg, &len, path))
		return error_answer(out, size, EINVAL, "fork needs N and FILE");
	if (next_word(&arg, &len, err))
		return error_answer(out, size, EINVAL, "fork takes N and FILE");
	errno = 0;
	count = strtol(num, &end, 10);
	if (*end || errno || count < 1 || count > CONTROL_MAX_FORKS) {
		snprintf(err, sizeof(err), "fork: N must be 1 to %d",
			 CONTROL_MAX_FORKS);
		return error_answer(out, size, EINVAL, err);
	}
	err[0] = '\0';
	ret = ops->fork(ops->ctx, path, count, &pid, err, sizeof(err));
	if (ret)
		return ops_error(out, size, ret, err);
	sanitize(path);
	return answer(out, size, true, "ok forked=%ld saved=%s pid=%d", count,
		      path, (int)pid);
}

static bool migrate_answer(const struct mig_report *r, char *out, size_t size)
{
	char pages[MIG_MAX_ROUNDS * 21 + 1] = "", sum[40] = "";
	size_t n = 0;
	int i;

	for (i = 0; i < r->rounds && i <= MIG_MAX_ROUNDS; i++)
		n += snprintf(pages + n, sizeof(pages) - n, "%s%llu", i ? "," : "",
			      (unsigned long long)r->pages[i]);
	if (r->checksum)
		snprintf(sum, sizeof(sum), " checksum=%016llx",
			 (unsigned long long)r->mem_checksum);
	return answer(out, size, true,
		      "ok state=migrated rounds=%d pages=%s total_ticks=%llu downtime_ticks=%llu%s",
		      r->rounds, pages, (unsigned long long)r->total_ticks,
		      (unsigned long long)r->downtime_ticks, sum);
}

/* migrate ADDRESS [checksum]: the VM to lvrun --incoming ADDRESS. */
static bool migrate_command(const struct control_ops *ops, const char *arg,
			    size_t len, char *out, size_t size)
{
	char address[CONTROL_LINE_MAX], flag[CONTROL_LINE_MAX];
	char err[CONTROL_ANSWER_MAX - 64];
	bool checksum = false;
	struct mig_report r;
	int ret;

	if (!next_word(&arg, &len, address))
		return error_answer(out, size, EINVAL, "migrate needs an ADDRESS");
	if (next_word(&arg, &len, flag)) {
		if (strcmp(flag, "checksum") || next_word(&arg, &len, flag))
			return error_answer(out, size, EINVAL,
					    "migrate takes ADDRESS [checksum]");
		checksum = true;
	}
	err[0] = '\0';
	ret = ops->migrate(ops->ctx, address, checksum, &r, err, sizeof(err));
	if (ret)
		return ops_error(out, size, ret, err);
	return migrate_answer(&r, out, size);
}

/* reset: back to the snapshot the VM was restored or forked from. */
static bool reset_answer(const struct control_ops *ops, char *out, size_t size)
{
	char err[CONTROL_ANSWER_MAX - 64];
	bool paused;
	int ret;

	err[0] = '\0';
	ret = ops->reset(ops->ctx, &paused, err, sizeof(err));
	if (ret)
		return ops_error(out, size, ret, err);
	return answer(out, size, true, "ok state=%s", paused ? "paused" : "running");
}

static bool run_command(const struct control_ops *ops, enum cmd_kind kind,
			const char *name, char *out, size_t size)
{
	char msg[64];
	int err;

	switch (kind) {
	case CMD_PAUSE:
		err = ops->pause(ops->ctx);
		if (err == -EALREADY)
			return error_answer(out, size, EALREADY, "already paused");
		break;
	case CMD_RESUME:
		err = ops->resume(ops->ctx);
		if (err == -EALREADY)
			return error_answer(out, size, EALREADY, "not paused");
		break;
	case CMD_STATUS:
		return status_answer(ops, out, size);
	case CMD_RESET:
		return reset_answer(ops, out, size);
	default:
		snprintf(msg, sizeof(msg), "%s: not implemented yet", name);
		return error_answer(out, size, ENOSYS, msg);
	}
	if (err)
		return error_answer(out, size, -err, strerror(-err));
	return answer(out, size, true, "ok state=%s",
		      kind == CMD_PAUSE ? "paused" : "running");
}

bool control_execute(const struct control_ops *ops, const char *line,
		     char *out, size_t size)
{
	char msg[64 + QUOTE_MAX], word[QUOTE_MAX + 2];
	size_t len = strlen(line), n;
	const char *rest;
	unsigned int i;

	/* A client on a terminal or from another system may send CRLF. */
	if (len && line[len - 1] == '\r')
		len--;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return error_answer(out, size, EINVAL, "empty command");

	n = strcspn(line, " \t");
	if (n > len)
		n = len;
	rest = line + n;
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strlen(commands[i].name) != n ||
		    memcmp(commands[i].name, line, n))
			continue;
		if (commands[i].kind == CMD_SAVE)
			return save_command(ops, rest, line + len - rest, out,
					    size);
		if (commands[i].kind == CMD_FORK)
			return fork_command(ops, rest, line + len - rest, out,
					    size);
		if (commands[i].kind == CMD_MIGRATE)
			return migrate_command(ops, rest, line + len - rest, out,
					       size);
		if (rest < line + len) {
			snprintf(msg, sizeof(msg), "%s takes no argument",
				 commands[i].name);
			return error_answer(out, size, EINVAL, msg);
		}
		return run_command(ops, commands[i].kind, commands[i].name,
				   out, size);
	}
	quote(word, line, n);
	snprintf(msg, sizeof(msg), "unknown command: %s", word);
	return error_answer(out, size, EINVAL, msg);
}

void control_answer_too_long(char *out, size_t size)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "command longer than %d bytes",
		 CONTROL_LINE_MAX - 1);
	error_answer(out, size, EMSGSIZE, msg);
}
