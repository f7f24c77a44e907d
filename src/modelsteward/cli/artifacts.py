"""``steward hash``, ``steward scan``, ``steward keys new``: files only, no workspace needed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelsteward.cli._common import console, print_json
from modelsteward.cli._progress import file_progress
from modelsteward.cli._render import human_size, scan_table
from modelsteward.errors import InvalidInput, PolicyDenied

keys_app = typer.Typer(help="Signing keys for OMS model signatures.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
PathArg = Annotated[Path, typer.Argument(help="Model folder or single file.")]


def hash_command(path: PathArg, json_out: JsonOpt = False) -> None:
    """Print the OMS root digest of a folder or file (the same computation as intake)."""
    from modelsteward.artifacts.manifest import hash_model

    with file_progress(json_out) as bars:
        manifest = hash_model(path, on_plan=bars.on_plan, on_bytes=bars.on_bytes)
    if json_out:
        print_json(
            {
                "digest": str(manifest.root_digest),
                "files": len(manifest.files),
                "size": manifest.total_size,
                "manifest": manifest.to_dict(),
            }
        )
    else:
        console.out(f"{manifest.root_digest}  {path}")
        console.print(
            f"{len(manifest.files)} files, {human_size(manifest.total_size)}", style="dim"
        )


def scan_command(path: PathArg, json_out: JsonOpt = False) -> None:
    """Scan every file for unsafe serialization. Exits 6 when anything is unsafe or unscanned."""
    from modelsteward.artifacts.scanning import scan_model

    with file_progress(json_out) as bars:
        report = scan_model(path, on_file=bars.on_scan)
    blocking = report.blocking()
    if json_out:
        print_json(report.to_dict())
        if blocking:
            raise typer.Exit(PolicyDenied.exit_code)
        return
    console.print(scan_table(report))
    if blocking:
        raise PolicyDenied(
            f"{len(report.unsafe)} unsafe and {len(report.unscanned)} unscanned file(s): "
            + ", ".join(f.path for f in blocking),
            hint="unsafe files must never be loaded; unscanned ones need a human review",
        )
    console.print(f"[green]all {len(report.files)} files scanned safe[/]")


@keys_app.command("new")
def new_key(
    out: Annotated[
        Path, typer.Option("--out", help="Private key file; FILE.pub gets the public key.")
    ],
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing key files.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Write an EC P-256 key pair for `steward model sign` (FILE mode 0600, FILE.pub)."""
    from modelsteward.artifacts.signing import generate_key_pair

    out = out.expanduser()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(
            f"cannot create {out.parent}: {exc.strerror}", hint="check --out"
        ) from exc
    pair = generate_key_pair(out, overwrite=force)
    if json_out:
        print_json(
            {
                "private_key": str(pair.private_key),
                "public_key": str(pair.public_key),
                "fingerprint": pair.fingerprint,
            }
        )
    else:
        console.print(f"private key {pair.private_key} (keep it secret)")
        console.print(f"public key  {pair.public_key}  fingerprint {pair.fingerprint[:16]}…")
