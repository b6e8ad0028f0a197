"""Free-text questions: every FAQ entry is found by typical questions in four languages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot import DIALOGS_DIR
from bot.faq import Faq, FaqEntry, FaqError, _stems, default_faq, same_stem
from bot.i18n import Translator

# How people really ask: short, with or without accents, sometimes transliterated.
QUESTIONS: dict[str, dict[str, list[str]]] = {
    "what_is_trafficking": {
        "en": ["What is human trafficking?", "what does trafficking mean"],
        "lt": ["Kas yra prekyba žmonėmis?", "kas yra prekyba zmonemis"],
        "ru": ["Что такое торговля людьми?", "что значит торговля людьми"],
        "uk": ["Що таке торгівля людьми?", "що означає торгівля людьми"],
    },
    "passport_kept": {
        "en": ["Can my employer keep my passport?", "my boss took my passport, is that ok"],
        "lt": ["Ar darbdavys gali laikyti mano pasą?", "ar gali paimti pasa"],
        "ru": ["Может ли работодатель забрать паспорт?", "zabrali pasport eto normalno"],
        "uk": ["Чи може роботодавець тримати мій паспорт?", "забрали паспорт це законно?"],
    },
    "check_agency": {
        "en": ["How do I check a recruitment agency?", "is this agency legit"],
        "lt": ["Kaip patikrinti agentūrą?", "ar agentūra legali"],
        "ru": ["Как проверить агентство?", "агентство легальное или нет"],
        "uk": ["Як перевірити агентство?", "як перевірити агенцію з працевлаштування"],
    },
    "agency_fee": {
        "en": ["Can an agency charge me a fee?", "they want a registration fee, normal?"],
        "lt": ["Ar agentūra gali imti mokestį?", "prašo registracijos mokesčio"],
        "ru": ["Нормально платить агентству за трудоустройство?", "агентство просит предоплату"],
        "uk": ["Чи треба платити агентству?", "агенція хоче комісію за працевлаштування"],
    },
    "not_paid": {
        "en": ["What if my employer doesn't pay me?", "I was not paid for two months"],
        "lt": ["Darbdavys nemoka atlyginimo, ką daryti?", "negavau atlyginimo"],
        "ru": ["Что делать если не платят зарплату?", "мне не заплатили за месяц"],
        "uk": ["Що робити, якщо не платять зарплату?", "мені не виплатили зарплату"],
    },
    "embassy": {
        "en": ["What can the embassy do for me?", "should I call the embassy"],
        "lt": ["Kuo gali padėti ambasada?", "ka daro ambasada"],
        "ru": ["Чем может помочь посольство?", "куда обратиться в посольство"],
        "uk": ["Чим може допомогти посольство?", "що робить консульство"],
    },
    "salary_normal": {
        "en": ["Is this salary normal?", "what is the minimum wage in Germany"],
        "lt": ["Ar toks atlyginimas normalus?", "koks minimalus atlyginimas Vokietijoje"],
        "ru": ["Это нормальная зарплата?", "какая минимальная зарплата в Польше"],
        "uk": ["Це нормальна зарплата?", "яка мінімальна зарплата в Польщі"],
    },
    "meeting_online": {
        "en": [
            "How to stay safe meeting someone I met online?",
            "first date with a guy from tinder",
        ],
        "lt": ["Susipažinau internete, kaip saugiai susitikti?", "pirmas pasimatymas"],
        "ru": ["Познакомилась в интернете, как безопасно встретиться?", "первое свидание"],
        "uk": ["Познайомилася в інтернеті, як безпечно зустрітися?", "перше побачення"],
    },
    "lover_boy": {
        "en": ["What is a lover boy?", "my boyfriend is jealous and wants me to go abroad"],
        "lt": ["Kas yra loverboy?", "vaikinas kviečia į užsienį"],
        "ru": ["Кто такой лавбой?", "парень зовет за границу"],
        "uk": ["Хто такий лавбой?", "хлопець кличе за кордон"],
    },
    "contract": {
        "en": ["Do I need a written contract?", "they won't give me an employment contract"],
        "lt": ["Ar reikia rašytinės darbo sutarties?", "dirbu be sutarties"],
        "ru": ["Нужен ли письменный договор?", "работаю без договора"],
        "uk": ["Чи потрібен письмовий договір?", "працюю без договору"],
    },
    "tourist_visa": {
        "en": ["Can I work on a tourist visa?", "do I need a work permit"],
        "lt": ["Ar galima dirbti su turistine viza?", "ar reikia darbo vizos"],
        "ru": ["Можно ли работать по туристической визе?", "нужна ли рабочая виза"],
        "uk": ["Чи можна працювати по туристичній візі?", "чи потрібна робоча віза"],
    },
    "debt": {
        "en": ["They paid my ticket and now say I owe them money", "I have to work off a debt"],
        "lt": ["Sako, kad turiu atidirbti skolą", "esu skolinga darbdaviui"],
        "ru": ["Говорят, что я должна отработать долг", "долг за дорогу"],
        "uk": ["Кажуть, що я маю відпрацювати борг", "борг за дорогу"],
    },
    "before_leaving": {
        "en": ["What should I do before I go to work abroad?", "tips before going abroad"],
        "lt": ["Ką daryti prieš išvykstant dirbti į užsienį?", "noriu dirbti uzsienyje"],
        "ru": ["Что сделать перед отъездом на работу за границу?", "хочу уехать за границу"],
        "uk": ["Що зробити перед від'їздом на роботу за кордон?", "хочу поїхати за кордон"],
    },
    "consent": {
        "en": ["I agreed to go, is it still trafficking?", "is it my fault, I went voluntarily"],
        "lt": ["Aš pati sutikau, ar tai vis tiek prekyba žmonėmis?", "ar mano kaltė"],
        "ru": ["Я сама согласилась, это все равно торговля людьми?", "это моя вина?"],
        "uk": ["Я сама погодилася, це все одно торгівля людьми?", "це моя провина?"],
    },
    "hotline": {
        "en": ["Who can I call? Is there a hotline?", "emergency number please"],
        "lt": ["Kur kreiptis pagalbos?", "kokia pagalbos linija"],
        "ru": ["Куда звонить, есть горячая линия?", "куда обратиться"],
        "uk": ["Куди дзвонити, є гаряча лінія?", "куди звернутися"],
    },
    "job_offer_safe": {
        "en": ["How do I know if a job offer is safe?", "is this a fake job"],
        "lt": ["Kaip patikrinti darbo pasiūlymą?", "ar pasiūlymas tikras"],
        "ru": ["Как проверить вакансию?", "это фейковая вакансия?"],
        "uk": ["Як перевірити вакансію?", "чи пропозиція справжня"],
    },
}

UNRELATED = {
    "en": [
        "Hello, how are you?",
        "I want to buy a car",
        "My passport expired last year",
        "What time is it?",
        "thank you",
        "ok",
    ],
    "lt": [
        "Labas, kaip sekasi?",
        "Noriu nusipirkti mašiną",
        "Kokia rytoj bus orai?",
        "Ačiū",
        "Kur galima nusipirkti bilietą?",
    ],
    "ru": [
        "Привет, как дела?",
        "Какая погода в Берлине?",
        "Где купить билет на поезд?",
        "Спасибо",
        "Я люблю свою собаку",
    ],
    "uk": [
        "Привіт, як справи?",
        "Яка погода завтра?",
        "Скільки коштує квиток до Варшави?",
        "Дякую",
        "Хочу працювати в Польщі",
    ],
}


@pytest.fixture(scope="module")
def faq() -> Faq:
    return Faq.load()


def test_every_entry_has_questions_in_every_language(faq):
    assert {e.id for e in faq.entries} == set(QUESTIONS)
    for entry_id, by_lang in QUESTIONS.items():
        assert set(by_lang) == {"en", "lt", "ru", "uk"}, entry_id


CASES = [
    (entry_id, lang, question)
    for entry_id, by_lang in QUESTIONS.items()
    for lang, questions in by_lang.items()
    for question in questions
]


@pytest.mark.parametrize(("entry_id", "lang", "question"), CASES)
def test_typical_question_finds_its_answer(faq, entry_id, lang, question):
    entry = faq.match(question, lang)
    assert entry is not None and entry.id == entry_id


@pytest.mark.parametrize(("entry_id", "lang", "question"), CASES[::3])
def test_the_chosen_language_does_not_matter(faq, entry_id, lang, question):
    # people type in their own language whatever the menu language is
    others = [x for x in ("en", "lt", "ru", "uk") if x != lang]
    assert all(faq.match(question, other).id == entry_id for other in others)
    assert faq.match(question).id == entry_id


@pytest.mark.parametrize(
    ("lang", "text"), [(lang, t) for lang, texts in UNRELATED.items() for t in texts]
)
def test_unrelated_text_does_not_match(faq, lang, text):
    assert faq.match(text, lang) is None


def test_one_common_word_is_not_enough(faq):
    assert faq.match("passport", "en") is None
    assert faq.match("зарплата", "ru") is None
    assert faq.match("", "en") is None


def test_an_answer_offers_a_flow_that_exists(faq):
    for entry in faq.entries:
        assert (DIALOGS_DIR / f"{entry.offer}.yaml").exists()
    assert faq.match("Can my employer keep my passport?") == FaqEntry(
        "passport_kept",
        "May my employer keep my passport?",
        faq.entry("passport_kept").answer,
        "job_offer",
    )


def test_answers_are_short_and_say_where_a_number_comes_from(faq):
    raw = yaml.safe_load((DIALOGS_DIR / "faq.yaml").read_text("utf-8"))
    for entry in raw["entries"]:
        answer = entry["answer"]
        assert 120 <= len(answer) <= 750, entry["id"]
    salary = faq.entry("salary_normal").answer
    assert "€13.90" in salary and "no legal minimum" in salary


def test_every_answer_is_translated_into_each_language(faq):
    translator = Translator.load()
    for entry in faq.entries:
        for lang in ("lt", "ru", "uk"):
            for text in (entry.question, entry.answer):
                assert translator.gettext(lang, text) != text, (entry.id, lang)


def test_default_faq_is_loaded_once():
    assert default_faq() is default_faq()


def broken(tmp_path: Path, old: str, new: str) -> Path:
    dialogs = tmp_path / "dialogs"
    shutil.copytree(DIALOGS_DIR, dialogs, ignore=shutil.ignore_patterns("signals"))
    path = dialogs / "faq.yaml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")
    return dialogs


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    offer: risk\n", "    offer: nowhere\n", "offer"),
        ("  - id: passport_kept\n", "  - id: what_is_trafficking\n", "used twice"),
        ("      uk: [паспорт,", "      pl: [paszport,", "keywords"),
        ("kind: faq", "kind: flow", "kind"),
    ],
)
def test_a_broken_faq_file_is_reported(tmp_path, old, new, message):
    with pytest.raises(FaqError, match=message):
        Faq.load(broken(tmp_path, old, new))


def test_the_stem_index_agrees_with_the_plain_rule(faq):
    texts = [q for by_lang in QUESTIONS.values() for qs in by_lang.values() for q in qs]
    texts += [t for ts in UNRELATED.values() for t in ts]
    for lang, index in faq.index.items():
        for text in texts:
            words = set(_stems(text, lang))
            plain = {k for k in index.stems if any(same_stem(k, w) for w in words)}
            assert index.found(words) == plain, (lang, text)
