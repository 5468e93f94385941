// SPDX-License-Identifier: Apache-2.0
/*
 * YAML -> ynode tree, from libyaml parser events.  One explicit stack of open
 * collections instead of recursion, so a hostile input's depth is bounded by
 * YTREE_MAX_DEPTH and not by the C stack.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "ytree.h"

static void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
}

void ytree_free(struct ytree *t)
{
	for (size_t i = 0; i < t->ndocs; i++)
		ynode_free(t->docs[i].root);
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

static struct diag_loc ytree_loc(const char *file, yaml_mark_t m)
{
	struct diag_loc loc = {
		.file = file,
		.line = (unsigned)m.line + 1,
		.col = (unsigned)m.column + 1,
	};
	return loc;
}

/* Appends @kid to collection @parent, which takes ownership.  Returns 0 or
 * -ENOMEM (the caller still owns @kid then). */
static int ynode_append(struct ynode *parent, struct ynode *kid)
{
	struct ynode **k;

	k = realloc(parent->kids, (parent->nkids + 1) * sizeof(*k));
	if (!k)
		return -ENOMEM;
	k[parent->nkids++] = kid;
	parent->kids = k;
	return 0;
}

/* A new node for event @ev, or NULL on ENOMEM.  Caller owns it. */
static struct ynode *ynode_new(const char *file, const yaml_event_t *ev)
{
	struct ynode *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->loc = ytree_loc(file, ev->start_mark);
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n->type = YNODE_SCALAR;
		n->len = ev->data.scalar.length;
		n->str = malloc(n->len + 1);
		if (!n->str) {
			free(n);
			return NULL;
		}
		memcpy(n->str, ev->data.scalar.value, n->len);
		n->str[n->len] = '\0';
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			   !ev->data.scalar.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		n->type = YNODE_MAP;
		break;
	default:
		n->type = YNODE_SEQ;
		break;
	}
	return n;
}

static int ytree_add_doc(struct ytree *t, struct ynode *root,
			 struct diag_loc loc)
{
	struct ytree_doc *d;

	d = realloc(t->docs, (t->ndocs + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	d[t->ndocs].root = root;
	d[t->ndocs].loc = loc;
	t->docs = d;
	t->ndocs++;
	return 0;
}

static void ytree_syntax_error(const yaml_parser_t *p, const char *file,
			       struct diag *d)
{
	struct diag_loc loc = ytree_loc(file, p->problem_mark);

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

int ytree_parse(struct ytree *t, const char *file, const char *buf,
		size_t len, struct diag *d)
{
	struct ynode *stack[YTREE_MAX_DEPTH];
	struct ynode *root = NULL;	/* the open document's root, owned */
	struct diag_loc doc_loc = { .file = file, .line = 1, .col = 1 };
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
				ytree_syntax_error(&p, file, d);
				err = -EINVAL;
			}
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			doc_loc = ytree_loc(file, ev.start_mark);
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
			struct diag_loc loc = ytree_loc(file, ev.start_mark);

			diag_add(d, &loc, NULL, NULL,
				 "YAML: aliases (*%s) are not supported",
				 (const char *)ev.data.alias.anchor);
			err = -EINVAL;
			break;
		}
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (ev.type != YAML_SCALAR_EVENT &&
			    depth == YTREE_MAX_DEPTH) {
				struct diag_loc loc =
					ytree_loc(file, ev.start_mark);

				diag_add(d, &loc, NULL, NULL,
					 "YAML: nested deeper than %d levels",
					 YTREE_MAX_DEPTH);
				err = -EINVAL;
				break;
			}
			n = ynode_new(file, &ev);
			if (!n) {
				err = -ENOMEM;
				break;
			}
			if (depth == 0) {
				root = n;
			} else if (ynode_append(stack[depth - 1], n)) {
				ynode_free(n);
				err = -ENOMEM;
				break;
			}
			if (ev.type != YAML_SCALAR_EVENT)
				stack[depth++] = n;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}

	yaml_parser_delete(&p);
	ynode_free(root);
	if (err)
		ytree_free(t);
	return err;
}
