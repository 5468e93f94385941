/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where meshforge keeps things on a node, as mfctl and the agent both
 * find them: each from its environment variable when set and not empty,
 * else the default.  Command-line options override these.
 */
#ifndef MF_PATHS_H
#define MF_PATHS_H

#include <stddef.h>

struct mf_paths {
	const char *config_dir;	/* $MF_CONFIG_DIR: CA, certificates */
	const char *bpf_root;	/* $MF_BPF_ROOT: the pinned maps */
	const char *state_dir;	/* $MF_STATE_DIR: the saved policy */
	const char *run_dir;	/* $MF_RUN_DIR: the writers' lock */
};

void mf_paths_default(struct mf_paths *p);

/*
 * The agent's hand-over socket for pin root @bpf_root:
 * <@run_dir>/agent-<last part of @bpf_root>.sock, one per agent of a node,
 * into @buf (@n bytes).  The agent serves it; `mfctl uninstall --purge`
 * removes one a killed agent left.  Returns 0 or -ENAMETOOLONG.
 */
int mf_handover_path(char *buf, size_t n, const char *run_dir,
		     const char *bpf_root);

#endif /* MF_PATHS_H */
