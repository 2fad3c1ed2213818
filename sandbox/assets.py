"""Browser assets of the sandbox page that come from the npm registry, fetched at install time.

The page renders cards with Microsoft's Adaptive Cards renderer. Its built file is not kept
in the repository: `make` runs `python -m sandbox.assets`, which downloads the pinned
tarball from the npm registry, checks it against the registry's sha512 integrity value, and
unpacks the renderer and its licences into `sandbox/static/vendor/` (ignored by git).

NPM_CONFIG_REGISTRY (npm's own variable) points it at a mirror.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"
DEFAULT_REGISTRY = "https://registry.npmjs.org"
TIMEOUT_S = 60


@dataclass(frozen=True)
class NpmFile:
    """Files taken from one pinned npm package: archive member → name under VENDOR."""

    package: str
    version: str
    integrity: str  # sha512-<base64>, as the registry's dist.integrity gives it
    files: tuple[tuple[str, str], ...]

    @property
    def tarball(self) -> str:
        return f"{self.package}/-/{self.package.rsplit('/', 1)[-1]}-{self.version}.tgz"


ADAPTIVE_CARDS = NpmFile(
    package="adaptivecards",
    version="3.0.6",
    integrity="sha512-WDCIb2WXZ7cOHJ9HIHRNdhSt861HySVOdN2xPk2aKHAF3JvD8QGQ8/XcNFrDJxCteOog8MM7EBlXfSAR8JXKAg==",
    files=(
        ("package/dist/adaptivecards.min.js", "adaptivecards.min.js"),
        ("package/dist/adaptivecards.min.js.LICENSE.txt", "adaptivecards.min.js.LICENSE.txt"),
        ("package/LICENSE", "adaptivecards.LICENSE"),
    ),
)
PINNED = (ADAPTIVE_CARDS,)


class AssetError(RuntimeError):
    """An asset could not be fetched or did not match its pinned integrity."""


def present(pins: tuple[NpmFile, ...] = PINNED, vendor: Path = VENDOR) -> bool:
    """Whether every pinned file is unpacked at the version asked for."""
    return all(
        _stamp(pin, vendor).is_file() and all((vendor / name).is_file() for _, name in pin.files) for pin in pins
    )


def check_integrity(data: bytes, integrity: str) -> None:
    """Refuse `data` unless its sha512 matches the registry's `sha512-<base64>` value."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise AssetError(f"unsupported integrity algorithm {algorithm!r}")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")
    if actual != expected:
        raise AssetError(f"integrity mismatch: expected sha512-{expected}, got sha512-{actual}")


def unpack(pin: NpmFile, data: bytes, vendor: Path = VENDOR) -> list[Path]:
    """Check `data` (the package tarball) and write the pinned files into `vendor`."""
    check_integrity(data, pin.integrity)
    vendor.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member_name, name in pin.files:
            try:
                member = archive.getmember(member_name)
            except KeyError as exc:
                raise AssetError(f"{pin.package}@{pin.version} has no {member_name}") from exc
            extracted = archive.extractfile(member) if member.isfile() else None
            if extracted is None:
                raise AssetError(f"{pin.package}@{pin.version}: {member_name} is not a file")
            target = vendor / name
            target.write_bytes(extracted.read())
            written.append(target)
    _stamp(pin, vendor).write_text(f"{pin.package}@{pin.version} {pin.integrity}\n", encoding="utf-8")
    return written


def fetch(pin: NpmFile, registry: str | None = None) -> bytes:
    """Download the package tarball from the registry."""
    base = (
        registry or os.environ.get("NPM_CONFIG_REGISTRY") or os.environ.get("npm_config_registry") or DEFAULT_REGISTRY
    )
    url = f"{base.rstrip('/')}/{pin.tarball}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 (a fixed https registry URL)
            tarball: bytes = response.read()
            return tarball
    except OSError as exc:
        raise AssetError(f"could not download {url}: {exc}") from exc


def ensure(pins: tuple[NpmFile, ...] = PINNED, vendor: Path = VENDOR) -> list[str]:
    """Fetch and unpack whatever pinned asset is missing; returns what was installed."""
    installed = []
    for pin in pins:
        if present((pin,), vendor):
            continue
        unpack(pin, fetch(pin), vendor)
        installed.append(f"{pin.package}@{pin.version}")
    return installed


def _stamp(pin: NpmFile, vendor: Path) -> Path:
    return vendor / f".{pin.package}-{pin.version}"


def main() -> int:
    """Install the pinned browser assets (run by `make`)."""
    try:
        installed = ensure()
    except AssetError as exc:
        sys.stderr.write(f"sandbox page assets: {exc}\n")
        return 1
    if installed:
        print(f"sandbox page assets installed: {', '.join(installed)} → {VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
