// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clsact.h"
#include "kern.h"
#include "log.h"
#include "mf_pod.skel.h"
#include "mf_xdp.skel.h"
#include "pmap.h"

/* One interface this struct kern attached to. */
struct kern_hook {
	int ifindex;
	char ifname[IF_NAMESIZE];
};

/* The two hooks of a pod veth: from the pod (ingress), to it (egress). */
#define KERN_POINTS	2

static const enum bpf_tc_attach_point kern_points[KERN_POINTS] = {
	BPF_TC_INGRESS, BPF_TC_EGRESS,
};
static const char *const kern_point_names[KERN_POINTS] = {
	"ingress", "egress",
};

struct kern {
	struct mf_pod *skel;		/* owned */
	const char *run_dir;		/* borrowed; NULL: no records */
	uint16_t outbound_port;		/* the programs' rodata, for a reload */
	bool kept;			/* a successor owns the filters now */
	uint32_t prog_id[KERN_POINTS];	/* to recognise our own filters */
	struct kern_hook *hooks;	/* owned array of n_hooks */
	size_t n_hooks;
	size_t cap_hooks;
	struct bpf_link *lookup_link;	/* owned: mf_pod_sk_lookup, or NULL */
	int steer_fd;			/* borrowed: the listener it gives */
};

/*
 * mkdir -p @path, mode 0700.  bpffs needs no intermediate directories in the
 * usual layout, but a pin root may be nested (tests, several agents).
 * Returns 0 or -errno.
 */
static int kern_mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	char *p;

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The program of hook @point (an index of kern_points). */
static int kern_skel_prog_fd(const struct mf_pod *skel, int point);

static int kern_prog_fd(const struct kern *k, int point)
{
	return kern_skel_prog_fd(k->skel, point);
}

int kern_check_pins(const char *pin_root, char *why, size_t n)
{
	struct mf_pod *pod;
	struct mf_xdp *xdp;
	int err;

	/* Opened only, for their maps' definitions: nothing is loaded. */
	pod = mf_pod__open();
	if (!pod)
		return -errno;
	xdp = mf_xdp__open();
	if (!xdp) {
		err = -errno;
		mf_pod__destroy(pod);
		return err;
	}
	{
		const struct bpf_object *objs[] = { pod->obj, xdp->obj };

		err = pmap_check_pins(pin_root, objs, 2, why, n);
	}
	mf_xdp__destroy(xdp);
	mf_pod__destroy(pod);
	return err;
}

/* The program of @point in @skel. */
static int kern_skel_prog_fd(const struct mf_pod *skel, int point)
{
	return bpf_program__fd(point == 0 ? skel->progs.mf_pod_ingress :
					    skel->progs.mf_pod_egress);
}

/*
 * Opens and loads mf_pod against the maps pinned under @pin_root into
 * *@out (the caller's), and its programs' ids into @prog_id.  Returns 0
 * or -errno (logged).
 */
static int kern_load(struct mf_pod **out, uint32_t prog_id[KERN_POINTS],
		     const char *pin_root, uint16_t outbound_port)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = pin_root);
	struct bpf_prog_info info;
	__u32 info_len;
	struct mf_pod *skel;
	int err;

	skel = mf_pod__open_opts(&oopts);
	if (!skel) {
		err = -errno;
		log_error("event=kern_open_failed step=open root=%s err=%s",
			  pin_root, strerror(-err));
		return err;
	}
	skel->rodata->mf_outbound_port = outbound_port;
	err = mf_pod__load(skel);
	if (err) {
		log_error("event=kern_open_failed step=load root=%s err=%s",
			  pin_root, strerror(-err));
		goto err_destroy;
	}
	for (int i = 0; i < KERN_POINTS; i++) {
		memset(&info, 0, sizeof(info));
		info_len = sizeof(info);
		err = bpf_obj_get_info_by_fd(kern_skel_prog_fd(skel, i), &info,
					     &info_len);
		if (err) {
			log_error("event=kern_open_failed step=prog_info "
				  "err=%s", strerror(-err));
			goto err_destroy;
		}
		prog_id[i] = info.id;
	}
	*out = skel;
	return 0;

err_destroy:
	mf_pod__destroy(skel);
	return err;
}

int kern_open(struct kern **out, const char *pin_root, const char *run_dir,
	      uint16_t outbound_port)
{
	struct statfs sfs;
	struct kern *k;
	int err;

	*out = NULL;
	err = kern_mkdir_p(pin_root);
	if (err) {
		log_error("event=kern_open_failed step=mkdir root=%s err=%s",
			  pin_root, strerror(-err));
		return err;
	}
	/* libbpf would fail to pin with a bare EPERM/EINVAL on another file
	 * system; say what is wrong instead. */
	if (statfs(pin_root, &sfs) < 0) {
		err = -errno;
		log_error("event=kern_open_failed step=statfs root=%s err=%s",
			  pin_root, strerror(-err));
		return err;
	}
	if (sfs.f_type != BPF_FS_MAGIC) {
		log_error("event=kern_open_failed step=statfs root=%s err=\"not on bpffs (mount -t bpf bpf /sys/fs/bpf)\"",
			  pin_root);
		return -ENOTSUP;
	}

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->run_dir = run_dir;
	k->outbound_port = outbound_port;
	k->steer_fd = -1;
	err = kern_load(&k->skel, k->prog_id, pin_root, outbound_port);
	if (err) {
		free(k);
		return err;
	}
	log_info("event=kern_open root=%s outbound_port=%u prog_id=%u "
		 "egress_prog_id=%u", pin_root, outbound_port, k->prog_id[0],
		 k->prog_id[1]);
	*out = k;
	return 0;
}


/* Records @ifindex as attached, once.  Returns 0 or -ENOMEM. */
static int kern_hook_add(struct kern *k, int ifindex, const char *ifname)
{
	struct kern_hook *h;
	size_t i;

	for (i = 0; i < k->n_hooks; i++)
		if (k->hooks[i].ifindex == ifindex)
			return 0;
	if (k->n_hooks == k->cap_hooks) {
		size_t cap = k->cap_hooks ? k->cap_hooks * 2 : 8;

		h = reallocarray(k->hooks, cap, sizeof(*h));
		if (!h)
			return -ENOMEM;
		k->hooks = h;
		k->cap_hooks = cap;
	}
	h = &k->hooks[k->n_hooks++];
	h->ifindex = ifindex;
	snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);
	return 0;
}

static void kern_hook_detach(const struct kern *k, const struct kern_hook *h);

/* Attaches the program of @point at that hook of @ifindex. */
static int kern_attach_point(struct kern *k, int ifindex, const char *ifname,
			     int point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = kern_points[point]);
	LIBBPF_OPTS(bpf_tc_opts, topts, .handle = KERN_TC_HANDLE,
		    .priority = KERN_TC_PRIORITY,
		    .flags = BPF_TC_F_REPLACE);
	int err;

	topts.prog_fd = kern_prog_fd(k, point);
	err = bpf_tc_attach(&hook, &topts);
	if (err) {
		log_error("event=kern_attach_failed iface=%s step=filter "
			  "hook=%s err=%s", ifname, kern_point_names[point],
			  strerror(-err));
		return err;
	}
	log_info("event=kern_attach iface=%s ifindex=%d hook=%s handle=0x%x prio=%u prog_id=%u",
		 ifname, ifindex, kern_point_names[point], KERN_TC_HANDLE,
		 KERN_TC_PRIORITY, k->prog_id[point]);
	return 0;
}

/*
 * Writes down that we made the clsact of @ifindex, for `mfctl uninstall`.
 * Not being able to is no reason to leave a pod unprotected: the qdisc
 * then stays after an uninstall, which says so.
 */
static void kern_remember_clsact(const struct kern *k, int ifindex,
				 const char *ifname)
{
	int err;

	if (!k->run_dir)
		return;
	err = clsact_remember(k->run_dir, ifindex, ifname);
	if (err)
		log_warn("event=kern_clsact_unrecorded iface=%s run_dir=%s err=\"%s\"",
			 ifname, k->run_dir, strerror(-err));
	else
		log_info("event=kern_clsact_created iface=%s ifindex=%d",
			 ifname, ifindex);
}

int kern_attach_pod(struct kern *k, const char *ifname)
{
	int ifindex, err;

	ifindex = if_nametoindex(ifname);
	if (ifindex == 0) {
		err = -errno;
		log_error("event=kern_attach_failed iface=%s step=ifindex err=%s",
			  ifname, strerror(-err));
		return err;
	}
	return kern_attach_ifindex(k, ifindex, ifname);
}

int kern_attach_ifindex(struct kern *k, int ifindex, const char *ifname)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	int err;

	/* A successor attaches the pods now, its own programs. */
	if (k->kept)
		return 0;
	/* Creates clsact (both hooks); one already there (ours from a
	 * previous run, or another user's) is shared. */
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		log_error("event=kern_attach_failed iface=%s step=clsact err=%s",
			  ifname, strerror(-err));
		return err;
	}
	if (!err)
		kern_remember_clsact(k, ifindex, ifname);
	err = kern_hook_add(k, ifindex, ifname);
	if (err) {
		log_error("event=kern_attach_failed iface=%s step=track err=%s",
			  ifname, strerror(-err));
		return err;
	}
	for (int i = 0; i < KERN_POINTS; i++) {
		err = kern_attach_point(k, ifindex, ifname, i);
		if (err) {
			/* Half attached is no state to leave: take back
			 * what is ours, and forget the interface. */
			kern_detach_pod(k, ifindex, false);
			return err;
		}
	}
	return 0;
}

/* Detaches our filter from hook @point of @h if it is still ours. */
static void kern_point_detach(const struct kern *k, const struct kern_hook *h,
			      int point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = h->ifindex,
		    .attach_point = kern_points[point]);
	LIBBPF_OPTS(bpf_tc_opts, topts, .handle = KERN_TC_HANDLE,
		    .priority = KERN_TC_PRIORITY);
	int err;

	/* The interface may be gone with its pod, or a newer agent may have
	 * replaced our filter: detach only what is ours. */
	err = bpf_tc_query(&hook, &topts);
	if (err) {
		log_debug("event=kern_detach_skip iface=%s ifindex=%d hook=%s err=%s",
			  h->ifname, h->ifindex, kern_point_names[point],
			  strerror(-err));
		return;
	}
	if (topts.prog_id != k->prog_id[point]) {
		log_info("event=kern_detach_skip iface=%s ifindex=%d hook=%s reason=not_ours prog_id=%u",
			 h->ifname, h->ifindex, kern_point_names[point],
			 topts.prog_id);
		return;
	}
	/* bpf_tc_detach wants only handle and priority set. */
	topts.prog_fd = 0;
	topts.prog_id = 0;
	topts.flags = 0;
	err = bpf_tc_detach(&hook, &topts);
	if (err)
		log_warn("event=kern_detach_failed iface=%s ifindex=%d hook=%s err=%s",
			 h->ifname, h->ifindex, kern_point_names[point],
			 strerror(-err));
	else
		log_info("event=kern_detach iface=%s ifindex=%d hook=%s",
			 h->ifname, h->ifindex, kern_point_names[point]);
}

static void kern_hook_detach(const struct kern *k, const struct kern_hook *h)
{
	for (int i = 0; i < KERN_POINTS; i++)
		kern_point_detach(k, h, i);
}

int kern_detach_pod(struct kern *k, int ifindex, bool gone)
{
	size_t i;

	for (i = 0; i < k->n_hooks; i++)
		if (k->hooks[i].ifindex == ifindex)
			break;
	if (i == k->n_hooks)
		return -ENOENT;
	if (!gone && !k->kept)
		kern_hook_detach(k, &k->hooks[i]);
	/* Order does not matter: the last one takes the slot. */
	k->hooks[i] = k->hooks[--k->n_hooks];
	return 0;
}

/* mf_pod_sk_lookup of @skel on this thread's network namespace, giving the
 * listener @fd, into *@out (the caller's).  Returns 0 or -errno. */
static int kern_lookup_attach(struct mf_pod *skel, int fd,
			      struct bpf_link **out)
{
	__u32 zero = 0;
	__u64 v = (__u64)fd;
	int nsfd, err;

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.mf_outbound_listener),
				&zero, &v, BPF_ANY))
		return -errno;
	nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return -errno;
	*out = bpf_program__attach_netns(skel->progs.mf_pod_sk_lookup, nsfd);
	err = *out ? 0 : -errno;
	close(nsfd);
	return err;
}

int kern_steer_listener(struct kern *k, int fd)
{
	struct bpf_link *link = NULL;
	int err = kern_lookup_attach(k->skel, fd, &link);

	if (err) {
		log_warn("event=sk_lookup_failed err=\"%s\" effect=\"a pod's "
			 "SYN that meets a TIME_WAIT socket of the agent waits "
			 "one RST round\"", strerror(-err));
		return err;
	}
	bpf_link__destroy(k->lookup_link);
	k->lookup_link = link;
	k->steer_fd = fd;
	return 0;
}

int kern_reopen(struct kern *k, const char *pin_root)
{
	uint32_t prog_id[KERN_POINTS], old_id[KERN_POINTS];
	struct mf_pod *skel, *old;
	int err, failed = 0;

	err = kern_load(&skel, prog_id, pin_root, k->outbound_port);
	if (err)
		return err;
	old = k->skel;
	memcpy(old_id, k->prog_id, sizeof(old_id));
	k->skel = skel;
	memcpy(k->prog_id, prog_id, sizeof(prog_id));
	/* The new programs' lookup first, then the old one's goes. */
	if (k->steer_fd >= 0 && kern_steer_listener(k, k->steer_fd))
		failed++;
	if (k->kept)
		goto out;
	/* Each filter replaced in place (BPF_TC_F_REPLACE): a pod is never
	 * without one. */
	for (size_t i = 0; i < k->n_hooks; i++)
		for (int p = 0; p < KERN_POINTS; p++)
			if (kern_attach_point(k, k->hooks[i].ifindex,
					      k->hooks[i].ifname, p))
				failed++;
out:
	log_info("event=kern_reopen root=%s prog_id=%u egress_prog_id=%u "
		 "old_prog_id=%u pods=%zu failed=%d", pin_root, prog_id[0],
		 prog_id[1], old_id[0], k->n_hooks, failed);
	/* The old programs stay loaded where a replace failed: the filter
	 * holds them. */
	mf_pod__destroy(old);
	return failed ? -EIO : 0;
}

void kern_keep(struct kern *k)
{
	if (k && !k->kept) {
		k->kept = true;
		log_info("event=kern_keep pods=%zu", k->n_hooks);
	}
}

size_t kern_pods(const struct kern *k)
{
	return k ? k->n_hooks : 0;
}

void kern_close(struct kern *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < k->n_hooks && !k->kept; i++)
		kern_hook_detach(k, &k->hooks[i]);
	free(k->hooks);
	k->hooks = NULL;
	bpf_link__destroy(k->lookup_link);
	mf_pod__destroy(k->skel);
	k->skel = NULL;
	free(k);
}
