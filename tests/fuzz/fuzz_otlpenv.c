// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the OTEL_EXPORTER_OTLP_* variables as the agent reads them
 * (agent/otlp.h).  The input's first byte picks the backend's `env` (mode,
 * precedence, allowSignalOverrides) and whether it has an address; its
 * lines are the values of the shared and the logs signal's variables, in
 * turn.  On any input otlp_env_url() keeps its contract (0, -ENOENT,
 * -ENODATA); a URL it gives is http or https, its fragment one that names
 * the layers; and the options the collector gets from it hold header
 * lines a request can carry: "name: value" or "name;", the name an HTTP
 * token, no control byte but a tab in the value; a client certificate
 * only with its key.  A client made with them (no request sent) is freed
 * whole.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/otlp.h"
#include "meshforge/abi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fz_names[] = {
	"OTEL_EXPORTER_OTLP_ENDPOINT",
	"OTEL_EXPORTER_OTLP_PROTOCOL",
	"OTEL_EXPORTER_OTLP_HEADERS",
	"OTEL_EXPORTER_OTLP_TIMEOUT",
	"OTEL_EXPORTER_OTLP_COMPRESSION",
	"OTEL_EXPORTER_OTLP_INSECURE",
	"OTEL_EXPORTER_OTLP_CERTIFICATE",
	"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
	"OTEL_EXPORTER_OTLP_CLIENT_KEY",
	"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
	"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
	"OTEL_EXPORTER_OTLP_LOGS_HEADERS",
	"OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
	"OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
	"OTEL_EXPORTER_OTLP_LOGS_INSECURE",
	"OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE",
	"OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY",
};

#define FZ_VARS	(sizeof(fz_names) / sizeof(fz_names[0]))

static char *fz_values[FZ_VARS];

static char *fz_get(const char *name)
{
	for (size_t i = 0; i < FZ_VARS; i++)
		if (!strcmp(fz_names[i], name))
			return fz_values[i];
	return NULL;
}

static bool fz_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Aborts unless @h is header lines a request can carry. */
static void fz_check_headers(const char *h)
{
	while (*h) {
		const char *nl = strchr(h, '\n'), *p = h;

		if (!nl)
			abort();	/* every line ends */
		while (p < nl && fz_tchar((unsigned char)*p))
			p++;
		if (p == h || (*p != ':' && *p != ';'))
			abort();
		if (*p == ';' && p + 1 != nl)
			abort();
		if (*p == ':' && (p[1] != ' ' || p + 2 == nl))
			abort();	/* an empty value is "name;" */
		for (p++; p < nl; p++)
			if (((unsigned char)*p < 0x20 && *p != '\t') ||
			    *p == 0x7f)
				abort();
		h = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t modes[] = { 0, MF_OTEL_ENV_DISABLED,
					 MF_OTEL_ENV_OPTIONAL,
					 MF_OTEL_ENV_REQUIRED };
	struct mf_otel_backend ob = { 0 };
	struct otlp_env *e = malloc(sizeof(*e));
	struct otlp_export *x = malloc(sizeof(*x));
	const struct collector_opts *o;
	enum collector_proto proto;
	struct collector *c;
	char *text = malloc(size + 1), *line, *save = NULL;
	char url[1024];
	size_t i = 0;
	int err;

	if (!e || !x || !text || !size)
		goto out;
	ob.env.mode = modes[data[0] & 3];
	ob.env.precedence = (data[0] >> 2) & 1 ? MF_OTEL_ENV_EXPLICIT_FIRST :
						 0;
	if ((data[0] >> 3) & 1) {
		ob.env.present |= 1u << MF_OTEL_ENV_F_OVERRIDES;
		ob.env.allow_signal_overrides = (data[0] >> 4) & 1;
	}
	ob.protocol = (data[0] >> 5) & 1 ? MF_OTEL_HTTP : 0;
	if ((data[0] >> 6) & 1)
		strcpy(ob.endpoint.address, "10.0.0.1");
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	memset(fz_values, 0, sizeof(fz_values));
	for (line = strtok_r(text, "\n", &save); line && i < FZ_VARS;
	     line = strtok_r(NULL, "\n", &save))
		fz_values[i++] = line;
	otlp_env_read(e, fz_get);
	err = otlp_env_url(&ob, e, &otlp_logs_signal, url, sizeof(url),
			   &proto);
	if (err && err != -ENOENT && err != -ENODATA)
		abort();
	if (err)
		goto out;
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		abort();
	if (strchr(url, '#') && strcmp(strchr(url, '#'), "#env=shared") &&
	    strcmp(strchr(url, '#'), "#env=shared,logs"))
		abort();
	o = otlp_env_opts(e, url, &otlp_logs_signal, x);
	fz_check_headers(o->headers);
	if (!o->cert_file != !o->key_file)
		abort();
	if (collector_new(&c, proto, url, o))
		abort();
	collector_free(c);
out:
	free(text);
	free(x);
	free(e);
	return 0;
}
