// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <liburing.h>

#include "kreq.h"
#include "log.h"

/* ---- probes: 1 present, 0 absent, -errno cannot tell ---------------------- */

/*
 * Loads the @n instructions @insns as a program of @type.  Returns the
 * answer as a probe: EINVAL is a type or an instruction the kernel does
 * not know; EPERM is ours, not the kernel's (libbpf's own type probe
 * answers "absent" for both, which would tell an unprivileged user that
 * the kernel lacks BPF).
 */
static int kreq_load(enum bpf_prog_type type, const struct bpf_insn *insns,
		     size_t n)
{
	int fd;

	fd = bpf_prog_load(type, NULL, "GPL", insns, n, NULL);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == EINVAL ? 0 : -errno;
}

#define KREQ_MOV0(reg)	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = (reg) }
#define KREQ_EXIT	{ .code = BPF_JMP | BPF_EXIT }

/* A program of @type that returns 0. */
static int kreq_prog(enum bpf_prog_type type)
{
	const struct bpf_insn insns[] = { KREQ_MOV0(BPF_REG_0), KREQ_EXIT };

	return kreq_load(type, insns, 2);
}

static int kreq_prog_sched_cls(void)
{
	return kreq_prog(BPF_PROG_TYPE_SCHED_CLS);
}

static int kreq_prog_xdp(void)
{
	return kreq_prog(BPF_PROG_TYPE_XDP);
}

/* Whether bpf() lets us load programs at all: libbpf's map and helper
 * probes below answer "absent" when it does not, so they are asked only
 * when it does; -EPERM otherwise, for each.  Asked once. */
static int kreq_bpf_allowed(void)
{
	static int ret = 2;	/* not asked yet */

	if (ret == 2)
		ret = kreq_prog(BPF_PROG_TYPE_SCHED_CLS);
	return ret;
}

static int kreq_map(enum bpf_map_type type)
{
	int ret = kreq_bpf_allowed();

	return ret > 0 ? libbpf_probe_bpf_map_type(type, NULL) : ret;
}

static int kreq_helper(enum bpf_prog_type type, enum bpf_func_id helper)
{
	int ret = kreq_bpf_allowed();

	return ret > 0 ? libbpf_probe_bpf_helper(type, helper, NULL) : ret;
}

/* The token buckets' __sync_val_compare_and_swap(): a 64-bit cmpxchg on
 * a stack slot.  Older verifiers refuse the instruction ("BPF_STX uses
 * reserved fields"), as they refuse the programs. */
static int kreq_atomic_cmpxchg(void)
{
	const struct bpf_insn insns[] = {
		KREQ_MOV0(BPF_REG_1),
		{ .code = BPF_STX | BPF_DW | BPF_MEM, .dst_reg = BPF_REG_10,
		  .src_reg = BPF_REG_1, .off = -8 },
		KREQ_MOV0(BPF_REG_0),
		{ .code = BPF_STX | BPF_DW | BPF_ATOMIC, .dst_reg = BPF_REG_10,
		  .src_reg = BPF_REG_1, .off = -8, .imm = BPF_CMPXCHG },
		KREQ_MOV0(BPF_REG_0),
		KREQ_EXIT,
	};
	int ret = kreq_bpf_allowed();

	return ret > 0 ? kreq_load(BPF_PROG_TYPE_SCHED_CLS, insns, 6) : ret;
}

static int kreq_map_ringbuf(void)
{
	return kreq_map(BPF_MAP_TYPE_RINGBUF);
}

static int kreq_tc_skc_lookup_tcp(void)
{
	return kreq_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_skc_lookup_tcp);
}

static int kreq_tc_sk_assign(void)
{
	return kreq_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_sk_assign);
}

static int kreq_tc_jiffies64(void)
{
	return kreq_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_jiffies64);
}

static int kreq_xdp_ringbuf_reserve(void)
{
	return kreq_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_ringbuf_reserve);
}

/* CO-RE relocates the programs against the kernel's own BTF. */
static int kreq_vmlinux_btf(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int err = errno;

	if (btf) {
		btf__free(btf);
		return 1;
	}
	/* libbpf says ESRCH when it found no BTF anywhere it looks. */
	return err == ESRCH || err == ENOENT ? 0 : -err;
}

static int kreq_io_uring(void)
{
	struct io_uring ring;
	int err;

	err = io_uring_queue_init(2, &ring, 0);
	if (err == -EPERM) {
		/* The kernel has it but will not let us use it: as good as
		 * absent for the agent, and worth saying why. */
		log_error("event=kernel_io_uring_refused msg=\"io_uring is "
			  "turned off here (sysctl kernel.io_uring_disabled, "
			  "or a seccomp filter)\"");
		return 0;
	}
	if (err == -ENOSYS)
		return 0;
	if (err)
		return err;
	io_uring_queue_exit(&ring);
	return 1;
}

/* Kernels before 5.19 answer IORING_REGISTER_PBUF_RING with EINVAL, as
 * any register opcode they do not know.  Multishot accept came in the
 * same release and has no probe of its own. */
static int kreq_io_uring_buf_ring(void)
{
	struct io_uring_buf_reg reg;
	struct io_uring ring;
	void *br;
	int err, ret;

	err = io_uring_queue_init(2, &ring, 0);
	if (err)
		return err == -ENOSYS ? 0 : err;
	/* 8 entries of 16 bytes, in a page of their own as the kernel
	 * wants. */
	br = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (br == MAP_FAILED) {
		ret = -errno;
		goto out_ring;
	}
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uintptr_t)br;
	reg.ring_entries = 8;
	reg.bgid = 0;
	err = io_uring_register_buf_ring(&ring, &reg, 0);
	if (!err) {
		io_uring_unregister_buf_ring(&ring, 0);
		ret = 1;
	} else {
		ret = err == -EINVAL ? 0 : err;
	}
	munmap(br, 4096);
out_ring:
	io_uring_queue_exit(&ring);
	return ret;
}

/* The agent's needs, oldest first: the first one missing is the one that
 * says most about the kernel. */
static const struct kreq_need kreq_needs[] = {
	{ "BPF TC programs (BPF_PROG_TYPE_SCHED_CLS)", "4.1",
	  kreq_prog_sched_cls },
	{ "BPF XDP programs", "4.8", kreq_prog_xdp },
	{ "io_uring", "5.1", kreq_io_uring },
	{ "bpf_skc_lookup_tcp() in TC programs", "5.2",
	  kreq_tc_skc_lookup_tcp },
	{ "kernel BTF (/sys/kernel/btf/vmlinux) for CO-RE", "5.4",
	  kreq_vmlinux_btf },
	{ "bpf_jiffies64() in TC programs", "5.5", kreq_tc_jiffies64 },
	{ "bpf_sk_assign() in TC programs", "5.7", kreq_tc_sk_assign },
	{ "BPF ring buffer maps", "5.8", kreq_map_ringbuf },
	{ "bpf_ringbuf_reserve() in XDP programs", "5.8",
	  kreq_xdp_ringbuf_reserve },
	{ "BPF atomic compare-and-exchange", "5.12", kreq_atomic_cmpxchg },
	{ "io_uring provided buffer rings and multishot accept", "5.19",
	  kreq_io_uring_buf_ring },
};

/* ---- optional features: asked by the module that uses them ------------- */

static int kreq_prog_type(enum bpf_prog_type type)
{
	int ret = kreq_bpf_allowed();

	return ret > 0 ? libbpf_probe_bpf_prog_type(type, NULL) : ret;
}

static int kreq_sock_addr(void)
{
	return kreq_prog_type(BPF_PROG_TYPE_CGROUP_SOCK_ADDR);
}

static int kreq_sock_ops(void)
{
	return kreq_prog_type(BPF_PROG_TYPE_SOCK_OPS);
}

/* The connect hook finds the workload cgroup among the caller's
 * ancestors. */
static int kreq_sock_addr_ancestor(void)
{
	return kreq_helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
			   BPF_FUNC_get_current_ancestor_cgroup_id);
}

static const struct kreq_need kreq_front_door_needs[] = {
	{ "BPF cgroup connect hooks (BPF_PROG_TYPE_CGROUP_SOCK_ADDR)",
	  "4.17", kreq_sock_addr },
	{ "BPF sockops programs", "4.13", kreq_sock_ops },
	{ "bpf_get_current_ancestor_cgroup_id() in cgroup connect hooks",
	  "5.7", kreq_sock_addr_ancestor },
};

static int kreq_sk_msg(void)
{
	return kreq_prog_type(BPF_PROG_TYPE_SK_MSG);
}

static int kreq_sockhash(void)
{
	return kreq_map(BPF_MAP_TYPE_SOCKHASH);
}

static int kreq_sk_storage(void)
{
	return kreq_helper(BPF_PROG_TYPE_SK_MSG, BPF_FUNC_sk_storage_get);
}

static int kreq_sock_ops_netns(void)
{
	return kreq_helper(BPF_PROG_TYPE_SOCK_OPS, BPF_FUNC_get_netns_cookie);
}

static const struct kreq_need kreq_fast_path_needs[] = {
	{ "BPF sockops programs", "4.13", kreq_sock_ops },
	{ "BPF SOCKHASH maps", "4.18", kreq_sockhash },
	{ "BPF sk_msg programs", "4.17", kreq_sk_msg },
	{ "bpf_sk_storage_get() in sk_msg programs", "5.8", kreq_sk_storage },
	{ "bpf_get_netns_cookie() in sockops programs", "5.15",
	  kreq_sock_ops_netns },
};

/* Each need of @needs probed: 1 when all are there, 0 (logged) when one
 * is missing, -errno when one cannot be told. */
static int kreq_optional(const char *feature, const struct kreq_need *needs,
			 size_t n)
{
	int ret;

	for (size_t i = 0; i < n; i++) {
		ret = needs[i].probe();
		if (ret > 0)
			continue;
		if (ret == 0)
			log_warn("event=kernel_lacks feature=%s since=%s "
				 "msg=\"this kernel lacks %s (Linux %s)\"",
				 feature, needs[i].since, needs[i].what,
				 needs[i].since);
		return ret;
	}
	return 1;
}

int kreq_fast_path(void)
{
	return kreq_optional("fast_path", kreq_fast_path_needs,
			     sizeof(kreq_fast_path_needs) /
			     sizeof(kreq_fast_path_needs[0]));
}

int kreq_front_door(void)
{
	return kreq_optional("front_door", kreq_front_door_needs,
			     sizeof(kreq_front_door_needs) /
			     sizeof(kreq_front_door_needs[0]));
}

/* ---- the check ---------------------------------------------------------- */

int kreq_release_parse(const char *release, unsigned int *major,
		       unsigned int *minor)
{
	unsigned int maj, min;
	int end = 0;

	if (sscanf(release, "%u.%u%n", &maj, &min, &end) != 2 || !end)
		return -EINVAL;
	*major = maj;
	*minor = min;
	return 0;
}

int kreq_run(const struct kreq_need *needs, size_t n, const char *release,
	     struct kreq_report *r)
{
	unsigned int major, minor;
	int ret;

	memset(r, 0, sizeof(*r));
	r->release = release;
	r->old = kreq_release_parse(release, &major, &minor) != 0 ||
		 major < KREQ_MIN_MAJOR ||
		 (major == KREQ_MIN_MAJOR && minor < KREQ_MIN_MINOR);
	for (size_t i = 0; i < n; i++) {
		ret = needs[i].probe();
		if (ret > 0)
			continue;
		if (ret == 0) {
			r->missing++;
			log_error("event=kernel_lacks release=%s since=%s "
				  "msg=\"this kernel lacks %s (Linux %s)\"",
				  release, needs[i].since, needs[i].what,
				  needs[i].since);
		} else {
			r->unknown++;
			log_warn("event=kernel_probe_failed release=%s "
				 "feature=\"%s\" err=\"%s\"", release,
				 needs[i].what, strerror(-ret));
		}
	}
	if (r->missing) {
		log_error("event=kernel_unsupported release=%s missing=%zu "
			  "msg=\"meshforge needs Linux " KREQ_MIN_STR
			  " or newer\"", release, r->missing);
		return -ENOTSUP;
	}
	if (r->old)
		log_warn("event=kernel_untested release=%s msg=\"older than "
			 "Linux " KREQ_MIN_STR ", the lowest meshforge is "
			 "tried on; no probe found a need missing\"", release);
	else
		log_info("event=kernel_ok release=%s min=" KREQ_MIN_STR
			 " unknown=%zu", release, r->unknown);
	return 0;
}

int kreq_check(struct kreq_report *r)
{
	/* The release string must outlive the report. */
	static struct utsname u;

	if (uname(&u) < 0) {
		int err = -errno;

		memset(r, 0, sizeof(*r));
		log_error("event=kernel_check_failed err=\"%s\"",
			  strerror(-err));
		return err;
	}
	return kreq_run(kreq_needs, sizeof(kreq_needs) / sizeof(kreq_needs[0]),
			u.release, r);
}
