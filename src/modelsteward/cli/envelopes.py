"""``steward envelope``: sign a runtime envelope for a registered model, verify it, show its limits.

``sign`` needs a workspace (it resolves the model and writes the ledger); ``verify`` and ``show``
read only the signed file, so they run anywhere the file and the signer's public key are.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from modelsteward.cli._common import console, open_steward, print_json
from modelsteward.errors import InvalidInput

if TYPE_CHECKING:
    from modelsteward.runtime.envelope import Envelope
    from modelsteward.runtime.signed import SignedEnvelope

__all__ = ["envelope_app", "read_signed_file", "render_envelope"]

envelope_app = typer.Typer(
    help="Runtime envelopes: sign one for a registered model, verify it, show its limits.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
SignedArg = Annotated[Path, typer.Argument(help="A signed envelope file (`envelope sign`).")]

_RSS_UNITS = {
    "response_time_ego": "s",
    "response_time_other": "s",
    "lateral_fluctuation_margin": "m",
}


def read_signed_file(path: Path) -> bytes:
    """The bytes of a signed envelope file; a missing or unreadable file is ``InvalidInput``."""
    try:
        return path.expanduser().read_bytes()
    except FileNotFoundError as exc:
        raise InvalidInput(f"signed envelope {path} does not exist", hint="check the path") from exc
    except IsADirectoryError as exc:
        raise InvalidInput(f"signed envelope {path} is a folder, not a file") from exc
    except OSError as exc:
        raise InvalidInput(f"signed envelope {path} cannot be read: {exc.strerror}") from exc


@envelope_app.command("sign")
def sign(
    file: Annotated[Path, typer.Argument(help="The envelope document (YAML or JSON).")],
    key: Annotated[Path, typer.Option("--key", help="EC private key (PEM), see `keys new`.")],
    model: Annotated[
        str, typer.Option("--model", help="NAME, NAME@ALIAS, NAME@VERSION or a digest.")
    ],
    out: Annotated[Path, typer.Option("--out", help="The signed envelope to write (new file).")],
    json_out: JsonOpt = False,
) -> None:
    """Validate FILE, bind it to the registered model's files and sign it (a ledger event)."""
    with open_steward() as app:
        record = app.envelopes.sign(file, key, model, out)
    if json_out:
        print_json({**record.to_dict(), "out": str(out)})
        return
    console.print(
        f"signed envelope [bold]{escape(record.envelope)}[/] ({record.envelope_digest}) "
        f"for {escape(record.model)} ({record.model_digest}) → {escape(str(out))}",
        soft_wrap=True,
    )
    console.print(
        f"  signed envelope {record.statement_digest}, key {record.key_id[:16]}…, "
        f"ledger seq {record.seq}",
        style="dim",
        soft_wrap=True,
    )


@envelope_app.command("verify")
def verify(
    signed_file: SignedArg,
    key: Annotated[Path, typer.Option("--key", help="The signer's public key (PEM).")],
    json_out: JsonOpt = False,
) -> None:
    """Check the signature and the digests inside. Exits 7 when they do not verify."""
    from modelsteward.runtime.signed import load_signed_envelope

    signed = load_signed_envelope(read_signed_file(signed_file), key)
    if json_out:
        summary = signed.to_dict()
        del summary["envelope"]
        print_json({"ok": True, **summary})
        return
    console.print(
        f"[green]OK[/] {escape(str(signed_file))}: envelope [bold]{escape(signed.envelope.name)}[/]"
        f" ({signed.envelope.digest}) for {escape(_model(signed))} ({signed.model_digest}),"
        f" signed {signed.signed_at:%Y-%m-%d %H:%M:%S}Z by key {signed.key_id[:16]}…",
        soft_wrap=True,
    )


@envelope_app.command("show")
def show(
    signed_file: SignedArg,
    key: Annotated[
        Path | None,
        typer.Option("--key", help="The signer's public key: check the signature too."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Every limit in a signed envelope. Without --key the signature is NOT checked."""
    from modelsteward.runtime.signed import load_signed_envelope, read_signed_envelope_unverified

    data = read_signed_file(signed_file)
    signed = load_signed_envelope(data, key) if key else read_signed_envelope_unverified(data)
    if json_out:
        print_json(signed.to_dict())
        return
    if signed.signature_checked:
        console.print(f"[green]signature verified[/] with {escape(str(key))}")
    else:
        console.print(
            "[bold yellow]signature NOT checked[/] (give --key PUB to verify it before trusting "
            "these limits)"
        )
    for label, text in (
        ("envelope", f"[bold]{escape(signed.envelope.name)}[/]  {signed.envelope.digest}"),
        (
            "model",
            f"{escape(_model(signed))}  {signed.model_digest}  ({len(signed.model_files)} files)",
        ),
        ("signed", f"{signed.signed_at:%Y-%m-%d %H:%M:%S}Z by key {signed.key_id[:16]}…"),
        ("identity", f"signed envelope {signed.statement_digest}"),
    ):
        console.print(f"{label:<10} {text}", soft_wrap=True)
    render_envelope(signed.envelope)


def render_envelope(envelope: Envelope) -> None:
    """The envelope's limits as Rich tables: ODD, speed caps, kinematics, RSS, thresholds…"""
    console.print(_pairs("vehicle and ODD", _odd(envelope)))
    caps = Table("mode", "speed cap", title="speed caps per mode", title_justify="left")
    for mode, cap in envelope.speed_caps.items():
        caps.add_row(mode.name.lower(), f"{cap:g} m/s")
    caps.caption = f"tolerance {envelope.speed_tolerance:g} m/s"
    console.print(caps)
    console.print(_pairs("kinematics", _kinematics(envelope)))
    rss = [
        (f.name, f"{getattr(envelope.rss, f.name):g} {_RSS_UNITS.get(f.name, 'm/s²')}")
        for f in fields(envelope.rss)
    ]
    console.print(_pairs("RSS", rss))
    console.print(_pairs("thresholds", _thresholds(envelope)))
    escalation = Table("rule or event", "escalates to", title="escalation", title_justify="left")
    for rule, mode in envelope.escalation.items():
        escalation.add_row(rule, mode.name.lower())
    console.print(escalation)
    fallback = envelope.fallback
    rows = [
        ("last valid proposal, max age", f"{fallback.last_valid_max_age:g} s"),
        ("comfortable stop", f"{fallback.comfortable_decel:g} m/s²"),
        ("minimal-risk stop", f"{fallback.minimal_risk_decel:g} m/s²"),
        ("horizon", f"{fallback.horizon:g} s"),
    ]
    console.print(_pairs("fallback", rows))
    if envelope.actions is not None:
        console.print(_actions(envelope))


def _model(signed: SignedEnvelope) -> str:
    return signed.model_ref or signed.model_name


def _pairs(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table("limit", "value", title=title, title_justify="left")
    for name, value in rows:
        table.add_row(name, value)
    return table


def _odd(envelope: Envelope) -> list[tuple[str, str]]:
    odd = envelope.odd
    xs = [x for polygon in odd.geofence.polygons for x, _ in polygon]
    ys = [y for polygon in odd.geofence.polygons for _, y in polygon]
    fence = (
        f"{len(odd.geofence.polygons)} polygon(s) within x {min(xs):g}…{max(xs):g} m, "
        f"y {min(ys):g}…{max(ys):g} m"
    )
    return [
        ("vehicle", f"{envelope.vehicle_length:g} m × {envelope.vehicle_width:g} m"),
        ("geofence", fence),
        ("road types", ", ".join(sorted(odd.road_types))),
        ("weather", ", ".join(sorted(odd.weather))),
        ("time of day", ", ".join(sorted(odd.time_of_day))),
        ("max speed", f"{odd.max_speed:g} m/s"),
    ]


def _kinematics(envelope: Envelope) -> list[tuple[str, str]]:
    k = envelope.kinematics
    return [
        ("max acceleration", f"{k.max_accel:g} m/s²"),
        ("max deceleration", f"{k.max_decel:g} m/s²"),
        ("max lateral acceleration", f"{k.max_lateral_accel:g} m/s²"),
        ("max jerk", f"{k.max_jerk:g} m/s³"),
        ("max curvature", f"{k.max_curvature:g} 1/m"),
        ("max steering rate", f"{k.max_steering_rate:g} rad/s"),
        ("wheelbase", f"{k.wheelbase:g} m"),
    ]


def _thresholds(envelope: Envelope) -> list[tuple[str, str]]:
    p = envelope.plausibility
    return [
        ("min time to collision", f"{envelope.ttc_min:g} s"),
        ("min confidence", f"{envelope.min_confidence:g}"),
        ("max input age", f"{envelope.max_input_age:g} s"),
        ("max objects", str(envelope.max_objects)),
        ("plausible speed", f"≤ {p.max_speed:g} m/s"),
        ("plausible acceleration", f"≤ {p.max_accel:g} m/s²"),
        ("plausible range", f"≤ {p.max_range:g} m"),
        ("max speed mismatch", f"{p.max_speed_mismatch:g} m/s"),
        ("heartbeat timeout", f"{envelope.heartbeat_timeout:g} s"),
        ("cycle deadline", f"{envelope.deadline * 1000:g} ms"),
        ("clean cycles to step down", str(envelope.deescalate_after)),
    ]


def _actions(envelope: Envelope) -> Table:
    semantics = envelope.actions
    assert semantics is not None
    roles = (
        ("hold", semantics.hold),
        ("comfortable stop", semantics.comfortable_stop),
        ("minimal risk", semantics.minimal_risk),
    )
    table = Table("index", "name", "lane change", "speed step", "fallback role")
    table.title, table.title_justify = "discrete actions", "left"
    table.caption = f"lateral speed during a lane change {semantics.lateral_speed:g} m/s"
    for index in sorted(semantics.actions):
        action = semantics.actions[index]
        table.add_row(
            str(index),
            escape(action.name),
            f"{action.lane_change:+d}" if action.lane_change else "0",
            f"{action.speed_delta:+g} m/s" if action.speed_delta else "0",
            ", ".join(role for role, chosen in roles if chosen == index),
        )
    return table
