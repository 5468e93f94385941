/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A YAML document tree that remembers where every node came from.
 *
 * libyaml's own document loader does keep marks, but it resolves aliases into
 * shared nodes and offers no place for our checks; this reader builds a
 * plain tree from parser events instead, refuses aliases (policy files have
 * no use for them, and they are how "billion laughs" inputs blow up), and
 * keeps line:column (1-based) and the quoting style of every scalar, so
 * the schema layer (doc.c) can say exactly where a value is wrong and tell
 * `port: 80` from `port: "80"`.
 */
#ifndef CTL_YTREE_H
#define CTL_YTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "diag.h"

enum ynode_type {
	YNODE_SCALAR = 1,
	YNODE_MAP,
	YNODE_SEQ,
};

struct ynode {
	enum ynode_type type;
	struct diag_loc loc;	/* where the node starts */
	/* YNODE_SCALAR */
	char *str;		/* owned, NUL-terminated */
	size_t len;		/* may be > strlen(str) if the value holds a NUL */
	bool plain;		/* written without quotes and without a tag */
	bool tagged;		/* any node: written with an explicit tag
				 * (!!str, !foo) */
	/* YNODE_MAP: kids[2i] is a key, kids[2i+1] its value.
	 * YNODE_SEQ: kids[i] is item i. */
	struct ynode **kids;	/* owned, with every kid */
	size_t nkids;
};

struct ytree_doc {
	struct ynode *root;	/* owned; never NULL in a parsed tree */
	struct diag_loc loc;	/* where the document starts */
};

struct ytree {
	struct ytree_doc *docs;	/* owned */
	size_t ndocs;
	/* Every node, string and child array of the tree lives in this
	 * arena (owned), freed together by ytree_free(): a 100k-document
	 * input is millions of nodes. */
	struct arena arena;
};

/* Deepest nesting accepted; policy objects need 6. */
#define YTREE_MAX_DEPTH 64

/*
 * Parses every document of @buf (@len bytes).  @file names the input in
 * diagnostics and in every node's loc: the caller keeps it alive as long as
 * the tree.  Returns 0 with *t filled (caller frees with ytree_free), or
 * -EINVAL after adding a diagnostic for a syntax error (*t is then empty),
 * or -ENOMEM.  Inputs over a MiB are parsed in pieces, cut at "---" lines,
 * on up to one thread per CPU; the result, locations and diagnostics are
 * the same as from one pass.
 */
int ytree_parse(struct ytree *t, const char *file, const char *buf,
		size_t len, struct diag *d);

/*
 * Parses @buf as ytree_parse() does, but hands each item of the sequence
 * at @path (the keys of nested maps from a document's root to it, NULL
 * last) to @fn as a tree of its own, which lives only for the call; in
 * *t that sequence is left empty.  For inputs too large to hold whole as
 * a tree: an etcd list of a 100k-object mesh is 40 MiB of JSON and 200
 * MiB of nodes, while one item is a few hundred bytes.  Returns as
 * ytree_parse() does, or @fn's first non-zero return, which stops the
 * parse (*t is then empty).
 */
typedef int ytree_item_fn(void *arg, const struct ynode *item);

int ytree_parse_items(struct ytree *t, const char *file, const char *buf,
		      size_t len, const char *const *path, ytree_item_fn *fn,
		      void *arg, struct diag *d);

void ytree_free(struct ytree *t);

/* Number of key/value pairs of a YNODE_MAP. */
static inline size_t ynode_map_len(const struct ynode *n)
{
	return n->nkids / 2;
}

/* True for an empty document, "key:" with nothing after it, "~" and "null":
 * the YAML null, which a required field treats as missing. */
bool ynode_is_null(const struct ynode *n);

#endif /* CTL_YTREE_H */
