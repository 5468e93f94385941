// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * An object that holds only the policy maps.  mfctl loads it to create and
 * pin the maps, with their BTF, before any program is attached, so policy can
 * be applied on a node where the agent has not started yet.
 */
#include "lib/maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
