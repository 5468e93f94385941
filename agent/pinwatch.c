// SPDX-License-Identifier: Apache-2.0
/*
 * The pinned maps made again under the agent (pinwatch.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "kern.h"
#include "log.h"
#include "pinwatch.h"
#include "reload.h"
#include "xdp.h"

void pinwatch_init(struct pinwatch *pw, struct ctx *ctx, struct kern *kern)
{
	memset(pw, 0, sizeof(*pw));
	pw->ctx = ctx;
	pw->kern = kern;
}

/* Logs @msg at warning level unless it is what was said last: a state
 * that lasts is logged once, not every second. */
static void pinwatch_say(struct pinwatch *pw, const char *msg)
{
	if (!strcmp(pw->said, msg))
		return;
	snprintf(pw->said, sizeof(pw->said), "%s", msg);
	log_warn("%s", msg);
}

/* Closes the maps of the last switch once the reloader reads the new. */
static void pinwatch_retire(struct pinwatch *pw)
{
	struct pmap *old = (struct pmap *)pw->retired;

	if (!old || reload_maps(pw->ctx->reload) != pw->ctx->pmap)
		return;
	pmap_close(old);
	if (pw->retired_own)
		free(old);
	pw->retired = NULL;
	pw->retired_own = false;
}

bool pinwatch_tick(struct pinwatch *pw)
{
	const struct pmap *cur = pw->ctx->pmap;
	char why[128], msg[sizeof(pw->said)];
	struct pmap *np;
	int err;

	if (!cur)
		return false;
	pinwatch_retire(pw);
	if (pw->retired)
		return false;	/* one switch at a time */
	if (!pmap_pins_moved(cur, why, sizeof(why))) {
		pw->said[0] = '\0';
		return false;
	}
	err = kern_check_pins(cur->root, why, sizeof(why));
	if (err == -ESTALE) {
		snprintf(msg, sizeof(msg), "event=pins_other_layout root=%s problem=\"%s\" "
			 "effect=\"the maps held are kept\" fix=\"mfctl uninstall "
			 "(rm a pin of a name it does not know), then mfctl apply\"",
			 cur->root, why);
		pinwatch_say(pw, msg);
		return false;
	}
	np = calloc(1, sizeof(*np));
	if (!np)
		return false;
	err = pmap_open(np, cur->root, false);
	if (err) {
		snprintf(msg, sizeof(msg), "event=pins_gone root=%s moved=\"%s\" err=\"%s\" "
			 "effect=\"the maps held are kept until they are pinned again\"",
			 cur->root, why, strerror(-err));
		pinwatch_say(pw, msg);
		free(np);
		return false;
	}
	log_warn("event=pins_recreated root=%s moved=\"%s\"", cur->root, why);
	if (pw->kern) {
		err = kern_reopen(pw->kern, cur->root);
		if (err && err != -EIO) {
			/* Programs and maps must agree: try it all again at
			 * the next tick. */
			pmap_close(np);
			free(np);
			return false;
		}
	}
	/* A failed XDP replace keeps the old firewall, following the new
	 * policy's lists (xdp_forget_epoch()) with the old rates. */
	if (pw->ctx->xdp && xdp_reopen(pw->ctx->xdp, cur->root))
		xdp_forget_epoch(pw->ctx->xdp);
	reload_switch(pw->ctx->reload, np);
	pw->retired = cur;
	pw->retired_own = pw->own != NULL;
	pw->own = np;
	pw->ctx->pmap = np;
	pw->said[0] = '\0';
	pw->reopens++;
	return true;
}

void pinwatch_fini(struct pinwatch *pw)
{
	if (pw->retired) {
		pmap_close((struct pmap *)pw->retired);
		if (pw->retired_own)
			free((struct pmap *)pw->retired);
	}
	if (pw->own) {
		pmap_close(pw->own);
		free(pw->own);
	}
	memset(pw, 0, sizeof(*pw));
}
