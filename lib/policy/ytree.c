// SPDX-License-Identifier: Apache-2.0
/*
 * YAML -> ynode tree, from libyaml parser events.  One explicit stack of open
 * collections instead of recursion, so a hostile input's depth is bounded by
 * YTREE_MAX_DEPTH and not by the C stack.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "arena.h"
#include "ytree.h"

void ytree_free(struct ytree *t)
{
	arena_free(&t->arena);
	free(t->docs);
	memset(t, 0, sizeof(*t));
}

bool ynode_is_null(const struct ynode *n)
{
	if (n->type != YNODE_SCALAR || !n->plain)
		return false;
	return n->len == 0 || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

static struct diag_loc ytree_loc(const char *file, yaml_mark_t m,
				    unsigned line0)
{
	struct diag_loc loc = {
		.file = file,
		.line = line0 + (unsigned)m.line + 1,
		.col = (unsigned)m.column + 1,
	};
	return loc;
}

/* Appends @kid to collection @parent.  Returns 0 or -ENOMEM. */
static int ynode_append(struct ytree *t, struct ynode *parent,
			struct ynode *kid)
{
	struct ynode **k;

	/* Capacity doubles at each power of two, so no field for it; an
	 * outgrown array stays in the arena until the tree goes. */
	if (!parent->nkids || !(parent->nkids & (parent->nkids - 1))) {
		size_t cap = parent->nkids ? parent->nkids * 2 : 4;

		if (parent->nkids < 4 && parent->kids)
			cap = 0;	/* still within the first 4 */
		if (cap) {
			k = arena_alloc(&t->arena, cap * sizeof(*k));
			if (!k)
				return -ENOMEM;
			if (parent->nkids)
				memcpy(k, parent->kids,
				       parent->nkids * sizeof(*k));
			parent->kids = k;
		}
	}
	parent->kids[parent->nkids++] = kid;
	return 0;
}

/* A new node of @t for event @ev, or NULL on ENOMEM. */
static struct ynode *ynode_new(struct ytree *t, const char *file,
			       const yaml_event_t *ev, unsigned line0)
{
	struct ynode *n = arena_alloc(&t->arena, sizeof(*n));

	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->loc = ytree_loc(file, ev->start_mark, line0);
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n->type = YNODE_SCALAR;
		n->len = ev->data.scalar.length;
		n->str = arena_alloc(&t->arena, n->len + 1);
		if (!n->str)
			return NULL;
		memcpy(n->str, ev->data.scalar.value, n->len);
		n->str[n->len] = '\0';
		n->tagged = ev->data.scalar.tag != NULL;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			   !n->tagged;
		break;
	case YAML_MAPPING_START_EVENT:
		n->type = YNODE_MAP;
		n->tagged = ev->data.mapping_start.tag != NULL;
		break;
	default:
		n->type = YNODE_SEQ;
		n->tagged = ev->data.sequence_start.tag != NULL;
		break;
	}
	return n;
}

static int ytree_add_doc(struct ytree *t, struct ynode *root,
			 struct diag_loc loc)
{
	struct ytree_doc *d;

	/* Doubling, as in ynode_append(): 100k documents must not mean 100k
	 * reallocs of a growing array. */
	if (!t->ndocs || !(t->ndocs & (t->ndocs - 1))) {
		size_t cap = t->ndocs ? t->ndocs * 2 : 1;

		d = realloc(t->docs, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		t->docs = d;
	}
	t->docs[t->ndocs].root = root;
	t->docs[t->ndocs].loc = loc;
	t->ndocs++;
	return 0;
}

static void ytree_syntax_error(const yaml_parser_t *p, const char *file,
			       unsigned line0, struct diag *d)
{
	struct diag_loc loc = ytree_loc(file, p->problem_mark, line0);

	if (p->error == YAML_READER_ERROR) {
		/* The reader reports a byte offset, not a mark. */
		loc.line = 1;
		loc.col = 1;
		diag_add(d, &loc, NULL, NULL, "YAML: %s at byte %zu",
			 p->problem ? p->problem : "unreadable input",
			 p->problem_offset);
		return;
	}
	diag_add(d, &loc, NULL, NULL, "YAML: %s%s%s",
		 p->context ? p->context : "", p->context ? ": " : "",
		 p->problem ? p->problem : "syntax error");
}

/* The sequence whose items ytree_parse_items() hands out one at a time. */
struct ytree_items {
	const char *const *path;	/* keys from the root to it */
	size_t npath;
	ytree_item_fn *fn;
	void *arg;
	struct ytree item;	/* owned: the item being read */
	size_t depth;		/* the parser's depth inside it; 0: outside */
};

/* True when collection @n, just added at stack index @k under @parent
 * (NULL for a root), is the node at @its's path, with every collection
 * above it on that path (@on_path). */
static bool ytree_on_path(const struct ytree_items *its, const bool *on_path,
			  size_t k, const struct ynode *parent)
{
	const struct ynode *key;

	if (!its)
		return false;
	if (k == 0)
		return true;
	if (!on_path[k - 1] || k > its->npath || parent->type != YNODE_MAP ||
	    parent->nkids % 2)
		return false;
	key = parent->kids[parent->nkids - 2];
	return key->type == YNODE_SCALAR && !strcmp(key->str, its->path[k - 1]);
}

/* Parses @buf as ytree_parse() does, with every line number @line0 more
 * than libyaml counts (for a piece cut from a larger input).  With @its,
 * the items of the sequence at its path go to its function instead of
 * into @t. */
static int ytree_parse_one(struct ytree *t, const char *file, const char *buf,
			   size_t len, unsigned line0, struct ytree_items *its,
			   struct diag *d)
{
	struct ynode *stack[YTREE_MAX_DEPTH];
	bool on_path[YTREE_MAX_DEPTH];
	struct ynode *root = NULL;	/* the open document's root */
	struct diag_loc doc_loc = { .file = file, .line = line0 + 1, .col = 1 };
	size_t depth = 0;
	yaml_parser_t p;
	yaml_event_t ev;
	bool done = false;
	int err = 0;

	memset(t, 0, sizeof(*t));
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);

	while (!done && !err) {
		struct ynode *n;

		if (!yaml_parser_parse(&p, &ev)) {
			if (p.error == YAML_MEMORY_ERROR) {
				err = -ENOMEM;
			} else {
				ytree_syntax_error(&p, file, line0, d);
				err = -EINVAL;
			}
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			doc_loc = ytree_loc(file, ev.start_mark, line0);
			break;
		case YAML_DOCUMENT_END_EVENT:
			/* libyaml gives every document a root, an empty
			 * scalar for an empty one. */
			if (root) {
				err = ytree_add_doc(t, root, doc_loc);
				if (!err)
					root = NULL;
			}
			break;
		case YAML_ALIAS_EVENT: {
			struct diag_loc loc = ytree_loc(file, ev.start_mark, line0);

			diag_add(d, &loc, NULL, NULL,
				 "YAML: aliases (*%s) are not supported",
				 (const char *)ev.data.alias.anchor);
			err = -EINVAL;
			break;
		}
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			/* Inside the handed-out sequence, nodes go to the
			 * item's tree; an item is not added to the sequence. */
			bool in_item = its && its->depth && depth >= its->depth;
			struct ytree *to = in_item ? &its->item : t;

			if (ev.type != YAML_SCALAR_EVENT &&
			    depth == YTREE_MAX_DEPTH) {
				struct diag_loc loc =
					ytree_loc(file, ev.start_mark, line0);

				diag_add(d, &loc, NULL, NULL,
					 "YAML: nested deeper than %d levels",
					 YTREE_MAX_DEPTH);
				err = -EINVAL;
				break;
			}
			n = ynode_new(to, file, &ev, line0);
			if (!n) {
				err = -ENOMEM;
				break;
			}
			if (depth == 0) {
				root = n;
			} else if (!(in_item && depth == its->depth) &&
				   ynode_append(to, stack[depth - 1], n)) {
				err = -ENOMEM;
				break;
			}
			if (ev.type == YAML_SCALAR_EVENT) {
				if (in_item && depth == its->depth) {
					err = its->fn(its->arg, n);
					arena_reset(&its->item.arena);
				}
				break;
			}
			on_path[depth] = !in_item &&
				ytree_on_path(its, on_path, depth,
					      depth ? stack[depth - 1] : NULL);
			stack[depth++] = n;
			if (on_path[depth - 1] && depth - 1 == its->npath &&
			    n->type == YNODE_SEQ)
				its->depth = depth;
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			if (its && its->depth && depth == its->depth) {
				err = its->fn(its->arg, stack[depth]);
				arena_reset(&its->item.arena);
			} else if (its && depth + 1 == its->depth) {
				its->depth = 0;
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}

	yaml_parser_delete(&p);
	/* An unfinished document's nodes stay in the arena until the tree
	 * goes. */
	if (err)
		ytree_free(t);
	return err;
}

/*
 * Large inputs are parsed in pieces on several threads: libyaml's scanner
 * is most of the time `mfctl apply` spends on a 100k-object policy, and
 * documents are independent.  A piece boundary is a line that starts with
 * "---" followed by a space, a tab or the end of the line: the YAML spec
 * forbids such a line inside any content (libyaml reports it as an error
 * in a quoted or flow context), so it always starts a document and the
 * pieces parse to exactly the documents of the whole.  Inputs with
 * directives ("%YAML") or a non-UTF-8 encoding are parsed whole.  Any
 * problem in any piece makes the whole input be parsed again on one
 * thread, so error reports are the same as without pieces.
 */
#define YTREE_PIECE_MIN		(512u * 1024)	/* bytes per piece, at least */
#define YTREE_PIECES_MAX	8

struct ytree_piece {
	const char *file;
	const char *buf;
	size_t len;
	unsigned line0;
	struct ytree t;
	int err;
	pthread_t th;
	bool started;
};

static void *ytree_piece_run(void *arg)
{
	struct ytree_piece *pc = arg;
	struct diag d;

	/* Problems are thrown away: the caller re-parses to report them. */
	diag_init(&d);
	pc->err = ytree_parse_one(&pc->t, pc->file, pc->buf, pc->len,
				  pc->line0, NULL, &d);
	diag_free(&d);
	return NULL;
}

/* True when the line at @p (of @end) is a document start marker. */
static bool ytree_is_doc_start(const char *p, const char *end)
{
	return end - p >= 3 && !memcmp(p, "---", 3) &&
	       (end - p == 3 || p[3] == ' ' || p[3] == '\t' || p[3] == '\n' ||
		p[3] == '\r');
}

/* True when the input may be cut into pieces at all. */
static bool ytree_splittable(const char *buf, size_t len)
{
	const unsigned char *u = (const unsigned char *)buf;

	/* A UTF-16/32 byte order mark or a NUL: not plain UTF-8. */
	if (len < 2 || u[0] == 0xfe || u[0] == 0xff || u[0] == 0 || u[1] == 0)
		return false;
	if (buf[0] == '%')
		return false;
	for (const char *p = buf; (p = memchr(p, '\n', len - (size_t)(p - buf)));) {
		p++;
		if (p < buf + len && *p == '%')
			return false;
	}
	return true;
}

/*
 * Cuts @buf into at most @max pieces at document start lines, the first
 * cut at or after len/@max bytes and so on.  Fills @pcs (buf, len, line0)
 * and returns how many pieces.
 */
static size_t ytree_cut(const char *buf, size_t len, struct ytree_piece *pcs,
			size_t max)
{
	const char *end = buf + len, *start = buf, *p = buf;
	unsigned line = 0;	/* newlines before p */
	unsigned line_start = 0;
	size_t n = 0;

	for (size_t k = 1; k < max; k++) {
		const char *target = buf + len / max * k;

		if (target <= start)
			continue;
		/* Count lines up to the target, then find the next marker. */
		for (;;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			if (!nl) {
				p = end;
				break;
			}
			p = nl + 1;
			line++;
			if (p >= target && ytree_is_doc_start(p, end))
				break;
		}
		if (p >= end)
			break;
		pcs[n].buf = start;
		pcs[n].len = (size_t)(p - start);
		pcs[n].line0 = line_start;
		n++;
		start = p;
		line_start = line;
	}
	pcs[n].buf = start;
	pcs[n].len = (size_t)(end - start);
	pcs[n].line0 = line_start;
	return n + 1;
}

/* Moves the documents of @from, and the arena they live in, to the end
 * of @to.  Returns 0 or -ENOMEM (nothing moved then). */
static int ytree_take(struct ytree *to, struct ytree *from)
{
	struct ytree_doc *d;

	if (from->ndocs) {
		d = realloc(to->docs, (to->ndocs + from->ndocs) * sizeof(*d));
		if (!d)
			return -ENOMEM;
		memcpy(d + to->ndocs, from->docs, from->ndocs * sizeof(*d));
		to->docs = d;
		to->ndocs += from->ndocs;
	}
	arena_take(&to->arena, &from->arena);
	free(from->docs);
	memset(from, 0, sizeof(*from));
	return 0;
}

int ytree_parse(struct ytree *t, const char *file, const char *buf,
		size_t len, struct diag *d)
{
	struct ytree_piece pcs[YTREE_PIECES_MAX];
	size_t max = len / YTREE_PIECE_MIN, n;
	long ncpu;
	int err = 0;

	/* Too small to split: no need to ask for the CPUs, which reads a
	 * file each time (a store's 100k one-object values). */
	if (max < 2)
		return ytree_parse_one(t, file, buf, len, 0, NULL, d);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1)
		ncpu = 1;
	if (max > (size_t)ncpu)
		max = (size_t)ncpu;
	if (max > YTREE_PIECES_MAX)
		max = YTREE_PIECES_MAX;
	if (max < 2 || !ytree_splittable(buf, len))
		return ytree_parse_one(t, file, buf, len, 0, NULL, d);

	memset(pcs, 0, sizeof(pcs));
	n = ytree_cut(buf, len, pcs, max);
	if (n < 2)
		return ytree_parse_one(t, file, buf, len, 0, NULL, d);
	for (size_t i = 0; i < n; i++)
		pcs[i].file = file;
	/* Piece 0 on this thread, the others on their own. */
	for (size_t i = 1; i < n; i++)
		pcs[i].started = !pthread_create(&pcs[i].th, NULL,
						 ytree_piece_run, &pcs[i]);
	ytree_piece_run(&pcs[0]);
	for (size_t i = 1; i < n; i++) {
		if (pcs[i].started)
			pthread_join(pcs[i].th, NULL);
		else
			ytree_piece_run(&pcs[i]);
	}

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < n; i++)
		if (pcs[i].err && !err)
			err = pcs[i].err;
	for (size_t i = 0; i < n && !err; i++)
		err = ytree_take(t, &pcs[i].t);
	for (size_t i = 0; i < n; i++)
		ytree_free(&pcs[i].t);
	if (!err)
		return 0;
	ytree_free(t);
	if (err == -ENOMEM)
		return err;
	/* Report the problem exactly as a whole-input parse would. */
	return ytree_parse_one(t, file, buf, len, 0, NULL, d);
}

int ytree_parse_items(struct ytree *t, const char *file, const char *buf,
		      size_t len, const char *const *path, ytree_item_fn *fn,
		      void *arg, struct diag *d)
{
	struct ytree_items its = { .path = path, .fn = fn, .arg = arg };
	int err;

	while (path[its.npath])
		its.npath++;
	err = ytree_parse_one(t, file, buf, len, 0, &its, d);
	ytree_free(&its.item);
	return err;
}
