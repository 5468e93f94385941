/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The record of the certificates a CA issued: <config-dir>/issued, one
 * line per certificate, "<serial hex> <notAfter, s since the epoch>
 * <SPIFFE ID>", appended by `mfctl cert issue` before the certificate is
 * written (so none is in use without a line), read by `mfctl ca revoke
 * --identity` to find every certificate of an identity.  A line for a
 * certificate whose write then failed names a serial nobody holds, which
 * is harmless to revoke.  The caller holds the config dir's lock,
 * exclusively to append.
 */
#ifndef CTL_ISSUED_H
#define CTL_ISSUED_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Appends the line of the certificate with serial @serial (INTEGER
 * content, @len bytes) for @id, valid until @not_after, durably.
 * Returns 0 or -errno. */
int issued_record(const char *config_dir, const uint8_t *serial, size_t len,
		  time_t not_after, const char *id);

/*
 * Calls @fn for each line of the record, in order: the certificate's
 * serial in hex (der_serial_hex()'s form), its notAfter and its SPIFFE
 * ID; a non-zero return of @fn stops the walk and is returned.  Returns
 * 0, or -errno (-ENOENT: no record at all, -EBADMSG: a line that does
 * not read).
 */
int issued_each(const char *config_dir,
		int (*fn)(void *arg, const char *serial_hex, time_t not_after,
			  const char *id),
		void *arg);

/*
 * Calls @fn for each certificate recorded for @id that has not ended at
 * @now, with its serial in hex.  Returns how many, or -errno (-ENOENT: no
 * record at all, -EBADMSG: a line that does not read).
 */
int issued_find(const char *config_dir, const char *id, time_t now,
		int (*fn)(void *arg, const char *serial_hex), void *arg);

#endif /* CTL_ISSUED_H */
