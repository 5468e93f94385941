// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: mfctl's YAML-to-records compiler (parse, validate, compile),
 * the path every `mfctl apply` input takes before anything is written.
 * Any input must end in records or in diagnostics, never in a crash, and
 * an input with no diagnostics must compile.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <stdio.h>
#include <string.h>

#include "policy/compile.h"
#include "policy/decompile.h"
#include "policy/render.h"
#include "policy/diag.h"
#include "policy/doc.h"
#include "policy/model.h"
#include "policy/records.h"
#include "policy/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * What apply writes must read back as itself: records -> objects ->
 * YAML -> objects -> the same records.  Any difference is a bug in one
 * of the four directions, so it aborts.
 */
static void fuzz_round_trip(const struct rec_set *recs)
{
	struct model_set back, again;
	struct rec_set recs2;
	struct diag d;
	char *yaml = NULL;
	size_t len = 0;
	FILE *f;

	model_set_init(&back);
	model_set_init(&again);
	rec_set_init(&recs2);
	diag_init(&d);
	if (decompile_records(recs, &back, &d))
		abort();
	f = open_memstream(&yaml, &len);
	if (!f || render_set(f, EMIT_YAML, &back, RENDER_ALL_KINDS, NULL))
		abort();
	fclose(f);
	if (doc_parse_buffer(&again, "again.yaml", yaml, len, &d) ||
	    validate_set(&again, &d) ||
	    compile_set(&again, recs, &recs2, &d) ||
	    !rec_set_equal(recs, &recs2))
		abort();
	free(yaml);
	diag_free(&d);
	rec_set_free(&recs2);
	model_set_free(&again);
	model_set_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model_set set;
	struct rec_set recs;
	struct diag d, warnings;
	int err;

	model_set_init(&set);
	diag_init(&d);
	diag_init(&warnings);
	rec_set_init(&recs);
	/* Each --validate mode in turn, by the input's length: what an
	 * unknown field is must never change what the rest reads into. */
	set.validate = (enum model_validate)(size % 3);
	set.warnings = &warnings;
	err = doc_parse_buffer(&set, "fuzz.yaml", (const char *)data, size, &d);
	set.warnings = NULL;
	/* Only warn collects warnings. */
	if (diag_count(&warnings) && set.validate != MODEL_VALIDATE_WARN)
		abort();
	diag_free(&warnings);
	if (err && err != -EINVAL && err != -ENOMEM)
		abort();
	/* An input problem must come with a message that says where. */
	if (err == -EINVAL && diag_count(&d) == 0)
		abort();
	if (!err && validate_set(&set, &d) == 0) {
		rec_set_free(&recs);
		err = compile_set(&set, NULL, &recs, &d);
		if (err && err != -ENOSPC && err != -ENOMEM)
			abort();
		if (!err)
			fuzz_round_trip(&recs);
	}
	rec_set_free(&recs);
	diag_free(&d);
	model_set_free(&set);
	return 0;
}
