"""``steward gate``: the runtime safety gate's commands, runnable without a workspace.

``gate attest`` is what a vehicle (or its deployment pipeline) runs before starting a model:
the signed envelope's signature is checked with the signer's public key, then the model folder is
re-hashed and must be exactly the files the envelope was signed for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from modelsteward.cli import gate_demo, gate_runtime
from modelsteward.cli._common import console, print_json
from modelsteward.cli.envelopes import read_signed_file
from modelsteward.errors import VerificationFailed

__all__ = ["gate_app"]

gate_app = typer.Typer(
    help="Runtime safety gate: attest a deployment, run the closed-loop demo, replay decision "
    "logs against a candidate envelope, benchmark.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
EnvelopeOpt = Annotated[
    Path, typer.Option("--envelope", help="The signed envelope file (`envelope sign`).")
]
KeyOpt = Annotated[Path, typer.Option("--key", help="The envelope signer's public key (PEM).")]


@gate_app.callback()
def _gate_group() -> None:
    """Runtime safety gate commands."""


# -- attest ---------------------------------------------------------------------------------------


@gate_app.command("attest")
def attest(
    envelope: EnvelopeOpt,
    model_dir: Annotated[
        Path, typer.Option("--model-dir", help="The deployed model folder (or file).")
    ],
    key: KeyOpt,
    json_out: JsonOpt = False,
) -> None:
    """Check the envelope's signature, then that MODEL_DIR holds exactly the signed files.

    Exits 0 with one OK line, or 7 naming each changed, missing and extra file (or a bad
    signature).
    """
    from modelsteward.runtime.signed import attest as attest_folder
    from modelsteward.runtime.signed import load_signed_envelope

    signed = load_signed_envelope(read_signed_file(envelope), key)
    result = attest_folder(signed, model_dir)
    if json_out:
        print_json(
            {
                **result.to_dict(),
                "model_ref": signed.model_ref,
                "envelope": signed.envelope.name,
                "envelope_digest": str(signed.envelope.digest),
                "statement_digest": str(signed.statement_digest),
                "key_id": signed.key_id,
            }
        )
        if not result.ok:
            raise typer.Exit(VerificationFailed.exit_code)
        return
    if result.ok:
        console.print(
            f"[green]OK[/] {escape(result.message)}; envelope {escape(signed.envelope.name)} "
            f"({signed.envelope.digest}), signed envelope {signed.statement_digest}",
            soft_wrap=True,
        )
        return
    for kind, paths in (
        ("changed", result.changed),
        ("missing", result.missing),
        ("extra", result.extra),
    ):
        for path in paths:
            console.print(f"  [red]{kind}: {escape(path)}[/]")
    raise VerificationFailed(
        result.message,
        hint="the deployed files are not the model this envelope was signed for; do not start",
    )


# -- demo, replay, bench ---------------------------------------------------------------------------

gate_demo.register(gate_app)
gate_runtime.register(gate_app)
