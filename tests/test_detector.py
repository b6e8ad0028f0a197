"""The danger-signal detector: what it must catch, what it must leave alone, and its tools."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import ROOT
from bot.detector import (
    CATEGORIES,
    SIGNALS_DIR,
    Detection,
    Detector,
    Signal,
    SignalsError,
    default_detector,
    detect_command,
)
from bot.devset import AIMS, DEVSET, devset_command, evaluate, format_report, load_devset
from bot.text import drop_invisible


@pytest.fixture(scope="module")
def detector() -> Detector:
    return default_detector()


# One sentence per category and language, phrased differently from the development set.
CATCH = [
    # documents_taken
    ("en", "The manager took our passports on the first day", "documents_taken"),
    ("lt", "Agentūra atėmė mano pasą ir negrąžina", "documents_taken"),
    ("ru", "Хозяин держит наши паспорта у себя", "documents_taken"),
    ("uk", "Роботодавець забрав мій паспорт", "documents_taken"),
    # confinement
    ("en", "They won't let us leave the farm", "confinement"),
    ("lt", "Mūsų neišleidžia iš ūkio", "confinement"),
    ("ru", "Нас не выпускают с фермы", "confinement"),
    ("uk", "Нас не випускають з ферми", "confinement"),
    # violence
    ("en", "The supervisor punched me in the face", "violence"),
    ("lt", "Brigadininkas mane sumušė", "violence"),
    ("ru", "Бригадир избил моего брата", "violence"),
    ("uk", "Бригадир побив мого брата", "violence"),
    # threats
    ("en", "They threatened to hurt my kids", "threats"),
    ("lt", "Jie grasina mano vaikams", "threats"),
    ("ru", "Мне угрожают депортацией", "threats"),
    ("uk", "Мені погрожують депортацією", "threats"),
    # debt_bondage
    ("en", "I have to work off a debt for the flight", "debt_bondage"),
    ("lt", "Turiu atidirbti skolą už skrydį", "debt_bondage"),
    ("ru", "Надо отработать долг за билет", "debt_bondage"),
    ("uk", "Треба відпрацювати борг за квиток", "debt_bondage"),
    # wages_withheld
    ("en", "They have not paid us since March", "wages_withheld"),
    ("lt", "Jau mėnesį nemoka algos", "wages_withheld"),
    ("ru", "Нам не платят с марта", "wages_withheld"),
    ("uk", "Нам не платять з березня", "wages_withheld"),
    # sexual_exploitation
    ("en", "They force my sister into prostitution", "sexual_exploitation"),
    ("lt", "Seserį verčia užsiimti prostitucija", "sexual_exploitation"),
    ("ru", "Сестру заставляют заниматься проституцией", "sexual_exploitation"),
    ("uk", "Сестру змушують займатися проституцією", "sexual_exploitation"),
    # forced_crime
    ("en", "They force us to steal in supermarkets", "forced_crime"),
    ("lt", "Mus verčia vogti prekybos centruose", "forced_crime"),
    ("ru", "Нас заставляют воровать в супермаркетах", "forced_crime"),
    ("uk", "Нас змушують красти в супермаркетах", "forced_crime"),
    # deception
    ("en", "They lied to us about the job and the salary", "deception"),
    ("lt", "Apgavo dėl darbo ir atlyginimo", "deception"),
    ("ru", "Нас обманули с работой и зарплатой", "deception"),
    ("uk", "Нас обманули з роботою і зарплатою", "deception"),
    # abusive_conditions
    ("en", "We work 14 hours every day", "abusive_conditions"),
    ("lt", "Dirbame po 14 valandų kasdien", "abusive_conditions"),
    ("ru", "Работаем по 14 часов каждый день", "abusive_conditions"),
    ("uk", "Працюємо по 14 годин щодня", "abusive_conditions"),
    # isolation
    ("en", "The boss took our phones", "isolation"),
    ("lt", "Šeimininkas atėmė mūsų telefonus", "isolation"),
    ("ru", "Хозяин отобрал наши телефоны", "isolation"),
    ("uk", "Господар відібрав наші телефони", "isolation"),
    # immediate_danger
    ("en", "I don't know where I am", "immediate_danger"),
    ("lt", "Nežinau, kur esu", "immediate_danger"),
    ("ru", "Не знаю, где я", "immediate_danger"),
    ("uk", "Не знаю, де я", "immediate_danger"),
]


@pytest.mark.parametrize(("lang", "text", "category"), CATCH)
def test_catches_each_category_in_each_language(
    detector: Detector, lang: str, text: str, category: str
) -> None:
    found = detector.detect(text)
    assert found.danger
    assert category in found.categories
    assert found.lang == lang


HARMLESS = [
    "They didn't take my passport, they only made a copy.",
    "How do I renew my passport?",
    "I locked my keys in the car.",
    "I have a student loan, can I still work abroad?",
    "We watched a film about trafficking.",
    "The job ad promises 3000 euros a month, is that realistic?",
    "My boyfriend from Instagram wants me to visit him, what should I check?",
    "Can you help me find a job in Denmark?",
    "This heat is killing me",
    "I sold my car before I left",
    "I owe my brother 20 euros, I'll pay him back tomorrow",
    "I lost my passport on the train",
    "Kaip atnaujinti pasą?",
    "Pamečiau pasą",
    "Как продлить паспорт?",
    "Они не забирали паспорт",
    "Як продовжити паспорт?",
    "Вони не забирали паспорт",
    "Смотрели фильм про рабство",
    "Помогите найти работу в Польше",
    "Допоможіть знайти роботу",
    "Padėkit rasti darbą",
    "Caravan accommodation £70 per week deducted from wages with your written agreement.",
    "The employer keeps your passport during the contract",
    "Darbas Olandijoje, apgyvendinimas išskaičiuojamas iš atlyginimo",
    "",
    "   ",
]


@pytest.mark.parametrize("text", HARMLESS)
def test_leaves_harmless_texts_alone(detector: Detector, text: str) -> None:
    found = detector.detect(text)
    assert not found.danger, found.signals
    assert not found.urgent
    assert found.signals == ()


@pytest.mark.parametrize(
    ("negated", "plain"),
    [
        ("They did not take my passport", "They took my passport"),
        ("Nobody beat me", "The boss beat me"),
        ("Они не забрали паспорт", "Они забрали паспорт"),
        ("Вони не забрали паспорт", "Вони забрали паспорт"),
        ("Jie nepaėmė mano paso", "Jie paėmė mano pasą"),
    ],
)
def test_negation_just_before_a_match_cancels_it(
    detector: Detector, negated: str, plain: str
) -> None:
    assert not detector.detect(negated).danger
    assert detector.detect(plain).danger


def test_negation_in_another_clause_does_not_cancel(detector: Detector) -> None:
    found = detector.detect("I did not complain, but they took my passport")
    # (the statistical layer may add a category of its own; the rule's must stand)
    assert "documents_taken" in found.categories
    assert (
        "documents_taken"
        in detector.rules("I did not complain, but they took my passport").categories
    )


def test_a_harmless_context_cancels_only_its_own_sentence(detector: Detector) -> None:
    text = "We saw a film about trafficking. Now they took my passport too."
    assert "documents_taken" in detector.detect(text).categories


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("zabrali pasport", "documents_taken"),
        ("menya ne vypuskayut", "confinement"),
        ("ne platyat zarplatu", "wages_withheld"),
        ("zabraly pasport", "documents_taken"),
        ("ne platiat", "wages_withheld"),
        ("paeme pasa", "documents_taken"),
        ("uzrakino mus", "confinement"),
        ("grasina seimai", "threats"),
        ("they took my pasport", "documents_taken"),
        ("забрали пасспорт", "documents_taken"),
        ("Boss забрал passport", "documents_taken"),
    ],
)
def test_reads_transliteration_missing_diacritics_and_typos(
    detector: Detector, text: str, category: str
) -> None:
    assert category in detector.detect(text).categories


def test_transliteration_without_soft_signs_is_read_as_meant() -> None:
    # "umeret" is умереть and "ubyut" убьют: chat transliteration drops the soft sign.
    # The rules alone, so that the model cannot hide a gap in their reading.
    rules = Detector.load(None, None)
    assert rules.detect("hochu umeret").urgent
    found = rules.detect("skazal ubyut menya esli ujdu")
    assert found.urgent and "threats" in found.categories
    # a soft sign is never added before "e": Lithuanian "bet" (but) is not "бьет" (beats)
    assert not rules.detect("6 val sedejom autobuse, bet jau lenkijoj").danger


@pytest.mark.parametrize(
    "text",
    [
        "SOS",
        "🆘",
        "help",
        "Help me please",
        "Помогите!!!",
        "Допоможіть!",
        "Padėkit!",
        "I'm locked in",
        "He said he will kill me",
        "I was raped",
        "Меня продали",
        "Мене замкнули",
        "Nežinau, kur esu",
    ],
)
def test_urgent_texts_are_urgent(detector: Detector, text: str) -> None:
    found = detector.detect(text)
    assert found.danger and found.urgent
    assert found.categories, "an urgent text also says why"


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        # a teenager held now, in their own words or with the age in words, and a rule of
        # a summer camp or of parents that is no one held
        ("my daughter 15 texted me 'mum they wont let me go home' and her phone is off", True),
        ("Сын, ему пятнадцать, уехал с тренером. Домой его не отпускают.", True),
        ("мені 16, він не відпускає мене додому", True),
        ("man 16, jis neišleidžia manęs namo", True),
        ("my son is 16 and at the camp they dont let him go swimming alone", False),
        ("im 16 and my parents wont let me go to the concert", False),
        # a death threat in other words; "nobody found the trail" is no threat
        ("he said he take me to the mountain and nobody find me", True),
        ("бригадир сказал кто сбежит того найдут в лесу", True),
        ("sake jei pabegsi niekas taves neras", True),
        ("we went hiking in the mountains and nobody found the trail", False),
        # "I do not want to live any more" with a word between
        ("не хочу больше жить, долг только растёт", True),
        ("не хочу більше жити", True),
        # locked in "an hour ago" is locked in now
        ("Около часа назад бригадир запер нас в холодильной камере", True),
        ("an hour ago the boss locked us in the container", True),
        ("two hours ago I locked my keys in the car", False),
        # a locked door and not let out; "hurry, he is back"
        ("He has locked the front door and says I may not leave until my contract ends", True),
        ("we locked the door so the dog does not go out", False),
        ("пожалуйста быстрее он вернулся", True),
        # kinds the model missed out of fold: a farewell, smoke behind a locked door, a gun
        # had, pills all taken, "don't call the ambulance"; and their everyday neighbours
        ("7th floor balcony looks better than another year like this", True),
        ("our bridge looks better than the old one", False),
        ("nebesugebu, einu i jura", True),
        ("einu i jura maudytis", False),
        ("smoke everywhere cant open door", True),
        ("smoke alarm went off, door is fine", False),
        ("i am a guard, the man have a gun. please", True),
        ("isgeriau visas tabletes kiek buvo", True),
        ("isgeriau dvi tabletes nuo galvos ir einu miegot", False),
        ("из ноги кость торчит, бригадир говорит скорую не звони", True),
        ("раздала вещи девочкам, сегодня всё", True),
        ("я написала листи дітям, сьогодні ввечері все закінчиться", True),
        ("сегодня всё закончится, последний день смены", False),
        # read in batches 50-51 and clean-48-50: "has locked her in", "tired of living",
        # "will be found in the canal", a gun shown, the decision taken and the pills there,
        # "no reason to keep living", "tonight I must start working with his friends"
        ("the owner has locked her and two other women in the flat", True),
        ("я устала жить. 3 месяца без денег", True),
        ("устала жить в общежитии, ищу квартиру в Осло", False),
        ("pavargau gyventi, jau trys mėnesiai be algos", True),
        ("pavargau gyventi su kambarioku, ieškau buto", False),
        ("whoever goes to garda will be found in the canal", True),
        ("pokazal stvol skazal zavtra rabotaem besplatno", True),
        ("Я прийняла рішення. Таблетки вже є.", True),
        ("I decided to buy headache pills, I have a prescription", False),
        ("I do not see a reason to keep living.", True),
        ("i dont see a reason to go to the party tonight", False),
        ("tonight I must start working with his friends to pay back my ticket", True),
        ("tonight I have to work with my friends on the project", False),
        # a football score and love are no beating and no lock
        ("vakar futbole mus sumuse 5:0", False),
        ("vaikinas mane uzrakino savo sirdy", False),
    ],
)
def test_calm_urgent_wordings_of_new_writers_and_their_neighbours(text: str, urgent: bool) -> None:
    # The rules alone (batches 47-49 and clean-44-46): the model must not hide a gap in them.
    assert Detector.load(None, None).detect(text).urgent == urgent, text


@pytest.mark.parametrize(
    "text",
    ["They haven't paid me for two months", "My boss has my passport", "We live 12 in a room"],
)
def test_serious_but_not_urgent(detector: Detector, text: str) -> None:
    found = detector.detect(text)
    assert found.danger and not found.urgent


# --- locked in, in every word order (defect 1) ---------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "they took my passport and locked me in",
        "locked me in the room and left",
        "he locked us inside the container",
        "I've been locked in for two days",
        "they keep me locked up",
        "заперли меня в комнате",
        "меня заперли",
        "нас заперли на складе",
        "я заперта в квартире",
        "zaperli menya",
        "замкнули мене в кімнаті",
        "мене замкнули",
        "нас зачинили на складі",
        "я замкнена в кімнаті",
        "zamknuly mene",
        "užrakino mane",
        "mane užrakino kambaryje",
        "mus uždarė bute",
        "esu užrakinta",
        "uzrakino mane",
    ],
)
def test_locked_in_is_urgent_confinement_in_any_order(detector: Detector, text: str) -> None:
    found = detector.detect(text)
    assert "confinement" in found.categories, found.signals
    assert found.urgent


def test_a_passport_taken_and_locked_in_gives_both_signals(detector: Detector) -> None:
    found = detector.detect("they took my passport and locked me in")
    # locked in now is urgent, and urgent always comes with immediate_danger
    assert found.categories == ["documents_taken", "confinement", "immediate_danger"]
    assert found.urgent


# --- held now is urgent; control and the past are not (defect 2) ------------------------


@pytest.mark.parametrize(
    "text",
    [
        "they won't let me leave",
        "they don't let us out of the house",
        "we can't leave the flat",
        "не выпускают из квартиры",
        "меня не отпускают",
        "нельзя выходить из дома",
        "вони забрали мій паспорт і не відпускають",
        "не випускають з квартири",
        "нас тримають тут силою",
        "neišleidžia iš buto",
        "jie neleidžia man išeiti iš namo",
        "laiko mane čia per prievartą",
        "ne vypuskayut nas s fermy",
    ],
)
def test_being_held_now_is_urgent(detector: Detector, text: str) -> None:
    found = detector.detect(text)
    assert "confinement" in found.categories, found.signals
    assert found.urgent


@pytest.mark.parametrize(
    "text",
    [
        "they don't let me go out alone",
        "they won't let me go home",
        "last year they locked us in",
        "when I worked there they didn't let us leave",
        "одну никуда не пускают",
        "не отпускают домой",
        "в прошлом году нас запирали на ферме",
        "самих нікуди не пускають",
        "не відпускають додому",
        "минулого року нас замикали на фермі",
        "neleidžia niekur eiti vienai",
        "neišleidžia manęs namo",
        "pernai mane buvo uždarę rūsyje",
    ],
)
def test_control_and_past_confinement_are_serious_not_urgent(detector: Detector, text: str) -> None:
    found = detector.detect(text)
    assert "confinement" in found.categories, found.signals
    assert not found.urgent


@pytest.mark.parametrize(
    "text",
    [
        "I can't get out of bed today",
        "we can't leave the house because of the storm",
        "I can't leave work until 8pm",
        "I can't leave before my shift ends at 6, is that normal?",
        "the kids locked me in the bathroom as a joke",
        "не можем выйти из дома из-за снега",
        "не могу выйти на работу завтра, заболела",
        "не можу вийти на роботу завтра, захворіла",
    ],
)
def test_everyday_cannot_leave_is_no_alarm(detector: Detector, text: str) -> None:
    assert not detector.detect(text).danger


def test_explain_says_why_urgency_was_dropped(detector: Detector) -> None:
    lines = detector.explain("they don't let me go out alone")
    assert any("(not urgent <- confinement.yaml" in line for line in lines), lines


# --- questions about rights are for the FAQ; reports phrased as questions are not (defect 3)


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "may my employer keep my passport?"),
        ("en", "can an employer keep my passport?"),
        ("en", "is it legal for the agency to hold my documents?"),
        ("en", "what if they don't pay me?"),
        ("en", "what do I do if my boss takes my passport?"),
        ("en", "If the employer does not pay the salary, where can I complain?"),
        ("lt", "ar darbdavys gali pasilikti mano pasą?"),
        ("lt", "ar teisėta, kad darbdavys laikytų pasą?"),
        ("lt", "kas bus, jei darbdavys nemokės atlyginimo?"),
        ("ru", "может ли работодатель забрать паспорт?"),
        ("ru", "имеет ли право агентство держать мои документы?"),
        ("ru", "что делать, если не платят?"),
        ("uk", "чи може роботодавець забрати паспорт?"),
        ("uk", "чи має право агенція тримати мої документи?"),
        ("uk", "а якщо не будуть платити, куди скаржитися?"),
        ("ru", "mozhet li rabotodatel zabrat pasport?"),
    ],
)
def test_general_questions_about_rights_raise_no_alarm(
    detector: Detector, lang: str, text: str
) -> None:
    found = detector.detect(text)
    assert not found.danger, found.signals
    assert found.lang == lang


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("my boss took my passport, is that legal?", "documents_taken"),
        ("is it legal that my employer took all our passports?", "documents_taken"),
        ("they are not paying me, what can I do?", "wages_withheld"),
        ("what can I do if they have not paid me for 3 months?", "wages_withheld"),
        ("can they keep my passport? they took it when I arrived", "documents_taken"),
        ("darbdavys paėmė mano pasą, ar tai teisėta?", "documents_taken"),
        ("ką daryti, jei jau tris mėnesius nemoka?", "wages_withheld"),
        ("мой паспорт забрал начальник, что делать?", "documents_taken"),
        ("что делать, если уже два месяца не платят?", "wages_withheld"),
        ("законно ли, что работодатель забрал мой паспорт?", "documents_taken"),
        ("начальник забрав мій паспорт, що робити?", "documents_taken"),
        ("що робити, якщо вже два місяці не платять?", "wages_withheld"),
    ],
)
def test_a_report_phrased_as_a_question_is_danger(
    detector: Detector, text: str, category: str
) -> None:
    assert category in detector.detect(text).categories


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("can anyone help they dont pay us", "wages_withheld"),
        ("is it normal they don't pay us for 2 months", "wages_withheld"),
        ("is it ok my employer keeps my passport?", "documents_taken"),
        ("how can they keep my passport, it's mine!", "documents_taken"),
        ("if I don't pay the debt they keep my passport", "documents_taken"),
        ("можно ли что-то сделать, если нам не платят 3 месяца?", "wages_withheld"),
        ("ar normalu, kad darbdavys paėmė mano pasą?", "documents_taken"),
    ],
)
def test_a_question_shape_around_a_story_does_not_hide_it(
    detector: Detector, text: str, category: str
) -> None:
    assert category in detector.detect(text).categories


def test_a_question_about_ones_own_next_step_is_not_a_report(detector: Detector) -> None:
    assert not detector.detect("Should I give my passport to the agency?").danger


def test_a_question_never_cancels_urgency(detector: Detector) -> None:
    found = detector.detect("what should I do if he locks me in again tonight?")
    assert found.urgent and "confinement" in found.categories


def test_explain_names_the_question_that_cancelled(detector: Detector) -> None:
    lines = detector.explain("can an employer keep my passport?")
    assert lines and all(line.startswith("cancelled:") for line in lines)
    assert any("<- common.yaml: en:" in line for line in lines)


# --- split stories, pay far too low, indirect wording (defect 4) ------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Passport? Manager has it. Since day one.", "documents_taken"),
        ("My passport. He took it at the airport.", "documents_taken"),
        ("Salary? Nothing since April.", "wages_withheld"),
        ("Pasas? Jis pas bosą nuo pirmos dienos.", "documents_taken"),
        ("Паспорт? Он у хозяина, с первого дня.", "documents_taken"),
        ("Документы отдали по приезду. Больше их не видели.", "documents_taken"),
        ("Паспорт? Він у хазяїна з першого дня.", "documents_taken"),
    ],
)
def test_a_story_split_over_two_sentences_is_read_whole(
    detector: Detector, text: str, category: str
) -> None:
    assert category in detector.detect(text).categories


def test_two_sentences_apart_a_harmless_context_still_cancels(detector: Detector) -> None:
    assert not detector.detect("I lost my passport. They have it at the police.").danger


@pytest.mark.parametrize(
    "text",
    [
        "worked a month and got almost nothing",
        "4 weeks of work and I got 50 euros",
        "dirbau mėnesį ir gavau beveik nieko",
        "keturios savaitės darbo ir gavau 50 eurų",
        "отработала месяц, а получила почти ничего",
        "заплатили копейки за два месяца",
        "працювала місяць, а отримала майже нічого",
        "4 тижні роботи, а отримала 50 євро",
    ],
)
def test_pay_far_too_low_for_the_time_worked(detector: Detector, text: str) -> None:
    assert "wages_withheld" in detector.detect(text).categories


@pytest.mark.parametrize(
    "text",
    [
        "I work 40 hours a week and get paid every Friday",
        "I got 50 euros for my birthday",
        "My employer pays on time every month, no problems",
    ],
)
def test_ordinary_pay_talk_is_left_alone(detector: Detector, text: str) -> None:
    assert not detector.detect(text).danger


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I haven't seen my passport since I arrived", "documents_taken"),
        ("pasas guli viršininko seife", "documents_taken"),
        ("паспорт лежит у хозяина в сейфе", "documents_taken"),
        ("паспорт ми не бачили відтоді, як приїхали", "documents_taken"),
        ("I have to ask permission even to go to the shop", "confinement"),
        ("без разрешения бригадира даже в магазин нельзя", "confinement"),
    ],
)
def test_indirect_wording(detector: Detector, text: str, category: str) -> None:
    assert category in detector.detect(text).categories


def test_third_person_reports_count(detector: Detector) -> None:
    assert detector.detect("My friend's passport was taken by her employer").danger
    assert detector.detect("У сестры забрали паспорт").danger


def test_evidence_quotes_the_original_text(detector: Detector) -> None:
    text = "Hi. Yesterday THEY TOOK my Pasport, and now I cannot leave!"
    found = detector.detect(text)
    by_category = {s.category: s.evidence for s in found.signals}
    assert by_category["documents_taken"] == "TOOK my Pasport"
    assert by_category["confinement"] == "cannot leave"
    for signal in found.signals:
        assert signal.evidence in text


def test_evidence_keeps_diacritics_and_script(detector: Detector) -> None:
    found = detector.detect("Darbdavys paėmė mano pasą.")
    assert Signal("documents_taken", "paėmė mano pasą") in found.signals


def test_detection_json_matches_the_design_contract(detector: Detector) -> None:
    found = detector.detect("They took my passport and they don't pay me")
    assert found.to_json() == {
        "danger": True,
        "urgent": False,
        "signals": ["documents_taken", "wages_withheld"],
        "lang": "en",
    }


def test_categories_are_unique_and_in_fixed_order() -> None:
    found = Detection(
        True,
        False,
        (Signal("violence", "a"), Signal("documents_taken", "b"), Signal("violence", "c")),
        "en",
    )
    assert found.categories == ["documents_taken", "violence"]
    assert set(found.categories) <= set(CATEGORIES)


def test_explain_names_the_pattern_and_what_cancelled_it(detector: Detector) -> None:
    lines = detector.explain("How do I renew my passport? My boss has my passport.")
    assert any(line.startswith("hit: documents_taken.yaml") for line in lines)
    assert detector.explain("nothing to see here") == []


def test_long_texts_are_cut_not_refused(detector: Detector) -> None:
    # 25,000 characters are cut to MAX_CHARS and read; an urgent rule's alarm always stands
    # (the model reads a long text mostly as a whole, and 5,000 words it does not know
    # leave it nothing to judge by)
    found = detector.detect("They locked me in and took my passport. " + "blah " * 5000)
    assert found.urgent
    assert {"confinement", "documents_taken"} <= set(found.categories)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_well_formed_detection(text: str) -> None:
    found = default_detector().detect(text)
    assert found.danger == bool(found.signals)
    assert not found.urgent or found.danger
    assert found.lang in {"lt", "ru", "uk", "en"}
    for signal in found.signals:
        assert signal.category in CATEGORIES
        # quoted from the text as read: invisible characters (a soft hyphen) are dropped
        assert signal.evidence and signal.evidence in drop_invisible(text)


def test_a_number_and_a_token_that_is_no_word_are_too_little_to_judge() -> None:
    # "0:IA:01010A" read as "#", "ia" (я) and "01010a": one word, not enough for the model
    assert not default_detector().detect("0:I\xadA:01010A").danger


# --- the vocabulary is data ------------------------------------------------------------


def _copy_signals(tmp_path: Path) -> Path:
    target = tmp_path / "signals"
    target.mkdir()
    for path in SIGNALS_DIR.glob("*.yaml"):
        (target / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return target


def test_an_expert_can_add_a_pattern_without_python(tmp_path: Path) -> None:
    signals = _copy_signals(tmp_path)
    text = "the boss put our passports in the freezer"
    assert not Detector.load(signals).detect(text).danger
    (signals / "extra.yaml").write_text(
        "kind: signals\nschema: 1\ncategory: documents_taken\n"
        'rules:\n  en:\n    - {p: "BOSS put DOC freezer", window: 8}\n',
        encoding="utf-8",
    )
    assert Detector.load(signals).detect(text).categories == ["documents_taken"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("kind: flow\nschema: 1\n", "must start with `kind: signals`"),
        ("kind: signals\nschema: 1\ncategory: nope\n", "unknown category 'nope'"),
        (
            "kind: signals\nschema: 1\ncategory: violence\nrules:\n  en:\n    - NOPE me\n",
            "unknown word group 'NOPE'",
        ),
        (
            "kind: signals\nschema: 1\ncategory: violence\nrules:\n  xx:\n    - hit me\n",
            "unknown language 'xx'",
        ),
        (
            "kind: signals\nschema: 1\ncategory: violence\nrules:\n  en:\n"
            '    - {p: "a b c", window: 2}\n',
            "window 2 < 3 terms",
        ),
        (
            'kind: signals\nschema: 1\ncategory: violence\nrules:\n  en:\n    - "=all the"\n'
            '    - {p: "hit", colour: red}\n',
            "unknown option(s) ['colour']",
        ),
        (
            "kind: signals\nschema: 1\ncategory: violence\nrules:\n  en:\n"
            '    - {p: "hit me", sentences: 3}\n',
            "sentences must be 1 or 2",
        ),
        (
            "kind: signals\nschema: 1\nnot_urgent:\n  en:\n    - alone\n",
            "`not_urgent` needs a `category:`",
        ),
    ],
)
def test_broken_files_are_reported_by_name(tmp_path: Path, content: str, message: str) -> None:
    signals = _copy_signals(tmp_path)
    (signals / "broken.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(SignalsError) as caught:
        Detector.load(signals)
    assert "broken.yaml" in str(caught.value)
    assert message in str(caught.value)


def test_every_broken_pattern_is_reported_at_once(tmp_path: Path) -> None:
    signals = _copy_signals(tmp_path)
    (signals / "broken.yaml").write_text(
        "kind: signals\nschema: 1\ncategory: violence\nrules:\n  en:\n"
        "    - NOPE me\n    - ALSO_NOPE me\n",
        encoding="utf-8",
    )
    with pytest.raises(SignalsError) as caught:
        Detector.load(signals)
    assert "'NOPE'" in str(caught.value) and "'ALSO_NOPE'" in str(caught.value)


def test_an_expert_can_add_a_question_cue_without_python(tmp_path: Path) -> None:
    signals = _copy_signals(tmp_path)
    text = "the boss holds our passports, wink wink?"
    assert Detector.load(signals).detect(text).danger
    (signals / "extra.yaml").write_text(
        'kind: signals\nschema: 1\nquestions:\n  en:\n    - {p: "=the", asks: true}\n',
        encoding="utf-8",
    )
    assert not Detector.load(signals).detect(text).danger
    assert Detector.load(signals).detect("the boss holds our passports").danger


# --- the development set -----------------------------------------------------------------


def test_devset_is_large_varied_and_honest() -> None:
    items = load_devset()
    assert len(items) >= 950
    benign = sum(not item.danger for item in items)
    assert 0.35 <= benign / len(items) <= 0.45
    for lang in ("lt", "ru", "uk", "en"):
        assert sum(item.lang == lang for item in items) >= 90
    for category in CATEGORIES:
        assert sum(category in item.cats for item in items) >= 15, category
    assert sum(item.urgent for item in items) >= 50


def test_devset_report_reaches_the_aims(detector: Detector) -> None:
    report = evaluate(detector, load_devset())
    assert report.failures() == [], format_report(report, show_misses=True)
    assert report.recall >= AIMS["recall"]
    assert report.precision >= AIMS["precision"]
    assert report.urgent_recall == 1.0


def test_devset_command_fails_below_the_aims(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signals = tmp_path / "signals"
    signals.mkdir()
    common = (SIGNALS_DIR / "common.yaml").read_text(encoding="utf-8")
    (signals / "common.yaml").write_text(common, encoding="utf-8")  # no category rules
    args = Namespace(file=DEVSET, signals=signals, show_misses=True, rules_only=True)
    assert devset_command(args) == 1
    out = capsys.readouterr().out
    assert "BELOW AIM: recall 0.000" in out
    assert "BELOW AIM: urgent_recall 0.000" in out
    assert "[missed]" in out


# --- command line ------------------------------------------------------------------------


def test_detect_command_prints_one_json_line_per_input_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("they took my passport\n\nSOS\r\n"))
    assert detect_command(Namespace(signals=None, evidence=False)) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        {"danger": True, "urgent": False, "signals": ["documents_taken"], "lang": "en"},
        {"danger": False, "urgent": False, "signals": [], "lang": "en"},
        {"danger": True, "urgent": True, "signals": ["immediate_danger"], "lang": "en"},
    ]


def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_python_m_bot_detect_reads_a_pipe() -> None:
    result = _run("detect", stdin="Забрали паспорт\nHow do I renew my passport?\n\nmane uždarė\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["danger"] for line in lines] == [True, False, False, True]
    assert lines[0] == {
        "danger": True,
        "urgent": False,
        "signals": ["documents_taken"],
        "lang": "ru",
    }
    assert lines[3]["urgent"] is True and lines[3]["lang"] == "lt"


def test_python_m_bot_devset_prints_the_report() -> None:
    result = _run("devset", "--file", str(DEVSET))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "recall" in result.stdout and "precision" in result.stdout
    assert "urgent recall" in result.stdout and "all aims reached" in result.stdout


# --- kinds of message an independent check found missed or falsely alarmed ---------------
# Each is a kind the issue named; the texts are new, in several languages, as people type.

FIXED_MISSES = [
    # despair and wanting to die because of the situation (urgent)
    ("i cant take it anymore better to die than live like this, they keep all my money", True),
    ("лучше умереть чем так жить, все деньги забирают", True),
    # a weapon used to make someone go to a client (urgent)
    ("he put a knife to my throat and said go to the client now", True),
    ("він приставив ніж і сказав іти до клієнта", True),
    # a child held right now (urgent)
    ("they are holding my 12 year old son in the house right now and wont give him back", True),
    # no air in a truck (urgent)
    ("we are in the back of a truck no air we cant breathe please", True),
    ("furgone nera oro, vienam jau blogai", True),
    # "I belong to him until I repay"
    ("he says i belong to him until i repay the debt", False),
    # a spouse forcing unpaid work under threat of reporting a sham marriage
    (
        "my husband makes me work in his shop for free and says he will report our fake marriage",
        False,
    ),
    # bank cards or accounts taken over and used for fraud
    ("they took my bank card and use my account for some fraud", False),
    # forced begging and shoplifting
    ("they make us beg on the street and steal in shops every day", False),
    # a licence kept "for checking" and sold back
    ("the boss kept my driving licence for checking and now wants 500 euro to give it back", False),
    # night-time locked dormitories
    ("every night they lock the dormitory door from outside", None),
    # workers' bank cards held by an agency
    ("the agency holds all the workers bank cards", False),
    # minors working without pay for a relative
    ("my 15 year old nephew works for my uncle all summer and gets nothing", False),
    ("сестре 14 лет работает у дяди на рынке бесплатно", False),
]


@pytest.mark.parametrize(("text", "urgent"), FIXED_MISSES)
def test_kinds_once_missed_are_found(text: str, urgent: bool | None) -> None:
    found = default_detector().detect(text)
    assert found.danger, text
    if urgent is not None:
        assert found.urgent == urgent, text
    assert found.urgent == ("immediate_danger" in found.categories)


FIXED_FALSE_ALARMS = [
    "this night shift killed me lol",
    "эта смена меня просто убила 😂",
    "they killed me three times in this game, so annoying",
    "i have a bank loan, can i still work abroad?",
    "my ex owes me alimony for 6 months",
    "my ex boyfriend owes me 200 euros",
    "i am self employed, how do i pay tax in norway?",
    "the consulate is holding my passport for the visa",
    "консульство держит паспорт на визу уже две недели",
    "hello there",
    "They did not take my passport",
    "Вони не забрали паспорт",
]


@pytest.mark.parametrize("text", FIXED_FALSE_ALARMS)
def test_harmless_kinds_once_alarmed_stay_quiet(text: str) -> None:
    assert not default_detector().detect(text).danger, text


@pytest.mark.parametrize(
    "text",
    [
        "they took my pass\u00adport",  # soft hyphen
        "they took my pass\u200bport",  # zero-width space
        "\u202ethey took my passport",  # a direction mark
        "\ufeffthey took my passport",  # a byte-order mark
    ],
)
def test_invisible_characters_do_not_hide_words(text: str) -> None:
    assert "documents_taken" in default_detector().detect(text).categories


@pytest.mark.parametrize(
    ("worry", "settled"),
    [
        ("мені не заплатили за березень.", "А ні, бухгалтерія переплутала, вчора все прийшло."),
        ("The agency kept my passport.", "But they gave it back the same evening."),
        ("Бригадир забрал у нас паспорта.", "А вечером всем вернули, всё в порядке."),
    ],
)
def test_a_later_sentence_settles_a_worry_even_when_it_opens_with_a_clause_word(
    worry: str, settled: str
) -> None:
    rules = Detector.load()
    assert rules.rules(worry).danger
    assert not rules.rules(f"{worry} {settled}").danger
    # a clause word inside the sentence still keeps the worry ("gave it back, BUT only...")
    assert rules.rules(f"{worry} They gave it back, but only after I paid 200 euro.").danger


@pytest.mark.parametrize(
    ("quoted", "settled"),
    [
        (
            "Сын написал, что их «держат взаперти».",
            "Я позвонила, и оказалось, что он имел в виду строгие правила на складе.",
        ),
        (
            "Brat napysav, shcho yikh 'ne vypuskayut z taboru'.",
            "Naступного дня все з'ясувалося.",
        ),
        ("Draugė rašė, kad ją „užrakino bute“.", "Paskambinau: ji turėjo omenyje griežtą grafiką."),
    ],
)
def test_someone_elses_words_in_quotes_can_be_settled_later_even_when_urgent(
    quoted: str, settled: str
) -> None:
    rules = Detector.load()
    worry = rules.rules(quoted)
    assert worry.danger and worry.urgent
    assert not rules.rules(f"{quoted} {settled}").danger
    # the same words told as the writer's own, without quotes, stay urgent: a settling
    # sentence never explains away a danger to life or liberty that is not someone's words
    plain = (
        quoted.replace("«", "").replace("»", "").replace("'", "").replace("„", "").replace("“", "")
    )
    assert rules.rules(f"{plain} {settled}").urgent
