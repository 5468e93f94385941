// SPDX-License-Identifier: Apache-2.0
/*
 * meshforge-agent: the per-node dataplane daemon.
 *
 *   meshforge-agent --node NAME [--bpf-root DIR] [--config-dir DIR]
 *       [--pod-iface IFNAME]... [--pod-iface-pattern GLOB]
 *       [--outbound-port 15001]
 *       [--tunnel-port 15008] [--admin-port 15000] [--log-level info|debug]
 *       [--workload-cgroup PATH=IDENTITY]...
 *       [--sockmap on|off|auto] [--sockmap-cgroup PATH]
 *       [--state-dir DIR] [--uplink IFNAME] [--threads N]
 *       [--drain-timeout SECONDS]
 *   meshforge-agent --check-kernel
 *
 * Before anything else, probes what it needs from the kernel (agent/kreq.h)
 * and stops, naming what is missing, on a kernel that lacks it;
 * --check-kernel does only that (exit 0: the kernel will do, 2: it will
 * not).
 * When nothing is pinned under the pin root (after a reboot) and mfctl
 * saved a policy under the state dir, restores it first.  Opens (creating
 * if needed) the pinned policy maps, loads the TC program, the XDP
 * firewall on the --uplink, opens the certificate store, then runs the
 * event loop until SIGINT or SIGTERM, and detaches the TC filters on the
 * way out.  The TC program goes on every pod interface that is up, those
 * named by --pod-iface and those matching --pod-iface-pattern, at start
 * and as they come while the loop runs (agent/podwatch.h); one that goes
 * is forgotten.  A new agent for the same pin root takes the listeners of
 * a running one over, which then drains and exits (agent/handover.h);
 * SIGUSR2 has the agent start such a new agent itself, from the same path
 * and with the same arguments, for an upgrade inside its service unit
 * (agent/upgrade.h);
 * pins made again under the agent are taken (agent/pinwatch.h), pins of
 * another layout refused.  Exit codes: 0 clean stop, 1 bad command line,
 * 2 system error (missing maps, certificates, bpffs, ports in use, pins of
 * another layout...).
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "telw.h"
#include "caps.h"
#include "frontdoor.h"
#include "sockfast.h"
#include "certdir.h"
#include "certs.h"
#include "agent.h"
#include "workers.h"
#include "kern.h"
#include "kreq.h"
#include "xdp.h"
#include "log.h"
#include "notify.h"
#include "otlp.h"
#include "rbudget.h"
#include "meshforge/abi.h"
#include "pmap.h"
#include "paths.h"
#include "policy/txn.h"
#include "spiffe.h"
#include "tls.h"
#include "tlsfile.h"
#include "upgrade.h"

#define MAIN_EXIT_USAGE	1
#define MAIN_EXIT_SYSTEM 2
#define MAIN_MAX_IFACES	256

struct main_opts {
	const char *node;
	const char *bpf_root;
	const char *config_dir;
	const char *state_dir;
	/* mfctl's run dir (its writers' lock), for the restore at start,
	 * and where the clsact qdiscs the agent makes are written down:
	 * $MF_RUN_DIR, else MF_RUN_DIR_DEFAULT, as mfctl takes it. */
	const char *run_dir;
	const char *ifaces[MAIN_MAX_IFACES];
	int n_ifaces;
	const char *iface_pattern;	/* NULL: the named ones only */
	const char *uplink;		/* NULL: no XDP firewall */
	uint16_t outbound_port;
	uint16_t tunnel_port;
	uint16_t admin_port;		/* 127.0.0.1 only; 0: no admin endpoint */
	uint32_t metrics_addr;		/* MeshMetric ports' address, network
					 * order */
	/* ProvidedTLS MeshMetric ports' certificate chain and key (PEM);
	 * NULL: none given, such ports are not served. */
	const char *metrics_tls_cert;
	const char *metrics_tls_key;
	uint32_t http_header_timeout_ms;	/* 0: the default */
	uint32_t http_idle_timeout_ms;		/* 0: the default */
	bool http_access_log;
	uint32_t retry_budget_ratio_milli;
	uint32_t retry_budget_min_per_s;
	uint32_t max_conns_per_listener;	/* 0: the default */
	uint32_t max_conns_per_source;		/* 0: the default */
	uint32_t max_handshakes;		/* 0: the default */
	uint32_t first_byte_timeout_ms;		/* 0: the default */
	uint32_t tcp_idle_timeout_ms;		/* 0: the default,
						 * UINT32_MAX: none */
	uint32_t drain_timeout_ms;		/* 0: the default */
	bool check_kernel;		/* probe the kernel, then exit */
	/* The bare-metal front door's cgroups (frontdoor.h). */
	struct frontdoor_workload workloads[FRONTDOOR_MAX_WORKLOADS];
	int n_workloads;
	enum sockfast_mode sockmap;	/* the same-node fast path */
	const char *sockmap_cgroup;	/* NULL: the cgroup2 root */
	uint32_t threads;		/* event loops; 0: one per online CPU */
};

static void main_usage(FILE *f)
{
	fprintf(f,
		"usage: meshforge-agent --node NAME [--bpf-root DIR] [--config-dir DIR]\n"
		"                       [--pod-iface IFNAME]... [--pod-iface-pattern GLOB]\n"
		"                       [--outbound-port PORT] [--tunnel-port PORT]\n"
		"                       [--admin-port PORT] [--metrics-address IPV4]\n"
		"                       [--metrics-tls-cert FILE --metrics-tls-key FILE]\n"
		"                       [--log-level info|debug] [--state-dir DIR]\n"
		"                       [--http-header-timeout MS] [--http-idle-timeout MS]\n"
		"                       [--http-access-log] [--uplink IFNAME]\n"
		"                       [--retry-budget RATIO,PER_SECOND]\n"
		"                       [--max-conns-per-listener N] [--max-conns-per-source N]\n"
		"                       [--max-handshakes N]\n"
		"                       [--first-byte-timeout MS] [--tcp-idle-timeout MS]\n"
		"                       [--workload-cgroup PATH=IDENTITY]...\n"
		"                       [--sockmap on|off|auto] [--sockmap-cgroup PATH]\n"
		"                       [--threads N] [--drain-timeout SECONDS]\n"
		"       meshforge-agent --check-kernel\n"
		"  --bpf-root    pin root of the policy maps (default $MF_BPF_ROOT or %s)\n"
		"  --config-dir  CA, trust domain and certificates (default\n"
		"                $MF_CONFIG_DIR or %s)\n"
		"  --state-dir   policy saved by mfctl, restored at start when nothing\n"
		"                is pinned (default $MF_STATE_DIR or %s), under mfctl's\n"
		"                lock in $MF_RUN_DIR (default " MF_RUN_DIR_DEFAULT ")\n"
		"  --admin-port  admin endpoint on 127.0.0.1 (/ready, /metrics,\n"
		"                /config_dump); 0 disables it (default %d)\n"
		"  --metrics-address  where the MeshMetric Prometheus backends'\n"
		"                ports listen, served by the admin endpoint\n"
		"                (default 0.0.0.0; none with --admin-port 0)\n"
		"  --metrics-tls-cert, --metrics-tls-key  the certificate chain\n"
		"                and its private key (PEM files; one file may\n"
		"                hold both) of the MeshMetric ports whose\n"
		"                tls.mode is ProvidedTLS, read again when they\n"
		"                change and on SIGHUP; without them such ports\n"
		"                are not served\n"
		"  --http-header-timeout  ms for an HTTP request head, answered\n"
		"                with 408 when it is not whole by then (default %d)\n"
		"  --http-idle-timeout    ms an HTTP connection may wait between\n"
		"                requests (default %d)\n"
		"  --http-access-log      a JSON line per HTTP request, at info level\n"
		"  --pod-iface   a pod's veth, by name: its TC programs are\n"
		"                attached once it is up, now or when it comes\n"
		"  --pod-iface-pattern  pod veths, by a glob of their names\n"
		"                ('veth*'), followed the same way (default: none)\n"
		"  --uplink      the node's uplink: the firewall of Mesh\n"
		"                spec.firewall runs there in XDP, attached while\n"
		"                the policy sets one; never a pod's\n"
		"  --retry-budget  retries over 10 s may be RATIO of the requests\n"
		"                plus PER_SECOND a second, per destination\n"
		"                service (default 0.2,10)\n"
		"  --max-conns-per-listener  connections one listener may hold of\n"
		"                the %d the agent takes (default half)\n"
		"  --max-conns-per-source  connections one peer address may hold\n"
		"                (default half the listener's)\n"
		"  --max-handshakes  TLS handshakes of clients at once (default %d)\n"
		"  --first-byte-timeout  ms a TLS client has to send its first\n"
		"                byte (default %d)\n"
		"  --tcp-idle-timeout  ms a relayed TCP connection may carry no\n"
		"                byte before it is reset, where no MeshTimeout says;\n"
		"                0: never (default %u)\n"
		"  --workload-cgroup  a cgroup v2 directory whose processes\n"
		"                are meshed: their connect() to a service VIP\n"
		"                reaches the agent, and they speak as IDENTITY\n"
		"                (a SPIFFE ID with a certificate in --config-dir)\n"
		"  --sockmap     the same-node fast path (sockops, sk_msg): auto\n"
		"                runs a self-test and goes on only if it passes,\n"
		"                on stops the start if it fails (default off)\n"
		"  --sockmap-cgroup  the cgroup v2 holding the pods and the\n"
		"                agent (default the cgroup2 root)\n"
		"  --threads     event loops, each on a thread with its own\n"
		"                listeners (SO_REUSEPORT) and connections\n"
		"                (default: one per online CPU; 1 before Linux 6.5)\n"
		"  --drain-timeout  seconds the connections of an agent whose\n"
		"                listeners a new agent took over have to end\n"
		"                (default 30); the path of the hand-over is\n"
		"                $MF_RUN_DIR/agent-<last part of --bpf-root>.sock\n"
		"  --check-kernel  probe the kernel for what the agent needs\n"
		"                (Linux " KREQ_MIN_STR " or newer), say what is missing\n"
		"                and exit: 0 when nothing is\n",
		MF_PIN_ROOT_DEFAULT, MF_CONFIG_DIR_DEFAULT, MF_STATE_DIR_DEFAULT,
		MF_PORT_ADMIN, HPROXY_HEADER_TIMEOUT_MS, HPROXY_IDLE_TIMEOUT_MS,
		CONN_DEFAULT_MAX_CONNS, CONN_DEFAULT_MAX_HANDSHAKES,
		TUNNEL_FIRST_BYTE_MS, TUNNEL_TCP_IDLE_MS);
}

/* A timeout in milliseconds: 1 ms to a day. */
static int main_ms(const char *s, uint32_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 1 || v > 86400000L)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* "RATIO,PER_SECOND": a ratio of 0 to 100 in thousandths, and a count of
 * 0 to 1000000. */
static int main_budget(const char *s, uint32_t *milli, uint32_t *per_s)
{
	char *end;
	double r;
	long v;

	errno = 0;
	r = strtod(s, &end);
	if (errno || end == s || *end != ',' || !(r >= 0 && r <= 100))
		return -EINVAL;
	s = end + 1;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > 1000000L)
		return -EINVAL;
	*milli = (uint32_t)(r * 1000 + 0.5);
	*per_s = (uint32_t)v;
	/* A budget with no room at all is a MeshRetry nobody wants. */
	return *milli || *per_s ? 0 : -EINVAL;
}

/* A count of 1 to @max. */
static int main_count(const char *s, long max, uint32_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 1 || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int main_port(const char *s, uint16_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 1 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* SIGHUP (systemctl reload): the certificates and the CA are read again
 * for new handshakes; established connections keep theirs. */
static void main_reload(void *arg)
{
	struct agent *a = arg;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_sendf("RELOADING=1\nMONOTONIC_USEC=%llu",
		     (unsigned long long)ts.tv_sec * 1000000ull +
		     (unsigned long long)ts.tv_nsec / 1000);
	agent_reload_certs(a);
	notify_send("READY=1");
}

/*
 * How many loops to run: --threads, else one per online CPU.  Several need
 * a kernel that steers a pod's connection into an SO_REUSEPORT group
 * (workers_reuseport_steering()): the default falls back to one loop on an
 * older one, an explicit count stops the agent.  Returns the count, or 0
 * after logging why not.
 */
static unsigned int main_threads(const struct main_opts *o)
{
	unsigned int n = o->threads ? o->threads : workers_default_count();

	if (n == 1 || workers_reuseport_steering())
		return n;
	if (o->threads) {
		log_error("event=startup_failed what=threads threads=%u "
			  "msg=\"this kernel cannot steer intercepted "
			  "connections to several loops (Linux 6.5): run with "
			  "--threads 1\"", n);
		return 0;
	}
	log_info("event=threads_fallback threads=1 online_cpus=%u "
		 "reason=\"kernel older than 6.5\"", n);
	return 1;
}

/* Returns 0, or an exit code after printing why. */
static int main_parse(int argc, char **argv, struct main_opts *o)
{
	static const struct option longopts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "bpf-root", required_argument, NULL, 'b' },
		{ "config-dir", required_argument, NULL, 'c' },
		{ "pod-iface", required_argument, NULL, 'i' },
		{ "pod-iface-pattern", required_argument, NULL, 'p' },
		{ "outbound-port", required_argument, NULL, 'o' },
		{ "tunnel-port", required_argument, NULL, 't' },
		{ "admin-port", required_argument, NULL, 'a' },
		{ "metrics-address", required_argument, NULL, 'm' },
		{ "metrics-tls-cert", required_argument, NULL, 'E' },
		{ "metrics-tls-key", required_argument, NULL, 'Y' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "http-header-timeout", required_argument, NULL, 'H' },
		{ "http-idle-timeout", required_argument, NULL, 'I' },
		{ "http-access-log", no_argument, NULL, 'A' },
		{ "uplink", required_argument, NULL, 'u' },
		{ "retry-budget", required_argument, NULL, 'R' },
		{ "max-conns-per-listener", required_argument, NULL, 'L' },
		{ "max-handshakes", required_argument, NULL, 'K' },
		{ "max-conns-per-source", required_argument, NULL, 'S' },
		{ "first-byte-timeout", required_argument, NULL, 'F' },
		{ "tcp-idle-timeout", required_argument, NULL, 'T' },
		{ "drain-timeout", required_argument, NULL, 'D' },
		{ "check-kernel", no_argument, NULL, 'k' },
		{ "workload-cgroup", required_argument, NULL, 'W' },
		{ "sockmap", required_argument, NULL, 'M' },
		{ "sockmap-cgroup", required_argument, NULL, 'C' },
		{ "threads", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mf_paths p;
	int opt;

	memset(o, 0, sizeof(*o));
	/* The same places mfctl finds, from the same variables. */
	mf_paths_default(&p);
	o->bpf_root = p.bpf_root;
	o->config_dir = p.config_dir;
	o->state_dir = p.state_dir;
	o->run_dir = p.run_dir;
	o->outbound_port = MF_PORT_OUTBOUND;
	o->tunnel_port = MF_PORT_TUNNEL;
	o->retry_budget_ratio_milli = RBUDGET_DEFAULT_RATIO_MILLI;
	o->retry_budget_min_per_s = RBUDGET_DEFAULT_MIN_PER_S;
	o->admin_port = MF_PORT_ADMIN;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			o->node = optarg;
			break;
		case 'b':
			o->bpf_root = optarg;
			break;
		case 'c':
			o->config_dir = optarg;
			break;
		case 's':
			o->state_dir = optarg;
			break;
		case 'i':
			if (o->n_ifaces == MAIN_MAX_IFACES) {
				fprintf(stderr, "meshforge-agent: more than %d --pod-iface\n",
					MAIN_MAX_IFACES);
				return MAIN_EXIT_USAGE;
			}
			if (!optarg[0] || strlen(optarg) >= IF_NAMESIZE) {
				fprintf(stderr, "meshforge-agent: bad interface name '%s'\n",
					optarg);
				return MAIN_EXIT_USAGE;
			}
			o->ifaces[o->n_ifaces++] = optarg;
			break;
		case 'p':
			if (o->iface_pattern) {
				fprintf(stderr, "meshforge-agent: --pod-iface-pattern given twice\n");
				return MAIN_EXIT_USAGE;
			}
			if (!optarg[0] || strlen(optarg) >= PODWATCH_PATTERN_MAX) {
				fprintf(stderr, "meshforge-agent: bad pattern '%s' "
					"(1 to %d bytes)\n", optarg,
					PODWATCH_PATTERN_MAX - 1);
				return MAIN_EXIT_USAGE;
			}
			o->iface_pattern = optarg;
			break;
		case 'o':
		case 't':
			if (main_port(optarg, opt == 'o' ? &o->outbound_port :
							   &o->tunnel_port)) {
				fprintf(stderr, "meshforge-agent: bad port '%s'\n",
					optarg);
				return MAIN_EXIT_USAGE;
			}
			break;
		case 'a':
			/* "0" turns the endpoint off. */
			if (strcmp(optarg, "0") == 0) {
				o->admin_port = 0;
			} else if (main_port(optarg, &o->admin_port)) {
				fprintf(stderr, "meshforge-agent: bad port '%s'\n",
					optarg);
				return MAIN_EXIT_USAGE;
			}
			break;
		case 'm':
			if (inet_pton(AF_INET, optarg, &o->metrics_addr) != 1) {
				fprintf(stderr, "meshforge-agent: bad address "
					"'%s'\n", optarg);
				return MAIN_EXIT_USAGE;
			}
			break;
		case 'E':
			o->metrics_tls_cert = optarg;
			break;
		case 'Y':
			o->metrics_tls_key = optarg;
			break;
		case 'l':
			if (!strcmp(optarg, "info")) {
				log_level_max = LOG_LVL_INFO;
			} else if (!strcmp(optarg, "debug")) {
				log_level_max = LOG_LVL_DEBUG;
			} else {
				fprintf(stderr, "meshforge-agent: --log-level is info or debug\n");
				return MAIN_EXIT_USAGE;
			}
			break;
		case 'H':
		case 'I':
			if (main_ms(optarg, opt == 'H' ?
				    &o->http_header_timeout_ms :
				    &o->http_idle_timeout_ms)) {
				fprintf(stderr, "meshforge-agent: bad timeout '%s' "
					"(milliseconds, 1 to 86400000)\n", optarg);
				return MAIN_EXIT_USAGE;
			}
			break;
		case 'A':
			o->http_access_log = true;
			break;
		case 'u':
			o->uplink = optarg;
			break;
		case 'R':
			if (main_budget(optarg, &o->retry_budget_ratio_milli,
					&o->retry_budget_min_per_s)) {
				fprintf(stderr, "meshforge-agent: bad retry budget "
					"'%s' (RATIO,PER_SECOND: 0 to 100, 0 to "
					"1000000, not both 0)\n", optarg);
				return MAIN_EXIT_USAGE;
			}
			break;
		case 'L':
		case 'S':
		case 'K':
			if (main_count(optarg, opt == 'K' ? 1000000 :
					       CONN_DEFAULT_MAX_CONNS,
				       opt == 'L' ? &o->max_conns_per_listener :
				       opt == 'S' ? &o->max_conns_per_source :
						    &o->max_handshakes)) {
				fprintf(stderr, "meshforge-agent: bad count '%s' "
					"for --%s\n", optarg, opt == 'L' ?
					"max-conns-per-listener" : opt == 'S' ?
					"max-conns-per-source" :
					"max-handshakes");
				return MAIN_EXIT_USAGE;
			}
			break;
		case 'F':
			if (main_ms(optarg, &o->first_byte_timeout_ms)) {
				fprintf(stderr, "meshforge-agent: bad timeout '%s' "
					"(milliseconds, 1 to 86400000)\n", optarg);
				return MAIN_EXIT_USAGE;
			}
			break;
		case 'T':
			if (!strcmp(optarg, "0")) {
				o->tcp_idle_timeout_ms = UINT32_MAX;
			} else if (main_ms(optarg, &o->tcp_idle_timeout_ms)) {
				fprintf(stderr, "meshforge-agent: bad timeout '%s' "
					"(milliseconds, 0 to 86400000)\n", optarg);
				return MAIN_EXIT_USAGE;
			}
			break;
		case 'D':
			if (main_count(optarg, 3600, &o->drain_timeout_ms)) {
				fprintf(stderr, "meshforge-agent: bad drain timeout '%s' "
					"(seconds, 1 to 3600)\n", optarg);
				return MAIN_EXIT_USAGE;
			}
			o->drain_timeout_ms *= 1000;
			break;
		case 'k':
			o->check_kernel = true;
			break;
		case 'W':
			if (o->n_workloads == FRONTDOOR_MAX_WORKLOADS) {
				fprintf(stderr, "meshforge-agent: more than %d --workload-cgroup\n",
					FRONTDOOR_MAX_WORKLOADS);
				return MAIN_EXIT_USAGE;
			}
			if (frontdoor_parse(optarg,
					    &o->workloads[o->n_workloads])) {
				fprintf(stderr, "meshforge-agent: bad --workload-cgroup '%s' "
					"(an absolute PATH=SPIFFE-ID)\n", optarg);
				return MAIN_EXIT_USAGE;
			}
			o->n_workloads++;
			break;
		case 'M':
			if (sockfast_mode_parse(optarg, &o->sockmap)) {
				fprintf(stderr, "meshforge-agent: --sockmap is on, off or auto\n");
				return MAIN_EXIT_USAGE;
			}
			break;
		case 'C':
			if (optarg[0] != '/') {
				fprintf(stderr, "meshforge-agent: --sockmap-cgroup needs an absolute path\n");
				return MAIN_EXIT_USAGE;
			}
			o->sockmap_cgroup = optarg;
			break;
		case 'j':
			if (main_count(optarg, WORKERS_MAX, &o->threads)) {
				fprintf(stderr, "meshforge-agent: bad count '%s' "
					"for --threads (1 to %d)\n", optarg,
					WORKERS_MAX);
				return MAIN_EXIT_USAGE;
			}
			break;
		case 'h':
			main_usage(stdout);
			exit(0);
		default:
			main_usage(stderr);
			return MAIN_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "meshforge-agent: unexpected argument '%s'\n",
			argv[optind]);
		return MAIN_EXIT_USAGE;
	}
	if (o->check_kernel)
		return 0;
	if (!o->node || !o->node[0] || strlen(o->node) >= MF_NAME_MAX) {
		fprintf(stderr, "meshforge-agent: --node NAME is required (at most %d bytes)\n",
			MF_NAME_MAX - 1);
		return MAIN_EXIT_USAGE;
	}
	if (!o->metrics_tls_cert != !o->metrics_tls_key) {
		fprintf(stderr, "meshforge-agent: --metrics-tls-cert and "
			"--metrics-tls-key go together\n");
		return MAIN_EXIT_USAGE;
	}
	if (o->outbound_port == o->tunnel_port) {
		fprintf(stderr, "meshforge-agent: outbound and tunnel ports must differ\n");
		return MAIN_EXIT_USAGE;
	}
	if (o->admin_port && (o->admin_port == o->outbound_port ||
			      o->admin_port == o->tunnel_port)) {
		fprintf(stderr, "meshforge-agent: the admin port must differ from the others\n");
		return MAIN_EXIT_USAGE;
	}
	if (o->uplink && strlen(o->uplink) >= IF_NAMESIZE) {
		fprintf(stderr, "meshforge-agent: bad interface name '%s'\n",
			o->uplink);
		return MAIN_EXIT_USAGE;
	}
	/* The pattern may match them: the agent then passes them by. */
	for (int i = 0; i < o->n_ifaces; i++) {
		if (!strcmp(o->ifaces[i], "lo") ||
		    (o->uplink && !strcmp(o->ifaces[i], o->uplink))) {
			fprintf(stderr, "meshforge-agent: --pod-iface %s: lo and "
				"the uplink are no pod's\n", o->ifaces[i]);
			return MAIN_EXIT_USAGE;
		}
	}
	return 0;
}

/*
 * Every proxied connection takes two fds (both ends), and a common default
 * soft limit of 1024 would cap the agent near 500 connections: raise the
 * limit to what a full connection table needs, the hard limit too when we
 * may (root).  Failure is logged, not fatal: the agent then refuses what it
 * cannot take (accept fails with EMFILE and is retried).
 */
static void main_raise_nofile(void)
{
	const rlim_t want = 2 * (rlim_t)CONN_DEFAULT_MAX_CONNS + 1024;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want) {
		struct rlimit up = { .rlim_cur = want, .rlim_max = want };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		log_warn("event=rlimit_nofile err=\"%s\"", strerror(errno));
	if (rl.rlim_cur < want)
		log_warn("event=rlimit_nofile limit=%llu want=%llu",
			 (unsigned long long)rl.rlim_cur,
			 (unsigned long long)want);
}

/*
 * Checks that this node's own certificate (its tunnel server identity) is
 * there, so a missing certificate stops the agent at start rather than
 * refusing every tunnel later.  Returns 0 or an exit code.
 */
static int main_check_node_cert(const struct main_opts *o, struct certs *certs)
{
	char td[MF_NAME_MAX], id[MF_SPIFFE_MAX];
	struct tls_ctx *ctx;
	int err;

	err = certdir_trust_domain(o->config_dir, td, sizeof(td));
	if (err) {
		log_error("event=startup_failed what=trust_domain config_dir=%s "
			  "err=\"%s\"", o->config_dir, strerror(-err));
		return MAIN_EXIT_SYSTEM;
	}
	if (certs_node_spiffe(id, sizeof(id), td, o->node)) {
		log_error("event=startup_failed what=node_identity err=too_long");
		return MAIN_EXIT_SYSTEM;
	}
	err = certs_server_ctx(certs, id, NULL, &ctx);
	if (err) {
		log_error("event=startup_failed what=node_certificate identity=%s "
			  "config_dir=%s err=\"%s\"", id, o->config_dir,
			  strerror(-err));
		return MAIN_EXIT_SYSTEM;
	}
	tls_ctx_put(ctx);	/* loaded and checked: that was the point */
	log_info("event=node_identity spiffe=%s", id);
	return 0;
}

/*
 * Pins another meshforge made under the pin root (other map sizes, other
 * names) would be reused by nothing, or refused by libbpf with a bare
 * EINVAL half way through: say which and what to do before anything is
 * loaded.  Returns 0 or an exit code.
 */
static int main_check_pins(const struct main_opts *o)
{
	char why[160];
	int err;

	err = kern_check_pins(o->bpf_root, why, sizeof(why));
	if (err == -ESTALE) {
		log_error("event=startup_failed what=pins_other_layout bpf_root=%s "
			  "problem=\"%s\" fix=\"stop the agent that made them, run "
			  "mfctl --bpf-root %s uninstall (and rm a pin of a name "
			  "it does not know), then mfctl apply again; or start "
			  "with another --bpf-root\"", o->bpf_root, why,
			  o->bpf_root);
		return MAIN_EXIT_SYSTEM;
	}
	if (err)
		log_warn("event=pins_unchecked bpf_root=%s err=\"%s\"",
			 o->bpf_root, strerror(-err));
	return 0;
}

/*
 * Pinned maps outlive the agent but not a reboot: when nothing is pinned
 * under the pin root and mfctl saved a policy under the state dir, rebuild
 * the maps from it before anything reads them, so the node enforces its
 * last policy rather than none.  No saved state: nothing to do (empty
 * maps, as before any apply).  A saved state that cannot be restored
 * stops the agent: running without the policy the operator applied would
 * be silently wrong.  Returns 0 or an exit code.
 */
static int main_restore_policy(const struct main_opts *o)
{
	const struct txn_opts to = {
		.bpf_root = o->bpf_root,
		.state_dir = o->state_dir,
		.run_dir = o->run_dir,
	};
	struct txn_restore_info info;
	struct pmap pm;
	struct txn t;
	int err;

	err = pmap_open(&pm, o->bpf_root, false);
	if (err != -ENOENT) {
		/* Pinned (or another error, which the pmap_open() that
		 * creates will report). */
		if (!err)
			pmap_close(&pm);
		return 0;
	}
	/* Under mfctl's writers' lock: an apply racing the restore waits. */
	err = txn_restore(&t, &to, false, &info);
	for (size_t i = 0; err && err != -ENOENT && i < t.d.n; i++)
		log_error("event=policy_restore_problem msg=\"%s\"",
			  t.d.msgs[i]);
	txn_close(&t);
	if (err == -ENOENT) {
		log_info("event=policy_not_restored reason=no_saved_state "
			 "state_dir=%s", o->state_dir);
		return 0;
	}
	if (err) {
		log_error("event=startup_failed what=policy_restore bpf_root=%s "
			  "state_dir=%s err=\"%s\"", o->bpf_root, o->state_dir,
			  strerror(-err));
		return MAIN_EXIT_SYSTEM;
	}
	log_info("event=policy_restored epoch=%llu objects=%zu state_dir=%s",
		 (unsigned long long)info.epoch, info.objects, o->state_dir);
	return 0;
}

/*
 * The same-node fast path as --sockmap asks: loaded, attached and
 * self-tested.  With auto, any failure leaves it off (logged); with on,
 * it stops the start.  Returns 0 (*out NULL when off) or an exit code.
 */
static int main_sockmap(const struct main_opts *o,
			const struct frontdoor *fdoor, struct sockfast **out,
			const char **selftest)
{
	/* With a front door, its connections' first hop moves too. */
	const struct sockfast_config sc = {
		.pin_root = o->bpf_root, .cgroup = o->sockmap_cgroup,
		.front_orig_fd = fdoor ? frontdoor_orig_fd(fdoor) : 0,
		.front_port = o->outbound_port,
	};
	int err;

	*out = NULL;
	err = sockfast_open(out, &sc);
	if (!err) {
		err = sockfast_selftest(*out, 256 * 1024);
		*selftest = sockfast_selftest_str(*out);
		if (err) {
			sockfast_close(*out);
			*out = NULL;
		}
	}
	log_info("event=sockmap mode=%s state=%s", sockfast_mode_str(o->sockmap),
		 *out ? "on" : "off");
	if (err && o->sockmap == SOCKFAST_ON) {
		log_error("event=startup_failed what=sockmap err=\"%s\"",
			  strerror(-err));
		return MAIN_EXIT_SYSTEM;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct agent_config cfg;
	struct main_opts o;
	struct certs *certs = NULL;
	struct kreq_report kr;
	struct kern *kern = NULL;
	struct xdp *xdp = NULL;
	struct frontdoor *fdoor = NULL;
	struct sockfast *sfast = NULL;
	const char *sockmap_selftest = "not_run";
	struct pmap pm;
	struct workers wk;
	struct telw *telw = NULL;
	struct tlsfile *metrics_tls = NULL;
	struct agent *ag;
	struct stats tot;
	unsigned int threads;
	char handover[PATH_MAX];
	struct upgrade upg = { .pidfd = -1 };
	char **args;
	sigset_t set;
	int rc, err;

	/* What an upgrade starts again (upgrade.h), before getopt_long()
	 * reorders argv. */
	args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args)
		return MAIN_EXIT_SYSTEM;
	memcpy(args, argv, (size_t)argc * sizeof(*args));
	rc = main_parse(argc, argv, &o);
	if (rc)
		goto out_args;
	/* Before anything on the node changes: an old kernel is refused
	 * with what it lacks, not half way through startup. */
	err = kreq_check(&kr);
	if (o.check_kernel) {
		rc = err ? MAIN_EXIT_SYSTEM : 0;
		goto out_args;
	}
	if (err) {
		log_error("event=startup_failed what=kernel release=%s",
			  kr.release ? kr.release : "unknown");
		rc = MAIN_EXIT_SYSTEM;
		goto out_args;
	}

	/* From here on SIGINT/SIGTERM wait for the loop's signalfd, so a stop
	 * during startup still detaches what was attached. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* Sends use MSG_NOSIGNAL; this covers anything else. */
	signal(SIGPIPE, SIG_IGN);
	main_raise_nofile();

	rc = MAIN_EXIT_SYSTEM;
	err = tls_global_init();
	if (err) {
		log_error("event=startup_failed what=tls_init err=\"%s\"",
			  strerror(-err));
		goto out_args;
	}
	/* Certificates first: checking them changes nothing on the node,
	 * while opening the maps may create and pin them. */
	err = certs_open(&certs, o.config_dir);
	if (err) {
		log_error("event=startup_failed what=certs config_dir=%s "
			  "err=\"%s\"", o.config_dir, strerror(-err));
		goto out_tls;
	}
	if (main_check_node_cert(&o, certs))
		goto out_certs;
	/* A certificate given and not loaded is a mistake to say now, not
	 * a port that stays silent later. */
	if (o.metrics_tls_cert) {
		err = tlsfile_open(&metrics_tls, o.metrics_tls_cert,
				   o.metrics_tls_key);
		if (err) {
			log_error("event=startup_failed what=metrics_tls "
				  "cert=%s key=%s err=\"%s\"",
				  o.metrics_tls_cert, o.metrics_tls_key,
				  strerror(-err));
			goto out_certs;
		}
	}
	if (main_check_pins(&o))
		goto out_certs;
	threads = main_threads(&o);
	if (!threads)
		goto out_certs;
	if (main_restore_policy(&o))
		goto out_certs;
	err = pmap_open(&pm, o.bpf_root, true);
	if (err) {
		log_error("event=startup_failed what=maps bpf_root=%s err=\"%s\"",
			  o.bpf_root, strerror(-err));
		goto out_certs;
	}
	err = kern_open(&kern, o.bpf_root, o.run_dir, o.outbound_port);
	if (err) {
		log_error("event=startup_failed what=bpf_load bpf_root=%s "
			  "err=\"%s\"", o.bpf_root, strerror(-err));
		goto out_pmap;
	}
	if (o.uplink) {
		err = xdp_open(&xdp, o.bpf_root, o.uplink);
		if (err)
			goto out_kern;	/* logged */
	}
	if (o.n_workloads) {
		err = frontdoor_open(&fdoor, o.bpf_root, o.outbound_port,
				     o.workloads, (size_t)o.n_workloads);
		if (err)
			goto out_kern;	/* logged */
	}
	if (o.sockmap != SOCKFAST_OFF &&
	    main_sockmap(&o, fdoor, &sfast, &sockmap_selftest))
		goto out_kern;	/* logged */

	memset(&cfg, 0, sizeof(cfg));
	cfg.node = o.node;
	cfg.pmap = &pm;
	cfg.certs = certs;
	cfg.listen_addr = htonl(INADDR_ANY);
	cfg.outbound_port = o.outbound_port;
	cfg.tunnel_port = o.tunnel_port;
	cfg.admin_on = o.admin_port != 0;
	cfg.admin_port = o.admin_port;
	cfg.metrics_addr = o.metrics_addr;
	cfg.metrics_tls = metrics_tls;
	cfg.http_header_timeout_ms = o.http_header_timeout_ms;
	cfg.http_idle_timeout_ms = o.http_idle_timeout_ms;
	cfg.http_access_log = o.http_access_log;
	cfg.retry_budget_ratio_milli = o.retry_budget_ratio_milli;
	cfg.retry_budget_min_per_s = o.retry_budget_min_per_s;
	cfg.max_conns_per_listener = o.max_conns_per_listener;
	cfg.max_conns_per_source = o.max_conns_per_source;
	cfg.max_handshakes = o.max_handshakes;
	cfg.first_byte_timeout_ms = o.first_byte_timeout_ms;
	cfg.tcp_idle_timeout_ms = o.tcp_idle_timeout_ms;
	cfg.gateway = true;
	cfg.config_dir = o.config_dir;
	cfg.xdp = xdp;
	cfg.frontdoor = fdoor;
	cfg.sockfast = sfast;
	/* libcurl once, here, before any thread that uses it starts (the
	 * writers below, the admin endpoint's application scraper): its
	 * global state is set up on this thread alone. */
	/* The OpenTelemetry exporter variables a unit or DaemonSet sets,
	 * once: MeshOpenTelemetryBackends' `env` reads them (otlp.h). */
	otlp_env_read(&otlp_agent_env, getenv);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		log_warn("event=curl_init_failed effect=\"no collector or "
			 "application is reached\"");
	/* The telemetry writer (MeshAccessLog, MeshTrace): without it the
	 * agent serves, and the lines and spans are counted dropped. */
	err = telw_start(&telw);
	if (err)
		log_warn("event=telemetry_writer_unavailable err=\"%s\"",
			 strerror(-err));
	cfg.telw = telw;
	cfg.sockmap_mode = sockfast_mode_str(o.sockmap);
	cfg.sockmap_selftest = sockmap_selftest;
	cfg.handle_signals = true;
	cfg.watch_certs = true;
	cfg.kern = kern;
	cfg.pod_pattern = o.iface_pattern;
	cfg.pod_ifaces = o.ifaces;
	cfg.n_pod_ifaces = (unsigned int)o.n_ifaces;
	cfg.uplink = o.uplink;
	/* One agent per pin root: the hand-over's path says which.  Every
	 * loop's listeners go through it, whatever the loops on either
	 * side (workers.h). */
	if (mf_handover_path(handover, sizeof(handover), o.run_dir,
			     o.bpf_root))
		log_warn("event=handover_unavailable err=\"path too long\"");
	else
		cfg.handover_path = handover;
	cfg.drain_timeout_ms = o.drain_timeout_ms;
	/* Attaches the pod interfaces there are (podwatch.h): one named
	 * that cannot be attached stops the agent here. */
	err = workers_init(&wk, &cfg, threads, true);
	if (err) {
		log_error("event=startup_failed what=loop err=\"%s\"",
			  strerror(-err));
		goto out_kern;
	}
	/* Programs attached, listeners bound: what is left to do needs
	 * little (caps.h). */
	err = caps_keep_agent();
	if (err)
		log_warn("event=caps_drop_failed err=\"%s\"", strerror(-err));
	ag = workers_agent0(&wk);
	loop_on_reload(&ag->loop, main_reload, ag);
	/* SIGUSR2: a successor started in place; without it the agent
	 * still runs (and can be taken over from outside). */
	err = upgrade_init(&upg, &ag->loop, args, &ag->hsrv);
	if (err) {
		log_warn("event=upgrade_unavailable err=\"%s\"", strerror(-err));
	} else {
		handover_on_successor(&ag->hsrv, upgrade_successor, &upg);
	}
	log_info("event=ready node=%s outbound_port=%u tunnel_port=%u "
		 "admin_port=%u pod_ifaces=%u threads=%u bpf_root=%s "
		 "config_dir=%s", o.node, o.outbound_port, o.tunnel_port,
		 o.admin_port, podwatch_attached(&ag->podwatch), threads,
		 o.bpf_root, o.config_dir);
	notify_sendf("READY=1\nSTATUS=serving node %s, %u pod interfaces",
		     o.node, podwatch_attached(&ag->podwatch));
	err = workers_run(&wk);
	/* A child that took over is the service's main process now: what
	 * this one says would be refused (NotifyAccess=main). */
	if (!upgrade_handed_over(&upg))
		notify_send("STOPPING=1");
	rc = err ? MAIN_EXIT_SYSTEM : 0;
	workers_totals(&wk, &tot);
	log_info("event=stopping accepted=%llu relayed=%llu refused=%llu "
		 "aborted=%llu finished=%llu",
		 (unsigned long long)tot.accepted,
		 (unsigned long long)tot.relayed,
		 (unsigned long long)tot.refused,
		 (unsigned long long)tot.aborted,
		 (unsigned long long)tot.finished);
	workers_fini(&wk);
	upgrade_fini(&upg);
out_kern:
	/* After the loops: no line is pushed any more; what is queued is
	 * written. */
	telw_stop(telw);
	telw = NULL;
	sockfast_close(sfast);
	frontdoor_close(fdoor);
	xdp_close(xdp);
	kern_close(kern);
out_pmap:
	pmap_close(&pm);
out_certs:
	tlsfile_close(metrics_tls);
	certs_close(certs);
out_tls:
	tls_global_fini();
	if (rc == 0)
		log_info("event=stopped pid=%d", (int)getpid());
out_args:
	free(args);
	return rc;
}
