/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A CA certificate for tests that need one as text (a MeshTrust's bundle):
 * it parses, it is no mesh CA of theirs.
 */
#ifndef MF_PEM_HARNESS_H
#define MF_PEM_HARNESS_H

/* A self-signed EC CA certificate, each line after @i. */
#define CA_PEM(i) \
	i "-----BEGIN CERTIFICATE-----\n" \
	i "MIIBsTCCAVegAwIBAgIUN/7eAFfaErzb412g7KCNfa8mFH4wCgYIKoZIzj0EAwIw\n" \
	i "LjEXMBUGA1UECgwObWVzaGZvcmdlIHRlc3QxEzARBgNVBAMMCm1lc2gubG9jYWww\n" \
	i "HhcNMjYxMjA1MTIwNTAxWhcNMzYxMjAyMTIwNTAxWjAuMRcwFQYDVQQKDA5tZXNo\n" \
	i "Zm9yZ2UgdGVzdDETMBEGA1UEAwwKbWVzaC5sb2NhbDBZMBMGByqGSM49AgEGCCqG\n" \
	i "SM49AwEHA0IABBwO0zA/uLmjM1cTa1+WuyOXd+vq64ES4JlRCGMpM7K/hzwZdezK\n" \
	i "4rYTbdjd/nqhF0akn823hUpeLFrfBGIxk+KjUzBRMB0GA1UdDgQWBBT2BhW7gH31\n" \
	i "pCqzvd7bMcze5MkDZTAfBgNVHSMEGDAWgBT2BhW7gH31pCqzvd7bMcze5MkDZTAP\n" \
	i "BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIG2eRRnEFR/IY/zkiaVL\n" \
	i "1LIV67n1sMaU0H59QvaEJGxEAiEArUSDLH6Qy+FsXZoQ5YHK8Bg/jQ5rpc1vgDYd\n" \
	i "npQXNpc=\n" \
	i "-----END CERTIFICATE-----\n"

#endif /* MF_PEM_HARNESS_H */
