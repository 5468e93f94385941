/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The certificate directory of a config dir: <dir>/certs/<stem>.crt (0644)
 * and <stem>.key (0600), the identity pairs `mfctl cert issue` writes and
 * the agent loads, stem = spiffe_file_stem() of the identity.
 *
 * A pair becomes visible whole, by renaming a directory: two renames of
 * two files cannot do that, since a reader between them, or a crash, sees
 * a new certificate beside an old key (or the reverse), and the identity
 * is unusable until someone reissues it.  So certs/ is replaced as a
 * whole.  certdir_put() builds the next certs/ beside it as .certs.next:
 * hard links to every file it keeps (files here are only ever replaced,
 * never rewritten, so the two directories may share them), and the new
 * pair written and fsynced.  It swaps the two with renameat2()
 * RENAME_EXCHANGE, fsyncs <dir>, and removes the old one, now called
 * .certs.next.  After a crash, <dir>/certs is the old directory or the new
 * one, each whole; the next put removes what a crash left at .certs.next.
 * Puts are serialised by an flock on <dir>: two at once would each build
 * from the same old directory and the second would drop the first's pair.
 *
 * A reader must open certs/ once and read both files relative to it, as
 * certdir_read() does; opening the two paths one after the other could
 * straddle a swap.  A reader still in the old directory when a put
 * removes it gets ENOENT, sees that certs/ is another directory now, and
 * starts over.
 */
#ifndef MF_CERTDIR_H
#define MF_CERTDIR_H

#include <stddef.h>

/*
 * Makes @crt (@crt_len bytes, mode 0644) and @key (mode 0600) the pair of
 * @stem in <@dir>/certs, with the other pairs there kept, durably: when
 * it returns 0 the new pair survives a crash.  @dir must exist; certs/ is
 * created with mode 0755 if it does not, and keeps its mode if it does.
 * Waits while another put into @dir runs.  Returns 0, -EINVAL (@stem is
 * empty or holds '/'), -EISDIR (certs/ holds a directory, which a swap
 * cannot carry), -ENOTDIR (certs/ is not a directory; a symbolic link is
 * not one here, since the swap would move the link), -EOPNOTSUPP (the file
 * system cannot exchange two directories), or -errno.  On an error before
 * the swap certs/ is as it was.
 */
int certdir_put(const char *dir, const char *stem, const void *crt,
		size_t crt_len, const void *key, size_t key_len);

/*
 * Reads the pair of @stem from <@dir>/certs, both files from one version
 * of that directory, into *crt and *key (malloc'ed, NUL-terminated past
 * their lengths; the caller frees them, and should wipe the key first).
 * Returns 0, -ENOENT (no certs/, or no certificate or key for @stem),
 * -EINVAL (@stem as for certdir_put()), -EAGAIN (certs/ was replaced
 * under every one of several attempts), or -errno.
 */
int certdir_read(const char *dir, const char *stem, char **crt,
		 size_t *crt_len, char **key, size_t *key_len);

/*
 * Removes certs/ and what a crash left at .certs.next, with the pairs in
 * them, from the config dir open as @dfd, whose exclusive lock
 * (fsio_dir_lock()) the caller holds, so no put runs meanwhile.  *@nfiles
 * gets how many files went.  For `mfctl uninstall --purge`.  Returns 0
 * (also when there was nothing) or -errno.
 */
int certdir_purge(int dfd, size_t *nfiles);

/* The name of the file beside certs/ that names the trust domain of its
 * identities (`mfctl ca init` writes it with the CA). */
#define CERTDIR_TRUST_DOMAIN	"trust-domain"

/*
 * Reads the trust domain of config dir @dir into @td (@n bytes): the
 * first line of its CERTDIR_TRUST_DOMAIN file, trailing blanks left out.
 * Returns 0, -ENOENT (no such file), -EINVAL (not a valid trust domain,
 * or longer than @n allows), or -errno.
 */
int certdir_trust_domain(const char *dir, char *td, size_t n);

#endif /* MF_CERTDIR_H */
