// SPDX-License-Identifier: Apache-2.0
/*
 * MeshOpenTelemetryBackend: where OpenTelemetry data goes, named by the
 * backendRef of MeshTrace, MeshMetric and MeshAccessLog.  An empty spec is
 * valid: the collector's defaults (gRPC, port 4317).
 *
 *   spec:
 *     endpoint: {address: otel-collector.observability, port: 4318,
 *                path: /otlp}
 *     protocol: http                    # grpc (default) or http
 *     env: {mode: Optional, precedence: EnvFirst,
 *           allowSignalOverrides: true}
 *
 * env says whether the agent's OTEL_EXPORTER_OTLP_* variables name the
 * collector instead (agent/otlp.h); left out, it is Kuma's defaults, the
 * ones shown.
 */
#include <arpa/inet.h>
#include <string.h>

#include "kinds.h"

enum { EP_ADDRESS, EP_PORT, EP_PATH };
enum { OB_ENDPOINT, OB_PROTOCOL, OB_ENV };

static const char *const otel_protocols[] = { "grpc", "http", NULL };
static const char *const otel_modes[] = { "Disabled", "Optional",
					  "Required", NULL };
static const char *const otel_precedences[] = { "ExplicitFirst", "EnvFirst",
						NULL };

static const char *otel_check_address(const char *s)
{
	struct in6_addr a;

	if (inet_pton(AF_INET, s, &a) == 1 || inet_pton(AF_INET6, s, &a) == 1 ||
	    kind_dns_name_ok(s))
		return NULL;
	return "must be an IP address or a host name";
}

/* An HTTP path: the collector's, so without a query or a fragment. */
static const char *otel_check_path(const char *s)
{
	if (s[0] != '/')
		return "must start with /";
	return strpbrk(s, "?#") ? "must not have a query or a fragment" : NULL;
}

static const struct sch_field otel_endpoint_fields[] = {
	[EP_ADDRESS] = SCH_F_STRING("address", mf_otel_endpoint, address,
				    .check = otel_check_address),
	[EP_PORT] = SCH_F_PORT("port", mf_otel_endpoint, port),
	[EP_PATH] = SCH_F_STRING("path", mf_otel_endpoint, path,
				 .check = otel_check_path),
};
SCH_OBJECT_DEF(otel_endpoint, "MeshOpenTelemetryBackend endpoint");

static const struct sch_field otel_env_fields[] = {
	SCH_F_ENUM("mode", mf_otel_env, mode, otel_modes),
	SCH_F_ENUM("precedence", mf_otel_env, precedence, otel_precedences),
	[MF_OTEL_ENV_F_OVERRIDES] = SCH_F_BOOL("allowSignalOverrides",
					       mf_otel_env,
					       allow_signal_overrides),
};
SCH_OBJECT_DEF(otel_env, "MeshOpenTelemetryBackend env");

/* gRPC has no path: a path needs protocol http. */
static const char *otel_backend_check(const void *obj, unsigned *field)
{
	const struct mf_otel_backend *b = obj;

	*field = OB_ENDPOINT;
	return sch_has(b, OB_ENDPOINT) && sch_has(&b->endpoint, EP_PATH) &&
	       b->protocol != MF_OTEL_HTTP ?
	       "path must not be set when protocol is grpc (the default)" :
	       NULL;
}

static const struct sch_field otel_backend_fields[] = {
	[OB_ENDPOINT] = SCH_F_OBJECT("endpoint", mf_otel_backend, endpoint,
				     &otel_endpoint),
	[OB_PROTOCOL] = SCH_F_ENUM("protocol", mf_otel_backend, protocol,
				   otel_protocols),
	[OB_ENV] = SCH_F_OBJECT("env", mf_otel_backend, env, &otel_env),
};
SCH_OBJECT_DEF(otel_backend, "MeshOpenTelemetryBackend spec",
	       .check_field = otel_backend_check);

const struct kind_desc kind_mesh_otel_backend = {
	.name = "MeshOpenTelemetryBackend",
	.plural = "meshopentelemetrybackends",
	.form = KIND_FORM_SPEC,
	.val_size = sizeof(struct mf_otel_backend), .conf = &otel_backend,
};
