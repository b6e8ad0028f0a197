"""The detector's statistical layer: spelling-proof reading, the stored model, training."""

from __future__ import annotations

import numpy as np
import pytest

from bot import corpus
from bot.classifier import OUTPUTS, Classifier, analyse, default_classifier, fold


@pytest.mark.parametrize(
    "spellings",
    [
        ("паспорт", "pasport", "passport", "Pasport"),
        ("забрали", "zabrali", "zabraly"),
        ("выпускают", "vypuskayut", "vipuskaiut", "vypuskajut"),
        ("відпускають", "vidpuskaiut", "vidpuskayut"),
        ("гроші", "hroshi", "groshi"),
        ("щось", "shchos", "schos"),
    ],
)
def test_one_word_written_several_ways_has_one_skeleton(spellings):
    assert len({fold(s) for s in spellings}) == 1


def test_negation_marks_the_words_after_it_in_its_clause():
    _, read = analyse("they did not take my passport, but the boss hit me")
    assert "~pasport" in read and "pasport" not in read
    assert "git" in read  # "hit", after the comma, is not negated


def test_the_shipped_model_loads_and_scores_every_output():
    clf = default_classifier()
    assert clf is not None
    z = clf.logits(analyse("they took our passports and lock us in at night")[1])
    assert z.shape == (len(OUTPUTS),)
    assert z[0] > clf.logit_thresholds[0]  # danger


def test_a_saved_model_reads_back_the_same(tmp_path):
    clf = default_classifier()
    path = tmp_path / "model.npz"
    clf.save(path)
    again = Classifier.load(path)
    read = analyse("мне не платят уже три месяца и паспорт у бригадира")[1]
    assert np.allclose(clf.logits(read), again.logits(read), atol=1e-3)


def test_the_test_split_is_fixed_by_the_text_and_never_trained_on():
    from bot.train import train

    items = corpus.load("all", devset=False)
    test = [e for e in items if e.split == "test"]
    assert 0.15 < len(test) / len(items) < 0.25
    assert all(corpus.split_of(e.text) == "test" for e in test)
    with pytest.raises(ValueError, match="test split"):
        train(test[:10])


@pytest.mark.slow
def test_training_from_the_repository_gives_a_working_model(tmp_path):
    """A small, fast training run: the same code path as `python -m bot train`."""
    from bot.train import train

    examples = corpus.load("train", devset=False, batches=["en-1"])
    clf = train(examples, log=lambda _: None)
    path = tmp_path / "m.npz"
    clf.save(path)
    again = Classifier.load(path)
    # the trained model, used as `serve` uses it (after the rules), reads danger and its kind
    from bot.detector import Detector

    found = Detector.load(classifier=again).detect("the boss took my pasport and dont pay me")
    assert found.danger and "documents_taken" in found.categories
    read = analyse("the boss took my passport and does not pay")[1]
    assert again.logits(read)[0] > again.logits(analyse("the weather is nice today")[1])[0]
    assert again.meta["batches"] == ["en-1"]


def test_the_shipped_model_holds_its_figures_on_writers_it_has_never_read():
    # clean-47 (dialogs/signals/corpus/pending/, four new writers, never trained on, never
    # read for tuning) is the unseen measure of the shipped model: 300 well-formed messages
    # written while it was trained. Read by the model before it (44eb231), before anything
    # was learnt from batch 49 and clean-46: 0.985 / 0.980 / 0.974 / 0.929 (aims 0.97 / 0.95
    # / 1.0): well-formed urgent recall two messages short (74 of 76), as in clean-44 and
    # clean-46. With the model after batch 49 (917e579): 0.985 / 0.980 / 0.974 / 0.933; with
    # this one (the same corpus and rules read from out-of-fold misses): 0.985 / 0.980 /
    # 0.974 / 0.935.
    # Batch 50 and clean-48 (eight more new writers, written while 917e579 was trained):
    # 0.983 / 0.954 / 0.980 / 0.947 and 0.995 / 0.975 / 1.0 / 0.953 with 44eb231,
    # 0.986 / 0.952 / 0.980 / 0.950 and 0.995 / 0.975 / 1.0 / 0.957 with 917e579, and
    # 0.986 / 0.952 / 0.980 / 0.951 and 0.995 / 0.975 / 1.0 / 0.959 with this one: every aim.
    # Batch 51 and clean-49 (eight more, written while this model was trained): 0.978 / 0.959
    # / 0.974 / 0.939 and 0.995 / 0.980 / 0.974 / 0.925 with 44eb231; 0.981 / 0.957 / 0.974 /
    # 0.944 and 1.0 / 0.980 / 0.974 / 0.927 with this one: well-formed urgent recall two
    # messages short again (74 of 76).
    # clean-50 (four more): 0.985 / 0.990 / 0.974 / 0.919 with 44eb231, 0.985 / 0.990 / 0.974 /
    # 0.923 with this model. Then the train parts of batches 50-51 and clean-48-50 were read
    # and urgent rules written from them (the model unchanged): the floors below are the
    # figures after those rules (51: urgent 0.974 -> 1.0; clean-49: 0.974 -> 0.987; clean-50:
    # 0.974 -> 1.0), no longer unseen figures.
    # clean-51 (four more, never read): 0.990 / 0.990 / 0.974 / 0.932 with 44eb231, 0.995 /
    # 0.985 / 0.974 / 0.928 with this model and these rules: urgent 74 of 76 once more.
    # Held where they were measured, so that a change cannot make them worse unnoticed.
    from bot.detector import default_detector
    from bot.devset import evaluate

    detector = default_detector()

    def holds(pattern: str, size: int, *floors: float) -> None:
        paths = sorted((corpus.CORPUS_DIR / "pending").glob(pattern))
        items = [ex for path in paths for ex in corpus.read_file(path)]
        assert len(items) == size
        report = evaluate(detector, items)
        got = (report.recall, report.precision, report.urgent_recall, report.category_recall)
        names = ("recall", "precision", "urgent", "category")[: len(floors)]
        for name, value, floor in zip(names, got, floors, strict=False):
            assert value >= floor, (pattern, name, value)

    holds("clean-47-*.yaml", 300, 0.984, 0.979, 0.973, 0.934)
    holds("*-50.yaml", 600, 0.985, 0.951, 0.979, 0.950)
    holds("clean-48-*.yaml", 300, 0.994, 0.974, 0.999, 0.958)
    holds("*-51.yaml", 600, 0.985, 0.956, 0.999, 0.953)
    holds("clean-49-*.yaml", 300, 0.999, 0.979, 0.986, 0.928)
    holds("clean-50-*.yaml", 300, 0.984, 0.989, 0.999, 0.928)
    holds("clean-51-*.yaml", 300, 0.994, 0.984, 0.973, 0.927)


def test_a_full_row_cache_is_emptied_between_texts_never_inside_one(monkeypatch):
    """Words and pairs get rows of a table that is emptied when it fills: emptied in the
    middle of a text, the rows of its first words would be given to its later ones."""
    from bot import classifier as module

    texts = [e.text for e in corpus.load("all", devset=False)[:400]]
    roomy = Classifier.load()
    monkeypatch.setattr(module, "WORD_CACHE", 400)  # fills every few texts
    small = Classifier.load()
    for i, text in enumerate(texts):
        read = analyse(text)[1]
        assert np.array_equal(small.logits(read), roomy.logits(read)), text
        story = analyse(" ".join(texts[i : i + 4]))[1]  # a long story, read by pieces
        pieces = [(0, len(story) // 2), (len(story) // 2, len(story))]
        assert np.array_equal(
            small.most_dangerous(story, pieces, []), roomy.most_dangerous(story, pieces, [])
        )


def test_a_long_text_is_read_as_a_whole_and_by_its_most_alarming_sentence():
    # `whole_share` moves the most alarming piece's scores towards the whole text's, which
    # come from the same lookups: all the way, they are `logits` of the whole text
    clf = Classifier.load()
    texts = [e.text for e in corpus.load("all", devset=False)[:200]]
    for i in range(0, 200, 8):
        story = analyse(" ".join(texts[i : i + 8]) + " ?")[1]
        pieces = [(0, len(story) // 3), (len(story) // 3, len(story) - 1)]  # "?" in none
        best = clf.most_dangerous(story, pieces, [1])
        whole = clf.logits(story, [1])
        assert np.allclose(
            clf.most_dangerous(story, pieces, [1], whole_share=1.0), whole, atol=1e-5
        )
        blend = clf.most_dangerous(story, pieces, [1], whole_share=0.7)
        assert np.allclose(blend, best + 0.7 * (whole - best), atol=1e-5)


def test_rule_dropout_makes_the_words_carry_danger_the_rules_also_found(monkeypatch):
    # a word that only ever comes with a rule match: without dropout the rule feature takes
    # most of the weight, with it the word must also tell danger on its own (a new writer's
    # wording that no rule knows)
    from scipy import sparse

    from bot import train

    rng = np.random.default_rng(0)
    n = 200
    danger = rng.random(n) < 0.5
    word = danger & (rng.random(n) < 0.9)  # the word, mostly in dangerous messages
    noise = rng.random(n) < 0.3
    rule = danger.copy()  # the rule finds every dangerous one
    x = sparse.csr_matrix(np.column_stack([word, noise, rule]).astype(float))
    y = danger.astype(np.int8)[:, None]
    monkeypatch.setattr(train, "RULE_DROPOUT", 0.0)
    plain, _ = train.fit(x, y, rule_columns=1)
    monkeypatch.setattr(train, "RULE_DROPOUT", 0.5)
    dropped, _ = train.fit(x, y, rule_columns=1)
    assert dropped[0, 0] > plain[0, 0] + 0.5


def test_an_urgent_alarm_is_withdrawn_only_where_the_story_goes_on_and_settles_it():
    # out of fold (bench/oof_story_veto.py) this took 63 of 978 false alarms and lost no
    # danger; a cry for help, a sale or a wish to die is never withdrawn
    from bot.detector import default_detector

    detector = default_detector()
    settled = [
        "I thought I had been locked in at the factory last night. It turned out the "
        "electronic lock had failed; security came within five minutes and apologised.",
        "Мене замкнули на складі! Щоправда, лише на десять хвилин, поки охоронець шукав "
        "ключі, а я спокійно допила каву.",
    ]
    for text in settled:
        assert detector.rules(text).urgent, text  # the rules alone still read it urgent
        assert not detector.detect(text).danger, text
    for text in [
        "they locked me in the basement. i am writing from the toilet",
        "I was locked in at the factory last night",  # nothing follows
        "хочу умереть. сил нет. всем будет лучше",  # a wish to die stands
        "help. they locked me in. it is dark here",
    ]:
        assert detector.detect(text).urgent, text
