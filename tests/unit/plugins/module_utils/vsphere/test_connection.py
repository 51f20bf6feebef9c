# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import datetime
import hashlib
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyVmomi import vim

from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import connection
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import VSphereError


@pytest.fixture
def ca_file(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lab CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = tmp_path / "ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def params(**kwargs):
    base = {"hostname": "vc.example.com", "username": "bob", "password": "s3cret!"}
    base.update(kwargs)
    return connection.ConnectionParams(**base)


def test_tls_is_verified_by_default():
    context = connection.ssl_context(params())
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


def test_ca_file_is_loaded_and_still_verified(ca_file):
    context = connection.ssl_context(params(ca_file=ca_file))
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert any(c["subject"] == ((("commonName", "lab CA"),),) for c in context.get_ca_certs())


def test_validate_certs_false_turns_verification_off():
    context = connection.ssl_context(params(validate_certs=False))
    assert context.verify_mode == ssl.CERT_NONE


@pytest.mark.parametrize("value,expected", [
    ("AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd", "aabbccddeeff00112233445566778899aabbccdd"),
    ("ab" * 32, "ab" * 32),
])
def test_thumbprints_are_normalised(value, expected):
    assert connection.normalize_thumbprint(value) == expected


@pytest.mark.parametrize("value", ["nothex", "AA:BB", "zz" * 20])
def test_bad_thumbprints_are_refused(value):
    with pytest.raises(VSphereError, match="not a SHA-1, SHA-256 or SHA-512"):
        connection.normalize_thumbprint(value)


def test_missing_options_name_the_environment_variables():
    with pytest.raises(VSphereError) as info:
        connection.connect(connection.ConnectionParams(hostname="vc"))
    assert "username, password" in info.value.msg
    assert "VMWARE_USER, VMWARE_PASSWORD" in info.value.msg


class FakeSI:
    def RetrieveContent(self):
        return type("Content", (), {"about": vim.AboutInfo(apiType="VirtualCenter")})()


def test_connect_passes_the_verified_context():
    seen = {}

    def smart_connect(**kwargs):
        seen.update(kwargs)
        return FakeSI()

    client = connection.connect(params(port=8443), smart_connect=smart_connect)
    assert client.is_vcenter
    assert seen["port"] == 8443
    assert seen["sslContext"].verify_mode == ssl.CERT_REQUIRED


def test_a_pinned_context_accepts_only_the_pinned_certificate():
    der = b"certificate bytes"
    context = connection.ssl_context(params(thumbprint=hashlib.sha256(der).hexdigest().upper()))
    assert isinstance(context, connection.PinnedContext)
    context.check_certificate(der)
    with pytest.raises(connection.ThumbprintMismatchError):
        context.check_certificate(b"another certificate")
    sha1 = connection.ssl_context(params(thumbprint=hashlib.sha1(der).hexdigest()))
    sha1.check_certificate(der)


def test_login_failure_is_readable_and_hides_the_password():
    def smart_connect(**kwargs):
        raise vim.fault.InvalidLogin(msg="Cannot complete login due to an incorrect user name or password.")

    with pytest.raises(VSphereError) as info:
        connection.connect(params(), smart_connect=smart_connect)
    assert "vc.example.com:443 as bob" in info.value.msg
    assert "s3cret!" not in info.value.msg
    assert "s3cret!" not in repr(params())
