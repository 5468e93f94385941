// SPDX-License-Identifier: Apache-2.0
/* Every mfctl command: name, usage, options with their help, handler. */
#include "ctl.h"

#define CTL_FILES_HELP                                                         \
	"a YAML file, a directory (its *.yaml and *.yml\n"                     \
	"files, in name order) or - for standard input"

/* Whose validation the input gets (lib/policy/kinds.h, enum
 * kuma_version). */
#define CTL_KUMA_HELP                                                          \
	"validate as that Kuma version does: 2.14 (the\n"                    \
	"default) takes 2.14's shapes and 3.0's; 3.0\n"                      \
	"refuses what Kuma 3.0 removed (docs/policy.md)"
#define CTL_VALIDATE_HELP                                                      \
	"what a field the kind does not have is: strict\n"                   \
	"(the default) refuses it; warn drops it and says\n"                 \
	"where; ignore drops it (Kuma's universal apply)"
#define CTL_WAIT_HELP                                                          \
	"then wait (10 s at most) until the agent serves\n"                   \
	"the new policy; exit 2 if it does not"
#define CTL_ADMIN_HELP                                                         \
	"the agent's admin endpoint (default\n127.0.0.1:15000)"

const struct ctl_cmd ctl_cmds[] = {
	{
		.name = "ca init",
		.synopsis = "mfctl [--config-dir DIR] ca init --trust-domain TD "
			    "[--force]\n"
			    "                                [--crl-uri URL]",
		.about = "Creates the mesh root CA (ECDSA P-256, valid 10 "
			 "years) in the config\ndirectory: ca.crt, ca.key "
			 "(0600) and trust-domain.\nWith --crl-uri, crl-uri "
			 "too.",
		.opts = {
			{ CTL_OPT_TRUST_DOMAIN,
			  "the SPIFFE trust domain, e.g. mesh.local" },
			{ CTL_OPT_CRL_URI,
			  "where the CA's revocation list is published\n"
			  "(http://...), named in every certificate\n"
			  "`cert issue` makes (cRLDistributionPoints);\n"
			  "an agent serves it at /ca.crl" },
			{ CTL_OPT_FORCE,
			  "replace an existing CA (certificates it issued\n"
			  "stop verifying)" },
		},
		.run = ctl_ca_init,
	},
	{
		.name = "cert issue",
		.synopsis = "mfctl [--config-dir DIR] cert issue --identity "
			    "spiffe://TD/PATH\n"
			    "                                [--out DIR] "
			    "[--days N]\n"
			    "                                [--ip ADDR]... "
			    "[--dns NAME]...\n"
			    "       mfctl [--config-dir DIR] [--bpf-root DIR] "
			    "cert issue --workload NAME\n"
			    "                                [--out DIR] "
			    "[--days N]\n"
			    "                                [--ip ADDR]... "
			    "[--dns NAME]...",
		.about = "Issues a certificate for a SPIFFE identity (its only "
			 "URI SAN), signed\nby the CA in the config directory.  "
			 "Writes OUT/certs/<stem>.crt and\n<stem>.key (0600), "
			 "stem = the ID without spiffe:// and '/' -> '+'.\nWhen "
			 "OUT is not the config directory, ca.crt and "
			 "trust-domain are\ncopied there too, so OUT is a "
			 "complete agent config directory.\n--workload: "
			 "the identity of the applied Workload NAME, its\n"
			 "spec.identity or what the MeshIdentity selecting "
			 "it renders; that\nMeshIdentity's provider must be "
			 "Bundled (the mesh CA), and its\n"
			 "certificateParameters.expiry is the validity "
			 "unless --days says.\nNAME may be a Dataplane "
			 "labelled meshforge.io/node too: an endpoint,\n"
			 "or a builtin gateway instance, whose identity "
			 "without a MeshIdentity\nis spiffe://TD/<its "
			 "kuma.io/service>.\n--ip and --dns add iPAddress and "
			 "dNSName SANs beside the URI, for\nclients that "
			 "check the address they dial (agents authorize by\n"
			 "the SPIFFE ID alone).  The CA's crl-uri, when set, "
			 "is named in\ncRLDistributionPoints.",
		.opts = {
			{ CTL_OPT_IDENTITY,
			  "spiffe://<trust-domain>/ns/<ns>/sa/<sa>, in the\n"
			  "CA's trust domain" },
			{ CTL_OPT_WORKLOAD,
			  "an applied Workload or Dataplane, instead of\n"
			  "--identity" },
			{ CTL_OPT_OUT,
			  "where to write (default: the config directory)" },
			{ CTL_OPT_DAYS, "validity, 1..3650 days (default 365)" },
			{ CTL_OPT_IP,
			  "an IPv4 or IPv6 address SAN (repeatable)" },
			{ CTL_OPT_DNS,
			  "a lower-case DNS name SAN (repeatable)" },
		},
		.run = ctl_cert_issue,
	},
	{
		.name = "cert verify",
		.synopsis = "mfctl cert verify [--role client|server] FILE",
		.about = "Holds the certificates of PEM file FILE (the leaf "
			 "first, then the\nsigning certificates above it, "
			 "in order, the root optional) to the\nX.509-SVID "
			 "rules the agents apply to every peer "
			 "(docs/agent.md,\n\"Peer certificates\"), and says "
			 "the first rule one breaks.  For a CA\nof your own: "
			 "what it issues must pass.  Signatures are not "
			 "checked.",
		.opts = {
			{ CTL_OPT_ROLE,
			  "the leaf's extendedKeyUsage is checked for this\n"
			  "role only (default: both, as the agents use\n"
			  "certificates)" },
		},
		.min_words = 1,
		.max_words = 1,
		.footer = "Exit codes: 0 the certificates follow the rules, "
			  "1 one breaks a rule\nor FILE holds no PEM "
			  "certificate, 2 FILE cannot be read.",
		.run = ctl_cert_verify,
	},
	{
		.name = "ca rotate",
		.synopsis = "mfctl [--config-dir DIR] ca rotate",
		.about = "Replaces the mesh root CA with a new one (same trust "
			 "domain), keeping\nthe one it replaces trusted in "
			 "ca-previous.crt: agents given both\n(`ca export`, "
			 "`cert issue --out`) verify leaves of either while "
			 "they\nare re-issued.  `ca prune` ends the overlap.",
		.run = ctl_ca_rotate,
	},
	{
		.name = "ca export",
		.synopsis = "mfctl [--config-dir DIR] ca export --out DIR",
		.about = "Copies what an agent trusts (ca.crt, trust-domain, "
			 "ca-previous.crt)\nto an agent's config directory, "
			 "which reads it again within a second.",
		.opts = {
			{ CTL_OPT_OUT, "the agent's config directory" },
		},
		.run = ctl_ca_export,
	},
	{
		.name = "ca prune",
		.synopsis = "mfctl [--config-dir DIR] ca prune",
		.about = "Ends a rotation's overlap: only the current CA stays "
			 "trusted\n(ca-previous.crt removed; `ca export` takes "
			 "it to the agents).",
		.run = ctl_ca_prune,
	},
	{
		.name = "ca revoke",
		.synopsis = "mfctl [--config-dir DIR] ca revoke "
			    "[--cert FILE | --serial HEX | --identity ID]\n"
			    "                                "
			    "[--reason REASON] [--days N]",
		.about = "Revokes certificates of the mesh CA: adds them to its "
			 "revocation list\n(ca.crl, signed by the CA) and signs "
			 "the list again, valid --days.\nWithout a certificate "
			 "named, only signs it again (before it ends).\n"
			 "`ca export` (or `cert issue --out`) takes ca.crl to "
			 "the agents,\nwhich refuse those certificates within "
			 "a second.",
		.opts = {
			{ CTL_OPT_CERT, "a certificate file (PEM) the CA issued" },
			{ CTL_OPT_SERIAL, "a serial number in hex" },
			{ CTL_OPT_IDENTITY,
			  "every unexpired certificate issued for this\n"
			  "SPIFFE ID (the CA's record, <config-dir>/issued)" },
			{ CTL_OPT_REASON,
			  "keyCompromise, affiliationChanged, superseded,\n"
			  "cessationOfOperation, privilegeWithdrawn or\n"
			  "unspecified (default)" },
			{ CTL_OPT_DAYS,
			  "how long the list is current, 1..3650 days\n"
			  "(default 30)" },
		},
		.footer = "Exit codes: 0 ok, 1 invalid input (no such "
			  "certificate, not this CA's), 2\nsystem error "
			  "(ca.crl unchanged).",
		.run = ctl_ca_revoke,
	},
	{
		.name = "ca set",
		.synopsis = "mfctl [--config-dir DIR] ca set --crl-uri URL",
		.about = "Changes where the CA's revocation list is "
			 "published.  The URI is\nnamed in the certificates "
			 "issued from now on (\"\" names none);\n"
			 "certificates already issued keep theirs.",
		.opts = {
			{ CTL_OPT_CRL_URI,
			  "http://HOST[:PORT]/PATH, or \"\" for none" },
		},
		.run = ctl_ca_set,
	},
	{
		.name = "apply",
		.synopsis = "mfctl [--bpf-root DIR] [--run-dir DIR] apply "
			    "-f FILE|DIR|- [-f ...]\n"
			    "                                               "
			    "[--dry-run] [--kuma 2.14|3.0]\n"
			    "                                               "
			    "[--validate strict|warn|ignore] [--wait ...]",
		.about = "Applies policy objects (YAML, several documents per "
			 "file) to the\nnode-local policy map: each object "
			 "replaces the applied object of the\nsame kind and "
			 "name, or is added.  Everything is validated first;\n"
			 "nothing is written when anything is wrong.  The new "
			 "policy takes\neffect at once, whole: readers see the "
			 "old one or the new one;\nthe agent serves it "
			 "within milliseconds (--wait: once it does).\n"
			 "Concurrent applies, deletes "
			 "and restores wait for each other\n(<run-dir>/"
			 "mfctl.lock).  After the write, the applied state "
			 "(what\n`get` prints) is saved to <state-dir>/"
			 "policy.yaml for `mfctl restore`.",
		.opts = {
			{ CTL_OPT_FILE, CTL_FILES_HELP },
			{ CTL_OPT_DRY_RUN,
			  "validate and compile against the applied state,\n"
			  "report what would change, write nothing" },
			{ CTL_OPT_KUMA, CTL_KUMA_HELP },
			{ CTL_OPT_VALIDATE, CTL_VALIDATE_HELP },
			{ CTL_OPT_WAIT, CTL_WAIT_HELP },
			{ CTL_OPT_ADMIN, CTL_ADMIN_HELP },
		},
		.footer = "Kinds (apiVersion meshforge.io/v1alpha1 or "
			  "kuma.io/v1alpha1): Mesh,\nNode, Service, Workload, "
			  "MeshTrafficPermission, and Kuma's policy\nkinds from "
			  "MeshTimeout to MeshGatewayRoute (docs/policy.md).\n"
			  "\nExit codes: 0 ok, 1 invalid input, 2 system error "
			  "(the policy in\nforce unchanged, but also when the "
			  "maps were written and the state\ncould not be saved; "
			  "the maps are not rolled back then).",
		.run = ctl_apply,
	},
	{
		.name = "get",
		.synopsis = "mfctl [--bpf-root DIR] get [KIND [NAME]] "
			    "[-o yaml|json|table]",
		.about = "Prints the applied policy: kinds in the order Mesh, "
			 "Node, Service,\nWorkload, MeshTrafficPermission, then "
			 "the policy kinds (MeshTimeout\n... MeshGatewayRoute), "
			 "names sorted.  KIND (case-insensitive, plural\n"
			 "accepted, \"svc\" for Service, \"mtp\" for "
			 "MeshTrafficPermission)\nprints one kind only; NAME "
			 "one object of it (exit 1 when there is\nnone).",
		.opts = {
			{ CTL_OPT_OUTPUT,
			  "yaml (default): documents in the format apply\n"
			  "takes; json: one JSON array of objects, the\n"
			  "fields of the YAML; table: aligned columns, one\n"
			  "table per kind" },
		},
		.max_words = 2,
		.footer = "Exit codes: 0 ok, 1 invalid input or no such "
			  "object, 2 system error.",
		.run = ctl_get,
	},
	{
		.name = "delete",
		.synopsis = "mfctl [--bpf-root DIR] [--run-dir DIR] delete "
			    "-f FILE|DIR|- [-f ...]\n"
			    "                                     "
			    "[--ignore-not-found] [--dry-run] [--wait ...]\n"
			    "       mfctl [--bpf-root DIR] delete KIND NAME "
			    "[--ignore-not-found]\n"
			    "                                     [--dry-run] "
			    "[--wait [--admin ADDR:PORT]]",
		.about = "Deletes policy objects, by kind and name, from the "
			 "node-local policy\nmap: those the documents of the "
			 "files name, or KIND NAME.  What is\nleft must still "
			 "be valid: deleting a Service that a Workload or a\n"
			 "MeshTrafficPermission names is refused, and says "
			 "which.  Nothing is\nwritten when anything is wrong.  "
			 "After the write, the applied state\nis saved to "
			 "<state-dir>/policy.yaml for `mfctl restore`.",
		.opts = {
			{ CTL_OPT_FILE, CTL_FILES_HELP },
			{ CTL_OPT_IGNORE,
			  "an object that is not applied is not an error" },
			{ CTL_OPT_DRY_RUN, "check and report, write nothing" },
			{ CTL_OPT_KUMA, CTL_KUMA_HELP },
			{ CTL_OPT_VALIDATE, CTL_VALIDATE_HELP },
			{ CTL_OPT_WAIT, CTL_WAIT_HELP },
			{ CTL_OPT_ADMIN, CTL_ADMIN_HELP },
		},
		.max_words = 2,
		.footer = "Exit codes: 0 ok, 1 invalid input (an object not "
			  "found included),\n2 system error (also when the maps "
			  "were written but the state could\nnot be saved; the "
			  "maps are not rolled back then).",
		.run = ctl_delete,
	},
	{
		.name = "diff",
		.synopsis = "mfctl [--bpf-root DIR] diff -f FILE|DIR|- "
			    "[-f ...]",
		.about = "Shows what `apply -f` of the same input would "
			 "change, writing\nnothing: one line per changed "
			 "object, \"+ Kind/name\" (created) or\n\"~ Kind/name\" "
			 "(changed, followed by a line diff of its YAML: \"-\"\n"
			 "the applied line, \"+\" the new one).  Apply is an "
			 "upsert: objects the\ninput does not name stay, so "
			 "nothing is ever shown as removed.",
		.opts = { { CTL_OPT_FILE, CTL_FILES_HELP },
			  { CTL_OPT_KUMA, CTL_KUMA_HELP },
			  { CTL_OPT_VALIDATE, CTL_VALIDATE_HELP } },
		.footer = "Exit codes: 0 no change, 1 invalid input (apply "
			  "would refuse it),\n2 system error, 3 changes exist.  "
			  "(kubectl diff uses 1 for changes;\nhere 1 already "
			  "means invalid input, so changes are 3.)",
		.run = ctl_diff,
	},
	{
		.name = "inspect",
		.synopsis = "mfctl [--bpf-root DIR] inspect [--summary]",
		.about = "Prints every map under the pin root: name, type, "
			 "entries used /\ncapacity (max_entries) and percent, "
			 "then the entries of the policy\nin force decoded.  "
			 "Every policy map holds two halves, the one in\nforce "
			 "(mf_config's active half) and the one an apply "
			 "stages; the\ncapacity is for both.  mf_stats is shown "
			 "summed over all CPUs.",
		.opts = { { CTL_OPT_SUMMARY,
			    "the header line of each map only" } },
		.footer = "Exit codes: 0 ok, 1 invalid input, 2 system error "
			  "(no maps pinned\nthere included).",
		.run = ctl_inspect,
	},
	{
		.name = "status",
		.synopsis = "mfctl [--bpf-root DIR] status [--admin "
			    "ADDR:PORT]",
		.about = "Prints whether a meshforge-agent process runs on this "
			 "machine (by its\nexecutable's name), the epoch and "
			 "version the agent serves (asked at\nits admin "
			 "endpoint, --admin, default 127.0.0.1:15000), the "
			 "policy\nepoch in force in the kernel maps, the mesh "
			 "and its trust domain, how\nmany objects of each kind "
			 "are applied, the pin root, and mfctl's\nversion.",
		.opts = { { CTL_OPT_ADMIN, CTL_ADMIN_HELP } },
		.footer = "Exit codes: 0 ok (also when no agent runs or "
			  "nothing is applied),\n1 invalid input, 2 system "
			  "error.",
		.run = ctl_status,
	},
	{
		.name = "effective",
		.synopsis = "mfctl [--bpf-root DIR] effective WORKLOAD "
			    "[--from SERVICE]",
		.about = "Prints what the applied policies add up to for "
			 "WORKLOAD: for each\npolicy kind, which policies "
			 "select it (Kuma's rules, docs/policy.md)\nand their "
			 "merged conf, per destination Service for `to` "
			 "entries, for\n`from` entries (only Mesh-wide ones "
			 "unless --from names the source\nService), and for "
			 "`default`.  Policies are listed in merge order: the\n"
			 "last one won every field it set.  Routes list their "
			 "rules; legacy\nkinds (TrafficRoute, RateLimit) the "
			 "single best match.  For a builtin\ngateway instance "
			 "(a Dataplane with a BUILTIN gateway), its MeshGateway\n"
			 "and the routes each of its listeners takes "
			 "(docs/http.md).",
		.opts = { { CTL_OPT_FROM,
			    "the source Service of `from` entries" } },
		.min_words = 1,
		.max_words = 1,
		.footer = "Exit codes: 0 ok, 1 invalid input or no such "
			  "workload, 2 system error.",
		.run = ctl_effective,
	},
	{
		.name = "restore",
		.synopsis = "mfctl [--bpf-root DIR] [--state-dir DIR] "
			    "[--run-dir DIR]\n             restore [--force]",
		.about = "Rebuilds the node-local policy maps from the saved "
			 "state,\n<state-dir>/policy.yaml (written by every "
			 "apply and delete), as a\nfull replacement: afterwards "
			 "the maps hold exactly the saved objects.\nMaps that "
			 "are not pinned are created.  The agent does the same "
			 "at\nstart when nothing is pinned (after a reboot).",
		.opts = { { CTL_OPT_FORCE,
			    "replace a policy the maps already hold; without\n"
			    "it, restore refuses when the maps hold one\n"
			    "(epoch > 0): it is meant for the empty maps of\n"
			    "a node after a reboot" } },
		.footer = "Exit codes: 0 ok, 1 no saved state, the maps "
			  "already hold a policy\n(without --force), or the "
			  "saved state is invalid; 2 system error.",
		.run = ctl_restore,
	},
	{
		.name = "uninstall",
		.synopsis = "mfctl [--bpf-root DIR] [--run-dir DIR] uninstall "
			    "[--dry-run] [--force]\n"
			    "       mfctl [--bpf-root DIR] [--run-dir DIR] "
			    "[--state-dir DIR] [--config-dir DIR]\n"
			    "             uninstall --purge [--dry-run] "
			    "[--force]",
		.about = "Removes what meshforge made on this node, and "
			 "nothing else.  For the pin\nroot, in this network "
			 "namespace: the agent's TC filters (handle\n0x6d66, "
			 "priority 1) and XDP programs, any BPF link of its "
			 "programs,\nthe clsact qdiscs the agent created (once "
			 "no other filter is on\nthem), the maps pinned under "
			 "the root and the root once empty.\nPrograms and maps "
			 "are recognised by their names and by using the\nmaps "
			 "pinned under this root.  Run it in the network "
			 "namespace the\nagent ran in.  Each object is printed "
			 "as it goes.  Refuses while an\nagent runs on these "
			 "maps, or while its programs are in use in\nanother "
			 "network namespace.",
		.opts = {
			{ CTL_OPT_DRY_RUN, "print what would be removed, remove "
			  "nothing" },
			{ CTL_OPT_FORCE,
			  "go on while an agent runs on the maps, or its\n"
			  "programs are in use elsewhere" },
			{ CTL_OPT_PURGE,
			  "also the saved policy (state dir), the CA, the\n"
			  "trust domain and the certificates (config dir),\n"
			  "mfctl's lock, and those directories once empty:\n"
			  "the CA cannot be made again" },
		},
		.footer = "Exit codes: 0 ok (also when nothing was there), 1 "
			  "invalid input or\nrefused (an agent runs, programs "
			  "in use elsewhere), 2 system error\n(something could "
			  "not be removed; running it again goes on).",
		.run = ctl_uninstall,
	},
	{
		.name = "sync",
		.synopsis = "mfctl --store URL [--bpf-root DIR] [--state-dir "
			    "DIR] [--run-dir DIR]\n             sync [--once] "
			    "[--node NAME -f FILE [--ttl SECONDS]]\n"
			    "             [--memory] [--status FILE]",
		.about = "Keeps this node's policy maps on the mesh in the "
			 "store.  Lists the\nstore's prefix, compiles the "
			 "policy there into the maps (one flip,\nsaved to the "
			 "state dir with the revision), then watches from that\n"
			 "revision and does the same for every change.  When "
			 "the store is away\nthe maps keep the last policy and "
			 "the sync retries; a restart resumes\nfrom the "
			 "revision saved; a watch compacted away lists again.  "
			 "Runs\nuntil killed (docs/store.md).",
		.opts = {
			{ CTL_OPT_ONCE,
			  "list and compile once, then exit" },
			{ CTL_OPT_NODE,
			  "this node's name, to register it (with -f)" },
			{ CTL_OPT_FILE,
			  "the node's registration: its Node and the\n"
			  "Workloads it serves (spec.node: --node), put\n"
			  "under a lease the sync keeps alive" },
			{ CTL_OPT_TTL,
			  "the lease's TTL, 1..3600 (default 10): a dead\n"
			  "node's workloads go from every node within it" },
			{ CTL_OPT_MEMORY,
			  "maps in memory, not pinned: no BPF, no lock,\n"
			  "no root; saved only to a --state-dir given" },
			{ CTL_OPT_STATUS,
			  "rewritten with the revision served (and its\n"
			  "monotonic time) each time one is in force" },
		},
		.footer = "Exit codes (--once): 0 in force, 2 the store or "
			  "the maps failed.",
		.run = ctl_sync,
	},
};

const size_t ctl_ncmds = sizeof(ctl_cmds) / sizeof(ctl_cmds[0]);
