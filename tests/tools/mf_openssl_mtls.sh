#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# openssl, with every s_client presenting the client certificate and key
# in the PEM file $MF_MTLS_PEM; any other command runs unchanged.
#
# testssl.sh 3.0 (Debian 12) has no option for a client certificate; given
# this as its openssl (OPENSSL=... or --openssl), it completes the
# handshakes of a port that requires one, as a mesh peer does.
[ -n "${MF_MTLS_PEM:-}" ] || { echo "mf_openssl_mtls: MF_MTLS_PEM is not set" >&2; exit 2; }
if [ "${1:-}" = s_client ]; then
	shift
	exec openssl s_client -cert "$MF_MTLS_PEM" -key "$MF_MTLS_PEM" "$@"
fi
exec openssl "$@"
