// SPDX-License-Identifier: Apache-2.0
#include <string.h>

#include "kinds.h"

const struct kind_desc *const kinds_all[] = {
	&kind_mesh_timeout,
	&kind_mesh_retry,
	&kind_mesh_circuit_breaker,
	&kind_mesh_health_check,
	&kind_mesh_lb_strategy,
	&kind_mesh_fault_injection,
	&kind_mesh_access_log,
	&kind_mesh_trace,
	&kind_mesh_metric,
	&kind_mesh_rate_limit,
	&kind_mesh_http_route,
	&kind_mesh_tcp_route,
	&kind_traffic_route,
	&kind_rate_limit,
	&kind_mesh_gateway,
	&kind_mesh_gateway_route,
};

const size_t kinds_count = sizeof(kinds_all) / sizeof(kinds_all[0]);

const struct kind_desc *kinds_find(const char *name)
{
	for (size_t i = 0; i < kinds_count; i++)
		if (!strcmp(kinds_all[i]->name, name))
			return kinds_all[i];
	return NULL;
}
