"""`flask models install|status`: put an official Vosk model where the worker will find it.

Models cannot be downloaded at run time here; operators fetch the zip themselves and install it.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
import uuid
import zipfile
from pathlib import Path, PurePosixPath

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from telephony.config import Settings
from worker.model_folders import LANGUAGES, OFFICIAL_MODELS, check_model_dir, model_folder, model_status_lines


def init_app(app: Flask) -> None:
    app.cli.add_command(models_group)


models_group = AppGroup("models", help="Speech models (Vosk) for transcribing report recordings.")


@models_group.command("install")
@click.argument("zip_path", metavar="ZIP", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--language", required=True, type=click.Choice(LANGUAGES), help="The callers' language this model serves.")
@click.option("--sha256", "expected_sha256", default="", help="Refuse the zip unless its SHA-256 is this (hex).")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), help="Install here, not in instance/models/<language>.")
@click.option("--replace", is_flag=True, help="Replace a model already installed at the destination.")
def install_command(zip_path: Path, language: str, expected_sha256: str, dest: Path | None, replace: bool) -> None:
    """Unpack an official Vosk model zip (e.g. vosk-model-small-cn-0.22.zip) and check its layout.

    Unpacks next to the destination and renames into place only when complete and valid, so a
    worker never sees half a model.
    """
    settings: Settings = current_app.config["SETTINGS"]
    target = (dest or settings.instance_dir / "models" / language).resolve()
    if expected_sha256:
        actual = _sha256(zip_path)
        if actual != expected_sha256.strip().lower():
            raise click.ClickException(
                f"sha256 mismatch for {zip_path}: expected {expected_sha256}, got {actual}; nothing installed"
            )
    if target.exists() and any(target.iterdir()) and not replace:
        raise click.ClickException(f"{target} already holds a model; pass --replace to swap it")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.installing-", dir=target.parent))
    try:
        root = _unpack(zip_path, staging)
        problems = check_model_dir(root)
        if problems:
            raise click.ClickException(f"{zip_path} is not a Vosk model: {'; '.join(problems)}; nothing installed")
        name = root.name if root != staging else zip_path.stem
        _swap_into_place(root, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    click.echo(f"installed {name} for {language} at {target}")
    env_var = OFFICIAL_MODELS[language][2]
    configured = settings.vosk_model_for(language)
    if dest is not None:
        click.echo(f"set {env_var}={target} in the environment (.env) so workers load it")
    elif configured and Path(configured).resolve() != target:
        click.echo(f"note: {env_var}={configured} is set and takes precedence over {target}")
    click.echo("restart the workers to load it")


@models_group.command("status")
def status_command() -> None:
    """Which speech model each language will use, or what to install."""
    settings: Settings = current_app.config["SETTINGS"]
    missing = model_status_lines(settings)
    for language in LANGUAGES:
        folder = model_folder(settings, language)
        if not check_model_dir(folder):
            click.echo(f"{language}: {folder}")
    for line in missing:
        click.echo(line)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _unpack(zip_path: Path, staging: Path) -> Path:
    """Extract safely (no absolute paths or ..); return the model root (the zip's single top folder)."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for member in archive.namelist():
                parts = PurePosixPath(member).parts
                if member.startswith(("/", "\\")) or ".." in parts:
                    raise click.ClickException(f"{zip_path} has an unsafe path {member!r}; nothing installed")
            archive.extractall(staging)
    except zipfile.BadZipFile as exc:
        raise click.ClickException(f"{zip_path} is not a zip file ({exc}); nothing installed") from exc
    entries = [p for p in staging.iterdir() if not p.name.startswith(("__MACOSX", "."))]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return staging


def _swap_into_place(root: Path, target: Path) -> None:
    """Rename the unpacked model to target; an old model is moved aside first and removed after."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        target.rename(old)
    try:
        root.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
