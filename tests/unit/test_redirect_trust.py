"""The lean reader trusts Amazon Trust Services' roots only, unless AWS_CA_BUNDLE says otherwise."""

from __future__ import annotations

import hashlib
import re
import ssl
from pathlib import Path

from shared.redirect import trust
from shared.redirect.dynamodb import GetItemClient, tls_context

ROOTS = [
    "Amazon Root CA 1",
    "Amazon Root CA 2",
    "Amazon Root CA 3",
    "Amazon Root CA 4",
    "Starfield Services Root Certificate Authority - G2",
]


def _common_names(context: ssl.SSLContext) -> list[str]:
    return sorted(
        value
        for cert in context.get_ca_certs()
        for ((key, value),) in cert["subject"]
        if key == "commonName"
    )


def test_the_default_context_holds_the_five_roots_and_verifies_hostnames() -> None:
    context = tls_context({})
    assert _common_names(context) == ROOTS
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_a_client_for_an_aws_endpoint_uses_them() -> None:
    client = GetItemClient(
        "eu-west-1", environ={"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}
    )
    assert client._tls is not None
    assert _common_names(client._tls) == ROOTS


def test_each_root_is_the_certificate_its_fingerprint_names() -> None:
    source = Path(trust.__file__).read_text()
    fingerprints = re.findall(r"# SHA-256 ([0-9a-f]{64})", source)
    assert len(fingerprints) == len(trust.AMAZON_TRUST_SERVICES_ROOTS) == 5
    for pem, fingerprint in zip(trust.AMAZON_TRUST_SERVICES_ROOTS, fingerprints, strict=True):
        assert hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest() == fingerprint
