"""The job-ad scanner: red flags in real-looking ads, the pay check, the data files, the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import unicodedata
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.bench_scanner import TEST_EVERY, load_ads, score, split_of
from bot import DIALOGS_DIR, LANGUAGES, ROOT
from bot.i18n import Translator
from bot.scanner import Finding, Scanner, ScannerError, default_scanner

ADS = yaml.safe_load((Path(__file__).parent / "data" / "job_ads.yaml").read_text("utf-8"))
# A fixed date keeps the wage table stable: in mid-2026 the 2026 rates apply.
TODAY = date(2026, 6, 1)
# Where bot.text.detect_language guesses wrong today (strict: a fix shows up here).
KNOWN_LANGUAGE_MISSES = {
    "uk_benign_cleaning_warsaw": "Latin company names and e-mail outnumber the Cyrillic letters",
}


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner.load(today=TODAY)


def test_the_ad_collection_is_broad_enough():
    benign = [ad for ad in ADS if not ad["flags"]]
    prefixes = {ad["id"].split("_")[0] for ad in ADS}
    assert len(ADS) >= 40
    assert len(benign) >= 15
    assert prefixes == {"en", "lt", "ru", "uk", "mixed"}
    assert len({ad["id"] for ad in ADS}) == len(ADS)


@pytest.mark.parametrize("ad", ADS, ids=[ad["id"] for ad in ADS])
def test_ad_raises_exactly_the_expected_flags(scanner, ad):
    result = scanner.scan(ad["text"])
    assert sorted(result.ids) == sorted(ad["flags"])
    evidence = {f.id: f.evidence for f in result.findings}
    for flag, phrase in (ad.get("evidence") or {}).items():
        assert phrase in evidence[flag]


@pytest.mark.parametrize("ad", [a for a in ADS if a["flags"]], ids=lambda a: a["id"])
def test_evidence_is_quoted_from_the_ad_as_typed(scanner, ad):
    flat = " ".join(ad["text"].split())
    for finding in scanner.scan(ad["text"]).findings:
        if finding.id == "no_company":
            assert finding.evidence == ""  # an absence has no phrase
        else:
            assert finding.evidence and finding.evidence in flat


@pytest.mark.parametrize(
    "ad", [a for a in ADS if a["id"].split("_")[0] in LANGUAGES], ids=lambda a: a["id"]
)
def test_language_of_the_ad(scanner, ad, request):
    expected = ad["id"].split("_")[0]
    if "translit" in ad["id"]:
        pytest.skip("transliterated text has no reliable language")
    if ad["id"] in KNOWN_LANGUAGE_MISSES:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_LANGUAGE_MISSES[ad["id"]], strict=True))
    assert scanner.scan(ad["text"]).lang == expected


def test_findings_come_heaviest_first_with_their_reason(scanner):
    ad = next(a for a in ADS if a["id"] == "en_scam_uk_factory")
    findings = scanner.scan(ad["text"]).findings
    weights = [f.weight for f in findings]
    assert weights == sorted(weights, reverse=True)
    assert findings[0] == Finding("passport_kept", "We keep your passport", findings[0].why, 5)
    assert all(f.why and 1 <= f.weight <= 5 for f in findings)


def test_lithuanian_without_accents_matches_like_with_accents(scanner):
    with_accents = "Atvykus pasus laikysime biure. Užstatas 200 €."
    without = "Atvykus pasus laikysime biure. Uzstatas 200 €."
    assert scanner.scan(with_accents).ids == scanner.scan(without).ids
    assert {"passport_kept", "fee"} <= set(scanner.scan(without).ids)


@pytest.mark.parametrize(
    "text",
    [
        "We do not charge any fees to candidates.",
        "Agentūra neima jokių mokesčių iš kandidatų.",
        "Никаких предоплат и комиссий, оформление за счёт работодателя.",
        "Жодних передоплат, оформлення безкоштовне.",
        # issue 14: the denial a few words before the fee
        "We never charge workers any recruitment fees.",
        "Workers never pay a recruitment fee or deposit.",
        "We do not take a deposit or any registration fee.",
        "Jokių mokesčių už įdarbinimą, jokių užstatų.",
        "Никаких оплат не берём: ни за оформление, ни за визу.",
        "Мы не берём с работников плату за трудоустройство.",
        "Жодних платежів: ні за оформлення, ні за візу.",
        "Ми не беремо з працівників оплату за працевлаштування.",
        # a fee named to say the law forbids it
        "Placement fees are illegal in the Netherlands – we never ask you for money.",
    ],
)
def test_a_denied_fee_is_not_a_fee(scanner, text):
    assert "fee" not in scanner.scan(text).ids


def test_a_fee_charged_after_saying_fees_are_illegal_is_still_a_fee(scanner):
    text = "Placement fees are illegal, but the registration fee of 150 EUR is paid in advance."
    assert "fee" in scanner.scan(text).ids


def test_a_share_of_the_service_charge_is_pay_not_a_fee(scanner):
    named = "Atlantis Hotel, careers@atlantis.example.com"
    assert scanner.scan(f"Waiters in Dubai, 3500 AED + service charge. {named}").ids == []
    assert "fee" in scanner.scan(f"Service charge 200 € for your visa paperwork. {named}").ids


@pytest.mark.parametrize(
    "text",
    [
        "No experience needed. Registration fee 200 €.",
        "Без опыта, оплата за оформление 200 евро.",
        "Не нужно знание языка. Предоплата 100 евро.",
        "Pay £600 for the mandatory training course and we guarantee a job.",
        "Оформление визы и приглашения – 400 евро, оплата сразу.",
    ],
)
def test_a_fee_next_to_an_unrelated_denial_is_still_a_fee(scanner, text):
    assert "fee" in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "evidence"),
    [
        # issue 14 and the newcomer's review: noun-first handovers, and to whom
        ("Паспорт віддати координатору для оформлення.", "Паспорт віддати координатору"),
        ("Паспорт отдать координатору.", "Паспорт отдать координатору"),
        ("Pasą reikės atiduoti koordinatoriui.", "Pasą reikės atiduoti koordinatoriui"),
        ("Паспорт заберемо на час оформлення.", "Паспорт заберемо"),
        ("Паспорт заберём на оформление.", "Паспорт заберём"),
        ("On arrival, hand your passport to the coordinator.", "hand your passport"),
        ("Your documents will stay with the manager during the contract.", "documents will stay"),
        ("Паспорта работников хранятся у прораба.", "Паспорта работников хранятся у прораба"),
        ("Телефони на час роботи зберігаються у бригадира.", "Телефони на час роботи"),
        ("Telefonai darbo metu laikomi pas brigadininką.", "Telefonai darbo metu laikomi"),
        ("Pasą atiduosite agentui, kol sutvarkys dokumentus.", "Pasą atiduosite agentui"),
    ],
)
def test_a_document_handed_to_a_coordinator_or_agent_is_passport_kept(scanner, text, evidence):
    (finding,) = [f for f in scanner.scan(text).findings if f.id == "passport_kept"]
    assert evidence in finding.evidence


@pytest.mark.parametrize(
    "text",
    [
        "We never keep your passport.",
        "Мы никогда не забираем паспорта работников.",
        "Паспорт ми не забираємо, він завжди у вас.",
        "Mes niekada nepaimame jūsų paso.",
    ],
)
def test_a_promise_not_to_keep_documents_is_not_passport_kept(scanner, text):
    assert "passport_kept" not in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        # issue 14: a stated price deducted under a written agreement is a normal cost
        (
            "Accommodation €110 per week, deducted from your salary as agreed in your housing "
            "contract.",
            False,
        ),
        ("Apgyvendinimas – 350 € per mėnesį, išskaičiuojama iš atlyginimo pagal sutartį.", False),
        ("Жильё 320 € в месяц, вычитается из зарплаты по договору.", False),
        ("Житло 600 zł на місяць, утримується із зарплати за письмовою угодою.", False),
        # unpriced, or priced with no agreement: still a warning
        ("Accommodation is deducted from your salary as agreed in your contract.", True),
        ("Accommodation 100 EUR/week deducted from wages.", True),
        ("Жильё 300 евро в месяц вычитаем из зарплаты.", True),
    ],
)
def test_a_priced_deduction_under_a_written_agreement_is_not_flagged(scanner, text, flagged):
    assert ("deductions" in scanner.scan(text).ids) is flagged


@pytest.mark.parametrize(
    "text",
    [
        "Bring your passport with you on the first day.",
        "Please send us a copy of your passport.",
        "Документы в посольство сдаёте сами.",
    ],
)
def test_ordinary_passport_mentions_are_not_passport_kept(scanner, text):
    assert "passport_kept" not in scanner.scan(text).ids


def test_you_cannot_work_on_a_tourist_visa_is_advice_not_a_flag(scanner):
    assert "tourist_visa" not in scanner.scan("You cannot work on a tourist visa.").ids
    assert "tourist_visa" in scanner.scan("You can work on a tourist visa, no problem.").ids


@pytest.mark.parametrize(
    "text",
    [
        # issue 14: an employer named without a legal form is still named
        "Kauno klinikos ieško slaugytojų. Atlyginimas nuo 1500 € bruto per mėnesį.",
        "Kauno rajono savivaldybė ieško vairuotojo. Atlyginimas 1400 € bruto.",
        "Гостиница «Неринга» в Паланге ищет горничных. Зарплата 1200 € брутто.",
        "Restaurant Lokys in Vilnius is hiring waiters, €9 per hour plus tips.",
        "Maxima ieško kasininkų Vilniuje, 1250 € bruto.",
        "Nurses wanted at Sørlandet Hospital, Kristiansand. Pay from NOK 520,000 per year.",
        "Healthcare Assistant – Royal Devon University Healthcare NHS Foundation Trust, "
        "£24,937 per year.",
        "Городская клиническая больница №3 (Днепр) ищет медсестёр. Зарплата от 20 000 грн.",
        "Кав'ярня «Львівські пляшки» шукає бариста, 120 грн/год.",
        "Сеть супермаркетов Maxima приглашает кассиров в Вильнюс, зарплата от 1250 € брутто.",
        "Room attendants for Radisson Blu Hotel, Riga. €1,100 gross per month.",
    ],
)
def test_an_employer_named_without_a_legal_form_counts_as_named(scanner, text):
    assert "no_company" not in scanner.scan(text).ids


@pytest.mark.parametrize(
    "text",
    [
        "Warehouse work in Germany, 14 € per hour. Call Marek.",
        "Cleaning jobs in Dubai hotels, 1500 $ per month. Call us.",
        "Работа на заводе в Чехии, 20 000 крон. Звоните.",
        "Робота в готелі в Польщі, 30 zł/год. Дзвоніть.",
    ],
)
def test_a_workplace_without_a_name_is_not_an_employer_named(scanner, text):
    assert "no_company" in scanner.scan(text).ids


NAMED = "ABC GmbH, jobs@abc.example.de."


@pytest.mark.parametrize(
    ("text", "flag", "evidence"),
    [
        # risky ads with a named employer, caught by what they say, not by what they lack
        ("Перші два тижні – випробувальний термін без оплати.", "wages_withheld", "без оплати"),
        ("Your first month's wages are kept as a guarantee.", "wages_withheld", "guarantee"),
        ("Atlyginimas pervedamas į įmonės sąskaitą.", "wages_withheld", "įmonės sąskaitą"),
        ("Первые 3 месяца зарплата не выплачивается.", "wages_withheld", "не выплачивается"),
        ("Первый месяц бесплатно, потом 1500 €.", "wages_withheld", "Первый месяц бесплатно"),
        ("Pirmas mėnuo – bandomasis, nemokamas.", "wages_withheld", "nemokamas"),
        ("You will live at the farm and cannot leave without the manager.", "confinement", ""),
        ("Į miestą vienas neišeisi, viską atvešime.", "confinement", "neišeisi"),
        ("Живете на фермі, виходити в місто не можна.", "confinement", "не можна"),
        ("Выходить за территорию нельзя.", "confinement", "нельзя"),
        ("Штраф 100 євро за відмову від роботи.", "penalties", "Штраф"),
        ("Už ankstesnį išvykimą – 500 € bauda.", "penalties", "bauda"),
        ("Штраф 300 евро за досрочный отъезд.", "penalties", "Штраф"),
        ("Fines for leaving before the end of the contract: 500 €.", "penalties", "Fines"),
        ("Work 7 days a week, 14 hours a day.", "excessive_hours", "7 days a week"),
        ("Работа без выходных, 12 часов.", "excessive_hours", "без выходных"),
        ("Робота без вихідних.", "excessive_hours", "без вихідних"),
        ("Darbas be išeiginių.", "excessive_hours", "be išeiginių"),
        (
            "Зарплату за перші два місяці виплачуємо після закінчення контракту.",
            "wages_withheld",
            "",
        ),
        (
            "The company keeps your bank card and PIN to pay your rent.",
            "wages_withheld",
            "bank card",
        ),
        ("Leaving the camp is only possible with the caporale.", "confinement", "Leaving the camp"),
        ("Documents are handed to the caporale on arrival.", "passport_kept", "Documents are"),
        ("Консультация и подбор вакансии – 150 евро.", "fee", "150 евро"),
        ("Darbo leidimui sutvarkyti reikės sumokėti 200 €.", "fee", "sumokėti 200 €"),
    ],
)
def test_withheld_pay_confinement_fines_and_no_days_off_are_flagged(scanner, text, flag, evidence):
    (finding,) = [f for f in scanner.scan(f"{NAMED} {text}").findings if f.id == flag]
    assert evidence in finding.evidence


@pytest.mark.parametrize(
    "text",
    [
        "Paid training, no experience needed.",
        "We are open 7 days a week.",
        "Магазин работает без выходных, ищем продавца.",
        "Первый месяц проживание бесплатно. 14 € в час.",
        "You cannot leave the production line during the shift without telling the supervisor.",
        "Probation period 3 months, full pay from the first day.",
        "Только официально, никаких наличных и конвертов.",
        "The shipyard pays our placement fee, not you.",
        "Už būstą reikės sumokėti 300 € per mėnesį.",
    ],
)
def test_ordinary_work_rules_are_not_withheld_pay_or_confinement(scanner, text):
    assert scanner.scan(f"{NAMED} {text}").ids == []


def test_messenger_with_an_email_is_not_messenger_only(scanner):
    text = "Job in Germany. Viber +49 151 000 or email jobs@example.de"
    assert "messenger_only" not in scanner.scan(text).ids
    assert "messenger_only" in scanner.scan("Job in Germany. Viber +49 151 000").ids


@pytest.mark.parametrize(
    "text",
    [
        "To reserve your bed you must transfer €150 in advance.",
        "To secure your place, send a €100 deposit.",
        "Vietai rezervuoti reikia iš anksto pervesti 150 € už kambarį.",
        "Для брони места нужно заранее перевести 150 € за комнату.",
        "Для бронювання місця потрібно заздалегідь переказати 150 € за кімнату.",
        # documents or a visa at the worker's cost (ILO fair recruitment: the employer bears
        # recruitment costs, documents and visas included)
        "Factory packing jobs in Germany. Candidates cover the cost of processing their documents.",
        "Warehouse work in the UK. The visa support package is paid by the worker.",
        "Darbas sandėlyje Vokietijoje. Dokumentų sutvarkymą kandidatas apmoka pats.",
        "Работа на складе в Германии. Оформление документов кандидат оплачивает сам.",
        "Робота на складі в Німеччині. Оформлення документів кандидат оплачує сам.",
        "Робота в Польщі. Візу оформлюєте за власний рахунок.",
    ],
)
def test_money_paid_in_advance_or_to_reserve_a_place_is_a_fee(scanner, text):
    # even when it is called a housing deposit: the money leaves before you have seen anything
    assert "fee" in scanner.scan(text).ids


@pytest.mark.parametrize(
    "text",
    [
        "You never need to pay anything in advance.",
        "Nieko nereikia sumokėti iš anksto.",
        "Вы ничего не платите заранее.",
        "Ви нічого не платите заздалегідь.",
        "Būstas 80 € per savaitę, pervesti 80 € už kambarį galima atvykus.",
        "Nurse, St Mary's Hospital. Visa and registration costs are paid by the employer.",
        'Склад, ООО "Вектор". Оформление документов оплачивает работодатель, кандидат не платит.',
    ],
)
def test_no_payment_in_advance_is_not_a_fee(scanner, text):
    assert "fee" not in scanner.scan(text).ids


@pytest.mark.parametrize(
    "text",
    [
        "Café Aurora is hiring a barista. Message us on WhatsApp or drop in between 9 and 12.",
        "Walk-in interviews 10am–2pm, Acme Logistics. WhatsApp +44 7700 900000.",
        "Kavinė „Aurora“ ieško baristos. Rašykite per Viber arba užeikite nuo 9 iki 12 val.",
        "Кафе «Аврора» ищет бариста. Пишите в Telegram или заходите к нам в кафе.",
        "Кав'ярня «Аврора» шукає бариста. Пишіть у Telegram або заходьте з 9:00 до 12:00.",
    ],
)
def test_an_invitation_to_drop_in_is_a_second_contact(scanner, text):
    assert "messenger_only" not in scanner.scan(text).ids


@pytest.mark.parametrize(
    "text",
    [
        "Работа в Германии, пишите в Telegram, заходите к нам в телеграм-канал.",
        "Робота в Німеччині, пишіть у Telegram, заходьте в наш телеграм-канал.",
    ],
)
def test_a_messenger_channel_is_not_a_place_to_drop_in(scanner, text):
    assert "messenger_only" in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Производство, транспорт. Вакансии с зарплатой от 900 €.", False),
        ("Виробництво, транспорт. Вакансії з зарплатою від 900 €.", False),
        ("Жильё и транспорт – из зарплаты.", True),
        ("Житло та транспорт – із зарплати.", True),
    ],
)
def test_housing_or_transport_from_the_salary_is_read_within_one_sentence(scanner, text, flagged):
    assert ("deductions" in scanner.scan(text).ids) is flagged


@pytest.mark.parametrize(
    "text",
    [
        "URGENT! Waiters for Hotel Grand Plaza, Dover. £13.00 per hour. jobs@grandplaza.example",
        "SKUBIAI! Padavėjai į viešbutį „Jūros vėjas“, Palanga. 8,40 € bruto per valandą.",
        "СРОЧНО! Продавец в сеть супермаркетов «Максима», Вильнюс. Зарплата 1300 € брутто.",
        "ТЕРМІНОВО! Касир у мережу супермаркетів «Наш Кошик», Вінниця. Зарплата 19 500 грн.",
    ],
)
def test_an_urgent_heading_in_an_ad_naming_its_employer_is_not_pressure(scanner, text):
    # batch 8: "URGENT!" over an ad that names the employer is its hurry to hire
    assert "urgency" not in scanner.scan(text).ids


@pytest.mark.parametrize(
    "text",
    [
        # from someone who does not say who they are, the heading stays pressure
        "URGENT! Factory work in the UK, £13.00 per hour. WhatsApp +44 7700 900123",
        # and a departure tomorrow is pressure under any heading
        "ТЕРМІНОВО! Робота в Польщі, виїзд завтра. Мережа супермаркетів «Наш Кошик».",
    ],
)
def test_an_urgent_heading_without_an_employer_or_with_a_departure_is_urgency(scanner, text):
    assert "urgency" in scanner.scan(text).ids


@pytest.mark.parametrize(
    "text",
    [
        "Part-time receptionist in Vilnius, UAB Medica: 700 € gross per month.",
        "Buhalteris, pusė etato, Klaipėda, MB Skaičiai: atlygis 700 € bruto per mėnesį.",
        "Бухгалтер на полставки в Вильнюсе, UAB Skaičiai: зарплата 700 € брутто в месяц.",
        "Бухгалтер на пів ставки у Вільнюсі, UAB Skaičiai: зарплата 700 € брутто на місяць.",
    ],
)
def test_a_part_time_monthly_wage_is_not_compared_with_the_full_time_minimum(scanner, text):
    # batch 8: the monthly minimum is for full time; pay per hour is still compared
    assert pay_flags(scanner, text) == set()
    assert pay_flags(scanner, "Part-time cleaner in the UK, Shine Ltd: £10.00 per hour.") == {
        "pay_below"
    }


@pytest.mark.parametrize(
    "text",
    [
        "Work in Lithuania. We lend you 300 € as an advance, repaid from your first salary "
        "with 20% on top.",
        "Darbas Lietuvoje. Kelionei duosime 300 € avansą, kurį grąžinsite iš pirmo atlyginimo "
        "su 20 % mokesčiu.",
        "Работа в Литве. Дадим аванс 300 € на дорогу, который вернёте с первой зарплаты "
        "вместе с 20 % за обслуживание.",
        "Робота в Литві. Видамо аванс 300 € на дорогу, який повертаєте з першої зарплати "
        "разом з 20 % за обслуговування.",
    ],
)
def test_an_advance_repaid_with_a_percentage_on_top_is_a_debt(scanner, text):
    # batch 8: a loan from the recruiter that grows is pay_back_later
    assert "pay_back_later" in scanner.scan(text).ids


def test_empty_and_unrelated_text_raise_nothing(scanner):
    assert scanner.scan("").findings == ()
    assert scanner.scan("   ").findings == ()
    assert scanner.scan("Happy birthday, see you on Sunday!").findings == ()


# --- the pay check ---------------------------------------------------------------------


def pay_flags(scanner: Scanner, text: str) -> set[str]:
    return set(scanner.scan(text).ids) & {"pay_above", "pay_below"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Germany 2026: €13.90 an hour. Unskilled "far above" is over 1.2 × the median of
        # workers without a vocational qualification (€2,831 a month) = €3,397.20 a month,
        # €19.64 an hour (× 173)
        ("Work in Germany, €13.89 per hour.", {"pay_below"}),
        ("Work in Germany, €13.90 per hour.", set()),
        ("Work in Germany, €19.60 per hour.", set()),
        ("Work in Germany, €19.70 per hour.", {"pay_above"}),
        # pay per month is turned into hours (× 173); below only under 90 % (a 36-hour week)
        ("Arbeit in Germany, 2200 € per month.", set()),
        ("Work in Germany, 2100 € per month.", {"pay_below"}),
        # Lithuania has a monthly minimum (€1,153): compared as is. Unskilled "far above"
        # is over the average gross monthly earnings (€2,322.20)
        ("Darbas Lietuvoje, 1150 € per mėnesį.", {"pay_below"}),
        ("Darbas Lietuvoje, 1153 € per mėnesį.", set()),
        ("Darbas Lietuvoje, 1800 € per mėnesį.", set()),
        ("Darbas Lietuvoje, 2300 € per mėnesį.", set()),
        ("Darbas Lietuvoje, 2400 € per mėnesį.", {"pay_above"}),
        # the UK rate comes with £, the Polish one with zł, even when no country is named
        ("Warehouse job, £12.50 per hour.", {"pay_below"}),
        ("Praca, 30 zł/h.", {"pay_below"}),
        ("Praca, 35 zł/h.", set()),
    ],
)
def test_pay_is_compared_with_the_minimum_of_the_country(scanner, text, expected):
    assert pay_flags(scanner, text) == expected


def test_more_than_1000_euro_a_week_is_flagged_without_a_country(scanner):
    assert pay_flags(scanner, "Job abroad, 1000 EUR per week.") == set()
    assert pay_flags(scanner, "Job abroad, 1050 EUR per week.") == {"pay_above"}
    assert pay_flags(scanner, "Job abroad, 200 EUR per day.") == set()  # 5 days: €1,000
    assert pay_flags(scanner, "Job abroad, 250 EUR per day.") == {"pay_above"}


def test_countries_without_a_statutory_minimum_are_not_compared(scanner):
    # Norway, Sweden, Denmark, Finland: only the €1,000-a-week rule applies
    assert pay_flags(scanner, "Darbas Norvegijoje, 10 €/val.") == set()
    assert pay_flags(scanner, "Работа в Финляндии, 2000 евро в месяц.") == set()
    assert pay_flags(scanner, "Arbete i Sverige, 1200 EUR per week.") == {"pay_above"}


def test_skilled_jobs_may_pay_more_before_it_looks_too_good(scanner):
    nurse = "Nurses for Germany, diploma recognition, €4,400 per month."
    helper = "Helpers for Germany, €4,400 per month."
    assert pay_flags(scanner, nurse) == set()
    assert pay_flags(scanner, helper) == {"pay_above"}
    # skilled: far above only over 5 × the median of all full-time jobs (€3,796): a senior
    # DevOps engineer in Warsaw at 30,000-36,000 zł (batch 9) is what such work pays
    assert pay_flags(scanner, "Engineers for Germany, €18,900 per month.") == set()
    assert pay_flags(scanner, "Engineers for Germany, €19,100 per month.") == {"pay_above"}


@pytest.mark.parametrize(
    "text",
    [
        # issue 14: professional pay is what such work pays, not a lure
        "Senior software engineers in Vilnius, 3,500–6,000 € gross per month. "
        "Devbridge UAB, jobs@devbridge.lt",
        "Ищем программистов в Вильнюсе, 3500–6000 € брутто в месяц. UAB Code Lab, hr@codelab.lt",
        "Staliaus darbas Kaune, 1600–1900 € bruto per mėnesį. MB „Medis“, tel. +370 600 00000",
        "Столяр у Каунасі, 1600–1900 € на місяць брутто. UAB Medis, info@medis.lt",
        "Vilniaus miesto savivaldybė ieško vyriausiojo specialisto, apie 2400 € bruto.",
        "UAB „Krovos sistemos“ ieško krano operatorių Klaipėdoje, 2200–2600 € bruto, "
        "reikalingas kranininko pažymėjimas.",
    ],
)
def test_professional_pay_is_not_too_good_to_be_true(scanner, text):
    assert scanner.scan(text).findings == ()


@pytest.mark.parametrize(
    ("text", "evidence"),
    [
        # issue 14: unskilled pay above what such work pays there
        ("Chicken factory, Northern Ireland, £1,100 a week, no experience.", "£1,100 a week"),
        ("Cleaning offices in Germany, no experience needed. €3,600 per month!", "€3,600"),
        ("Робота в Литві на складі без досвіду: 3500 € на місяць!", "3500 € на місяць"),
    ],
)
def test_unskilled_pay_above_what_the_work_pays_there_is_flagged(scanner, text, evidence):
    (finding,) = [f for f in scanner.scan(text).findings if f.id == "pay_above"]
    assert evidence in finding.evidence


def test_the_currency_picks_the_country_among_those_named(scanner):
    # a bus from Vilnius does not make an hourly rate in zł Lithuanian, nor £ Irish
    text = "Work in Poland, we go by bus from Vilnius. Pay: 25 zł per hour."
    assert pay_flags(scanner, text) == {"pay_below"}
    assert pay_flags(scanner, "Northern Ireland, £1,100 a week, no experience.") == {"pay_above"}


def test_net_pay_is_not_called_below_the_gross_minimum(scanner):
    assert pay_flags(scanner, "Work in Germany, 2000 € net per month.") == set()
    assert pay_flags(scanner, "Work in Germany, 2000 € gross per month.") == {"pay_below"}


def test_costs_are_not_read_as_pay(scanner):
    text = "Job in Germany. Accommodation 50 € per week. Registration fee 100 €."
    assert pay_flags(scanner, text) == set()


@pytest.mark.parametrize(
    "text",
    [
        # issue 14: a dormitory price, rent or a per diem is not the wage ("below minimum")
        "Darbas Vokietijoje sandėlyje, 14 €/val. bruto. Bendrabutis 250 € per mėnesį.",
        "Склад у Польщі, 32 zł/год брутто. Гуртожиток 20 zł на добу.",
        "Мебельная фабрика в Литве, зарплата 1350 € брутто. Место в общежитии за 150 € в месяц.",
        "Raspberry picking in Scotland, 12,71 £ per valandą. Vagonėlis – 65 £ per savaitę.",
        "Work in Germany, €14.50 per hour. Per diem €14 per day on trips.",
        "Work in Germany, €14.50 per hour. Dormitory bed €8 per night.",
        "Work in the Netherlands, €14.71 per hour. Rent €120 per week.",
        "Darbas Vokietijoje 14,50 €/val. Dienpinigiai 14 € per dieną.",
        # batch 8: subsistence named after the amount
        "HGV driver, Tyne Haulage Ltd. Pay £640 per week, plus £45 per day subsistence abroad.",
    ],
)
def test_a_housing_price_or_per_diem_is_not_read_as_the_wage(scanner, text):
    assert pay_flags(scanner, text) == set()


def test_a_range_is_checked_at_both_ends(scanner):
    assert pay_flags(scanner, "Work in Germany, 10-15 € per hour.") == {"pay_below"}
    assert pay_flags(scanner, "Work in Germany, от 15 до 25 евро в час.") == {"pay_above"}


def test_last_years_minimum_is_a_thing_to_ask_about_not_a_red_flag(scanner):
    # Germany: €12.82 until 2025, €13.90 from 2026; the UK: £12.21, then £12.71 from April
    # 2026. An ad still paying last year's minimum was most often written before the rise.
    for text in (
        "Kitchen helper at Gasthof Brenner, Munich. €12.82 per hour, contract, 5 days a week.",
        "Picker at Tesco's Leeds depot, £12.21 per hour, contract from May.",
        "Pakuotojas Vokietijoje, Müller GmbH Hamburge, 12,82 €/val., darbo sutartis.",
    ):
        result = scanner.scan(text)
        assert "pay_below" not in result.ids, text
        assert [c.id for c in result.checks] == ["pay_old_minimum"], text
    # further under, or between last year's and today's, is pay below the minimum
    assert pay_flags(scanner, "Kitchen helper in Munich, €12.40 per hour.") == {"pay_below"}
    assert pay_flags(scanner, "Kitchen helper in Munich, €13.50 per hour.") == {"pay_below"}
    # with another red flag it is a warning like the rest, in the person's language
    risky = scanner.scan("Work in Germany, €12.82 per hour. We keep your passport.")
    assert {"passport_kept", "pay_old_minimum"} <= set(risky.ids)


def test_the_wage_table_in_force_depends_on_the_date():
    text = "Work in Germany, €13.50 per hour."
    assert pay_flags(Scanner.load(today=date(2025, 6, 1)), text) == set()  # €12.82
    assert pay_flags(Scanner.load(today=date(2026, 6, 1)), text) == {"pay_below"}  # €13.90
    uk = "Job in the UK, £12.50 per hour."
    assert pay_flags(Scanner.load(today=date(2026, 3, 31)), uk) == set()  # £12.21
    assert pay_flags(Scanner.load(today=date(2026, 4, 1)), uk) == {"pay_below"}  # £12.71


def test_pay_evidence_quotes_the_amount_and_its_period(scanner):
    result = scanner.scan("Darbas Vokietijoje. Uždarbis 9,50 €/val., apgyvendinimas yra.")
    (finding,) = [f for f in result.findings if f.id == "pay_below"]
    assert finding.evidence == "9,50 €/val."


# --- the data files ----------------------------------------------------------------------


def test_wage_table_is_dated_and_sourced_and_invents_nothing():
    data = yaml.safe_load((DIALOGS_DIR / "wages.yaml").read_text("utf-8"))
    countries = {c["country"]: c for c in data["countries"]}
    for code in ("NO", "SE", "DK", "FI"):
        assert countries[code]["statutory"] is False
        assert "rates" not in countries[code]
    for code in ("LT", "DE", "GB", "NL", "PL", "IE"):
        rates = countries[code]["rates"]
        assert rates and all(r["source"].startswith("https://") for r in rates)
        assert all(isinstance(r["valid_from"], date) for r in rates)
    assert {"amount": 1153, "unit": "month"}.items() <= next(
        r for r in countries["LT"]["rates"] if r["valid_from"] == date(2026, 1, 1)
    ).items()


def test_every_reason_is_translated_into_each_language(scanner):
    translator = Translator.load()
    for flag in scanner.flags:
        for lang in ("lt", "ru", "uk"):
            assert translator.gettext(lang, flag.why) != flag.why, (flag.id, lang)


def test_typical_wages_are_dated_and_sourced_for_every_country_with_a_minimum():
    data = yaml.safe_load((DIALOGS_DIR / "typical_wages.yaml").read_text("utf-8"))
    countries = data["countries"]
    assert {"LT", "DE", "GB", "NL", "PL", "IE"} <= set(countries)
    for code, entry in countries.items():
        scopes = [f["scope"] for f in entry["figures"]]
        assert "all" in scopes, code
        for figure in entry["figures"]:
            assert figure["source"].startswith("https://"), code
            assert figure["period"] and figure["what"] and isinstance(figure["checked"], date)


def test_a_typical_wage_without_a_source_is_refused(tmp_path):
    dialogs = copy_dialogs(tmp_path)
    path = dialogs / "typical_wages.yaml"
    text = path.read_text("utf-8")
    assert "        source: https://ssb.no" in text
    path.write_text(text.replace("        source: https://ssb.no", "        note: https://ssb.no"))
    with pytest.raises(ScannerError, match="source"):
        Scanner.load(dialogs)


def copy_dialogs(tmp_path: Path) -> Path:
    target = tmp_path / "dialogs"
    target.mkdir()
    for name in ("scanner.yaml", "wages.yaml", "typical_wages.yaml"):
        shutil.copy(DIALOGS_DIR / name, target / name)
    return target


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    weight: 5\n", "    weight: 7\n", "weight"),
        ("  - id: fee\n", "  - id: passport_kept\n", "used twice"),
        ("    patterns: no_experience\n", "    patterns: no_such_set\n", "unknown set"),
        ("      - 'deposits?|", "      - '(deposits?|", "bad pattern"),
        ("      flags: [pay_above]", "      flags: [no_such_flag]", "unknown flag"),
    ],
)
def test_a_broken_scanner_file_is_reported_with_the_flag(tmp_path, old, new, message):
    dialogs = copy_dialogs(tmp_path)
    path = dialogs / "scanner.yaml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(ScannerError, match=message):
        Scanner.load(dialogs)


def test_a_scanner_compiled_later_still_names_its_broken_pattern(tmp_path):
    # `serve` compiles the patterns in the background; the mistake must read the same.
    dialogs = copy_dialogs(tmp_path)
    path = dialogs / "scanner.yaml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("      - 'deposits?|", "      - '(deposits?|", 1), "utf-8")
    scanner = Scanner.load(dialogs, compile=False)
    with pytest.raises(ScannerError, match="bad pattern '\\(deposits"):
        scanner.compile_all()


def test_a_scanner_compiled_on_first_use_finds_the_same_flags(scanner):
    lazy = Scanner.load(today=scanner.today, compile=False)
    ad = "Pay a 300 EUR deposit before you travel. The coordinator keeps your passport."
    assert [f.id for f in lazy.scan(ad).findings] == [f.id for f in scanner.scan(ad).findings]
    assert lazy.scan(ad).findings


def test_a_wage_without_a_source_is_refused(tmp_path):
    dialogs = copy_dialogs(tmp_path)
    path = dialogs / "wages.yaml"
    text = path.read_text("utf-8")
    text = text.replace(', source: "https://suduvosgidas.lt', ', note: "https://suduvosgidas.lt', 1)
    path.write_text(text, "utf-8")
    with pytest.raises(ScannerError, match="source"):
        Scanner.load(dialogs)


def test_default_scanner_is_loaded_once():
    assert default_scanner() is default_scanner()


# --- command line -----------------------------------------------------------------------


def test_scan_command_prints_flags_as_json():
    ad = next(a for a in ADS if a["id"] == "ru_scam_de_warehouse")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "scan"],
        input=ad["text"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    out = json.loads(done.stdout)
    assert set(out) == {"flags", "checks", "lang"}
    assert out["lang"] == "ru"
    assert sorted(f["id"] for f in out["flags"]) == sorted(ad["flags"])
    assert {"id": "passport_kept", "evidence": "Паспорт остаётся у работодателя"} in out["flags"]
    assert all(set(f) == {"id", "evidence"} for f in out["flags"])


def test_scan_command_on_a_benign_ad_prints_no_flags():
    done = subprocess.run(
        [sys.executable, "-m", "bot", "scan"],
        input="Kitchen porter, Cork, €14.80 per hour. The Oyster House Ltd, jobs@oyster.ie",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == {"flags": [], "checks": [], "lang": "en"}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [ad["text"][:80] for ad in ADS]
            + ["€", "£12", "zł", "1 200", "-", "до", "iki", "İstanbul", "ß", "\n", "🙂", "ё'ʼ"]
        ),
        max_size=6,
    ).map(" ".join)
    | st.text(max_size=300)
)
def test_any_text_scans_and_every_evidence_is_quoted(text):
    scanner = default_scanner()
    flat = " ".join(unicodedata.normalize("NFC", text).split())
    result = scanner.scan(text)
    assert result.lang in LANGUAGES
    for finding in result.findings:
        # the ad model's flag quotes up to three phrases, joined by " … "
        for part in finding.evidence.split(" … "):
            assert part.rstrip("…") in flat


# --- the written ad set (issue 14) ------------------------------------------------------

WRITTEN = load_ads()
#: Must reach (issue 14): risky ads flagged, sound ads left quiet.
RISKY_FLAGGED = 0.95
SOUND_QUIET = 0.90


def test_the_written_ad_set_is_large_balanced_and_in_four_languages():
    risky = [a for a in WRITTEN if a.risky]
    sound = [a for a in WRITTEN if not a.risky]
    assert len(WRITTEN) >= 200
    assert len(sound) >= 100 and len(risky) >= 100
    assert len({a.id for a in WRITTEN}) == len(WRITTEN)
    for lang in ("en", "lt", "ru", "uk"):
        assert sum(f"_{lang}_" in f"_{a.id}" for a in WRITTEN) >= 30, lang
    assert all(a.risky for a in WRITTEN if a.must)


def test_the_test_part_is_fixed_by_the_text_alone():
    # a hash of the normalised text decides; this pins the rule so no one re-draws it
    assert split_of("Work in Germany, €13.90 per hour.") == split_of(
        "  work in  GERMANY, €13.90 per hour. "
    )
    parts = [a.split for a in WRITTEN]
    share = parts.count("test") / len(parts)
    assert abs(share - 1 / TEST_EVERY) < 0.1
    for batch in {a.batch for a in WRITTEN}:
        assert any(a.split == "test" for a in WRITTEN if a.batch == batch), batch


def test_the_whole_written_set_reaches_the_must_reach_figures(scanner):
    result = score(scanner, WRITTEN)
    wrong = [(ad.id, ids) for ad, ids in result.wrong]
    assert result.recall >= RISKY_FLAGGED, wrong
    assert result.quiet_rate >= SOUND_QUIET, wrong


#: The frozen test part as last measured (bench/README.md), never tuned on. With batch 8
#: (another new writer) the rules read 70/76 = 0.92 risky flagged and 81/89 = 0.91 sound
#: quiet; with the ad model (bot/admodel.py, trained on the dev ads only) 74/76 = 0.97 and
#: 81/89 = 0.91, both above the Must reach (0.95, 0.90). b1-b7's test ads read 61/63 and
#: 65/73, b1-b6's 49/51 and 54/59. Batch 9 (a new writer, measured before any tuning on it:
#: 40/50 risky flagged, 33/40 sound quiet with the model) brought the test part to 93/97 and
#: 91/100. Batch 10 (a new writer, before any tuning on it: 44/52 risky flagged, 37/48 sound
#: quiet) brought the test part to 113/118 and 107/120, and b1-b9's to 94/97 and 91/100.
#: Batch 12 (a new writer, before any tuning on it: 58/64 risky flagged, 48/56 sound quiet)
#: brought it to 128/135 and 124/139, b1-b10's to 113/118 and 108/120. Batch 11 (a new
#: writer asked for the euphemisms real recruiters use; before any tuning 41/52 risky
#: flagged, 40/48 sound quiet) brought it to 146/157 and 133/149, the money-mule flag to
#: 147/157. Batch 13 (a new writer, 120 ads of varied forms; before any tuning on it 53/64
#: risky flagged, 50/56 sound quiet) brought it to 173/185 and 145/163, b1-b12's to 148/157
#: and 133/149. Batch 14 (a new writer, small firms, community boards, crewing agencies;
#: before any tuning on it 54/64 risky flagged, 45/56 sound quiet) brought it to 189/201 and
#: 166/182, b1-b13's to 174/185 and 152/163, b1-b12's to 149/157 and 139/149. Batch 15 (a
#: new writer; before any tuning 57/64 risky flagged, 49/56 sound quiet) brought it to
#: 210/221 and 184/206, b1-b14's to 191/201 and 164/182: the rules from its dev part alone
#: read 190/201 and 166/182, the ad model retrained with its dev ads one risky ad more and
#: two sound ones fewer (kept: the model is what `make train` makes from the repository).
#: Batch 16 (a new writer: Telegram bots, diaspora chats, Instagram; before any tuning
#: 61/64 risky flagged, 47/56 sound quiet) brought it to 229/241 and 201/223, b1-b15's to
#: 210/221 and 187/206, b1-b14's to 191/201 and 166/182. Batch 17 (a new writer asked for
#: ads that tempt a false alarm: licences, priced deductions, employers paying visas; before
#: any tuning 57/60 risky flagged, 42/60 sound quiet, 8 of the 18 paying under the 2026
#: statutory minimum the scanner holds) brought it to 251/266 and 218/247, b1-b16's staying
#: at 229/241 and 201/223. Batch 18 (a new writer: destinations outside the EU, wage tables;
#: before any tuning 60/60 risky flagged, 47/60 sound quiet) brought it to 273/285 and
#: 230/265, b1-b17's to 254/266 and 218/247, b1-b16's to 232/241 and 201/223. Batches 19
#: (en, lt) and 20 (ru, uk), two new writers (before any tuning 29/30 and 30/30 risky
#: flagged, 21/30 and 26/30 sound quiet), brought it to 295/308 and 249/284: the rules from
#: their dev parts alone read b1-b18's at 273/285 and 232/265 with the ad model of batch 18;
#: the ad model retrained with their dev ads (kept: it is what `make train` makes from the
#: repository) reads one b16 risky test ad fewer (b1-b18's 272/285, b1-b17's 253/266,
#: b1-b16's 231/241; guards lowered to what is measured) and one b19 sound test ad more.
#: Batches 21 (en, lt) and 22 (ru, uk), two new writers with many small employers' short
#: posts (before any tuning 29/30 and 29/30 risky flagged, 18/30 and 22/30 sound quiet),
#: brought it to 314/328 and 262/302; the rules from their dev parts read 314/328 and
#: 266/302, b1-b20's 295/308 and 252/284 (three sound ads more), the same with the ad model
#: retrained with their dev ads (kept).
#: Batch 23 (a new writer, en, lt, ru, uk; before any tuning 28/28 risky flagged, 24/32 sound
#: quiet) brought it to 323/337 and 276/317 with the scanner of batch 22; the rules from its
#: dev part read 323/337 and 277/317, b1-b22's 314/328 and 267/302 (one sound ad more),
#: b1-b20's 295/308 and 253/284, the same with the ad model retrained with its dev ads.
#: Batch 24 (a new writer, en, lt, ru, uk; before any tuning 27/28 risky flagged, 22/32 sound
#: quiet) brought it to 339/354 and 283/327 with the scanner of batch 23 (b1-b23's
#: 323/337 and 277/317, measured on `main`); the rules from its dev part read 339/354 and
#: 284/327, b1-b23's 323/337 and 278/317, b1-b22's 314/328 and 268/302, b1-b18's 272/285 and
#: 236/265 (older guards raised to what is measured), the same with the ad model retrained
#: with its dev ads.
#: Batch 25 (a new writer, en, lt, ru, uk; before any tuning 28/28 risky flagged, 29/32 sound
#: quiet) brought it to 345/360 and 293/336 with the scanner of batch 24 (b1-b24's 339/354
#: and 284/327, measured before any change); the rules from its dev part left every test
#: figure as it was; the ad model retrained with its dev ads (kept: it is what `make train`
#: makes) reads one b12 risky test ad more: 346/360 and 293/336, b1-b24's 340/354 and
#: 284/327, b1-b23's 324/337 and 278/317, b1-b12's 153/157 (older guards raised to what is
#: measured).
#: Batch 26 (a new writer, en, lt, ru, uk; before any tuning 28/28 risky flagged, 26/32 sound
#: quiet: dev 18/18 and 17/21, test 10/10 and 9/11) brought it to 356/370 and 302/347 with
#: the scanner of batch 25 (b1-b25's 346/360 and 293/336, measured before any change); the
#: rules from its dev part and the ad model retrained with its dev ads left every test figure
#: as it was (b26's test part 10/10 and 9/11).
#: Batch 27 (a new writer, en, lt, ru, uk; before any tuning 28/28 risky flagged, 27/32 sound
#: quiet: dev 21/21 and 21/23, test 7/7 and 6/9) brought it to 363/377 and 308/356 with the
#: scanner of batch 26. Then one weak sign alone stopped raising a warning (it is shown as a
#: thing to check; two weak signs still raise, `bot/scanner.py: WEAK_TOGETHER`, chosen on
#: the dev ads read before tuning by `bench/bench_scanner_weak.py`), a fee named as illegal
#: stopped being a fee, and the ad model was retrained with batch 27's dev ads: 360/377 and
#: 321/356. Every older part loses one to three risky ads flagged by one weak sign alone and
#: gains more sound ones (b1-b26's 356/370 and 302/347 became 353/370 and 315/347).
#: Batch 28 (a new writer; before any tuning 27/28 risky flagged, 30/32 sound quiet: dev
#: 18/18 and 22/23, test 9/10 and 8/9) brought the test parts to 369/387 and 329/365 with
#: the scanner of batch 27. Its dev part's one false alarm (a fee the employer "pays for",
#: named far down a long list) and its written-for flags were then made rules, and the ad
#: model was retrained with its dev ads (out-of-fold `raise` threshold 0.80 -> 0.76): it
#: now raises one sound ad of b8's test part and one risky ad of b12's (370/387 and
#: 328/365; b1-b27 361/377 and 320/356).
#: Batch 29 (another new writer; before any tuning 28/28 risky flagged, 27/32 sound quiet:
#: dev 20/20 and 21/26, test 8/8 and 6/6; two of its five sound ads flagged pay the UK and
#: Dutch minimum of 2025, under the 2026 one the scanner reads) brought the test parts to
#: 378/395 and 334/371. Its dev part's rules (a deduction priced with "nuomos sutartis
#: raštu", a pay review "раз на пів року" that b28's rule read as pay withheld) and the ad
#: model retrained with its dev ads (`raise` 0.76 -> 0.82): 377/395 and 334/371.
#: Batch 30 (another new writer; before any tuning 27/28 risky flagged, 28/32 sound quiet:
#: dev 20/20 and 18/20, test 7/8 and 10/12) brought the test parts to 384/403 and 344/383.
#: Its dev part's rules (a visa fee paid to UK Visas and Immigration, a farmer named by
#: name and surname) and the ad model retrained with its dev ads (`raise` 0.82 -> 0.77):
#: 386/403 and 343/383; the retrained model raises one more risky ad and one more sound ad
#: in the oldest test parts (b5-b6).
#: Batch 31 (another new writer; before any tuning 28/28 risky flagged, 22/32 sound quiet:
#: dev 19/19 and 15/22, test 9/9 and 7/10; five of the ten sound ads flagged for a fee or
#: a deduction their own words rule out or price) brought the test parts to 395/412 and
#: 350/393. Its dev part's rules (a visa fee paid to UKVI and refunded, "якщо хтось просить
#: заплатити — не платіть", "ніякої оплати готівкою", cards opened "на себе" and handed
#: over, the first month's pay kept "як гарантія", passports "atiduodami saugoti", a whole
#: share lost on signing off early) and the ad model retrained with its dev ads (`raise`
#: 0.77 -> 0.74): 396/412 and 350/393 (b1-b30's 386/403 -> 387/403, 343/383 unchanged).
#: Pay of about the minimum before its last rise (0.995-1.02 of it), and under today's,
#: became a weak sign to ask about (`pay_old_minimum`), not "pay below the minimum": 17 of
#: the 22 sound dev ads still flagged had been written with 2025 minimum wages.
#: Batch 32 (another new writer; before any tuning 28/28 risky flagged, 28/32 sound quiet,
#: with the scanner before or after that change: dev 22/22 and 20/23, test 6/6 and 8/9).
#: Its dev part's rules (holiday pay paid at the end of the season, a paid test task, a
#: deduction shown on the payslip; Lithuanian passports "paims saugoti", "tik kartu su
#: brigadininku", "atsiskaitom pasibaigus sezonui", fines for leaving "anksčiau"/"раньше")
#: and the ad model retrained (`raise` 0.74 -> 0.75). With all of it, b1-b31's test parts
#: 396/412 and 350/393 -> 396/412 and 360/393; b1-b32's 402/418 and 358/402 -> 402/418 and
#: 368/402.
#: Batch 33 (another new writer; before any tuning 28/28 risky flagged, 23/32 sound quiet:
#: dev 17/17 and 14/17, test 11/11 and 9/15) brought them to 413/429 and 377/417. Its dev
#: part's rules (a fee the employer pays, tips in cash, the minimum quoted beside the pay;
#: a trip paid "o vėliau išskaičiuojama", an unpaid trial, pay only at the season's end,
#: transfers "persiųst", a fine for leaving "раньше") and the ad model retrained (`raise`
#: 0.76): 415/429 and 378/417. Then one money flag (a fee, a deduction, cash, pay) on an ad
#: the model is surer than `quiet` (0.05, chosen out of fold so that no risky dev ad is
#: lost) is sound became a thing to check (`model_may_quiet`): 414/429 and 399/417.
#: Batch 34 (another new writer), read by that scanner before anything was learnt from it:
#: 28/28 risky flagged, 29/32 sound quiet (dev 15/15 and 15/17, test 13/13 and 14/15; the
#: scanner before the last two changes: 26/32). Its dev part's rules (a visa fee "paid by
#: you directly to UK Visas and Immigration", travel "reimbursed up to £150", "Annual salary
#: from approx. €32,800"; Lithuanian passports "atiduodami kapitonui saugoti", "važiuojat
#: kaip turistai") and the ad model retrained (`raise` 0.75, `quiet` 0.05): 427/442 and
#: 414/432 (b1-b33's 414/429 and 400/417).
#: These guard against getting worse; raise them when a measurement is better, never above
#: what is measured.
TEST_PART_RISKY_FLAGGED = 427 / 442
TEST_PART_SOUND_QUIET = 414 / 432
#: (last batch read, risky flagged, sound quiet) of the test parts of b1 to that batch
TEST_PART_UP_TO = [
    (33, 414 / 429, 400 / 417),
    (32, 403 / 418, 385 / 402),
    (31, 397 / 412, 376 / 393),
    (30, 388 / 403, 366 / 383),
    (29, 379 / 395, 333 / 371),
    (28, 371 / 387, 327 / 365),
    (27, 361 / 377, 319 / 356),
    (26, 354 / 370, 313 / 347),
    (25, 344 / 360, 304 / 336),
    (24, 338 / 354, 295 / 327),
    (23, 322 / 337, 287 / 317),
    (22, 313 / 328, 276 / 302),
    (20, 295 / 308, 260 / 284),
    (18, 272 / 285, 242 / 265),
    (17, 254 / 266, 228 / 247),
    (16, 232 / 241, 210 / 223),
    (15, 213 / 221, 193 / 206),
    (14, 195 / 201, 170 / 182),
    (13, 179 / 185, 153 / 163),
    (12, 154 / 157, 139 / 149),
    (10, 117 / 118, 112 / 120),
    (9, 97 / 97, 94 / 100),
    (8, 76 / 76, 83 / 89),
    (7, 63 / 63, 68 / 73),
    (6, 51 / 51, 56 / 59),
]
#: b1-b10 with b12 (b11 was added after b12's round)
TEST_PART_B1_B10_B12 = (133 / 135, 129 / 139)


def test_the_frozen_test_part_does_not_get_worse(scanner):
    # the ads are not named: the test part is never tuned on (only figures are compared,
    # so a failure does not print the ads it got wrong)
    test = [a for a in WRITTEN if a.split == "test"]
    result = score(scanner, test)
    line, recall, quiet = result.line(), result.recall, result.quiet_rate
    assert recall >= TEST_PART_RISKY_FLAGGED - 1e-9, line
    assert quiet >= TEST_PART_SOUND_QUIET - 1e-9, line
    number = {a.batch: int(a.batch[1:]) for a in test}
    guards = [(lambda b, last=last: number[b] <= last, r, q) for last, r, q in TEST_PART_UP_TO]
    guards.append((lambda b: number[b] <= 12 and b != "b11", *TEST_PART_B1_B10_B12))
    for kept, risky, sound in guards:
        old = score(scanner, [a for a in test if kept(a.batch)])
        line, recall, quiet = old.line(), old.recall, old.quiet_rate
        assert recall >= risky - 1e-9, line
        assert quiet >= sound - 1e-9, line


#: Batches 23, 24 and 25's risky dev ads whose written-for flag no rule raises yet: each is
#: flagged by other signs (19/19, 11/11 and 22/22 flagged), the classes are left for a round
#: on risky ads (strict: a rule that raises one shows up here). Batch 25's rules (massage
#: work that asks for looks) raise b23's Istanbul and b24's Limassol massage ads; batch 27's
#: (photos with the age or in a swimsuit a few words on, 'models' asked for such photos)
#: raise b23's Milan models, b24's Dubai hostess and b24's Turkish swimwear models.
WRITTEN_FOR_NOT_YET = {
    "b23_en_risky_belgium_greenhouse_worked_off",
    "b23_en_risky_germany_meat_deductions",
    "b23_en_risky_norway_telegram_only",
    "b23_lt_risky_vokietija_dokumentu_mokestis",
    "b23_lt_risky_palanga_kisenpinigiai",
    "b23_ru_risky_izrail_dolg_za_perelet",
    "b23_ru_risky_srochno_vyezd_zavtra_translit",
    "b23_uk_risky_lytva_zaproshennia_oplata",
    "b23_uk_risky_chekhiia_80_kron",
    # batch 24 (11/11 risky dev ads flagged before any tuning, 4/11 by the flag written for)
    "b24_en_risky_norway_fish_ticket_worked_off",
    "b24_en_risky_uk_care_registration_fee",
    "b24_ru_risky_finlyandiya_yagody_nikomu",
    "b24_ru_risky_izrail_bilet_vychitaem",
    # batch 25 (22/22 risky dev ads flagged before any tuning, 12/22 by the flag written for;
    # 21/22 with its rules): "from €3,500 a month in hand" in Germany, the Netherlands and
    # Belgium; every country named must find pay far above, and in the Netherlands it is
    # under 1.2 x agency pay (net read as gross) while Belgium has no typical wage, so
    # `pay_above`, which `easy_money` needs, is not raised
    "b25_ru_risky_europe_easy_job_high_income",
    # batch 27 (28/28 risky ads flagged before any tuning, 7/21 dev ads by every flag written
    # for; 15/21 with its rules): `money_mule` is raised on the accounts, transfers and
    # parcels, but `easy_money` needs "no experience" with pay far above or high-pay words,
    # and these say "no work, no risk", "suits students" or pay no check judges too good
    # (€2800 net in Warsaw); Israel's shekels are no currency the pay check knows, so the
    # Tel Aviv massage ad gets no `pay_above`
    "b27_en_risky_pl_callcentre_accounts",
    "b27_lt_risky_uk_siuntiniai",
    "b27_lt_risky_lt_banko_saskaitos",
    "b27_ru_risky_il_massazh",
    "b27_ru_risky_fi_posylki_parom",
    "b27_uk_risky_lt_rakhunky",
    # batch 28 (18/18 risky dev ads flagged before any tuning, 3/18 by every flag written
    # for; 10/18 with its rules): no pay check knows Dubai's dollars or a Lithuanian district
    # named only as "Kėdainių raj.", `easy_money` needs pay far above, some weak signs the
    # writer listed (a Viber number, no employer) are worded in ways no rule reads, and
    # neither is "документи зробимо десь через 2–3 місяці" (papers later: off the books)
    "b28_en_risky_dubai_vip_hostess",
    "b28_en_risky_parcel_reshipping_telegram",
    "b28_lt_risky_banko_saskaita_telegram",
    "b28_lt_risky_darzoviu_ukis_grynais",
    "b28_ru_risky_norvegiya_treska_dolg_shtraf",
    "b28_uk_risky_khostes_antalia_dubai",
    "b28_uk_risky_nimechchyna_budova_biometriia",
    "b28_uk_risky_kartka_dropy_bot",
    # batch 29 (20/20 risky dev ads flagged before any tuning, 8/20 by every flag written
    # for; 16/20 with its rules): pay far above in Dubai and Istanbul (dollars: no wage data)
    # and `easy_money` without it
    "b29_en_risky_dubai_vip_hostess",
    "b29_en_risky_remote_payment_assistant",
    "b29_lt_risky_banko_saskaitos_telegram",
    "b29_ru_risky_spa_stambul_massazhistki",
    # batch 30 (20/20 risky dev ads flagged before any tuning, 4/20 by every flag written
    # for; 11/20 with its rules): `easy_money` without pay far above, pay under the minimum
    # of live-in care in Germany ("1300 € į rankas" a month: no hours to divide by), 12-hour
    # shifts alone (not excessive by themselves), and weak signs the writer listed where a
    # heavier flag already warns (a Telegram bot, a Viber number, "мест мало")
    "b30_en_risky_remote_logistics_parcels_payments",
    "b30_lt_risky_saskaitos_pervedimai",
    "b30_lt_risky_vokietija_globa_be_sutarties",
    "b30_ru_risky_telegram_kurer_karty",
    "b30_ru_risky_niderlandy_strojka_bezviz",
    "b30_ru_risky_avtomojka_vilnius_nalichka",
    "b30_uk_risky_polshcha_rybnyi_zavod_pasporty",
    "b30_uk_risky_telegram_kartky_na_sebe",
    "b30_uk_risky_nimechchyna_doglialnytsia_bez_vykhodu",
    "b31_en_risky_uk_car_wash_cash",
    "b31_en_risky_milan_vip_hostess",
    "b31_en_risky_no_trawler_pay_at_end",
    "b31_lt_risky_de_meat_plant_unpaid_trial",
    "b31_lt_risky_london_zurich_hostess",
    "b31_lt_risky_bank_account_students",
    "b31_lt_risky_kedainiai_veg_farm_cash",
    "b31_ru_risky_finance_agent_usdt",
    "b31_uk_risky_germany_live_in_carer",
    "b31_uk_risky_student_bank_cards",
    "b32_en_risky_cyprus_hostess_vip_companion",
    "b32_en_risky_remote_payment_processing_agent",
    "b32_lt_risky_anglija_grynais_be_sutarties",
    "b32_lt_risky_banko_saskaitos_greitas_uzdarbis",
    "b32_ru_risky_kipr_massazhistki_intim",
    "b32_ru_risky_perevody_na_kartu_studenty",
    "b32_uk_risky_nimechchyna_suprovid_vip",
    "b32_uk_risky_telegram_drop_kartky",
    "b33_en_risky_cyprus_vip_hostess",
    "b33_en_risky_remote_payment_assistant",
    "b33_en_risky_germany_construction_cash",
    "b33_lt_risky_revolut_saskaita_uzdarbis",
    "b33_ru_risky_shveytsariya_vip_soprovozhdenie",
    "b33_ru_risky_germaniya_sklad_4500_netto",
    "b33_uk_risky_nimechchyna_budivnytstvo_vnesok",
    "b33_uk_risky_modeli_milan_foto",
    "b33_uk_risky_perekazy_na_kartku",
    "b34_en_risky_hostess_cyprus_vip",
    "b34_en_risky_uk_warehouse_tourist_entry",
    "b34_en_risky_belgium_construction_cash",
    "b34_en_risky_live_in_care_germany",
    "b34_lt_risky_uk_tourist_visa_high_pay",
    "b34_ru_risky_montenegro_hostess_photos",
}


@pytest.mark.parametrize(
    "ad", [a for a in WRITTEN if a.must and a.split == "dev"], ids=lambda a: a.id
)
def test_a_risky_dev_ad_raises_the_flag_it_was_written_for(scanner, ad, request):
    if ad.id in WRITTEN_FOR_NOT_YET:
        reason = "the written-for flag is not a rule yet (flagged by other signs)"
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
    found = set(scanner.scan(ad.text).ids)
    # pay of about last year's minimum is still named below today's (`pay_old_minimum`),
    # as a thing to ask about: it answers an ad written for `pay_below` (b3, b7)
    if "pay_old_minimum" in found:
        found.add("pay_below")
    assert set(ad.must) <= found


def test_the_newcomers_ukrainian_cleaning_ad_for_germany_is_read_in_full(scanner):
    # the review (shared/reviews/newcomer.md) found 5 flags but not the passport handover,
    # and no pay flag at €3,500 a month for unskilled work with no language
    text = (
        "Прибирання в Німеччині, 3500 €/місяць, без мови і досвіду. "
        "Паспорт віддати координатору для оформлення. Пишіть у вайбер."
    )
    assert sorted(scanner.scan(text).ids) == sorted(
        ["passport_kept", "pay_above", "easy_money", "no_company", "messenger_only"]
    )


@pytest.mark.parametrize(
    "text",
    [
        "Медична сестра до лікарні Святої Марії, Манчестер. Повна зайнятість, £29,970 на рік.",
        "Медсестра в больницу Святой Марии, Манчестер. Полная ставка, годовая зарплата £29,970.",
    ],
)
def test_a_yearly_salary_in_ukrainian_or_russian_is_not_read_as_a_month(scanner, text):
    # "на рік" and "годовая" say the period; read per month, £29,970 was "far above"
    assert pay_flags(scanner, text) == set()


@pytest.mark.parametrize(
    "text",
    [
        # batch 9's sound ads: the employer pays the visa, and says so in its own words
        "Room attendants for Marsa Creek Resort, Dubai. The employment visa and medical test "
        "are paid by the resort. No worker may be charged recruitment fees. careers@marsacreek.ae",
        "Platform engineer, Ledgerwell Ltd, London. We sponsor the visa and pay all visa fees "
        "for you and your family. careers@ledgerwell.co.uk",
    ],
)
def test_an_employer_paying_the_visa_is_no_fee(scanner, text):
    assert "fee" not in scanner.scan(text).ids


def test_pay_for_each_day_at_sea_is_a_daily_wage_and_a_municipality_names_the_employer(scanner):
    fisher = (
        "Jūreivis-žvejys į tralerį – UAB „Baltijos tralas“, Klaipėda. "
        "Užmokestis: 95 € už kiekvieną parą jūroje + premija."
    )
    assert "pay_below" not in scanner.scan(fisher).ids
    care = next(a for a in WRITTEN if a.id == "b9_ru_sound_tromso_helsefagarbeider_kommuna")
    assert "no_company" not in scanner.scan(care.text).ids  # "Коммуна Тромсё"


@pytest.mark.parametrize(
    "text",
    [
        "Remote job: receive customer payments on your personal bank card and transfer them "
        "the same day to our suppliers. 5% commission, no experience needed.",
        "Darbas internetu: atidaryti banko sąskaitą savo vardu mūsų įmonei, 200 eur už "
        "kiekvieną sąskaitą.",
        "Подработка: открыть счёт в банке на своё имя для компании, 300 евро за каждый счёт.",
        "Віддалена робота: приймати перекази клієнтів на свою особисту картку і переказувати "
        "їх далі постачальникам, 5 % від суми.",
    ],
)
def test_lending_ones_own_account_to_move_money_is_a_money_mule_offer(scanner, text):
    # batch 11's dev part had such an ad and no flag for it: it is money laundering
    # (forced criminality), whatever the pay
    assert "money_mule" in scanner.scan(text).ids


@pytest.mark.parametrize(
    "text",
    [
        "Warehouse operatives, Hansa Logistik GmbH, Hamburg. €15.20 an hour, paid weekly "
        "into your own bank account. jobs@hansa.example.de",
        "Склад в Каунасе, UAB „Krovinys“. Зарплата 1 400 € брутто, переводится на вашу "
        "банковскую карту два раза в месяц.",
    ],
)
def test_a_salary_paid_into_the_workers_own_account_is_no_money_mule(scanner, text):
    assert "money_mule" not in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        # a "contribution" settled before departure is a fee by another name
        (
            "A one-time registration and placement contribution of €350 is settled before "
            "departure.",
            "fee",
        ),
        # the employer "advances" the trip and takes it back from the pay: a debt
        (
            "The company advances your flight and the first month of housing. These are settled "
            "step by step from your salaries.",
            "pay_back_later",
        ),
        (
            "Travel: you come to Canada as a visitor first; our consultant sorts out the "
            "work status.",
            "tourist_visa",
        ),
        (
            "Į JAV atvykstate kaip turistė (ESTA), o vietoje advokatas sutvarkys dokumentus.",
            "tourist_visa",
        ),
        (
            "Your employment agreement and crew terms are signed on board after arrival.",
            "off_the_books",
        ),
        ("Контракт подписывается по прилёту в Дубай, там же оформляется виза.", "off_the_books"),
        ("Расчёт полностью в конце сезона, перед отъездом домой.", "wages_withheld"),
        (
            "For your peace of mind, your passport and BRP are looked after in our office safe for "
            "the whole length of your placement.",
            "passport_kept",
        ),
        (
            "Accommodation, local transport and work clothing are arranged by us and settled "
            "directly from your salary.",
            "deductions",
        ),
        (
            "The employment contract is signed after you have proven your skills on site.",
            "off_the_books",
        ),
        (
            "Kad komanda išliktų iki sezono pabaigos, visas atlyginimas išmokamas spalio "
            "pabaigoje.",
            "wages_withheld",
        ),
        ("Pirmus tris mėnesius atlyginimas kaupiamas ir išmokamas kartu.", "wages_withheld"),
        (
            "Кандидати самостійно сплачують пакет підготовки (медогляд, тренінг STCW) – 700 $.",
            "fee",
        ),
        ("Жильё и проезд организуем мы, расходы на них удерживаются из зарплаты.", "deductions"),
        (
            "The au pair agreement will be signed with them in person once you settle in Munich.",
            "off_the_books",
        ),
        (
            "Трудовой контракт подписывается уже в Дохе, в отделе кадров, в первую неделю после "
            "приезда.",
            "off_the_books",
        ),
        (
            "Через щільний графік компанії контракт підписується вже на борту, після посадки.",
            "off_the_books",
        ),
        (
            "Jei nuspręstumėte išvykti anksčiau nei po 12 mėnesių, bilietą ir šeimos išlaidas "
            "reikės grąžinti.",
            "penalties",
        ),
        ("Sėkmingai praėjusiems pokalbį taikomas pasiruošimo paketas – 690 €.", "fee"),
        (
            "Sezono metu duodame avansą maistui, visas atlyginimas išmokamas pasibaigus sezonui.",
            "wages_withheld",
        ),
        (
            "Kad darbdavys matytų jūsų anketą, aktyvuokite „Premium“ profilį — vienkartinis 99 € "
            "mokestis.",
            "fee",
        ),
        ("Чтобы работодатель увидел ваше резюме, оплатите проверку анкеты — 50 €.", "fee"),
        (
            "Gyvenimo ir kelionės į darbą išlaidos tvarkomos mūsų ir išskaičiuojamos iš "
            "atlyginimo.",
            "deductions",
        ),
        ("We pay for your flight, you pay the visa fee of 300 euro.", "fee"),
        (
            "Darbo sutartį pasirašysite atvykę į Padborgą, Lietuvoje nieko pasirašyti nereikia.",
            "off_the_books",
        ),
        ("Жильё есть. Первые 2 недели работаете бесплатно.", "wages_withheld"),
        (
            "3. Payment of the Sponsorship & Compliance fee (£5,800) to Brightwell, covering CoS "
            "allocation.",
            "fee",
        ),
        ("Сбор за спонсорство визы — 2 500 £, оплачивается после собеседования.", "fee"),
        ("Збір за спонсорство візи — 2 500 £, сплачується після співбесіди.", "fee"),
        (
            "Hostess jobs in night clubs of Dubai: $3,000 a month plus 20% commission on drinks.",
            "sex_work_cover",
        ),
        (
            "Хостес в ночные клубы Стамбула, оплата 2 000 $ + процент с напитков гостей.",
            "sex_work_cover",
        ),
        (
            "Танцівниці та хостес у нічні клуби Анталії, оплата 2 500 $ + відсоток з напоїв.",
            "sex_work_cover",
        ),
        (
            "Hostesės darbas naktiniame klube Kipre, 2 000 € ir procentai nuo gėrimų.",
            "sex_work_cover",
        ),
        (
            "On arrival the coordinator will collect everyone's passports and keep them in the "
            "office safe.",
            "passport_kept",
        ),
        (
            "Passports and seaman's books are kept by the captain during the whole contract.",
            "passport_kept",
        ),
        (
            "Atvykus koordinatorius surenka visų darbuotojų pasus ir laiko juos įmonės seife.",
            "passport_kept",
        ),
        ("Паспорта и мореходные книжки сдаются капитану при посадке.", "passport_kept"),
        (
            "Паспорт залишається в координатора на весь час оформлення картки побиту.",
            "passport_kept",
        ),
        ("You don't need to know what's inside, no paperwork, no questions asked.", "secrecy"),
        ("Что внутри – не ваша забота, вскрывать не нужно.", "secrecy"),
        ("Що всередині — не питати, все конфіденційно.", "secrecy"),
        ("Kas viduje – ne jūsų reikalas, siuntinių neatidarinėti.", "secrecy"),
        (
            "Work visa handled by the company after arrival – just come on visa exemption.",
            "tourist_visa",
        ),
        ("Atvyksite pagal bevizį režimą, darbo leidimą sutvarkysime vietoje.", "tourist_visa"),
        ("Въезд по безвизу, на месте поможем с документами.", "tourist_visa"),
        ("Їдете по безвізу, на місці допоможемо з документами.", "tourist_visa"),
        (
            "Program cost: language course and job matching – USD 2,500, payable in two "
            "instalments before your visa application is filed.",
            "fee",
        ),
        (
            "On arrival your passport or ID card is handed to our site coordinator, who keeps "
            "it for the whole contract.",
            "passport_kept",
        ),
        (
            "Prieš išvykstant visi kandidatai privalo baigti mūsų partnerio saugos kursus – 350 €.",
            "fee",
        ),
        (
            "Before you travel all candidates must complete our partner's safety course – £350.",
            "fee",
        ),
        ("Стоимость пакета документов — 390 €, оплачивается до подачи документов.", "fee"),
        ("Вартість пакета документів — 390 €, оплачується до подачі документів.", "fee"),
        ("Билет оплачивает работодатель, сумма вычитается из первой зарплаты.", "pay_back_later"),
        ("Квиток оплачує роботодавець, сума вираховується з першої зарплати.", "pay_back_later"),
        (
            "Atvykstate su paprasta turistine eVisitor viza ir darbą pradedate iš karto.",
            "tourist_visa",
        ),
        (
            "Pirmosios 4 savaitės – bandomasis laikotarpis: jo metu atlyginimas nemokamas.",
            "wages_withheld",
        ),
    ],
)
def test_red_flags_in_recruiters_everyday_words(scanner, text, flag):
    # wordings new writers used for red flags (batches 13-20, dev parts), in four languages;
    # batches 19-20's: a sponsorship fee, a night club's drinks percentage, passports collected
    # or held by a captain, a sponsor or a coordinator, a courier told not to ask what he
    # carries, a visa-free entry to go to work; batches 21-22's: a programme's cost payable
    # before the visa, a passport handed to a coordinator, a paid course before departure, a
    # document package's price, a ticket taken from the first salary, an eVisitor tourist
    # visa, an unpaid trial period
    assert flag in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        (
            "Seasonal Fruit Pickers – Kent, UK | Seasonal Worker visa 2026. NO FEES of any kind.",
            {"fee", "pay_below"},
        ),
        (
            "Klinikum Alsterufer, slaugytojai: 3 600–4 100 € / mėn. bruto; tarnybinis butas "
            "pirmiems 6 mėnesiams – 420 €/mėn.",
            {"fee", "pay_below"},
        ),
        (
            "You pay only the standard UK visa fee directly to the government; we do not charge "
            "recruitment fees.",
            {"fee", "pay_above", "pay_below", "easy_money"},
        ),
        (
            "Jūs sumokate tik oficialų vizos mokestį tiesiogiai vyriausybei; jokių agentūros "
            "mokesčių.",
            {"fee", "pay_above", "pay_below", "easy_money"},
        ),
        (
            "Плата за трудоустройство не взимается. Ферма Mansikkatila Heikkilä, Суоненйоки.",
            {"fee", "pay_above", "pay_below", "easy_money"},
        ),
        (
            "Tulipa Mobility B.V., Data Analyst: €4,400–€5,300 gross per month. 2+ years of "
            "experience, English (Dutch not required).",
            {"fee", "pay_above", "pay_below", "easy_money"},
        ),
        (
            "Tulpwerk Uitzend B.V.: 14,71 € брутто на годину. Медичне страхування – можна оформити "
            "через нас (39 € на тиждень).",
            {"fee", "pay_above", "pay_below", "easy_money"},
        ),
        (
            "Агентство получает комиссию от владельца яхты, кандидаты не платят ничего.",
            {"fee", "deductions", "pay_below"},
        ),
        (
            "Lakeshore Greens Inc.: 17,60 CAD/час. Жильё предоставляется; удержание – 30 CAD в "
            "неделю, как указано в контракте.",
            {"fee", "deductions", "pay_below"},
        ),
        (
            "ClearSignal Ltd, Дублин: 33 500 € брутто в год. Помощь с релокацией: 2 недели "
            "гостиницы, 1 500 € на переезд.",
            {"fee", "deductions", "pay_below"},
        ),
        (
            "Modelių agentūra „Amber Faces“. Niekada neprašome nuotraukų maudymosi kostiumėliais.",
            {"photos_requested", "deductions", "fee"},
        ),
        (
            "Brněnské strojírny a.s.: общежитие 3 800 CZK/месяц, удерживается из зарплаты по "
            "письменному соглашению.",
            {"photos_requested", "deductions", "fee"},
        ),
        (
            "Hotel Bergsonne: проживание и питание — 990 CHF в месяц, удерживаются по тарифам "
            "L-GAV.",
            {"photos_requested", "deductions", "fee"},
        ),
        (
            "AgriPath UK Ltd: стоимость визы и перелёта возмещает работодатель.",
            {"photos_requested", "deductions", "fee"},
        ),
        ("We do not charge registration fees or placement fees.", {"fee"}),
        ("Relocation: we pay your Health and Care Worker visa fee and your flight.", {"fee"}),
        (
            "Комната в общежитии — 380 € в месяц со всеми расходами, первые 3 месяца бесплатно.",
            {"wages_withheld"},
        ),
        ("Роботодавець: Moravia Machinery a.s., Брно. 32 000 Kč брутто на місяць.", {"no_company"}),
        ("Apply on our careers page freshcart.example/careers, 30 hours a week.", {"no_company"}),
        ("We never charge workers any recruitment, placement or registration fee.", {"fee"}),
        (
            "Вознаграждение агентства оплачивает работодатель; залогов и сборов с кандидатов нет.",
            {"fee"},
        ),
        ("Hanbit Heavy Industries, Geoje: ship welders, ₩3,300,000 a month.", {"no_company"}),
        ("Национальное агентство занятости объявляет набор строителей в Израиль.", {"no_company"}),
        ("Baristas at a café, £12.90/h. DM us or drop by with your CV!", {"messenger_only"}),
        (
            "Склад у Познані: 5 900 zł брутто (мінімальна в Польщі у 2026 — 4 806 zł).",
            {"pay_below"},
        ),
        (
            "What the Trust pays for:\n• your Health and Care Worker visa application fee\n• NMC "
            "application and registration fee",
            {"fee"},
        ),
        ("Darbdavys apmoka:\n– vizos mokestį\n– registracijos mokestį", {"fee"}),
        ("Компания оплачивает:\n• визовый сбор\n• оплата за оформление документов", {"fee"}),
        ("Роботодавець оплачує:\n• візовий збір\n• оплата за оформлення документів", {"fee"}),
        (
            'Be careful with people on Facebook who use our name and ask for "visa fee" – it is '
            "not us.",
            {"fee"},
        ),
        ("Мошенники от нашего имени просят предоплату за оформление — это не мы.", {"fee"}),
        ("Шахраї від нашого імені просять передоплату за оформлення — це не ми.", {"fee"}),
        ("Sukčiai mūsų vardu prašo sumokėti registracijos mokestį – tai ne mes.", {"fee"}),
        (
            "Package: AED 6,000 a month, duty meals, monthly service charge (varies with "
            "business).",
            {"fee"},
        ),
        (
            "Apply only through careers.marisolhotels.example – we do not recruit through "
            "WhatsApp.",
            {"messenger_only"},
        ),
        (
            "Анкета на сайте компании. Мы не набираем людей через Telegram и Viber.",
            {"messenger_only"},
        ),
        (
            "Анкета на сайті компанії. Ми не набираємо працівників через Telegram.",
            {"messenger_only"},
        ),
        ("Anketą pildykite svetainėje. Darbuotojų nerenkame per WhatsApp.", {"messenger_only"}),
        (
            "Room £95 a week, deducted from your wages under a separate tenancy agreement.",
            {"deductions"},
        ),
        (
            "Kambarys vienam – 4500 NOK/mėn., išskaičiuojama iš algos pagal atskirą nuomos "
            "sutartį.",
            {"deductions"},
        ),
        (
            "Butas – 3000 NOK/mėn., nuoma išskaičiuojama iš atlyginimo (tai numatyta darbo "
            "sutartyje).",
            {"deductions"},
        ),
        ("Своя комната — 115 €/нед., вычитается из зарплаты, сумма в договоре.", {"deductions"}),
        (
            "Кімната — 115 €/тиж., вираховується із зарплати, сума вказана в договорі.",
            {"deductions"},
        ),
        (
            "Senior backend engineer, Lumora Pay GmbH, Berlin: €78,000 gross per year. You own a "
            "system that moves ~€40m a day; €1,500 learning budget.",
            {"pay_above", "pay_below"},
        ),
        (
            "Senior-разработчик, ООО «Код», Берлин: 78 000 € брутто в год, бюджет на обучение 1 "
            "500 €.",
            {"pay_above", "pay_below"},
        ),
        (
            "Senior-розробник, ТОВ «Код», Берлін: 78 000 € брутто на рік, бюджет на навчання 1 "
            "500 €.",
            {"pay_above", "pay_below"},
        ),
        (
            "Staff Nurse, Calder Moor Hospitals NHS Foundation Trust: £31,049 – £37,796 per "
            "annum. Until you pass your OSCE you are employed as a Band 4 Nursing Associate "
            "(£27,485 – £30,162).",
            {"pay_above", "pay_below"},
        ),
        (
            "Kilbrack Meats Ltd, Ірландія: €16,50 на годину брутто; усі витрати на дозвіл (€1 "
            "000) і візу платить роботодавець.",
            {"pay_below"},
        ),
        (
            "Kilbrack Meats Ltd, Ирландия: €16,50 в час брутто; все расходы на разрешение (€1 "
            "000) оплачивает работодатель.",
            {"pay_below"},
        ),
        (
            "Kilbrack Meats Ltd, Airija: 16,50 € per valandą bruto; leidimo išlaidas (1 000 €) "
            "apmoka darbdavys.",
            {"pay_below"},
        ),
        # batches 21-22: a messenger on the phone of an employer that names itself
        (
            "Agentūra Baltic Staff sp. z o.o., KRAZ 18734. 📞 Ольга +48 XXX XXX XXX (Viber, "
            "Telegram)",
            {"messenger_only"},
        ),
        (
            "Агенція Trend Personal s.r.o. Оксана, Viber/WhatsApp +420 XXX XXX XXX",
            {"messenger_only"},
        ),
        (
            "Sparkle Lane Cleaning Ltd, Cork. Start Monday 🙌 Send us a DM or call Aoife on 08X "
            "XXX XXXX",
            {"messenger_only"},
        ),
        (
            "Фирма Trockenbau Seidl GmbH, Мюнхен. Андрей, +49 XXX XXXXXXX (Вайбер)",
            {"messenger_only"},
        ),
        # an urgent heading wrapped in emoji, from an employer that names itself
        (
            "🔥СРОЧНО🔥 Гданьск, склад. Агентство Baltic Staff sp. z o.o.",
            {"urgency", "no_company"},
        ),
        (
            "‼️ТЕРМІНОВО‼️ Вільнюс — водії кат. C. UAB «Baldų logistika» — офіційно.",
            {"urgency", "no_company"},
        ),
        ("⚡URGENT⚡ Kitchen porter, The Red Lion pub, Oxfordshire.", {"urgency"}),
        # a phone's country code is no price; a denial over a list with commas
        (
            "Trasko Personal s.r.o.: EU citizen or valid Czech work permit. 📞 +420 XXX XXX XXX",
            {"fee"},
        ),
        ("Жодних внесків, залогів чи «оплат за місце» ми не беремо.", {"fee"}),
        ("Никаких взносов, залогов или «оплаты за место» мы не берём.", {"fee"}),
        # employers named in their own way
        (
            "Ieškome auklės mūsų 2 metų dukrytei Antakalnyje, 8,50–9 €/val. Rašykite žinutę – "
            "Eglė, +370 6XX XXXXX",
            {"no_company"},
        ),
        (
            "Nanny job: looking for a nanny for our 3-year-old son in Dublin, €15 an hour. Call "
            "Sinead 08X XXX XXXX",
            {"no_company"},
        ),
        (
            "Работа на клубнике, с 20 мая. Хозяйство Марека Ковальского, 32 zł брутто/час. "
            "Звонить Ане: +48 XXX XXX XXX",
            {"no_company"},
        ),
        (
            "Ярмарок вакансій у Лейпцигу: Jobcenter Leipzig та Агентство з праці запрошують. "
            "Вхід вільний.",
            {"no_company"},
        ),
        (
            "Heatherbank Live-in Care is registered with the Care Inspectorate. Live-in care "
            "work, call 0131 XXX XXXX.",
            {"no_company"},
        ),
        # pay judged for the work: months of experience, CSCS cards, travel paid up to a sum
        (
            "Live-in carers, Scotland: £1,050–£1,260 per week. At least 6 months of care "
            "experience. Travel paid, up to £150 per rotation. Heatherbank Care Ltd.",
            {"pay_above"},
        ),
        (
            "Groundworkers, Reading: £150–£180 a day, CSCS card essential. Smith Groundworks Ltd.",
            {"pay_above"},
        ),
    ],
)
def test_sound_wordings_raise_none_of_these_flags(scanner, text, flags):
    # a year after "visa", a flat's rent, the state's visa fee, a skilled salary, a price,
    # a commission the employer pays, a priced or agreed deduction, a denied photo request
    # (batches 13-18, dev parts), and batches 17-18's: a denial over a list of fees, a fee
    # the employer pays back, a free room, an employer named by a label, a careers page, a
    # shipyard or a public agency, a way in person, the statutory minimum quoted by the pay;
    # batches 19-20's: fees listed under "the employer pays:", a warning about impostors who
    # ask for money in the employer's name, a monthly service charge, a messenger named to
    # say it is not used, a deduction priced in a separate agreement, millions, budgets and
    # costs that are no wage, a second salary figure in an ad that pays per year; batches
    # 21-22's: a messenger on a named employer's phone, an urgent heading in emoji, a phone's
    # country code, a list of denied fees, a family, a farm's owner, a jobcenter or a care
    # regulator naming the employer, pay judged with months of experience, construction
    # cards and travel paid up to a sum
    assert not flags & set(scanner.scan(text).ids)


@pytest.mark.parametrize(
    "text",
    [
        "| Rank | Contract | Monthly wage (USD) |\n|"
        + "-" * 21
        + "|"
        + "-" * 10
        + "|"
        + "-" * 20
        + "|\n"
        "| Able Seaman (AB) | 6 months | 1,950 – 2,150 |\n" * 6,
        "salary " + "- " * 500 + " paid at the end of the season",
        "wage " + "a-" * 400,
    ],
)
def test_a_pasted_table_or_a_run_of_punctuation_does_not_stall_the_scanner(scanner, text):
    # A free token in a pattern (`( \S+){0,5}`) once split a run of dashes in every possible
    # way: a crewing agency's wage table kept the scanner busy for minutes, and with it the
    # conversation. Not a speed target: a stall fails here instead of hanging the run.
    import signal

    def stalled(*_):
        raise TimeoutError("the scanner stalled")

    previous = signal.signal(signal.SIGALRM, stalled)
    signal.alarm(30)
    try:
        scanner.scan(text)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_guaranteed_minimum_far_above_the_pay_is_still_too_good():
    # "the minimum in Poland is ..." is no wage; "guaranteed minimum 4,500 a month" is one
    found = Scanner.load(today=date(2026, 12, 4)).scan(
        "Warehouse work in Germany, guaranteed minimum 4,500 euro a month, no experience needed."
    )
    assert "pay_above" in found.ids


# --- batch 23's dev part: causes, each with an ad of our own --------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Фотографы для интернет-магазина, Рига. Никаких платных тестов, обучений или "
        "«вступительных взносов» – всё за счёт студии.",
        "Бариста в Краків. Жодних платних курсів, форми чи «реєстраційних внесків» – ми "
        "навчаємо на місці.",
        "Padavėjai į Palangą. Jokių mokamų kursų, uniformos ar «registracijos mokesčių» – "
        "viską apmokame mes.",
    ],
)
def test_a_denial_over_a_list_with_commas_and_quotes_is_no_fee(scanner, text):
    assert "fee" not in scanner.scan(text).ids


@pytest.mark.parametrize(
    "text",
    [
        "Никаких документов не нужно, но регистрационный взнос 200 евро.",
        "Жодних документів не треба, але вступний внесок 150 євро.",
        "Jokių dokumentų nereikia, tik registracijos mokestis 150 €.",
    ],
)
def test_a_denial_of_something_else_does_not_cancel_the_fee_after_it(scanner, text):
    assert "fee" in scanner.scan(text).ids


def test_a_rate_per_piece_of_work_is_no_hourly_wage(scanner):
    # "85 zł per m²" read as 85 zł an hour was far above what such work pays in Poland;
    # the hourly pay beside a piece rate is still judged
    assert (
        "pay_above"
        not in scanner.scan(
            "Floor layers for flats in Poznań: 85 zł per m², paid every two weeks."
        ).ids
    )
    assert "pay_above" not in scanner.scan("Укладка ламината в Познани, 60 zł за м².").ids
    assert (
        "pay_below"
        in scanner.scan("Obuolių skynimas Lietuvoje: 0,50 € už kg arba 5 €/val., kas daugiau.").ids
    )


@pytest.mark.parametrize(
    "text",
    [
        "Монтаж окон и дверей в Варшаве, 9 500 zł брутто в месяц. Нужен опыт.",
        "Монтаж вікон і дверей у Варшаві, 9 500 zł брутто на місяць. Потрібен досвід.",
        "Langų montavimas Varšuvoje, 9 500 zł per mėnesį. Būtina darbo patirtis.",
        "Window fitting in Warsaw, 9,500 zł a month gross. Relevant experience needed.",
        "Tilers for new flats in Warsaw, 9,500 zł a month gross.",
    ],
)
def test_experience_asked_for_in_either_word_order_or_a_trade_makes_the_job_skilled(scanner, text):
    assert "pay_above" not in scanner.scan(text).ids


@pytest.mark.parametrize(
    "text",
    [
        "Монтаж окон в Варшаве, 9 500 zł брутто в месяц. Не нужен опыт.",
        "Window fitting in Warsaw, 9,500 zł a month gross. No previous experience needed.",
    ],
)
def test_no_experience_needed_keeps_such_pay_too_good(scanner, text):
    assert "pay_above" in scanner.scan(text).ids


def test_a_polish_sole_traders_form_names_the_employer(scanner):
    text = "Ищу двух маляров в Лодзь, работаю как JDG, договор zlecenie. Звоните, Павел."
    assert "no_company" not in scanner.scan(text).ids


def test_a_professional_salary_without_a_period_is_a_years_pay(scanner):
    # a month of £120,000 would be far above even skilled work in the UK, a year is not;
    # the same sum for work that needs no skill is still too good
    assert (
        "pay_above"
        not in scanner.scan(
            "Principal Data Engineer, Manchester. Salary £120,000–£140,000 + bonus. "
            "7+ years of experience with Spark."
        ).ids
    )
    assert (
        "pay_above"
        in scanner.scan("Warehouse packers, Manchester. Salary £120,000, no experience needed.").ids
    )


# --- batch 24's dev part: causes, each with an ad of our own --------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Прибирання офісів у Брюсселі, 14,50 €/год брутто. Нідерландська мова не обов'язкова.",
        "Уборка офисов в Брюсселе, 14,50 €/час брутто. Нидерландский язык не обязателен.",
        "Biurų valymas Briuselyje, 14,50 €/val. bruto. Nyderlandų kalba nebūtina.",
    ],
)
def test_the_dutch_language_does_not_name_the_netherlands(scanner, text):
    # Belgium is not in the wage table: the pay is not judged, and not by the Dutch minimum
    assert "pay_below" not in scanner.scan(text).ids


def test_the_netherlands_by_name_is_still_judged(scanner):
    assert "pay_below" in scanner.scan("Теплиці в Нідерландах, 12,00 €/год брутто.").ids


def test_a_deposit_paid_by_an_employer_named_by_what_it_is_is_no_fee(scanner):
    text = (
        "Cooks for Harbour View Hotel, Galway. The work permit fee and the first month's "
        "rent deposit are paid by the hotel. careers@harbourview.example"
    )
    assert "fee" not in scanner.scan(text).ids
    assert "fee" in scanner.scan("Cooks for a hotel. A deposit of €300 is paid by you.").ids


@pytest.mark.parametrize(
    "text",
    [
        "Room in a shared house, €95 a week. Key deposit €40, returned when you move out.",
        "Kambarys bendrabutyje. Užstatas už raktus 40 € grąžinamas išsikraustant.",
        "Комната в общежитии. Залог за ключи 40 €, возвращается при выезде.",
        "Кімната в гуртожитку. Застава за ключі 40 €, повертається при виїзді.",
    ],
)
def test_a_refundable_deposit_for_the_keys_is_no_fee(scanner, text):
    assert "fee" not in scanner.scan(text).ids


@pytest.mark.parametrize(
    "text",
    [
        "Užstatas už darbo vietą 200 €, grąžinamas po trijų mėnesių.",
        "Залог за комнату и ключи 300 €, возвращается через полгода.",
    ],
)
def test_a_deposit_for_anything_but_the_keys_is_still_a_fee(scanner, text):
    assert "fee" in scanner.scan(text).ids


@pytest.mark.parametrize(
    "text",
    [
        "Житло 550 zł/міс за місце в кімнаті, утримується з зарплати – сума вписана в договір.",
        "Жильё 550 zł/мес за место в комнате, вычитается из зарплаты – сумма вписана в договор.",
        "Житло 600 зл/міс., утримується лише за вашою письмовою згодою.",
    ],
)
def test_a_deduction_whose_sum_is_written_into_the_contract_is_agreed(scanner, text):
    assert "deductions" not in scanner.scan(text).ids


def test_the_cyrillic_abbreviation_of_zloty_is_a_currency(scanner):
    # "25 зл/год" is 25 zł an hour, under the Polish minimum of 2026
    assert "pay_below" in scanner.scan("Склад у Познані, 25 зл/год брутто, без досвіду.").ids


@pytest.mark.parametrize(
    "text",
    [
        "Бармен у клуб, Гданськ. 36 zł/год брутто + чайові (зазвичай 300–450 zł за зміну).",
        "Бармен в клуб, Гданьск. 36 zł/час брутто + чаевые (обычно 450 zł за смену).",
        "Bar staff, Gdańsk club. 36 zł an hour gross plus tips (usually 450 zł a shift).",
        "Barmenai į klubą Gdanske. 36 zł/val. bruto + arbatpinigiai (paprastai 450 zł "
        "per pamainą).",
    ],
)
def test_tips_are_no_wage(scanner, text):
    # 450 zł a shift of tips read as a day's wage was far above a barman's pay in Poland
    assert "pay_above" not in scanner.scan(text).ids


# --- batch 25's dev part: causes, each with an ad of our own --------------------------


@pytest.mark.parametrize(
    "text",
    [
        # a line may wrap inside the list
        "The Trust pays the Certificate of Sponsorship, the visa application fee and\n"
        "the health surcharge for new nurses.",
        "Darbdavys apmoka skrydį, draudimą ir vizos mokestį.",
        "Работодатель оплачивает перелёт, страховку и сбор за визу.",
        "Роботодавець оплачує переліт, страховку та збір за візу.",
    ],
)
def test_a_fee_in_a_list_the_employer_pays_is_no_fee(scanner, text):
    assert "fee" not in scanner.scan(text).ids


@pytest.mark.parametrize(
    "text",
    [
        "We pay the flight and the housing, you pay the visa fee.",
        "We pay the flight and the housing; the placement fee is €300.",
        "Darbdavys apmoka skrydį, o vizos mokestį 200 € mokate jūs.",
        "Работодатель оплачивает перелёт, а сбор за визу 200 € платите вы.",
        "Роботодавець оплачує переліт, а збір за візу 200 € платите ви.",
    ],
)
def test_a_fee_after_the_employers_list_that_the_worker_pays_is_still_a_fee(scanner, text):
    assert "fee" in scanner.scan(text).ids


@pytest.mark.parametrize(
    "text",
    [
        "We reimburse the visa application fee in your first payslip.",
        "Vizos mokestį kompensuojame su pirmuoju atlyginimu.",
        "Сбор за визу компенсируем в первой зарплате.",
        "Збір за візу компенсуємо в першій зарплаті.",
    ],
)
def test_a_fee_the_employer_pays_back_at_once_is_no_fee(scanner, text):
    assert "fee" not in scanner.scan(text).ids


@pytest.mark.parametrize(
    "text",
    [
        "We refund the placement fee after 6 months of work.",
        "Vizos mokestį grąžiname po 3 mėnesių darbo.",
        "Сбор за визу возвращаем после 3 месяцев работы.",
        "Збір за візу повертаємо після 3 місяців роботи.",
    ],
)
def test_a_fee_refunded_only_after_a_term_of_work_is_still_a_fee(scanner, text):
    assert "fee" in scanner.scan(text).ids


@pytest.mark.parametrize(
    "text",
    [
        "Autoservisas Klaipėdoje ieško automechaniko. Atlyginimas 1 900–2 600 € bruto per mėnesį.",
        "Автосервис в Клайпеде ищет автослесаря. Зарплата 1 900–2 600 € брутто в месяц.",
        "Автосервіс у Клайпеді шукає автомеханіка. Зарплата 1 900–2 600 € брутто на місяць.",
        "Panel beater for a body shop in Klaipėda, Lithuania. Salary €1,900–2,600 gross per month.",
    ],
)
def test_a_trade_named_by_a_compound_word_is_skilled_work(scanner, text):
    assert "pay_above" not in scanner.scan(text).ids


@pytest.mark.parametrize(
    "text",
    [
        "Automobilių plovykla Klaipėdoje, 2 600 € bruto per mėnesį, patirtis nebūtina.",
        "Автомойка в Клайпеде, 2 600 € брутто в месяц, опыт не нужен.",
    ],
)
def test_unskilled_work_at_such_pay_is_still_too_good(scanner, text):
    assert "pay_above" in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        # a debt repaid, told in the present tense
        (
            "Kelionę ir pirmo mėnesio nuomą apmokame mes, o jūs tai grąžinate vėliau.",
            "pay_back_later",
        ),
        (
            "Билет и жильё оплачивает фирма, а все расходы вы потом возвращаете из заработанного.",
            "pay_back_later",
        ),
        (
            "Квиток і житло оплачує фірма, а всі витрати ви потім повертаєте з заробленого.",
            "pay_back_later",
        ),
        # the first wages kept as a bond or a guarantee, paid when the contract ends
        (
            "Your first month's wages are held as a bond until the end of the season.",
            "wages_withheld",
        ),
        (
            "Pirmo mėnesio atlyginimas yra garantinis ir išmokamas tik baigus sutartį.",
            "wages_withheld",
        ),
        (
            "Первая зарплата является гарантийной и выплачивается только при завершении контракта.",
            "wages_withheld",
        ),
        (
            "Перша зарплата є гарантійною і виплачується лише при завершенні контракту.",
            "wages_withheld",
        ),
        # a charge for ending the contract early
        (
            "Leave before the end of the contract and you pay an early termination charge of €400.",
            "penalties",
        ),
        ("Ankstyvo išvykimo mokestis – 300 €.", "penalties"),
        ("Плата за досрочное расторжение договора – 300 €.", "penalties"),
        ("Плата за дострокове розірвання договору — 300 €.", "penalties"),
        # a rule not to tell anyone
        ("You may not tell anyone where you work, not even your family.", "secrecy"),
        ("Negalima niekam, net šeimai, sakyti, kur dirbate.", "secrecy"),
        ("Нельзя никому, даже родным, говорить, где вы работаете.", "secrecy"),
        ("Не можна нікому, навіть рідним, казати, де ви працюєте.", "secrecy"),
        # out only with someone of the household, or never alone
        (
            "For the first month you leave the house only together with the owner's son.",
            "confinement",
        ),
        ("Do not go out alone for the first month.", "confinement"),
        ("Išeiti iš namų galima tik kartu su šeimininke.", "confinement"),
        (
            "Первые недели выход из дома только вместе с хозяйкой, самостоятельно не выходить.",
            "confinement",
        ),
        ("Вихід з квартири лише разом з господинею, самостійно не виходити.", "confinement"),
        # massage work for which looks are asked
        (
            "Massage therapists wanted for a studio in Dubai: attractive ladies 20-30, "
            "slim figure.",
            "sex_work_cover",
        ),
        (
            "Masažuotojos į saloną Dubajuje, patrauklios išvaizdos merginos 20–30 m.",
            "sex_work_cover",
        ),
        ("Массажистки в салон в Дубае, девушки 20–30 лет с приятной внешностью.", "sex_work_cover"),
        (
            "Масажистки в салон у Дубаї, дівчата 20–30 років з привабливою зовнішністю.",
            "sex_work_cover",
        ),
        # money passed on, accounts opened for pay
        (
            "Приймайте перекази від клієнтів на свою картку і переводьте далі за реквізитами.",
            "money_mule",
        ),
        ("Оплачуємо відкриття нових рахунків — 500 грн за кожен.", "money_mule"),
        ("Оплачиваем открытие новых счетов — 1 000 грн за каждый.", "money_mule"),
        ("We pay €50 for every new bank account you open.", "money_mule"),
        ("Mokame 30 € už kiekvienos naujos banko sąskaitos atidarymą.", "money_mule"),
    ],
)
def test_risky_classes_written_in_other_words_are_raised(scanner, text, flag):
    assert flag in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("Жильё 100 € в неделю, вычитается из зарплаты по договору.", "pay_back_later"),
        ("Ключі від кімнати повертаєте при виїзді.", "pay_back_later"),
        ("Зарплата гарантована, виплачується щомісяця на ваш рахунок.", "wages_withheld"),
        ("Зарплата гарантированная, выплачивается каждые две недели.", "wages_withheld"),
        ("Atlyginimas garantuotas, mokamas kas mėnesį į jūsų sąskaitą.", "wages_withheld"),
        (
            "Wages are paid weekly into your own account; safety boots are kept as a bond of €20.",
            "wages_withheld",
        ),
        ("No early termination fee: you may leave with two weeks' notice.", "penalties"),
        ("Jokio ankstyvo išvykimo mokesčio: galite išeiti įspėję prieš dvi savaites.", "penalties"),
        ("Без неустойки: можно уволиться, предупредив за две недели.", "penalties"),
        ("Без неустойки: можна звільнитися, попередивши за два тижні.", "penalties"),
        ("You must not disclose client data to third parties.", "secrecy"),
        ("Tell anyone you like about the job: share this ad with friends.", "secrecy"),
        ("Выход на работу только с медицинской книжкой.", "confinement"),
        ("Pickers never go into the forest alone: we work in pairs.", "confinement"),
        (
            "Massage therapist for a hotel spa. Diploma in massage therapy required. "
            "Attractive salary and tips.",
            "sex_work_cover",
        ),
        ("We help you open a bank account for your salary.", "money_mule"),
        ("Допоможемо з відкриттям рахунку в банку для зарплати.", "money_mule"),
    ],
)
def test_sound_wordings_near_these_classes_stay_quiet(scanner, text, flag):
    assert flag not in scanner.scan(text).ids


# --- batch 26's dev part: causes, each with an ad of our own --------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Kavinė „Jūratė“ Nidoje ieško padavėjų: 4 000 € per sezoną su arbatpinigiais, bazinis "
        "atlyginimas 7,80 €/val. bruto.",
        "Waiters for the Sea Breeze Hotel, Palanga: £6,000 for the season, contract from day one.",
        "Кафе «Прибой» в Паланге ищет официантов: 4 000 € за сезон, ставка 7,80 €/час брутто.",
        "Кафе «Прибій» у Паланзі шукає офіціантів: 4 000 € за сезон, ставка 7,80 €/год брутто.",
    ],
)
def test_a_total_for_the_season_is_not_read_as_a_month(scanner, text):
    # "3 500 € per sezoną" had read as €3,500 a month for waiting tables: pay far above
    assert "pay_above" not in scanner.scan(text).ids


def test_pay_per_month_beside_a_season_is_still_judged(scanner):
    text = "Сбор клубники в Польше, без опыта. Заработок 9 000 € в месяц, весь сезон!"
    assert "pay_above" in scanner.scan(text).ids


def test_a_lithuanian_phone_in_its_national_form_is_a_number_to_call(scanner):
    # "8 6XX XXXXX (galima ir per WhatsApp)" from a café that names itself
    text = (
        "Kavinė „Jūratė“ Nidoje ieško padavėjų, 7,80 €/val. bruto. Skambinkite Rasai: "
        "8 612 34567 (galima ir per WhatsApp)."
    )
    assert "messenger_only" not in scanner.scan(text).ids


def test_a_stranger_with_a_phone_in_its_national_form_is_still_messenger_only(scanner):
    text = "Darbas Norvegijoje, 20 €/val. Rašykite Rasai: 8 612 34567 (galima ir per WhatsApp)."
    assert "messenger_only" in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        # a small weekly sum now, the rest of the wages at the end of the season
        (
            "You get €40 a week for food; the rest of your wages is paid in one sum at the end "
            "of the harvest. Pickers who leave early lose the retained pay.",
            "wages_withheld",
        ),
        (
            "Kas savaitę 40 € maistui, likusi atlyginimo dalis išmokama vienu kartu sezono "
            "pabaigoje.",
            "wages_withheld",
        ),
        (
            "Каждую неделю 40 € на еду, остальной заработок выплачивается одной суммой в конце "
            "сезона.",
            "wages_withheld",
        ),
        (
            "Щотижня 40 € на їжу, решта зарплати виплачується однією сумою в кінці сезону.",
            "wages_withheld",
        ),
        # what the employer pays now is taken from the wages later
        (
            "We buy the flight and pay the first rent; later this amount (about €1,200) is "
            "deducted from your pay.",
            "pay_back_later",
        ),
        (
            "Bilietą ir pirmą nuomą apmokame mes, vėliau ši suma (apie 1 200 €) bus išskaičiuojama "
            "iš atlyginimo.",
            "pay_back_later",
        ),
        (
            "Билет и первую аренду оплачиваем мы, потом эта сумма (около 1 200 €) будет "
            "вычитаться из зарплаты.",
            "pay_back_later",
        ),
        (
            "Квиток і першу оренду оплачуємо ми, потім ця сума (близько 1 200 €) буде "
            "вираховуватися із зарплати.",
            "pay_back_later",
        ),
        # a tariff of fines, taken from the wages
        ("House rules: lateness – €40 fine; fines are deducted from your wages.", "penalties"),
        ("Vėlavimas – 40 € bauda, baudos išskaičiuojamos iš atlyginimo.", "penalties"),
        ("Опоздание – штраф 40 €, штрафы удерживаются из зарплаты.", "penalties"),
        ("Запізнення – штраф 40 €, штрафи утримуються із зарплати.", "penalties"),
    ],
)
def test_batch_26s_risky_classes_in_other_words_are_raised(scanner, text, flag):
    assert flag in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        (
            "Wages are paid every two weeks; the rest of your holiday is taken in winter.",
            "wages_withheld",
        ),
        ("Зарплата щомісяця на ваш рахунок; решту відпустки берете взимку.", "wages_withheld"),
        (
            "Housing €110 a week, deducted from your salary as written in your contract.",
            "pay_back_later",
        ),
        ("Жильё 110 € в неделю, удерживается из зарплаты по договору.", "pay_back_later"),
        ("Parking fines are paid by the company, not by the driver.", "penalties"),
        ("Штрафов за опоздание нет, но просим предупреждать заранее.", "penalties"),
    ],
)
def test_sound_wordings_near_batch_26s_classes_stay_quiet(scanner, text, flag):
    assert flag not in scanner.scan(text).ids


# --- batch 27's dev part: causes, each with an ad of our own --------------------------


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        # an account's logins, card or PIN handed over; transfers passed on for a cut; a
        # courier who carries someone's bag and must not look inside
        (
            "Open two personal bank accounts and hand over the online banking logins to our "
            "accountant.",
            "money_mule",
        ),
        ("Give us your debit card and PIN, we pay €100 a month.", "money_mule"),
        (
            "You receive payments from our customers and pass them on, keeping 5% for yourself.",
            "money_mule",
        ),
        (
            "Take a sealed box on the ferry to Stockholm and hand it to a man at the port.",
            "money_mule",
        ),
        ("Atsidaryk sąskaitą banke ir perduok mums prisijungimus bei kortelę.", "money_mule"),
        ("Nuvežk krepšį keltu į Stokholmą, turinio tikrinti nereikia.", "money_mule"),
        (
            "Открываете счёт, передаёте нам логин и пароль от интернет-банка, получаете 200 € "
            "в месяц.",
            "money_mule",
        ),
        (
            "Получаете переводы на свою карту и отправляете их дальше, 7 % оставляете себе.",
            "money_mule",
        ),
        ("Отвезти чемодан поездом в Варшаву и передать человеку на вокзале.", "money_mule"),
        (
            "Відкриваєте рахунок, передаєте нам логін і пароль від онлайн-банку – 200 € на місяць.",
            "money_mule",
        ),
        ("Отримуєте перекази від клієнтів і пересилаєте далі, 7 % залишаєте собі.", "money_mule"),
        ("Перевезти валізу потягом до Варшави; вміст не перевіряти.", "money_mule"),
        # who holds the passports named after the verb, or before it
        ("Посвідки та паспорти на весь сезон тримає бригадир.", "passport_kept"),
        ("Бригадир забирає паспорти при заселенні.", "passport_kept"),
        ("Паспорта на время работы хранит координатор.", "passport_kept"),
        ("Бригадир забирает паспорта при заселении.", "passport_kept"),
        ("Koordinatorius visą sezoną laiko darbuotojų pasus.", "passport_kept"),
        ("Passports are kept by the site coordinator for the whole contract.", "passport_kept"),
        # 12 hours or more every day, "no days off"
        ("Працюємо по 12 годин щодня, до кінця збору.", "excessive_hours"),
        ("Вихідних немає до кінця збору.", "excessive_hours"),
        ("Смены по 13 часов ежедневно.", "excessive_hours"),
        ("Пока идёт сезон, выходных нет.", "excessive_hours"),
        ("Dirbama 12 valandų kasdien.", "excessive_hours"),
        ("Kol vyksta sezonas, išeiginių nėra.", "excessive_hours"),
        ("Shifts of 12 hours every day until the harvest is in.", "excessive_hours"),
        # pay only every few months, or held back "so that nobody leaves"
        ("Розрахунок з працівниками раз на два місяці.", "wages_withheld"),
        ("Гроші віддаємо лише в кінці сезону, щоб ніхто не втік.", "wages_withheld"),
        ("Зарплата выплачивается раз в квартал.", "wages_withheld"),
        (
            "Деньги выдаём только в конце сезона, чтобы рабочие не разъезжались.",
            "wages_withheld",
        ),
        ("Atlyginimas mokamas kas tris mėnesius.", "wages_withheld"),
        (
            "Pinigus išmokame tik sezono pabaigoje, kad darbuotojai neišvažiuotų.",
            "wages_withheld",
        ),
        ("Wages are paid every three months.", "wages_withheld"),
        (
            "Your pay is held until the end of the season so that workers don't leave early.",
            "wages_withheld",
        ),
        # the fine named after the early leaving
        ("Išvykus anksčiau nei po trijų mėnesių, taikoma 300 € bauda.", "penalties"),
        ("Расторгнув договор раньше полугода, вы платите штраф 400 €.", "penalties"),
        ("Розірвавши договір раніше ніж через пів року, ви сплачуєте штраф 400 €.", "penalties"),
        ("End the contract before six months and you are fined €400.", "penalties"),
        # the rest of a cost worked off from the first wages
        (
            "Квиток 200 € – половина зараз, решта відпрацьовується з першої зарплати.",
            "pay_back_later",
        ),
        (
            "Перелёт 300 €: 100 € сразу, остальное отрабатывается с первой зарплаты.",
            "pay_back_later",
        ),
        (
            "Kelionė 300 €: 100 € iš karto, likusi suma atidirbama iš pirmo atlyginimo.",
            "pay_back_later",
        ),
        (
            "The visa costs €600: €200 now, the rest is worked off from your first salary.",
            "pay_back_later",
        ),
        # the contract only there, the journey without papers
        ("Контракт оформим на месте, а пока едете без бумаг.", "off_the_books"),
        ("Договір підпишемо на місці, поки їдете без паперів.", "off_the_books"),
        ("Sutartį pasirašysim vietoje, o kol kas važiuojate be dokumentų.", "off_the_books"),
        ("We'll sign the contract there; you travel without papers.", "off_the_books"),
        # massage for young women with looks; 'models' asked for swimsuit or underwear
        # photos; an escort at events
        (
            "Massage studio in Limassol: young women 19–27 with excellent appearance.",
            "sex_work_cover",
        ),
        ("Model agency: please send two photos in a bikini to our Instagram.", "sex_work_cover"),
        ("Hostesses to accompany VIP clients at private dinners.", "sex_work_cover"),
        ("Modelių agentūra: atsiųskite nuotraukas su maudymosi kostiumėliu.", "sex_work_cover"),
        ("Merginos palydėti verslininkus vakarėliuose.", "sex_work_cover"),
        ("Девушкам: сопровождение гостей на вечеринках, 3 000 €.", "sex_work_cover"),
        ("Модельне агентство: надішліть фото в купальнику.", "sex_work_cover"),
        ("Супровід бізнесменів на заходах у Мюнхені.", "sex_work_cover"),
        # photos with the age or measurements, or in underwear a few words on
        ("Send recent photos and your age to apply.", "photos_requested"),
        ("Send two photos without make-up in underwear.", "photos_requested"),
        ("Atsiųskite nuotraukas ir savo ūgį bei svorį.", "photos_requested"),
        ("Atsiųskite dvi nuotraukas ir amžių.", "photos_requested"),
        ("Пришлите фото без фильтров в купальнике.", "photos_requested"),
        ("Надішліть фото, вік і параметри.", "photos_requested"),
    ],
)
def test_batch_27s_risky_classes_in_other_words_are_raised(scanner, text, flag):
    assert flag in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("Never share your online banking login or PIN with anyone, including us.", "money_mule"),
        (
            "Courier for a parcel service in Kaunas: deliver parcels to customers' doors, scan "
            "each one on handover.",
            "money_mule",
        ),
        (
            "Atlyginimas pervedamas į jūsų banko sąskaitą; prisijungimų niekam neperduokite.",
            "money_mule",
        ),
        ("Мы никогда не просим передать нам пароль от интернет-банка.", "money_mule"),
        (
            "Зарплата надходить на ваш рахунок; ми ніколи не просимо передавати нам логін чи "
            "пароль від банку.",
            "money_mule",
        ),
        ("Кур'єр: доставка посилок клієнтам по Києву, оплата щотижня.", "money_mule"),
        ("Паспорт завжди зберігаєте ви самі; координатор робить лише копію.", "passport_kept"),
        (
            "Паспорт всегда хранится у вас, координатор хранит только копию паспорта.",
            "passport_kept",
        ),
        ("Pasus laikote patys, koordinatorius pasilieka tik kopiją.", "passport_kept"),
        ("Your passport stays with you; the coordinator keeps only a copy of it.", "passport_kept"),
        ("Зміни по 12 годин, щодня гарячий обід; два вихідних на тиждень.", "excessive_hours"),
        ("У вихідні немає доставки, магазин працює до 20:00.", "excessive_hours"),
        ("В выходные нет доставки, график 2/2 по 12 часов.", "excessive_hours"),
        ("Dirbame 12 valandų pamainomis, dvi išeiginės per savaitę.", "excessive_hours"),
        ("12-hour shifts, 4 on / 4 off; every day a hot meal.", "excessive_hours"),
        ("Зарплата виплачується раз на місяць, аванс – щотижня.", "wages_withheld"),
        ("Зарплата два раза в месяц, чтобы вам было удобно планировать бюджет.", "wages_withheld"),
        ("Atlyginimas mokamas kas mėnesį, premija – kas tris mėnesius.", "wages_withheld"),
        (
            "Salary paid monthly into your account; the team bonus is paid every three months.",
            "wages_withheld",
        ),
        ("We pay well above the minimum so that people don't leave.", "wages_withheld"),
        (
            "Nutraukus sutartį anksčiau, baudos nėra – tik įspėkite prieš dvi savaites.",
            "penalties",
        ),
        ("Если уйдёте раньше срока, штрафа не будет — предупредите за две недели.", "penalties"),
        ("Якщо звільнитеся достроково, штрафу не буде.", "penalties"),
        ("You may end the contract early without any penalty.", "penalties"),
        ("Понаднормові години відпрацьовуються з доплатою 50 %.", "pay_back_later"),
        ("Остаток отпуска переносится на следующий год.", "pay_back_later"),
        ("Likusios atostogų dienos perkeliamos į kitus metus.", "pay_back_later"),
        ("The rest of your pay is paid monthly into your account.", "pay_back_later"),
        (
            "Без договора на работу не берём: договор подписываем в Вильнюсе до выезда.",
            "off_the_books",
        ),
        ("Без договору не працюємо: договір підписуємо в Києві до виїзду.", "off_the_books"),
        ("Be darbo sutarties nedirbame – sutartį pasirašome prieš išvykstant.", "off_the_books"),
        (
            "You cannot start work without papers: we sign the contract in Vilnius before you "
            "travel.",
            "off_the_books",
        ),
        (
            "Model agency casting in Vilnius: bring two ordinary photos; we never ask for "
            "swimsuit photos.",
            "sex_work_cover",
        ),
        ("Сиделка: сопровождение подопечной на приём к врачу и на прогулки.", "sex_work_cover"),
        ("Доглядальниця: супровід підопічного на прогулянках і до лікаря.", "sex_work_cover"),
        (
            "Masažuotojas (-a) į reabilitacijos centrą, būtinas masažuotojo diplomas.",
            "sex_work_cover",
        ),
        ("Send your CV with a photo of your certificates.", "photos_requested"),
        ("Siųskite CV su nuotrauka ir rekomendacijomis.", "photos_requested"),
        ("Пришлите резюме с фото. Предлагаем карьерный рост и обучение.", "photos_requested"),
        ("Надішліть резюме з фото; гарантуємо кар'єрний зріст.", "photos_requested"),
    ],
)
def test_sound_wordings_near_batch_27s_classes_stay_quiet(scanner, text, flag):
    assert flag not in scanner.scan(text).ids


# Batches 28-30 (issue 14): the classes their dev ads were written for, in our own words,
# and sound wordings next to them.
@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("Please send 2 photos (face, full height, bikini) to apply.", "photos_requested"),
        ("Atsiųsk 3 nuotraukas (veido, viso ūgio, su maudymosi kostiumėliu).", "photos_requested"),
        ("Надішліть 2 фото (обличчя, у повний зріст, у купальнику).", "photos_requested"),
        ("Money arrives on your card, you keep 8% and send the rest on.", "money_mule"),
        ("Receive boxes at home, repack them and forward them to new addresses.", "money_mule"),
        ("Pinigai ateis į tavo sąskaitą, likusius persiunti mūsų nurodytu numeriu.", "money_mule"),
        ("Оформи на себе картку і передай нам доступ до застосунку.", "money_mule"),
        ("Work 7am-8pm, 7 days, cash every Friday.", "excessive_hours"),
        ("Dirbam nuo 7 iki 21 val., be išeiginių.", "excessive_hours"),
        ("Работаем с 7 до 21 без выходных.", "excessive_hours"),
        ("Догляд цілодобово, один вихідний на місяць.", "excessive_hours"),
        ("Come on a holiday visa, the boss sorts the permit here.", "tourist_visa"),
        ("Заїжджаєте як турист, документи зробимо на місці.", "tourist_visa"),
        ("Въезд по безвизу, документы оформим на месте.", "tourist_visa"),
        ("20% of your weekly pay is reserved and paid at the end of the season.", "wages_withheld"),
        ("Зарплату виплачуємо раз на 3 місяці.", "wages_withheld"),
        ("If you leave before the end you lose the reserve.", "penalties"),
        ("Если уезжаете до конца сезона — штраф 500 €.", "penalties"),
        ("The ticket is taken back out of your first wages.", "pay_back_later"),
        ("Bilietą nupirksim, vėliau atskaičiuosim iš algos.", "pay_back_later"),
        ("Автобус за наш рахунок, потім вираховуємо з першої зарплати.", "pay_back_later"),
        ("Don't discuss the job with anyone, even family.", "secrecy"),
        ("Apie darbą nereikia pasakoti artimiesiems.", "secrecy"),
        ("Išeiti iš teritorijos be leidimo negalima.", "confinement"),
    ],
)
def test_batch_28_to_30s_risky_classes_in_other_words_are_raised(scanner, text, flag):
    assert flag in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        (
            "The Trust pays for your certificate, flights, exam preparation, housing for 8 "
            "weeks, the IHS surcharge and the registration fee.",
            "fee",
        ),
        (
            "You pay only the visa application fee, paid directly to UK Visas and Immigration.",
            "fee",
        ),
        ("Salary paid monthly; we review it once every six months.", "wages_withheld"),
        ("Зарплата щомісяця, переглядаємо раз на пів року.", "wages_withheld"),
        (
            "Butas 3800 NOK/mėn. – išskaičiuojama iš atlyginimo, nuomos sutartis raštu.",
            "deductions",
        ),
        ("Flights paid by us; nothing is taken from your wages.", "pay_back_later"),
        ("We work 8am-4pm, 5 days a week, weekends free.", "excessive_hours"),
        ("Keep your receipts; we reimburse travel costs within a week.", "money_mule"),
        ("Your passport always stays with you.", "passport_kept"),
    ],
)
def test_sound_wordings_near_batch_28_to_30s_classes_stay_quiet(scanner, text, flag):
    assert flag not in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        # batch 31's dev part: a fee the worker pays to the state and gets back, a warning
        # against paying, a promise never to ask for money, cash ruled out
        (
            "You pay the UK visa application fee yourself, directly to UK Visas and Immigration "
            "on gov.uk - we reimburse it in full with your first wage.",
            "fee",
        ),
        ("NMBI registration fee and English test (IELTS/OET) costs reimbursed.", "fee"),
        (
            "Если кто-то просит заплатить за «место» — не платите и пишите админу.",
            "fee",
        ),
        ("Якщо хтось просить заплатити за «місце» — не платіть і пишіть адміну.", "fee"),
        ("Ми ніколи не просимо передоплату за житло чи «візу».", "fee"),
        ("🚫 ніякої оплати готівкою — тільки через payroll", "off_the_books"),
        ("Никакой оплаты наличными, только на банковский счёт.", "off_the_books"),
        ("Jokio mokėjimo grynaisiais, tik į banko sąskaitą.", "off_the_books"),
    ],
)
def test_sound_wordings_of_batch_31_stay_quiet(scanner, text, flag):
    assert flag not in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        # their risky neighbours still raise the flag
        ("Visa fee 300 EUR paid to our coordinator before departure.", "fee"),
        ("Перед выездом нужно заплатить за «место» 200 евро.", "fee"),
        ("Оплата готівкою щотижня, без договору.", "off_the_books"),
    ],
)
def test_risky_neighbours_of_batch_31s_sound_wordings_are_raised(scanner, text, flag):
    assert flag in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        # batch 32's dev part: holiday pay paid at the season's end (the law in Norway), a
        # paid test task in a hiring process, a priced deduction shown on the payslip
        ("Holiday pay 12% paid out at the end of the season.", "wages_withheld"),
        ("Відпускні виплачуються в кінці сезону разом з останньою зарплатою.", "wages_withheld"),
        (
            "Процес: знайомство → тестове завдання (оплачуване, 300 €) → фінальна зустріч.",
            "pay_below",
        ),
        (
            "Житло – 125 €/тиждень за кімнату на двох, вираховують із зарплати, все видно в "
            "лоні (loonstrook).",
            "deductions",
        ),
        ("Room €120 per week, deducted from wages and shown on your payslip.", "deductions"),
    ],
)
def test_sound_wordings_of_batch_32_stay_quiet(scanner, text, flag):
    assert flag not in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("Wages are paid out at the end of the season.", "wages_withheld"),
        ("Atvykus brigadininkas paims pasus saugoti.", "passport_kept"),
        ("Į miestą važiuojam tik kartu su brigadininku, vieni niekur neinat.", "confinement"),
        ("Uždarbis pagal kg, atsiskaitom pasibaigus sezonui.", "wages_withheld"),
        ("Kelionę apmokam iš anksto – vėliau viską išskaičiuosim iš atlyginimo.", "pay_back_later"),
        ("Jei išvažiuojat anksčiau nei po 3 mėnesių – bauda 1 000 €.", "penalties"),
        ("Контракт 3 месяца: уехал раньше – штраф 20 000 крон.", "penalties"),
        ("Зарплата виплачується повністю після завершення контракту.", "wages_withheld"),
        ("Виходити за територію фабрики без дозволу бригадира заборонено.", "confinement"),
        ("Renkam kasdien nuo 6 iki 21 val., be išeiginių.", "excessive_hours"),
        ("Житло надаємо, вартість вираховується із зарплати.", "deductions"),
    ],
)
def test_batch_32s_risky_classes_are_raised(scanner, text, flag):
    assert flag in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        # batch 33's dev part: a fee the employer pays, tips in cash, the minimum quoted
        # beside the pay
        ("NMBI registracijos mokestį ir diplomo vertimą apmokame mes.", "fee"),
        ("Arbatpinigiai (grynais) lieka jums.", "off_the_books"),
        ("Tips in cash are yours to keep.", "off_the_books"),
        ("Завод у Гливіце: 33,20 зл/год брутто (мінімалка 2026 – 31,40 зл).", "pay_below"),
    ],
)
def test_sound_wordings_of_batch_33_stay_quiet(scanner, text, flag):
    assert flag not in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("Registracijos mokestis 200 €, sumokate jūs.", "fee"),
        ("Atlyginimas grynais, be sutarties.", "off_the_books"),
        (
            "Kelionę apmokame mes, o vėliau jos kaina išskaičiuojama iš atlyginimo.",
            "pay_back_later",
        ),
        ("Pirmos dvi savaitės – bandomasis laikotarpis, jis neapmokamas.", "wages_withheld"),
        ("Atlyginimas išmokamas tik pasibaigus sezonui.", "wages_withheld"),
        ("Priimt pervedimus iš mūsų klientų ir persiųst kur pasakysim.", "money_mule"),
        ("Если уезжаете раньше окончания договора – штраф 500 €.", "penalties"),
    ],
)
def test_batch_33s_risky_classes_are_raised(scanner, text, flag):
    assert flag in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        # batch 34's dev part: a visa fee paid by the worker to the state, travel refunded,
        # a yearly salary "from approx."
        (
            "The visa application fee (£298) is paid by you directly to UK Visas and "
            "Immigration online - never to us.",
            "fee",
        ),
        ("Healthcare assistant, Cork. Annual salary from approx. €32,800.", "pay_above"),
        ("Farm work in Kent. The farm reimburses up to £150 of your travel.", "pay_above"),
    ],
)
def test_sound_wordings_of_batch_34_stay_quiet(scanner, text, flag):
    assert flag not in scanner.scan(text).ids


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("Visa fee 300 EUR paid to our office before departure.", "fee"),
        ("Pasai ir ID kortelės sezonui atiduodami kapitonui saugoti.", "passport_kept"),
        ("Vizos nereikia – važiuojat kaip turistai, darbas laukia.", "tourist_visa"),
    ],
)
def test_batch_34s_risky_classes_are_raised(scanner, text, flag):
    assert flag in scanner.scan(text).ids


# A pasted ad whose only signs are weak (a messenger as the only contact, no employer named,
# haste): sound ads show them about as often as risky ones (issue 14), so the reply says it
# found no warning sign and lists them as things to check, in the person's language.
WEAK_ONLY_ADS = {
    "en": "Waiters wanted for a seaside cafe in Palanga this summer. 7 EUR per hour gross, "
    "contract from June. Write to us on WhatsApp.",
    "lt": "Ieškome padavėjų vasarai į kavinę Palangoje. 7 EUR per valandą bruto, sutartis nuo "
    "birželio. Rašykite per WhatsApp.",
    "ru": "Ищем официантов на лето в кафе в Паланге. 7 евро в час брутто, договор с июня. "
    "Пишите в WhatsApp.",
    "uk": "Шукаємо офіціантів на літо в кафе в Паланзі. 7 євро за годину брутто, договір з "
    "червня. Пишіть у WhatsApp.",
}


@pytest.mark.parametrize("lang", sorted(WEAK_ONLY_ADS))
def test_an_ad_with_only_weak_signs_gets_no_warning_but_a_thing_to_check(lang):
    from bot.engine import CHECK_THESE, NO_FLAGS_FOUND
    from bot.model import Pick, Start, Text
    from bot.runtime import build_engine

    engine = build_engine()
    state, _ = engine.advance(None, Start(lang=lang))
    state, _ = engine.advance(state, Pick("menu.main.scan"))
    state, replies = engine.advance(state, Text(WEAK_ONLY_ADS[lang]))
    result = next(r for r in replies if r.kind == "result")
    _ = engine.translator.gettext
    why = next(f.why for f in engine.scanner.flags if f.id == "messenger_only")
    assert result.text.startswith(_(lang, NO_FLAGS_FOUND))
    assert _(lang, CHECK_THESE) in result.text and _(lang, why) in result.text
    assert [r.kind for r in replies] == ["result", "question"]  # no "if this is happening…"
    if lang != "en":
        assert _(lang, CHECK_THESE) != CHECK_THESE  # translated
