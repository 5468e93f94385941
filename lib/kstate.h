/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kstate: what the pods' TC programs keep beside the policy
 * (bpf/lib/flows.h), read from its pins for `mfctl inspect`: the plaintext
 * towards pods they counted (mf_plaintext), the flows pods opened
 * (mf_pod_flows) and the connection-rate buckets (mf_conn_buckets).  The
 * maps are there once an agent loaded the programs under the pin root.
 */
#ifndef MF_KSTATE_H
#define MF_KSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "meshforge/abi.h"

#define MF_MAP_PLAINTEXT	"mf_plaintext"
#define MF_MAP_POD_FLOWS	"mf_pod_flows"
#define MF_MAP_CONN_BUCKETS	"mf_conn_buckets"

struct kstate_plain {
	struct mf_plain_key key;
	uint64_t packets;		/* summed over the CPUs */
};

/* Every entry of mf_plaintext under @root, the most packets first, into
 * *out (the caller frees it) and *n.  Returns 0, -ENOENT (not pinned),
 * or -errno. */
int kstate_plaintext(const char *root, struct kstate_plain **out, size_t *n);

/* Every key of mf_conn_buckets under @root into *out (the caller frees
 * it) and *n.  Returns 0, -ENOENT (not pinned), or -errno. */
int kstate_conn_buckets(const char *root, struct mf_conn_bucket_key **out,
			size_t *n);

/* How many entries map @name (one of the above) under @root holds.
 * Returns 0, -ENOENT (not pinned), or -errno. */
int kstate_count(const char *root, const char *name, size_t *n);

/* Counters @out[0..@n) of per-CPU array map @fd (u32 keys, u64 values),
 * each summed over the CPUs.  Returns 0 or -errno (then @out is partly
 * filled). */
int kstate_percpu_sums(int fd, uint32_t n, uint64_t *out);

#endif /* MF_KSTATE_H */
