// SPDX-License-Identifier: Apache-2.0
/*
 * What meshforge made on this node (owned.h): the pins by name and map,
 * our programs by name and the maps they use, their attachments here
 * through libbpf's TC, XDP and link queries, the clsact qdiscs through
 * their records, and what else sits on those qdiscs through a netlink
 * dump (libmnl), which libbpf has no call for.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "grow.h"
#include "meshforge/abi.h"
#include "mf_maps.skel.h"
#include "mf_pod.skel.h"
#include "mf_fast.skel.h"
#include "mf_sock.skel.h"
#include "mf_xdp.skel.h"
#include "owned.h"
#include "procs.h"

/* The names meshforge's BPF objects give their pinned maps and their
 * programs. */
struct own_names {
	char **maps;
	size_t nmaps;
	char **progs;
	size_t nprogs;
};

static const char *const own_kind_strs[OWN_KIND_MAX] = {
	[OWN_FILTER] = "filter",
	[OWN_XDP] = "xdp",
	[OWN_LINK] = "link",
	[OWN_QDISC] = "qdisc",
	[OWN_PIN] = "pin",
	[OWN_DIR] = "dir",
};

const char *own_kind_str(enum own_kind k)
{
	return k < OWN_KIND_MAX ? own_kind_strs[k] : "?";
}

/* ---- names ---------------------------------------------------------- */

/* Adds a copy of @name to *@v (*@n entries) unless it is there.  Returns
 * 0 or -ENOMEM. */
static int own_name_add(char ***v, size_t *n, const char *name)
{
	char **nv;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], name))
			return 0;
	nv = reallocarray(*v, *n + 1, sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(name);
	if (!nv[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* The pinned maps and the programs of @obj into @nm. */
static int own_names_of(const struct bpf_object *obj, struct own_names *nm)
{
	struct bpf_program *p;
	struct bpf_map *m;
	int err = 0;

	bpf_object__for_each_map(m, obj)
		if (!err && bpf_map__pin_path(m))
			err = own_name_add(&nm->maps, &nm->nmaps,
					   bpf_map__name(m));
	bpf_object__for_each_program(p, obj)
		if (!err)
			err = own_name_add(&nm->progs, &nm->nprogs,
					   bpf_program__name(p));
	return err;
}

static void own_names_free(struct own_names *nm)
{
	for (size_t i = 0; i < nm->nmaps; i++)
		free(nm->maps[i]);
	for (size_t i = 0; i < nm->nprogs; i++)
		free(nm->progs[i]);
	free(nm->maps);
	free(nm->progs);
	memset(nm, 0, sizeof(*nm));
}

/* Reads the names from the objects themselves (opened, never loaded), so
 * no list here has to follow theirs. */
static int own_names_load(struct own_names *nm)
{
	struct mf_maps *maps = mf_maps__open();
	struct mf_pod *pod = mf_pod__open();
	struct mf_xdp *xdp = mf_xdp__open();
	struct mf_sock *sock = mf_sock__open();
	struct mf_fast *fast = mf_fast__open();
	int err = -ENOMEM;

	memset(nm, 0, sizeof(*nm));
	if (maps && pod && xdp && sock && fast) {
		err = own_names_of(maps->obj, nm);
		if (!err)
			err = own_names_of(pod->obj, nm);
		if (!err)
			err = own_names_of(xdp->obj, nm);
		/* Their cgroup links go with the agent; one left behind
		 * (pinned by hand) is found by its program. */
		if (!err)
			err = own_names_of(sock->obj, nm);
		if (!err)
			err = own_names_of(fast->obj, nm);
	} else if (errno) {
		err = -errno;
	}
	mf_fast__destroy(fast);
	mf_sock__destroy(sock);
	mf_xdp__destroy(xdp);
	mf_pod__destroy(pod);
	mf_maps__destroy(maps);
	if (err)
		own_names_free(nm);
	return err;
}

/* Whether @name is one of @v. */
static bool own_name_is(char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

/* Whether the kernel's name @kname (cut to OWN_NAME_LEN - 1 bytes) is
 * one of @v. */
static bool own_name_in(char *const *v, size_t n, const char *kname)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(v[i], kname, OWN_NAME_LEN - 1))
			return true;
	return false;
}

/* ---- objects -------------------------------------------------------- */

/* Appends a zeroed object of @kind; NULL when out of memory. */
static struct own_obj *own_push(struct own_survey *s, enum own_kind kind)
{
	struct own_obj *o;

	o = grow_room(s->objs, s->n, &s->cap, sizeof(*o), 16);
	if (!o)
		return NULL;
	s->objs = o;
	o = &s->objs[s->n++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	return o;
}

/* Whether @a goes after @b: by kind, in removal order (owned.h), pins by
 * name; the rest in the order found (interfaces by index). */
static bool own_after(const struct own_obj *a, const struct own_obj *b)
{
	if (a->kind != b->kind)
		return a->kind > b->kind;
	return a->kind == OWN_PIN && strcmp(a->path, b->path) > 0;
}

/* A stable insertion sort, for a few dozen objects. */
static void own_sort(struct own_survey *s)
{
	for (size_t i = 1; i < s->n; i++) {
		struct own_obj o = s->objs[i];
		size_t j = i;

		for (; j > 0 && own_after(&s->objs[j - 1], &o); j--)
			s->objs[j] = s->objs[j - 1];
		s->objs[j] = o;
	}
}

static struct own_prog *own_prog_find(const struct own_survey *s,
				      uint32_t id)
{
	for (size_t i = 0; i < s->nprogs; i++)
		if (s->progs[i].id == id)
			return &s->progs[i];
	return NULL;
}

/* The kernel's name of program @id into @name; false when it is gone. */
static bool own_prog_name(uint32_t id, char name[OWN_NAME_LEN])
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	bool ok;

	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	ok = !bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (ok)
		snprintf(name, OWN_NAME_LEN, "%s", info.name);
	return ok;
}

/*
 * Records an attachment of program @id found here (@o filled but for the
 * program): ours, or kept when it only carries one of our names; nothing
 * for a foreign program.  Returns 0 or -ENOMEM.
 */
static int own_attached(struct own_survey *s, const struct own_names *nm,
			const struct own_obj *o, uint32_t id)
{
	struct own_prog *p = own_prog_find(s, id);
	char name[OWN_NAME_LEN];
	struct own_obj *n;

	if (!p && (!own_prog_name(id, name) ||
		   !own_name_in(nm->progs, nm->nprogs, name)))
		return 0;
	n = own_push(s, o->kind);
	if (!n)
		return -ENOMEM;
	*n = *o;
	n->prog_id = id;
	if (p) {
		p->here = true;
		snprintf(n->prog, sizeof(n->prog), "%s", p->name);
	} else {
		snprintf(n->prog, sizeof(n->prog), "%s", name);
		n->kept = "its maps are not pinned under the pin root";
	}
	return 0;
}

/* ---- pins ------------------------------------------------------------- */

/* The id of the map pinned at @path when it is a map named @name, else
 * 0. */
static uint32_t own_pin_map(const char *path, const char *name)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	uint32_t id = 0;
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return 0;
	/* The fd's kind first: map info asked of a program would be read
	 * into the wrong struct. */
	if (procs_fd_map_id(0, fd)) {
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    !strncmp(info.name, name, OWN_NAME_LEN - 1))
			id = info.id;
	}
	close(fd);
	return id;
}

/* Whether @path is a mount point: its parent is on another device. */
static bool own_mount_point(const char *path, const struct stat *st)
{
	char parent[PATH_MAX + 4];
	struct stat pst;

	snprintf(parent, sizeof(parent), "%s/..", path);
	return !stat(parent, &pst) && (pst.st_dev != st->st_dev ||
				       pst.st_ino == st->st_ino);
}

/* The root's meshforge pins, then the root itself.  Returns 0, -ENOTDIR
 * or -errno. */
static int own_pins(struct own_survey *s, const struct own_names *nm)
{
	char path[PATH_MAX];
	struct statfs sfs;
	struct dirent *de;
	size_t others = 0;
	struct stat st;
	struct own_obj *o;
	int err = 0;
	DIR *d;

	if (stat(s->bpf_root, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode) || statfs(s->bpf_root, &sfs) ||
	    sfs.f_type != BPF_FS_MAGIC)
		return -ENOTDIR;
	d = opendir(s->bpf_root);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		uint32_t id, *ids;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!own_name_is(nm->maps, nm->nmaps, de->d_name)) {
			others++;
			continue;
		}
		err = -ENAMETOOLONG;
		if (snprintf(path, sizeof(path), "%s/%s", s->bpf_root,
			     de->d_name) >= (int)sizeof(path))
			break;
		err = 0;
		id = own_pin_map(path, de->d_name);
		o = own_push(s, OWN_PIN);
		if (!o) {
			err = -ENOMEM;
			break;
		}
		snprintf(o->path, sizeof(o->path), "%s", path);
		o->map_id = id;
		if (!id) {
			o->kept = "not the map meshforge pins under that name";
			others++;
			continue;
		}
		ids = reallocarray(s->map_ids, s->nmaps + 1, sizeof(*ids));
		if (!ids) {
			err = -ENOMEM;
			break;
		}
		s->map_ids = ids;
		ids[s->nmaps++] = id;
	}
	closedir(d);
	if (err)
		return err;
	o = own_push(s, OWN_DIR);
	if (!o)
		return -ENOMEM;
	snprintf(o->path, sizeof(o->path), "%s", s->bpf_root);
	if (own_mount_point(s->bpf_root, &st))
		o->kept = "a mount point";
	else if (others)
		o->kept = "it holds what is not meshforge's";
	return 0;
}

/* ---- programs and links -------------------------------------------- */

/* Whether program @fd uses one of the maps of @s. */
static bool own_prog_uses(const struct own_survey *s, int fd, __u32 nr)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	uint32_t *ids;
	bool uses = false;

	if (!nr || !s->nmaps)
		return false;
	ids = calloc(nr, sizeof(*ids));
	if (!ids)
		return false;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = nr;
	info.map_ids = (__u64)(uintptr_t)ids;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		if (info.nr_map_ids < nr)
			nr = info.nr_map_ids;
		for (__u32 i = 0; i < nr && !uses; i++)
			for (size_t j = 0; j < s->nmaps && !uses; j++)
				uses = ids[i] == s->map_ids[j];
	}
	free(ids);
	return uses;
}

/* Our loaded programs, system-wide.  Returns 0 or -errno (-EPERM: not
 * privileged enough to see them). */
static int own_progs(struct own_survey *s, const struct own_names *nm)
{
	struct bpf_prog_info info;
	__u32 id = 0, len;
	int fd, err = 0;

	while (!err) {
		struct own_prog *p;

		if (bpf_prog_get_next_id(id, &id)) {
			if (errno != ENOENT)
				err = -errno;
			break;
		}
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0) {
			if (errno != ENOENT)	/* gone meanwhile */
				err = -errno;
			continue;
		}
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
		    !own_name_in(nm->progs, nm->nprogs, info.name) ||
		    !own_prog_uses(s, fd, info.nr_map_ids)) {
			close(fd);
			continue;
		}
		close(fd);
		p = reallocarray(s->progs, s->nprogs + 1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->progs = p;
		p = &p[s->nprogs++];
		memset(p, 0, sizeof(*p));
		p->id = id;
		snprintf(p->name, sizeof(p->name), "%s", info.name);
	}
	return err;
}

/* BPF links of our programs, system-wide. */
static int own_links(struct own_survey *s)
{
	struct bpf_link_info info;
	__u32 id = 0, len;
	int fd;

	while (!bpf_link_get_next_id(id, &id)) {
		struct own_prog *p;
		struct own_obj *o;

		fd = bpf_link_get_fd_by_id(id);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		p = bpf_obj_get_info_by_fd(fd, &info, &len) ? NULL :
		    own_prog_find(s, info.prog_id);
		close(fd);
		if (!p)
			continue;
		o = own_push(s, OWN_LINK);
		if (!o)
			return -ENOMEM;
		o->link_id = id;
		o->prog_id = p->id;
		snprintf(o->prog, sizeof(o->prog), "%s", p->name);
		p->here = true;
	}
	return 0;
}

/* ---- attachments on this namespace's interfaces --------------------- */

static const struct {
	uint32_t flag;
	const char *name;
} own_xdp_modes[] = {
	{ XDP_FLAGS_SKB_MODE, "generic" },
	{ XDP_FLAGS_DRV_MODE, "native" },
	{ XDP_FLAGS_HW_MODE, "offload" },
};

static int own_iface(struct own_survey *s, const struct own_names *nm,
		     int ifindex, const char *ifname)
{
	static const uint32_t points[] = { BPF_TC_INGRESS, BPF_TC_EGRESS };
	LIBBPF_OPTS(bpf_xdp_query_opts, xq);
	struct own_obj o;
	uint32_t ids[3];
	int err = 0;

	memset(&o, 0, sizeof(o));
	o.ifindex = ifindex;
	snprintf(o.ifname, sizeof(o.ifname), "%s", ifname);
	o.kind = OWN_FILTER;
	for (size_t i = 0; i < 2 && !err; i++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = points[i]);
		LIBBPF_OPTS(bpf_tc_opts, to, .handle = MF_TC_HANDLE,
			    .priority = MF_TC_PRIORITY);

		/* No clsact, or nothing at our handle: nothing of ours. */
		if (bpf_tc_query(&hook, &to))
			continue;
		o.point = points[i];
		err = own_attached(s, nm, &o, to.prog_id);
	}
	if (err || bpf_xdp_query(ifindex, 0, &xq))
		return err;
	ids[0] = xq.skb_prog_id;
	ids[1] = xq.drv_prog_id;
	ids[2] = xq.hw_prog_id;
	o.kind = OWN_XDP;
	for (size_t i = 0; i < 3 && !err; i++) {
		if (!ids[i])
			continue;
		o.point = own_xdp_modes[i].flag;
		err = own_attached(s, nm, &o, ids[i]);
	}
	return err;
}

static int own_ifaces(struct own_survey *s, const struct own_names *nm)
{
	struct if_nameindex *ifs = if_nameindex();
	int err = 0;

	if (!ifs)
		return -errno;
	for (struct if_nameindex *i = ifs; i->if_index && !err; i++)
		err = own_iface(s, nm, (int)i->if_index, i->if_name);
	if_freenameindex(ifs);
	return err;
}

/* ---- qdiscs: netlink -------------------------------------------------- */

/* Dumps @type (RTM_GETQDISC, RTM_GETTFILTER) for @ifindex under @parent,
 * @cb called on each message.  Returns 0 or -errno. */
static int own_nl_dump(uint16_t type, int ifindex, uint32_t parent,
		       mnl_cb_t cb, void *data)
{
	static char buf[32768];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	unsigned int portid, seq = (unsigned int)time(NULL);
	ssize_t len;
	int ret = MNL_CB_OK, err = 0;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	while (ret > MNL_CB_STOP) {
		len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (len < 0) {
			err = -errno;
			break;
		}
		ret = mnl_cb_run(buf, (size_t)len, seq, portid, cb, data);
		if (ret < 0)
			err = errno ? -errno : -EPROTO;
	}
out:
	mnl_socket_close(nl);
	return err;
}

/* The TCA_KIND and TCA_CHAIN of a tc message. */
static void own_nl_attrs(const struct nlmsghdr *nlh, const char **kind,
			 uint32_t *chain)
{
	const struct nlattr *a;

	*kind = "";
	*chain = 0;
	mnl_attr_for_each(a, nlh, sizeof(struct tcmsg)) {
		if (mnl_attr_get_type(a) == TCA_KIND &&
		    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			*kind = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == TCA_CHAIN &&
			 !mnl_attr_validate(a, MNL_TYPE_U32))
			*chain = mnl_attr_get_u32(a);
	}
}

struct own_clsact_q {
	int ifindex;
	bool found;
};

static int own_clsact_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct own_clsact_q *q = data;
	const char *kind;
	uint32_t chain;

	if (nlh->nlmsg_type != RTM_NEWQDISC || tcm->tcm_ifindex != q->ifindex ||
	    tcm->tcm_parent != TC_H_CLSACT)
		return MNL_CB_OK;
	own_nl_attrs(nlh, &kind, &chain);
	if (!strcmp(kind, "clsact"))
		q->found = true;
	return MNL_CB_OK;
}

/* Whether @ifindex has a clsact qdisc: 1, 0 or -errno. */
static int own_has_clsact(int ifindex)
{
	struct own_clsact_q q = { .ifindex = ifindex };
	int err = own_nl_dump(RTM_GETQDISC, ifindex, 0, own_clsact_cb, &q);

	return err ? err : q.found;
}

struct own_filters_q {
	bool skip_ours;		/* our filter is there, and will go */
	int others;
};

static int own_filters_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct own_filters_q *q = data;
	const char *kind;
	uint32_t chain;

	if (nlh->nlmsg_type != RTM_NEWTFILTER)
		return MNL_CB_OK;
	own_nl_attrs(nlh, &kind, &chain);
	/* Ours, and the head of its priority (handle 0), which a dump
	 * sends before the filters of each priority and which goes with
	 * the last of them. */
	if (q->skip_ours && chain == 0 &&
	    TC_H_MAJ(tcm->tcm_info) >> 16 == MF_TC_PRIORITY &&
	    (tcm->tcm_handle == MF_TC_HANDLE || tcm->tcm_handle == 0))
		return MNL_CB_OK;
	q->others++;
	return MNL_CB_OK;
}

/* Whether our filter is at hook @point of @ifindex and to be removed. */
static bool own_filter_goes(const struct own_survey *s, int ifindex,
			    uint32_t point)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->objs[i].kind == OWN_FILTER && !s->objs[i].kept &&
		    s->objs[i].ifindex == ifindex && s->objs[i].point == point)
			return true;
	return false;
}

/* The filters on the clsact of @ifindex that are not ours-to-remove (with
 * @skip_ours, those in @s are left out), both hooks.  Returns the count
 * or -errno. */
static int own_other_filters(const struct own_survey *s, int ifindex,
			     bool skip_ours)
{
	static const uint32_t points[] = { BPF_TC_INGRESS, BPF_TC_EGRESS };
	static const uint32_t mins[] = { TC_H_MIN_INGRESS, TC_H_MIN_EGRESS };
	int n = 0;

	for (size_t i = 0; i < 2; i++) {
		struct own_filters_q q = {
			.skip_ours = skip_ours &&
				     own_filter_goes(s, ifindex, points[i]),
		};
		int err = own_nl_dump(RTM_GETTFILTER, ifindex,
				      TC_H_MAKE(TC_H_CLSACT, mins[i]),
				      own_filters_cb, &q);

		if (err)
			return err;
		n += q.others;
	}
	return n;
}

/* The qdiscs recorded in this namespace: to remove, kept, or records to
 * forget.  After the filters, whose removal they wait for. */
static int own_qdiscs(struct own_survey *s)
{
	struct clsact_rec *recs;
	size_t nrecs;
	int err;

	err = clsact_list(s->run_dir, s->netns, &recs, &nrecs);
	if (err)
		return err;
	for (size_t i = 0; i < nrecs && !err; i++) {
		char name[IF_NAMESIZE];
		struct own_obj *o = own_push(s, OWN_QDISC);
		int has, others;

		if (!o) {
			err = -ENOMEM;
			break;
		}
		o->rec = recs[i];
		o->ifindex = recs[i].ifindex;
		if (!if_indextoname((unsigned int)recs[i].ifindex, name)) {
			snprintf(o->ifname, sizeof(o->ifname), "%s",
				 recs[i].ifname);
			o->stale = true;
			continue;
		}
		snprintf(o->ifname, sizeof(o->ifname), "%s", name);
		has = own_has_clsact(o->ifindex);
		if (has < 0) {
			o->kept = "the qdiscs cannot be listed";
			continue;
		}
		if (!has) {
			o->stale = true;
			continue;
		}
		others = own_other_filters(s, o->ifindex, true);
		if (others < 0)
			o->kept = "its filters cannot be listed";
		else if (others)
			o->kept = "other filters are on it";
	}
	free(recs);
	return err;
}

/* ---- agents ----------------------------------------------------------- */

static int own_agents(struct own_survey *s)
{
	long pids[64];
	int n = procs_agents(pids, 64);

	if (n < 0)
		return n;
	for (int i = 0; i < n && i < 64; i++) {
		if (procs_holds_map(pids[i], s->map_ids, s->nmaps) != 1)
			continue;
		if (s->nagents < OWN_MAX_AGENTS)
			s->agents[s->nagents] = pids[i];
		s->nagents++;
	}
	return 0;
}

/* ---- the survey ------------------------------------------------------- */

int own_survey(struct own_survey *s, const char *bpf_root,
	       const char *run_dir)
{
	struct own_names nm;
	int err;

	libbpf_print_fn_t print;

	memset(s, 0, sizeof(*s));
	s->bpf_root = bpf_root;
	s->run_dir = run_dir;
	err = clsact_netns(&s->netns);
	if (err)
		return err;
	/* Asking an interface without clsact, or a hook without our
	 * filter, is how we learn there is nothing: not worth the
	 * kernel's message that libbpf would print. */
	print = libbpf_set_print(NULL);
	err = own_names_load(&nm);
	if (err) {
		libbpf_set_print(print);
		return err;
	}
	/* Pins first: our programs are those using these maps. */
	err = own_pins(s, &nm);
	if (!err)
		err = own_progs(s, &nm);
	if (!err)
		err = own_ifaces(s, &nm);
	if (!err)
		err = own_links(s);
	if (!err)
		err = own_qdiscs(s);
	if (!err)
		err = own_agents(s);
	own_names_free(&nm);
	libbpf_set_print(print);
	own_sort(s);
	return err;
}

size_t own_elsewhere(const struct own_survey *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nprogs; i++)
		n += !s->progs[i].here;
	return n;
}

void own_survey_free(struct own_survey *s)
{
	free(s->objs);
	free(s->map_ids);
	free(s->progs);
	memset(s, 0, sizeof(*s));
}

/* ---- removal ------------------------------------------------------------ */

static int own_remove_filter(const struct own_obj *o)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = o->ifindex,
		    .attach_point = o->point);
	LIBBPF_OPTS(bpf_tc_opts, to, .handle = MF_TC_HANDLE,
		    .priority = MF_TC_PRIORITY);
	int err;

	err = bpf_tc_query(&hook, &to);
	if (err)
		return err == -ENOENT ? -ESTALE : err;
	if (to.prog_id != o->prog_id)
		return -ESTALE;
	/* bpf_tc_detach wants only handle and priority set. */
	to.prog_fd = 0;
	to.prog_id = 0;
	to.flags = 0;
	return bpf_tc_detach(&hook, &to);
}

static int own_remove_xdp(const struct own_obj *o)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo);
	int fd, err;

	fd = bpf_prog_get_fd_by_id(o->prog_id);
	if (fd < 0)
		return errno == ENOENT ? -ESTALE : -errno;
	/* Only while our program is the one attached (XDP_FLAGS_REPLACE):
	 * another attached meanwhile stays. */
	xo.old_prog_fd = fd;
	err = bpf_xdp_detach(o->ifindex, (int)o->point, &xo);
	close(fd);
	return err == -EEXIST ? -ESTALE : err;
}

static int own_remove_link(const struct own_obj *o)
{
	int fd, err;

	fd = bpf_link_get_fd_by_id(o->link_id);
	if (fd < 0)
		return errno == ENOENT ? -ESTALE : -errno;
	err = bpf_link_detach(fd);
	close(fd);
	return err;
}

static int own_remove_qdisc(struct own_survey *s, struct own_obj *o)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = o->ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int others, err;

	if (!o->stale) {
		/* Our filters are gone by now: anything left is someone
		 * else's, and the qdisc theirs to keep. */
		others = own_other_filters(s, o->ifindex, false);
		if (others < 0)
			return others;
		if (others) {
			o->kept = "other filters are on it";
			return 0;
		}
		/* Both hooks: the qdisc itself (one alone would flush that
		 * hook's filters instead). */
		err = bpf_tc_hook_destroy(&hook);
		if (err && err != -ENOENT && err != -EINVAL)
			return err;
	}
	return clsact_forget(s->run_dir, &o->rec);
}

static int own_remove_pin(const struct own_obj *o)
{
	const char *name = strrchr(o->path, '/');

	if (own_pin_map(o->path, name ? name + 1 : o->path) != o->map_id)
		return -ESTALE;
	return unlink(o->path) ? -errno : 0;
}

static int own_remove_one(struct own_survey *s, struct own_obj *o)
{
	switch (o->kind) {
	case OWN_FILTER:
		return own_remove_filter(o);
	case OWN_XDP:
		return own_remove_xdp(o);
	case OWN_LINK:
		return own_remove_link(o);
	case OWN_QDISC:
		return own_remove_qdisc(s, o);
	case OWN_PIN:
		return own_remove_pin(o);
	case OWN_DIR:
		return rmdir(o->path) ? -errno : 0;
	case OWN_KIND_MAX:
		break;
	}
	return -EINVAL;
}

int own_remove(struct own_survey *s, struct own_obj *o)
{
	libbpf_print_fn_t print;
	int err;

	if (o->kept)
		return 0;
	/* What fails is said by the caller, with the object's name. */
	print = libbpf_set_print(NULL);
	err = own_remove_one(s, o);
	libbpf_set_print(print);
	return err;
}

void own_describe(const struct own_obj *o, char *buf, size_t n)
{
	switch (o->kind) {
	case OWN_FILTER:
		snprintf(buf, n, "filter %s %s (handle 0x%x prio %u, %s, prog %u)",
			 o->ifname, o->point == BPF_TC_INGRESS ? "ingress" :
								  "egress",
			 MF_TC_HANDLE, MF_TC_PRIORITY, o->prog, o->prog_id);
		break;
	case OWN_XDP: {
		const char *mode = "?";

		for (size_t i = 0; i < 3; i++)
			if (own_xdp_modes[i].flag == o->point)
				mode = own_xdp_modes[i].name;
		snprintf(buf, n, "xdp %s %s (%s, prog %u)", o->ifname, mode,
			 o->prog, o->prog_id);
		break;
	}
	case OWN_LINK:
		snprintf(buf, n, "link %u (%s, prog %u)", o->link_id, o->prog,
			 o->prog_id);
		break;
	case OWN_QDISC:
		if (o->stale)
			snprintf(buf, n, "qdisc record of %s (ifindex %d; its "
				 "clsact is gone)", o->ifname, o->ifindex);
		else
			snprintf(buf, n, "qdisc %s clsact", o->ifname);
		break;
	case OWN_PIN:
		if (o->map_id)
			snprintf(buf, n, "pin %s (map %u)", o->path, o->map_id);
		else
			snprintf(buf, n, "pin %s", o->path);
		break;
	case OWN_DIR:
		snprintf(buf, n, "dir %s", o->path);
		break;
	case OWN_KIND_MAX:
		snprintf(buf, n, "?");
		break;
	}
}
