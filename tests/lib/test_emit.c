// SPDX-License-Identifier: Apache-2.0
/*
 * The emitter: the escapers (JSON, YAML, Prometheus label values) and the
 * one YAML quoting rule, byte by byte over 0x00..0xff, the escapers' one
 * pass, YAML strings read back by libyaml as written, and the block and
 * JSON layouts of nested and empty containers.
 */
#include <yaml.h>

#include "harness/test.h"

#include "emit.h"

struct buf {
	char s[4096];
	size_t n;
};

static void buf_write(void *arg, const char *p, size_t n)
{
	struct buf *b = arg;

	if (b->n + n >= sizeof(b->s))
		n = sizeof(b->s) - 1 - b->n;
	memcpy(b->s + b->n, p, n);
	b->n += n;
	b->s[b->n] = 0;
}

/* What each byte becomes, alone, in a JSON string, in a YAML double
 * quoted string and in a Prometheus label value: ranges of bytes, and the
 * format of their escape ("%c": the byte itself). */
struct esc_range {
	unsigned lo, hi;
	const char *json, *yaml, *prom;
};

static const struct esc_range esc_table[] = {
	{ 0x00, 0x09, "\\u%04x", "\\x%02x", "%c" },
	{ 0x0a, 0x0a, "\\u000a", "\\x0a", "\\n" },
	{ 0x0b, 0x1f, "\\u%04x", "\\x%02x", "%c" },
	{ 0x20, 0x21, "%c", "%c", "%c" },
	{ 0x22, 0x22, "\\\"", "\\\"", "\\\"" },
	{ 0x23, 0x5b, "%c", "%c", "%c" },
	{ 0x5c, 0x5c, "\\\\", "\\\\", "\\\\" },
	{ 0x5d, 0x7e, "%c", "%c", "%c" },
	{ 0x7f, 0x7f, "\\u007f", "\\x7f", "%c" },
	/* Alone, a byte >= 0x80 is never valid UTF-8. */
	{ 0x80, 0xff, "\\ufffd", "\\x%02x", "\xef\xbf\xbd" },
};

/* @got holds exactly what format @fmt makes of byte @b (a NUL byte
 * included, which a string compare would not see). */
static bool esc_is(const struct buf *got, const char *fmt, unsigned b)
{
	char want[16];
	int n = snprintf(want, sizeof(want), fmt, b);

	if (ASSERT_EQ(got->n, n) && ASSERT_MEMEQ(got->s, want, (size_t)n))
		return true;
	printf("byte 0x%02x\n", b);
	return false;
}

static bool test_escape_every_byte(void)
{
	unsigned seen = 0;

	for (size_t r = 0; r < sizeof(esc_table) / sizeof(esc_table[0]); r++) {
		const struct esc_range *t = &esc_table[r];

		for (unsigned b = t->lo; b <= t->hi; b++, seen++) {
			char in = (char)b;
			struct buf j = { .n = 0 }, y = { .n = 0 },
				   p = { .n = 0 };

			emit_json_escape(buf_write, &j, &in, 1);
			emit_yaml_escape(buf_write, &y, &in, 1);
			emit_prom_escape(buf_write, &p, &in, 1);
			if (!esc_is(&j, t->json, b) || !esc_is(&y, t->yaml, b) ||
			    !esc_is(&p, t->prom, b))
				return false;
		}
	}
	return ASSERT_EQ(seen, 256);
}

/* UTF-8 goes through as it is, quotes, backslashes and controls are
 * escaped, and each byte of an invalid sequence becomes U+FFFD. */
static bool test_escape_utf8(void)
{
	static const struct {
		const char *in, *json, *prom;
	} cases[] = {
		{ "caf\xc3\xa9", "caf\xc3\xa9", "caf\xc3\xa9" },	/* é */
		{ "\xe2\x82\xac", "\xe2\x82\xac", "\xe2\x82\xac" },	/* € */
		{ "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80",
		  "\xf0\x9f\x98\x80" },				/* U+1F600 */
		{ "\xc0\xaf", "\\ufffd\\ufffd",
		  "\xef\xbf\xbd\xef\xbf\xbd" },			/* overlong / */
		{ "\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd",
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },	/* surrogate */
		{ "\xe2\x82", "\\ufffd\\ufffd",
		  "\xef\xbf\xbd\xef\xbf\xbd" },			/* cut short */
		{ "a\"b\\c\n", "a\\\"b\\\\c\\u000a", "a\\\"b\\\\c\\n" },
		{ "t\tr\r\x1b", "t\\u0009r\\u000d\\u001b", "t\tr\r\x1b" },
		{ "\xc3\xa9\"\xc3", "\xc3\xa9\\\"\\ufffd",
		  "\xc3\xa9\\\"\xef\xbf\xbd" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf j = { .n = 0 }, p = { .n = 0 };

		emit_json_escape(buf_write, &j, cases[i].in,
				 strlen(cases[i].in));
		emit_prom_escape(buf_write, &p, cases[i].in,
				 strlen(cases[i].in));
		if (!ASSERT_STREQ(j.s, cases[i].json) ||
		    !ASSERT_STREQ(p.s, cases[i].prom))
			return printf("case %zu\n", i), false;
	}
	return true;
}

/* Writes counted, their bytes dropped. */
struct counter {
	size_t calls, bytes;
};

static void count_write(void *arg, const char *p, size_t n)
{
	struct counter *c = arg;

	(void)p;
	c->calls++;
	c->bytes += n;
}

/*
 * One pass: a string with nothing to escape is one write however long,
 * and one with k bytes to escape at most 2k + 1 writes (a run, then an
 * escape, per byte escaped), in every format.
 */
static bool test_escape_one_pass(void)
{
	enum { N = 1 << 20 };
	typedef void escaper(emit_write_fn *, void *, const char *, size_t);
	escaper *const esc[] = { emit_json_escape, emit_yaml_escape,
				 emit_prom_escape };
	char *s = malloc(N);
	bool ok = ASSERT_TRUE(s != NULL);
	size_t k = 0;

	for (size_t i = 0; ok && i < N; i++)
		s[i] = "spiffe://mesh.local/ns/default/sa/web"[i % 37];
	for (size_t f = 0; ok && f < 3; f++) {
		struct counter c = { 0 };

		esc[f](count_write, &c, s, N);
		ok = ASSERT_EQ(c.calls, 1) && ASSERT_EQ(c.bytes, N);
	}
	/* Every 64th byte a quote, a backslash or a newline. */
	for (size_t i = 0; ok && i < N; i += 64, k++)
		s[i] = "\"\\\n"[k % 3];
	for (size_t f = 0; ok && f < 3; f++) {
		struct counter c = { 0 };

		esc[f](count_write, &c, s, N);
		ok = ASSERT_GE(2 * k + 1, c.calls) && ASSERT_GE(c.calls, k) &&
		     ASSERT_GE(c.bytes, N + k);
	}
	free(s);
	return ok;
}

/* Which strings of one byte, and which "a<byte>a", go plain. */
static bool test_yaml_plain_every_byte(void)
{
	for (unsigned b = 0; b < 256; b++) {
		bool word = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
			    (b >= '0' && b <= '9') || b == '_' || b == '/' ||
			    b == '-' || b == '.';
		/* Alone: digits are numbers, 'y'/'n' booleans, '-' and '.'
		 * indicators. */
		bool alone = word && !(b >= '0' && b <= '9') && b != 'y' &&
			     b != 'Y' && b != 'n' && b != 'N' && b != '-' &&
			     b != '.';
		char one = (char)b, three[3] = { 'a', (char)b, 'a' };

		if (!ASSERT_EQ(emit_yaml_plain(&one, 1), alone) ||
		    !ASSERT_EQ(emit_yaml_plain(three, 3), word))
			return printf("byte 0x%02x\n", b), false;
	}
	return true;
}

static bool test_yaml_plain_words(void)
{
	static const char *const plain[] = {
		"web", "10s", "1h30m", "5Mbps", "10.0.0.1", "/api", "v1.2",
		"kuma.io/service", "a-b_c", "1e", "0x", "1.2.3", NULL,
	};
	static const char *const quoted[] = {
		"", "80", "-1", "+1", "1.5", ".5", "1e3", "1E-3", "0x1f",
		"0o17", "0b1", "true", "False", "YES", "no", "On", "off",
		"null", "Null", "~", "a b", "a:b", "spiffe://td/x", "-x",
		".hidden", "#c", "caf\xc3\xa9", NULL,
	};

	for (size_t i = 0; plain[i]; i++)
		if (!ASSERT_TRUE(emit_yaml_plain(plain[i], strlen(plain[i]))))
			return printf("%s\n", plain[i]), false;
	for (size_t i = 0; quoted[i]; i++)
		if (!ASSERT_FALSE(emit_yaml_plain(quoted[i],
						  strlen(quoted[i]))))
			return printf("%s\n", quoted[i]), false;
	return true;
}

/* The scalar value of "k: <text>" as libyaml reads it, into @out. */
static bool yaml_read_back(const char *text, char *out, size_t outsz)
{
	yaml_parser_t p;
	yaml_event_t ev;
	bool found = false, done = false, ok = true;
	int scalars = 0;

	if (!yaml_parser_initialize(&p))
		return false;
	yaml_parser_set_input_string(&p, (const unsigned char *)text,
				     strlen(text));
	while (!done && ok) {
		if (!yaml_parser_parse(&p, &ev)) {
			ok = false;
			break;
		}
		if (ev.type == YAML_SCALAR_EVENT && ++scalars == 2 &&
		    ev.data.scalar.length < outsz) {
			memcpy(out, ev.data.scalar.value,
			       ev.data.scalar.length + 1);
			found = true;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return ok && found;
}

/* Every string a policy can hold (ASCII without NUL, and UTF-8) reads
 * back from the emitter's YAML as written, quoted or not. */
static bool test_yaml_round_trip(void)
{
	static const char *const extra[] = {
		"10s", "80", "true", "~", "a: b", "- x", "#x", "'q'",
		"caf\xc3\xa9 \xe2\x82\xac", "", " lead", "trail ", NULL,
	};
	char in[8], back[64];

	for (unsigned b = 1; b < 0x80; b++) {
		for (int form = 0; form < 2; form++) {
			struct emit e;
			struct buf out = { .n = 0 };

			snprintf(in, sizeof(in), form ? "a%cb" : "%c", b);
			emit_init(&e, EMIT_YAML, buf_write, &out);
			emit_map_begin(&e);
			emit_key(&e, "k");
			emit_str(&e, in);
			emit_map_end(&e);
			if (!ASSERT_TRUE(yaml_read_back(out.s, back,
							sizeof(back))) ||
			    !ASSERT_STREQ(back, in))
				return printf("byte 0x%02x: %s", b, out.s),
				       false;
		}
	}
	for (size_t i = 0; extra[i]; i++) {
		struct emit e;
		struct buf out = { .n = 0 };

		emit_init(&e, EMIT_YAML, buf_write, &out);
		emit_map_begin(&e);
		emit_key(&e, "k");
		emit_str(&e, extra[i]);
		emit_map_end(&e);
		if (!ASSERT_TRUE(yaml_read_back(out.s, back, sizeof(back))) ||
		    !ASSERT_STREQ(back, extra[i]))
			return false;
	}
	return true;
}

/* One document with every kind of container, empty ones included. */
static void sample(struct emit *e)
{
	emit_map_begin(e);
	emit_key(e, "name");
	emit_str(e, "web");
	emit_key(e, "port");
	emit_uint(e, 80);
	emit_key(e, "spec");
	emit_map_begin(e);
	emit_key(e, "to");
	emit_list_begin(e);
	emit_map_begin(e);
	emit_key(e, "targetRef");
	emit_map_begin(e);
	emit_key(e, "kind");
	emit_str(e, "Mesh");
	emit_map_end(e);
	emit_key(e, "default");
	emit_map_begin(e);
	emit_map_end(e);
	emit_map_end(e);
	emit_map_begin(e);
	emit_map_end(e);
	emit_str(e, "x y");
	emit_list_end(e);
	emit_key(e, "none");
	emit_list_begin(e);
	emit_list_end(e);
	emit_key(e, "enabled");
	emit_bool(e, true);
	emit_key(e, "ratio");
	emit_num(e, "12.5");
	emit_map_end(e);
	emit_map_end(e);
}

static bool test_layouts(void)
{
	struct buf y = { .n = 0 }, j = { .n = 0 }, l = { .n = 0 };
	struct emit e;

	emit_init(&e, EMIT_YAML, buf_write, &y);
	emit_doc(&e);
	sample(&e);
	if (!ASSERT_EQ(e.err, 0) ||
	    !ASSERT_STREQ(y.s, "---\n"
			       "name: web\n"
			       "port: 80\n"
			       "spec:\n"
			       "  to:\n"
			       "    - targetRef:\n"
			       "        kind: Mesh\n"
			       "      default: {}\n"
			       "    - {}\n"
			       "    - \"x y\"\n"
			       "  none: []\n"
			       "  enabled: true\n"
			       "  ratio: 12.5\n"))
		return false;
	emit_init(&e, EMIT_JSON, buf_write, &j);
	sample(&e);
	if (!ASSERT_EQ(e.err, 0) ||
	    !ASSERT_STREQ(j.s, "{\"name\": \"web\", \"port\": 80, \"spec\": "
			       "{\"to\": [{\"targetRef\": {\"kind\": \"Mesh\"}, "
			       "\"default\": {}}, {}, \"x y\"], \"none\": [], "
			       "\"enabled\": true, \"ratio\": 12.5}}"))
		return false;
	/* A list of documents, one per line. */
	emit_init(&e, EMIT_JSON, buf_write, &l);
	e.json_break = 1;
	emit_list_begin(&e);
	sample(&e);
	emit_map_begin(&e);
	emit_map_end(&e);
	emit_list_end(&e);
	return ASSERT_EQ(e.err, 0) &&
	       ASSERT_TRUE(!strncmp(l.s, "[\n  {\"name\": \"web\", ", 20)) &&
	       ASSERT_TRUE(strstr(l.s, "12.5}},\n  {}\n]\n") != NULL);
}

/* What a free-form value brings that schemas do not: lists in lists, one
 * dash per level on the first item's line (each a valid YAML reading back
 * as written), and keys that are not plain, quoted as a string is. */
static bool test_yaml_nested_lists_and_keys(void)
{
	struct buf y = { .n = 0 };
	struct emit e;

	emit_init(&e, EMIT_YAML, buf_write, &y);
	emit_map_begin(&e);
	emit_key(&e, "a b");
	emit_list_begin(&e);
	emit_list_begin(&e);		/* [[[1, 2]], [{80: x, k: z}, []]] */
	emit_list_begin(&e);
	emit_num(&e, "1");
	emit_num(&e, "2");
	emit_list_end(&e);
	emit_list_end(&e);
	emit_list_begin(&e);
	emit_map_begin(&e);
	emit_key(&e, "80");
	emit_str(&e, "x");
	emit_key(&e, "k");
	emit_str(&e, "z");
	emit_map_end(&e);
	emit_list_begin(&e);
	emit_list_end(&e);
	emit_list_end(&e);
	emit_list_end(&e);
	emit_map_end(&e);
	return ASSERT_EQ(e.err, 0) &&
	       ASSERT_STREQ(y.s, "\"a b\":\n"
				 "  - - - 1\n"
				 "      - 2\n"
				 "  - - \"80\": x\n"
				 "      k: z\n"
				 "    - []\n");
}

static bool test_misuse_flagged(void)
{
	struct buf b = { .n = 0 };
	struct emit e;

	emit_init(&e, EMIT_JSON, buf_write, &b);
	emit_map_begin(&e);
	emit_str(&e, "no key");
	if (!ASSERT_EQ(e.err, -EINVAL))
		return false;
	emit_init(&e, EMIT_YAML, buf_write, &b);
	emit_list_begin(&e);
	emit_key(&e, "k");
	if (!ASSERT_EQ(e.err, -EINVAL))
		return false;
	emit_init(&e, EMIT_YAML, buf_write, &b);
	emit_map_begin(&e);
	emit_list_end(&e);
	return ASSERT_EQ(e.err, -EINVAL);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_escape_every_byte);
	TEST_RUN(test_escape_utf8);
	TEST_RUN(test_escape_one_pass);
	TEST_RUN(test_yaml_plain_every_byte);
	TEST_RUN(test_yaml_plain_words);
	TEST_RUN(test_yaml_round_trip);
	TEST_RUN(test_layouts);
	TEST_RUN(test_yaml_nested_lists_and_keys);
	TEST_RUN(test_misuse_flagged);
	TEST_MAIN_END();
}
