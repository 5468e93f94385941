// SPDX-License-Identifier: Apache-2.0
/*
 * Records of the clsact qdiscs meshforge made (clsact.h).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clsact.h"
#include "fsio.h"

int clsact_netns(uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd, err = 0;

	/* Any socket answers for the namespace it was made in. */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len))
		err = -errno;
	else if (len != sizeof(*cookie))
		err = -EPROTO;
	close(fd);
	return err;
}

/* <@run_dir>/clsact/<@netns>-<@ifindex> into @buf (@n bytes). */
static int clsact_path(char *buf, size_t n, const char *run_dir,
		       uint64_t netns, int ifindex)
{
	return fsio_pathf(buf, n, "%s/" CLSACT_DIR "/%016" PRIx64 "-%d",
			  run_dir, netns, ifindex);
}

int clsact_remember(const char *run_dir, int ifindex, const char *ifname)
{
	char dir[PATH_MAX], path[PATH_MAX], line[IF_NAMESIZE + 2];
	uint64_t netns;
	int err, len;

	err = clsact_netns(&netns);
	if (err)
		return err;
	err = fsio_pathf(dir, sizeof(dir), "%s/" CLSACT_DIR, run_dir);
	if (!err)
		err = clsact_path(path, sizeof(path), run_dir, netns, ifindex);
	if (err)
		return err;
	err = fsio_mkdirs(dir, 0755);
	if (err)
		return err;
	len = snprintf(line, sizeof(line), "%s\n", ifname);
	if (len < 0 || (size_t)len >= sizeof(line))
		return -ENAMETOOLONG;
	return fsio_write_atomic(path, line, (size_t)len, 0644);
}

/* Parses record name @name ("<netns hex>-<ifindex>") into @r.  Returns
 * true when it is one. */
static bool clsact_parse_name(const char *name, struct clsact_rec *r)
{
	size_t len = strlen(name);
	unsigned long long netns;
	long ifindex;
	char *end;

	/* Also what a crash left of a write (".tmp.<pid>" after it) is no
	 * record. */
	if (len < 18 || len > 17 + 10 || name[16] != '-' ||
	    strspn(name, "0123456789abcdef") != 16 ||
	    strspn(name + 17, "0123456789") != len - 17)
		return false;
	errno = 0;
	netns = strtoull(name, &end, 16);
	if (errno || end != name + 16)
		return false;
	ifindex = strtol(name + 17, &end, 10);
	if (errno || *end || ifindex <= 0 || ifindex > INT_MAX)
		return false;
	r->netns = netns;
	r->ifindex = (int)ifindex;
	return true;
}

/* Appends @r to the array *@out of *@n (capacity *@cap).  Returns 0 or
 * -ENOMEM. */
static int clsact_push(struct clsact_rec **out, size_t *n, size_t *cap,
		       const struct clsact_rec *r)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct clsact_rec *a = reallocarray(*out, ncap, sizeof(*a));

		if (!a)
			return -ENOMEM;
		*out = a;
		*cap = ncap;
	}
	(*out)[(*n)++] = *r;
	return 0;
}

int clsact_list(const char *run_dir, uint64_t netns, struct clsact_rec **out,
		size_t *n)
{
	char dir[PATH_MAX];
	struct clsact_rec r;
	struct dirent *de;
	size_t cap = 0;
	int err, dfd;
	DIR *d;

	*out = NULL;
	*n = 0;
	err = fsio_pathf(dir, sizeof(dir), "%s/" CLSACT_DIR, run_dir);
	if (err)
		return err;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	dfd = dirfd(d);
	while ((de = readdir(d))) {
		char *text;
		size_t len;

		memset(&r, 0, sizeof(r));
		if (!clsact_parse_name(de->d_name, &r) || r.netns != netns)
			continue;
		/* The name only serves messages: a record without one still
		 * stands for its qdisc. */
		if (!fsio_read_at(dfd, de->d_name, &text, &len)) {
			snprintf(r.ifname, sizeof(r.ifname), "%.*s",
				 (int)strcspn(text, "\n"), text);
			free(text);
		}
		err = clsact_push(out, n, &cap, &r);
		if (err)
			break;
	}
	closedir(d);
	if (err) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return err;
}

int clsact_forget(const char *run_dir, const struct clsact_rec *r)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int err;

	err = fsio_pathf(dir, sizeof(dir), "%s/" CLSACT_DIR, run_dir);
	if (!err)
		err = clsact_path(path, sizeof(path), run_dir, r->netns,
				  r->ifindex);
	if (err)
		return err;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	/* Other namespaces' records keep it. */
	if (rmdir(dir) && errno != ENOENT && errno != ENOTEMPTY &&
	    errno != EEXIST)
		return -errno;
	return 0;
}
