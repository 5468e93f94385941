// SPDX-License-Identifier: Apache-2.0
/*
 * Runs a fuzz target over its seed corpus, as a regression test in
 * `make check`: every seed is one case.  A crash or abort fails the run.
 * The same target links with -fsanitize=fuzzer for `make fuzz`.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int seed_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	char *names[4096];
	size_t count = 0;
	struct dirent *de;
	DIR *d;

	d = opendir(SEED_DIR);
	if (!d) {
		perror(SEED_DIR);
		return 2;
	}
	while ((de = readdir(d)) && count < sizeof(names) / sizeof(names[0]))
		if (de->d_name[0] != '.')
			names[count++] = strdup(de->d_name);
	closedir(d);
	qsort(names, count, sizeof(names[0]), seed_cmp);
	if (count == 0) {
		printf("FAIL: %s: no seeds in %s\n", FUZZ_NAME, SEED_DIR);
		return 1;
	}
	for (size_t i = 0; i < count; i++) {
		char path[4096];
		static uint8_t buf[1 << 20];
		size_t n;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", SEED_DIR, names[i]);
		f = fopen(path, "rb");
		if (!f) {
			printf("FAIL: %s/%s: cannot open\n", FUZZ_NAME, names[i]);
			return 1;
		}
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		/* Run it on a heap copy of the exact size, so an overread is
		 * past the end of an allocation, not into the static buffer. */
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, buf, n);
		LLVMFuzzerTestOneInput(copy, n);
		free(copy);
		printf("PASS: %s/%s\n", FUZZ_NAME, names[i]);
		free(names[i]);
	}
	return 0;
}
