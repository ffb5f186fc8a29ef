// SPDX-License-Identifier: GPL-2.0
/*
 * lvctl: send one command to a running lvrun's control socket
 * (lvrun --control PATH) and print its answer line.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Exit statuses: an error answer, and no answer at all. */
#define LVCTL_EXIT_ERROR	1
#define LVCTL_EXIT_FAILED	2

/* A pause waits for every vCPU; on an emulated machine that takes a while. */
#define ANSWER_TIMEOUT_MS	60000

static const char usage_text[] =
"Usage: lvctl [--timeout SEC] PATH COMMAND [ARG...]\n"
"       lvctl --session PATH\n"
"Send COMMAND to the lvrun listening on the control socket PATH (lvrun\n"
"--control PATH) and print its one-line answer.\n"
"Commands: pause, resume, status, save FILE, reset, fork N FILE,\n"
"migrate ADDRESS [checksum] (see lvctl(1)).\n"
"Arguments are sent after COMMAND, separated by spaces.\n"
"  --session  copy standard input to the socket and every answer to\n"
"             standard output, until both sides are done\n"
"  --timeout SEC  wait at most SEC seconds for the answer (default 60)\n"
"  --help     this text\n"
"  --version  print lvctl's version\n"
"Exit status: 0 for an \"ok\" answer, 1 for an \"error\" answer, 2 if\n"
"lvrun could not be reached or gave no answer.\n";

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	fputs("lvctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(LVCTL_EXIT_FAILED);
}

static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	int fd;

	if (len >= sizeof(addr.sun_path))
		fail("%s: path too long", path);
	memcpy(addr.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		fail("cannot connect to %s: %s", path, strerror(errno));
	return fd;
}

/* Returns false if lvrun closed the connection: it may have answered. */
static bool write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return false;
		if (n <= 0)
			fail("cannot send: %s", n ? strerror(errno) : "closed");
		buf += n;
		len -= n;
	}
	return true;
}

/* Reads up to the first newline; a line longer than the buffer is cut. */
static void read_answer(int fd, char *line, size_t size, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t len = 0;

	while (len < size - 1) {
		int ret = poll(&pfd, 1, timeout_ms);
		ssize_t n;

		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			fail("no answer within %d s", timeout_ms / 1000);
		n = recv(fd, line + len, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("connection closed without an answer");
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
}

/* COMMAND and its arguments (@argc of them), separated by spaces. */
static int one_command(const char *path, const char *cmd, char **args,
		       int argc, int timeout_ms)
{
	char answer[512];
	bool open;
	int fd, i;

	/* A newline would make it two commands, with one answer read. */
	for (i = 0; i < argc; i++)
		if (strchr(args[i], '\n'))
			fail("a command is one line");
	if (strchr(cmd, '\n'))
		fail("a command is one line");
	/* Over-long ones go as they are: lvrun answers them with an error. */
	fd = connect_to(path);
	/* lvrun stops reading an over-long line, but answers it first. */
	open = write_all(fd, cmd, strlen(cmd));
	for (i = 0; open && i < argc; i++)
		open = write_all(fd, " ", 1) && write_all(fd, args[i], strlen(args[i]));
	if (open)
		write_all(fd, "\n", 1);
	read_answer(fd, answer, sizeof(answer), timeout_ms);
	close(fd);
	puts(answer);
	return strncmp(answer, "ok", 2) || (answer[2] && answer[2] != ' ') ?
	       LVCTL_EXIT_ERROR : 0;
}

/* Copies from @from to @to; returns false at end of input. */
static bool copy_some(int from, int to, bool to_socket)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n < 0 && errno == EINTR)
		return true;
	if (n < 0)
		fail("read: %s", strerror(errno));
	if (n == 0)
		return false;
	if (to_socket) {
		if (!write_all(to, buf, n))
			return false;
	} else if (write(to, buf, n) != n) {
		fail("write: %s", strerror(errno));
	}
	return true;
}

static int session(const char *path)
{
	int fd = connect_to(path);
	struct pollfd pfd[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = fd, .events = POLLIN },
	};

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail("poll: %s", strerror(errno));
		}
		if (pfd[1].revents && !copy_some(fd, STDOUT_FILENO, false))
			return 0;
		if (pfd[0].revents && !copy_some(STDIN_FILENO, fd, true)) {
			/* lvrun still answers what it got, then closes. */
			shutdown(fd, SHUT_WR);
			pfd[0].fd = -1;
		}
	}
}

int main(int argc, char **argv)
{
	int timeout_ms = ANSWER_TIMEOUT_MS;
	char *end;

	if (argc > 1 && !strcmp(argv[1], "--help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("lvctl (lightvisor) %s\n", LV_VERSION);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--session"))
		return session(argv[2]);
	if (argc > 2 && !strcmp(argv[1], "--timeout")) {
		long sec = strtol(argv[2], &end, 10);

		if (*end || end == argv[2] || sec < 1 || sec > 86400)
			fail("bad --timeout '%s'", argv[2]);
		timeout_ms = sec * 1000;
		argc -= 2;
		argv += 2;
	}
	if (argc < 3) {
		fputs(usage_text, stderr);
		return LVCTL_EXIT_FAILED;
	}
	return one_command(argv[1], argv[2], argv + 3, argc - 3, timeout_ms);
}
