/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The version both binaries report (mfctl status, the agent's metrics). */
#ifndef MESHFORGE_VERSION_H
#define MESHFORGE_VERSION_H

#define MF_VERSION "0.2.0"

#endif /* MESHFORGE_VERSION_H */
