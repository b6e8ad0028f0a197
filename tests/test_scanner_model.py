"""The job-ad scanner's statistical layer (bot/admodel.py): what a person pasting an ad sees.

The ads here were written for these tests, in wordings the rules in dialogs/scanner.yaml do
not know; none comes from the written ad set (tests/data/job_ads*.yaml).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import sys
from datetime import date

import numpy as np
import pytest

from bot import DIALOGS_DIR, LANGUAGES
from bot.admodel import AD_MODEL_PATH, AdModel
from bot.classifier import fold
from bot.corpus import load_ads
from bot.i18n import Translator
from bot.scanner import Scanner

TODAY = date(2026, 6, 1)

#: A fee no rule words this way ("each candidate makes a one-off contribution towards the
#: paperwork"), from an anonymous sender, with the word the quote must contain. (The
#: Ukrainian wording of the same ad scores 0.94, just under the model's threshold.)
UNSEEN_FEE = {
    "en": (
        "Factory packing jobs in Germany, no language needed. Before the trip each candidate "
        "makes a one-off contribution towards the paperwork, we tell you how much in private. "
        "Housing provided. Write to Anna.",
        "paperwork",
    ),
    "lt": (
        "Darbas sandėlyje Vokietijoje, kalbos nereikia. Prieš kelionę kiekvienas kandidatas "
        "prisideda prie dokumentų sutvarkymo, sumą pasakysime asmeniškai. Apgyvendinimas "
        "suteikiamas.",
        "dokumentų",
    ),
    "ru": (
        "Работа на складе в Германии, язык не нужен. Перед поездкой каждый кандидат "
        "вкладывается в оформление документов, сумму скажем в личке. Жильё предоставляем.",
        "кандидат",
    ),
}
#: Sound hospital ads: a named employer, a salary in line with the work, a way to apply.
HOSPITAL = {
    "en": (
        "Registered nurse (Band 5), St Mary's Hospital, Manchester. Permanent, full time, "
        "£29,970–£36,483 a year. NMC registration required. Apply through NHS Jobs, "
        "reference 123-ABC."
    ),
    "lt": (
        "Slaugytoja (-as), Vilniaus universiteto ligoninė Santaros klinikos. Darbo "
        "užmokestis nuo 1 900 € neatskaičius mokesčių. Pilnas etatas. CV siųskite el. paštu "
        "personalas@santa.lt."
    ),
    "ru": (
        "Медсестра в городскую больницу Клайпеды. Полная ставка, зарплата от 1 700 € до "
        "вычета налогов. Резюме присылайте на kadrai@klaipedosligonine.lt."
    ),
    "uk": (
        "Медична сестра до лікарні Святої Марії, Манчестер. Повна зайнятість, £29,970 на "
        "рік. Реєстрація NMC обовʼязкова. Подання через NHS Jobs."
    ),
}


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner.load(today=TODAY)


@pytest.fixture(scope="module")
def rules_only() -> Scanner:
    return Scanner.load(today=TODAY, model=False)


def parts(evidence: str) -> list[str]:
    return evidence.split(" … ")


@pytest.mark.parametrize("lang", sorted(UNSEEN_FEE))
def test_a_fee_in_words_the_rules_never_saw_is_flagged_with_the_words_behind_it(
    scanner, rules_only, lang
):
    text, word = UNSEEN_FEE[lang]
    # the rules alone see only that no employer is named (a weak sign)
    assert [f.id for f in rules_only.scan(text).checks] == ["no_company"]
    result = scanner.scan(text)
    assert "reads_risky" in result.ids
    finding = next(f for f in result.findings if f.id == "reads_risky")
    flat = " ".join(text.split())
    quoted = parts(finding.evidence)
    assert 1 <= len(quoted) <= 3
    assert all(q and q in flat for q in quoted)  # quoted as typed
    # words of the fee's sentence are among those quoted (which of its words the model
    # weighs most moves with every retraining)
    sentence = next(part for part in re.split(r"(?<=[.!?])\s+", flat) if word in part)
    assert any(q in sentence for q in quoted), (quoted, sentence)


def test_the_reason_reads_in_all_four_languages(scanner):
    why = next(f.why for f in scanner.flags if f.id == "reads_risky")
    translator = Translator.load()
    texts = {lang: translator.gettext(lang, why) for lang in LANGUAGES}
    assert texts["en"] == why and "risky job ads we know" in why
    assert len(set(texts.values())) == len(LANGUAGES)  # each language has its own text


@pytest.mark.parametrize("lang", sorted(HOSPITAL))
def test_a_sound_hospital_ad_is_left_quiet(scanner, lang):
    assert scanner.scan(HOSPITAL[lang]).ids == []


def test_the_model_never_hides_a_kept_passport(scanner):
    # a sound-sounding ad that keeps the passport: the rule's flag stands whatever the score
    text = (
        "Care assistant, Rosewood Care Home Ltd, Leeds, £12.90 an hour, full time. The "
        "manager keeps your passport during the contract. Apply at jobs@rosewood.co.uk."
    )
    assert "passport_kept" in scanner.scan(text).ids


def tiny_model(weight: float, bias: float, quiet: float = 0.0) -> AdModel:
    """A model that knows one word: "coordinator"."""
    return AdModel.of_features(
        ["w:" + fold("coordinator")],
        np.array([weight]),
        bias,
        {"raise": 0.9, "quiet": quiet},
        {"ads": 0},
    )


def with_model(scanner: Scanner, model: AdModel) -> Scanner:
    class Fixed:
        pass

    fixed = Fixed()
    fixed.model = model  # type: ignore[attr-defined]
    copy = Scanner(scanner.flags, scanner.pay, scanner.countries, scanner.typical, TODAY)
    copy.ad_model = fixed  # type: ignore[assignment]
    return copy


def test_one_weak_sign_alone_raises_no_warning_unless_the_model_reads_the_ad_as_risky(scanner):
    text = "Cleaner wanted, no experience needed. Talk to our coordinator."
    rules = Scanner.load(today=TODAY, model=False).scan(text)
    assert rules.ids == [] and [f.id for f in rules.checks] == ["no_company"]
    for sure_sound in (tiny_model(0.0, -5.0), tiny_model(0.0, 0.0)):  # p < raise
        quiet = with_model(scanner, sure_sound).scan(text)
        assert quiet.ids == [] and [f.id for f in quiet.checks] == ["no_company"]
    raised = with_model(scanner, tiny_model(200.0, 0.0)).scan(text)  # p >= raise
    assert set(raised.ids) == {"reads_risky", "no_company"} and raised.checks == ()
    assert next(f for f in raised.findings if f.id == "reads_risky").evidence == "coordinator"


FEE_ONLY = (
    "Cleaner at Hotel Arka, Vilnius. Pay a registration fee of 100 EUR before you start. "
    "Apply at jobs@arka.example."
)


def test_one_money_flag_is_a_thing_to_check_where_the_model_is_sure_the_ad_is_sound(scanner):
    # honest ads word fees, deductions, cash and pay alarmingly: where the model is surer
    # than its `quiet` threshold that the ad is sound, the one money flag is shown as a
    # thing to check, not as a warning
    assert Scanner.load(today=TODAY, model=False).scan(FEE_ONLY).ids == ["fee"]
    sure = with_model(scanner, tiny_model(0.0, -5.0, quiet=0.05)).scan(FEE_ONLY)  # p 0.007
    assert sure.ids == [] and [f.id for f in sure.checks] == ["fee"]
    unsure = with_model(scanner, tiny_model(0.0, 0.0, quiet=0.05)).scan(FEE_ONLY)  # p 0.5
    assert unsure.ids == ["fee"] and unsure.checks == ()
    off = with_model(scanner, tiny_model(0.0, -5.0, quiet=0.0)).scan(FEE_ONLY)
    assert off.ids == ["fee"]


def test_the_model_never_quiets_a_passport_or_two_heavy_flags(scanner):
    sure = tiny_model(0.0, -8.0, quiet=0.2)
    passport = FEE_ONLY.replace("Apply", "We keep your passport in the office. Apply")
    assert {"passport_kept", "fee"} <= set(with_model(scanner, sure).scan(passport).ids)
    kept = "Cleaner at Hotel Arka, Vilnius. We keep your passport in the office."
    assert "passport_kept" in with_model(scanner, sure).scan(kept).ids


def test_the_quiet_threshold_loses_no_risky_ad_out_of_fold():
    from bot.train import choose_ads

    weight = {"fee": 4, "no_company": 2, "passport_kept": 5}
    ids = [["fee"], ["fee"], ["passport_kept"], ["fee"]]
    risky = np.array([False, True, True, False])
    probs = np.array([0.01, 0.04, 0.001, 0.2])
    chosen = choose_ads(risky, ids, probs, weight, frozenset({"fee"}))
    assert chosen["quiet"] < 0.04 + 1e-9  # the risky fee ad at 0.04 stays flagged
    assert chosen["quiet"] > 0.01  # the sound one at 0.01 is quieted


def test_two_weak_signs_together_raise_a_warning_whatever_the_model_says(scanner):
    # no employer named and a messenger as the only contact: what risky ads show together
    text = "Cleaner wanted, no experience needed. Talk to our coordinator on WhatsApp."
    quiet = with_model(scanner, tiny_model(0.0, -5.0)).scan(text)
    assert set(quiet.ids) == {"no_company", "messenger_only"} and quiet.checks == ()


def test_a_weak_sign_beside_a_heavier_flag_counts_as_a_flag(scanner):
    text = "Cleaner wanted. Pay a 200 EUR deposit for the job first. Write on WhatsApp only."
    result = scanner.scan(text)
    assert "fee" in result.ids and "messenger_only" in result.ids and result.checks == ()


def test_the_model_is_trained_on_dev_ads_only_and_written_as_plain_arrays():
    model = AdModel.load(AD_MODEL_PATH)
    assert model.meta["ads"] == len(load_ads("dev"))
    assert model.meta["batches"] == sorted({ad.batch for ad in load_ads("dev")})
    assert 0.5 < model.raise_at < 1
    assert 0 < model.quiet_at <= 0.2
    with pytest.raises(ValueError, match="test part"):
        from bot.train import train_ads

        train_ads(load_ads("test")[:3])


def test_without_a_model_file_the_scanner_uses_its_rules_alone(tmp_path, rules_only):
    dialogs = tmp_path / "dialogs"
    shutil.copytree(DIALOGS_DIR, dialogs, ignore=shutil.ignore_patterns("scanner_model.npz"))
    scanner = Scanner.load(dialogs, today=TODAY)
    text = UNSEEN_FEE["en"][0]
    assert scanner.scan(text).ids == rules_only.scan(text).ids


def test_scan_command_prints_the_models_flag(monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setattr(sys, "stdin", io.StringIO(UNSEEN_FEE["en"][0]))
    assert main(["scan"]) == 0
    assert "reads_risky" in [f["id"] for f in json.loads(capsys.readouterr().out)["flags"]]


@pytest.mark.slow
def test_training_again_from_the_repository_gives_the_shipped_model(tmp_path):
    from bot.train import train_ads

    model = train_ads(load_ads("dev"), log=lambda line: None)
    model.save(tmp_path / "again.npz")
    again, shipped = AdModel.load(tmp_path / "again.npz"), AdModel.load(AD_MODEL_PATH)
    assert np.array_equal(again.keys, shipped.keys)
    assert again.raise_at == shipped.raise_at
    assert again.quiet_at == shipped.quiet_at
    assert np.allclose(again.values, shipped.values, atol=1e-3)


def test_two_trained_features_with_one_key_keep_the_heavier():
    # Keys are 32-bit CRCs: among ~47,000 features two may share one (these two do), and
    # training must not fail on that; the feature that weighs more keeps the key.
    from bot.admodel import AdModel, feature_key

    a, b = "w:x29685295", "w:x32060020"
    assert feature_key(a) == feature_key(b)
    thresholds = {"raise": 0.5}
    model = AdModel.of_features([a, "w:other", b], np.array([0.5, 1.0, -2.0]), 0.0, thresholds)
    assert len(model.keys) == 2
    assert sorted(model.values.tolist()) == [-2.0, 1.0]
    assert sorted(model.names) == sorted(["w:other", b])
