// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshforge/abi.h"
#include "paths.h"

static const char *paths_env(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

void mf_paths_default(struct mf_paths *p)
{
	p->config_dir = paths_env("MF_CONFIG_DIR", MF_CONFIG_DIR_DEFAULT);
	p->bpf_root = paths_env("MF_BPF_ROOT", MF_PIN_ROOT_DEFAULT);
	p->state_dir = paths_env("MF_STATE_DIR", MF_STATE_DIR_DEFAULT);
	p->run_dir = paths_env("MF_RUN_DIR", MF_RUN_DIR_DEFAULT);
}

int mf_handover_path(char *buf, size_t n, const char *run_dir,
		     const char *bpf_root)
{
	size_t len = strlen(bpf_root);
	const char *base;

	/* "/sys/fs/bpf/meshforge/" names what "/sys/fs/bpf/meshforge"
	 * does. */
	while (len > 1 && bpf_root[len - 1] == '/')
		len--;
	base = bpf_root + len;
	while (base > bpf_root && base[-1] != '/')
		base--;
	if (snprintf(buf, n, "%s/agent-%.*s.sock", run_dir,
		     (int)(bpf_root + len - base), base) >= (int)n)
		return -ENAMETOOLONG;
	return 0;
}
