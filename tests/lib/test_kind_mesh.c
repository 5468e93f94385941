// SPDX-License-Identifier: Apache-2.0
/*
 * Mesh (lib/policy/kind_mesh.c) through mfctl's reader: each rule of
 * spec.mtls (the enabled backend is one of the backends, a provided
 * backend names its files and a builtin one does not, mode names) gives
 * exactly the expected diagnostic.  The whole pipeline of a valid Mesh is
 * in test_kinds.c.
 */
#define KH_FILE "m.yaml"
#include "harness/test.h"
#include "harness/kinds_harness.h"

/* A Mesh whose spec.mtls (line 7) is @mtls. */
#define MESH_MTLS(mtls)                                                       \
	"---\napiVersion: meshforge.io/v1alpha1\n"                            \
	"kind: Mesh\nmetadata: {name: default}\n"                             \
	"spec:\n  trustDomain: td\n  mtls:\n" mtls

KH_TEST_BAD(test_bad_mtls,
	{ MESH_MTLS("    enabledBackend: nope\n"
		    "    backends: [{name: b, type: builtin}]\n"),
	  "m.yaml:8:21: spec.mtls.enabledBackend: names no backend "
	  "of spec.mtls.backends" },
	{ MESH_MTLS("    backends: [{name: b, type: provided}]\n"),
	  "m.yaml:8:16: spec.mtls.backends[0].conf: is required "
	  "for a provided backend" },
	{ MESH_MTLS("    backends: [{name: b, type: builtin,\n"
		    "                conf: {cert: {file: /x}, "
		    "key: {file: /y}}}]\n"),
	  "m.yaml:9:23: spec.mtls.backends[0].conf: builtin "
	  "backends take no conf (the mesh CA is made by `mfctl "
	  "ca init`)" },
	{ MESH_MTLS("    backends: [{name: b, type: builtin, "
		    "mode: LAX}]\n"),
	  "m.yaml:8:47: spec.mtls.backends[0].mode: must be "
	  "STRICT or PERMISSIVE" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_bad_mtls);
	TEST_MAIN_END();
}
