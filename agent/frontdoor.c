// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kstate.h"
#include "frontdoor.h"
#include "kreq.h"
#include "log.h"
#include "meshforge/abi_sock.h"
#include "mf_sock.skel.h"
#include "spiffe.h"

/* The links of one workload cgroup: connect4, connect6, sockops. */
#define FRONTDOOR_LINKS	3

struct frontdoor {
	struct mf_sock *skel;			/* owned */
	const struct frontdoor_workload *wl;	/* borrowed, n_wl of them */
	size_t n_wl;
	struct bpf_link **links;		/* owned, FRONTDOOR_LINKS per
						 * workload; NULL: not made */
};

int frontdoor_parse(char *arg, struct frontdoor_workload *w)
{
	struct spiffe_id id;
	char *eq = strrchr(arg, '=');

	/* The last '=': a path may hold one, a SPIFFE ID may not. */
	if (!eq || eq == arg || !eq[1])
		return -EINVAL;
	*eq = '\0';
	if (arg[0] != '/' || spiffe_parse(eq + 1, &id)) {
		*eq = '=';
		return -EINVAL;
	}
	w->cgroup = arg;
	w->identity = eq + 1;
	return 0;
}

/*
 * Opens workload cgroup @path (a directory on cgroup2) into *@fd and its
 * id into *@id.  Returns 0 or -errno (-ENOTDIR: not a cgroup v2
 * directory).
 */
static int frontdoor_cgroup(const char *path, int *fd, uint64_t *id)
{
	struct statfs sfs;
	struct stat st;
	int err;

	*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	if (fstatfs(*fd, &sfs) < 0 || fstat(*fd, &st) < 0) {
		err = -errno;
		goto fail;
	}
	if (sfs.f_type != CGROUP2_SUPER_MAGIC) {
		err = -ENOTDIR;
		goto fail;
	}
	/* A cgroup's id is its kernfs node's, which is the directory's
	 * inode number on 64-bit kernels; bpf_get_current_cgroup_id()
	 * returns the same. */
	*id = st.st_ino;
	return 0;
fail:
	close(*fd);
	*fd = -1;
	return err;
}

/* Attaches the three programs to workload @i's cgroup.  Returns 0 or
 * -errno, logged. */
static int frontdoor_attach(struct frontdoor *f, size_t i)
{
	struct bpf_program *progs[FRONTDOOR_LINKS] = {
		f->skel->progs.mf_sock_connect4,
		f->skel->progs.mf_sock_connect6,
		f->skel->progs.mf_sock_ops,
	};
	const char *path = f->wl[i].cgroup;
	uint64_t id;
	uint32_t idx = (uint32_t)i;
	int fd, err;

	err = frontdoor_cgroup(path, &fd, &id);
	if (err) {
		log_error("event=front_door_failed step=cgroup cgroup=%s err=\"%s\"",
			  path, err == -ENOTDIR ? "not a cgroup v2 directory" :
			  strerror(-err));
		return err;
	}
	err = bpf_map__update_elem(f->skel->maps.mf_sock_workloads, &id,
				   sizeof(id), &idx, sizeof(idx), BPF_NOEXIST);
	if (err) {
		log_error("event=front_door_failed step=workload cgroup=%s err=\"%s\"",
			  path, err == -EEXIST ? "cgroup given twice" :
			  strerror(-err));
		goto out;
	}
	for (int k = 0; k < FRONTDOOR_LINKS; k++) {
		struct bpf_link *l = bpf_program__attach_cgroup(progs[k], fd);

		if (!l) {
			err = -errno;
			log_error("event=front_door_failed step=attach cgroup=%s prog=%s err=\"%s\"",
				  path, bpf_program__name(progs[k]),
				  strerror(-err));
			goto out;
		}
		f->links[i * FRONTDOOR_LINKS + k] = l;
	}
	log_info("event=front_door_attached cgroup=%s cgroup_id=%llu identity=%s",
		 path, (unsigned long long)id, f->wl[i].identity);
out:
	close(fd);
	return err;
}

int frontdoor_open(struct frontdoor **out, const char *pin_root,
		   uint16_t outbound_port, const struct frontdoor_workload *wl,
		   size_t n)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = pin_root);
	struct frontdoor *f;
	int err;

	*out = NULL;
	if (n == 0 || n > FRONTDOOR_MAX_WORKLOADS)
		return -EINVAL;
	err = kreq_front_door();
	if (err <= 0) {
		log_error("event=front_door_failed step=kernel err=\"%s\"",
			  err ? strerror(-err) : "kernel lacks the hooks");
		return err ? err : -ENOTSUP;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->wl = wl;
	f->n_wl = n;
	f->links = calloc(n * FRONTDOOR_LINKS, sizeof(*f->links));
	if (!f->links) {
		err = -ENOMEM;
		goto fail;
	}
	f->skel = mf_sock__open_opts(&oopts);
	if (!f->skel) {
		err = -errno;
		log_error("event=front_door_failed step=open err=\"%s\"",
			  strerror(-err));
		goto fail;
	}
	f->skel->rodata->mf_outbound_port = outbound_port;
	err = mf_sock__load(f->skel);
	if (err) {
		log_error("event=front_door_failed step=load root=%s err=\"%s\"",
			  pin_root, strerror(-err));
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		err = frontdoor_attach(f, i);
		if (err)
			goto fail;
	}
	*out = f;
	return 0;
fail:
	frontdoor_close(f);
	return err;
}

int frontdoor_take(struct frontdoor *f, const struct sockaddr_in *peer,
		   const struct sockaddr_in *local, struct sockaddr_in *orig,
		   const char **identity, uint32_t *workload)
{
	struct mf_sock_tuple t;
	struct mf_sock_orig o;
	int fd;

	if (!f)
		return -ENOENT;
	/* The client's view: its local end is our peer. */
	memset(&t, 0, sizeof(t));
	memcpy(t.local_ip, &peer->sin_addr, sizeof(t.local_ip));
	memcpy(t.remote_ip, &local->sin_addr, sizeof(t.remote_ip));
	t.local_port = ntohs(peer->sin_port);
	t.remote_port = ntohs(local->sin_port);
	fd = bpf_map__fd(f->skel->maps.mf_orig_dst);
	/* Taken, so a later connection that reuses the client's port finds
	 * its own record or none. */
	if (bpf_map_lookup_and_delete_elem(fd, &t, &o))
		return -ENOENT;
	if (o.workload >= f->n_wl)
		return -ENOENT;
	memset(orig, 0, sizeof(*orig));
	orig->sin_family = AF_INET;
	memcpy(&orig->sin_addr, o.ip, sizeof(o.ip));
	orig->sin_port = htons(o.port);
	*identity = f->wl[o.workload].identity;
	*workload = o.workload;
	return 0;
}

int frontdoor_orig_fd(const struct frontdoor *f)
{
	return f ? bpf_map__fd(f->skel->maps.mf_orig_dst) : -EBADF;
}

int frontdoor_stats(const struct frontdoor *f, uint64_t *out)
{
	if (!f) {
		memset(out, 0, MF_SOCK_STAT_MAX * sizeof(*out));
		return 0;
	}
	return kstate_percpu_sums(bpf_map__fd(f->skel->maps.mf_sock_stats), MF_SOCK_STAT_MAX, out);
}

void frontdoor_close(struct frontdoor *f)
{
	if (!f)
		return;
	for (size_t i = 0; f->links && i < f->n_wl * FRONTDOOR_LINKS; i++)
		bpf_link__destroy(f->links[i]);
	free(f->links);
	f->links = NULL;
	mf_sock__destroy(f->skel);
	f->skel = NULL;
	free(f);
}
