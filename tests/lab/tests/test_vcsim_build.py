# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab starts only a simulator built from this checkout's sources, and never builds it."""

import os
import subprocess

import pytest

from tests.lab import vcenter


def fake_binary(tmp_path, monkeypatch, stamp):
    binary = tmp_path / "vcsim"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    if stamp is not None:
        (tmp_path / "vcsim.sources").write_text(stamp + "\n")
    monkeypatch.setattr(vcenter, "BINARY", str(binary))
    return str(binary)


def test_a_binary_stamped_with_these_sources_is_used(tmp_path, monkeypatch):
    path = fake_binary(tmp_path, monkeypatch, vcenter.sources_digest())
    assert vcenter.binary() == path


@pytest.mark.parametrize("stamp", [None, "0" * 64], ids=["no stamp (copied in)", "built from other sources"])
def test_a_binary_not_built_from_these_sources_is_refused(tmp_path, monkeypatch, stamp):
    fake_binary(tmp_path, monkeypatch, stamp)
    with pytest.raises(vcenter.NotBuilt, match="make bootstrap"):
        vcenter.binary()


def test_a_missing_binary_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(vcenter, "BINARY", str(tmp_path / "vcsim"))
    with pytest.raises(vcenter.NotBuilt, match="is missing"):
        vcenter.binary()


def test_build_sh_stamps_the_digest_the_lab_checks():
    # build.sh and the lab compute the digest independently (sha256sum of the concatenated sources)
    script = os.path.join(vcenter.SOURCES, "build.sh")
    out = subprocess.run(["bash", "-c", 'source <(sed -n "/^sources_digest()/,/^}/p" "$0"); here=$1; sources_digest',
                          script, vcenter.SOURCES], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == vcenter.sources_digest()
