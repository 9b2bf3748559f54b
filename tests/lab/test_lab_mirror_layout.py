"""Mirror layout built from a small fake set of apt lists and downloaded packages."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from workshop_tui.core.errors import LabError
from workshop_tui.lab import mirror
from workshop_tui.lab.sources import Repository

MAIN = Repository("http://deb.example.test/debian", ("bookworm",), ("main",))
SECURITY = Repository("http://deb.example.test/debian-security", ("bookworm-security",), ("main",))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _packages(*debs: tuple[str, bytes]) -> bytes:
    stanzas = [
        f"Package: {Path(name).name.split('_')[0]}\nVersion: 1.0\nFilename: {name}\n"
        f"Size: {len(data)}\nSHA256: {_sha(data)}\n"
        for name, data in debs
    ]
    return "\n".join(stanzas).encode()


def _in_release(files: dict[str, bytes], extra: str = "") -> str:
    lines = [f" {_sha(data)} {len(data)} {path}" for path, data in files.items()]
    return (
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nOrigin: Debian\n"
        "Acquire-By-Hash: yes\nMD5Sum:\n 0123 5 main/binary-amd64/Packages\nSHA256:\n"
        + "\n".join(lines)
        + extra
        + "\n-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n"
    )


@pytest.fixture
def fake_image(tmp_path: Path) -> tuple[Path, Path]:
    lists = tmp_path / "lists"
    archives = tmp_path / "archives"
    lists.mkdir()
    archives.mkdir()

    postfix = b"postfix deb"
    mutt = b"mutt deb"
    patched = b"patched deb"
    main_packages = _packages(
        ("pool/main/p/postfix/postfix_1.0_amd64.deb", postfix),
        ("pool/main/m/mutt/mutt_1.0_amd64.deb", mutt),
    )
    translation = b"Package: postfix\nDescription-en: mail server\n"
    security_packages = _packages(("pool/updates/main/l/libx/libx_2_amd64.deb", patched))

    base = "deb.example.test_debian_dists_bookworm_"
    (lists / f"{base}InRelease").write_text(
        _in_release(
            {
                "main/binary-amd64/Packages": main_packages,
                "main/binary-amd64/Packages.xz": b"compressed",
                "main/i18n/Translation-en": translation,
                "contrib/binary-amd64/Packages": b"never fetched",
            },
            # An index whose file differs from the Release entry must be skipped.
            f"\n {_sha(b'x')} 1 main/binary-all/Packages",
        )
    )
    (lists / f"{base}main_binary-amd64_Packages").write_bytes(main_packages)
    (lists / f"{base}main_i18n_Translation-en").write_bytes(translation)
    (lists / f"{base}main_binary-all_Packages").write_bytes(b"stale")

    security = "deb.example.test_debian-security_dists_bookworm-security_"
    (lists / f"{security}InRelease").write_text(
        _in_release({"main/binary-amd64/Packages": security_packages})
    )
    (lists / f"{security}main_binary-amd64_Packages").write_bytes(security_packages)

    (archives / "postfix_1.0_amd64.deb").write_bytes(postfix)
    (archives / "mutt_1.0_amd64.deb").write_bytes(mutt)
    (archives / "libx_2_amd64.deb").write_bytes(patched)
    return lists, archives


def test_mirror_layout(fake_image: tuple[Path, Path], tmp_path: Path) -> None:
    lists, archives = fake_image
    output = tmp_path / "mirror"

    summary = mirror.build_mirror(lists, archives, [MAIN, SECURITY], output)

    dists = output / "debian/dists/bookworm"
    assert (dists / "InRelease").read_bytes() == (
        lists / "deb.example.test_debian_dists_bookworm_InRelease"
    ).read_bytes()
    packages = dists / "main/binary-amd64/Packages"
    assert packages.is_file()
    by_hash = dists / "main/binary-amd64/by-hash/SHA256" / _sha(packages.read_bytes())
    assert by_hash.read_bytes() == packages.read_bytes()
    assert (dists / "main/i18n/Translation-en").is_file()
    assert not (dists / "main/binary-amd64/Packages.xz").exists()
    assert not (dists / "main/binary-all/Packages").exists()
    assert not (dists / "contrib").exists()

    assert (output / "debian/pool/main/p/postfix/postfix_1.0_amd64.deb").read_bytes() == (
        b"postfix deb"
    )
    assert (output / "debian/pool/main/m/mutt/mutt_1.0_amd64.deb").is_file()
    assert (output / "debian-security/pool/updates/main/l/libx/libx_2_amd64.deb").is_file()
    assert (output / "debian-security/dists/bookworm-security/InRelease").is_file()
    assert list(archives.glob("*.deb")) == [], "packages are moved out of the image"
    assert summary.packages == 3
    assert summary.index_files == 5


def test_unknown_package_is_an_error(fake_image: tuple[Path, Path], tmp_path: Path) -> None:
    lists, archives = fake_image
    (archives / "stray_1_amd64.deb").write_bytes(b"in no index")
    with pytest.raises(LabError, match=r"stray_1_amd64\.deb is listed in no mirrored index"):
        mirror.build_mirror(lists, archives, [MAIN, SECURITY], tmp_path / "mirror")


def test_missing_in_release_is_an_error(fake_image: tuple[Path, Path], tmp_path: Path) -> None:
    lists, archives = fake_image
    updates = Repository(MAIN.uri, ("bookworm-updates",), ("main",))
    with pytest.raises(LabError, match=r"no InRelease for .* bookworm-updates"):
        mirror.build_mirror(lists, archives, [updates], tmp_path / "mirror")


def test_pool_path_outside_mirror_is_rejected(tmp_path: Path) -> None:
    lists = tmp_path / "lists"
    lists.mkdir()
    evil = _packages(("../../etc/passwd", b"x"))
    base = "deb.example.test_debian_dists_bookworm_"
    (lists / f"{base}InRelease").write_text(_in_release({"main/binary-amd64/Packages": evil}))
    (lists / f"{base}main_binary-amd64_Packages").write_bytes(evil)
    with pytest.raises(LabError, match="invalid path"):
        mirror.build_mirror(lists, tmp_path, [MAIN], tmp_path / "mirror")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "http://deb.debian.org/debian/dists/bookworm/InRelease",
            "deb.debian.org_debian_dists_bookworm_InRelease",
        ),
        (
            "http://deb.debian.org/debian-security/dists/bookworm-security/main/i18n/Translation-en",
            "deb.debian.org_debian-security_dists_bookworm-security_main_i18n_Translation-en",
        ),
        (
            "http://mirror.test:8080/deb_ian/dists/x/InRelease",
            "mirror.test:8080_deb%5fian_dists_x_InRelease",
        ),
    ],
)
def test_apt_list_names(uri: str, expected: str) -> None:
    assert mirror.apt_list_name(uri) == expected


def test_parse_release_reads_only_sha256() -> None:
    entries = mirror.parse_release(_in_release({"main/binary-amd64/Packages": b"abc"}))
    assert entries == [mirror.ReleaseEntry("main/binary-amd64/Packages", 3, _sha(b"abc"))]
