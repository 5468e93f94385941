// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>

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
