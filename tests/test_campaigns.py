"""Campaign codes: deep-link parsing, links, campaigns.yaml, and QR codes that scan back."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import LANGUAGES, ROOT
from bot.campaigns import (
    NONE,
    OTHER,
    load_campaigns,
    parse_start_parameter,
    stats_bucket,
    telegram_link,
    unprintable,
    web_link,
    write_qr,
)

codes = st.text("abcXYZ019_-", min_size=1, max_size=60).filter(lambda c: "__" not in c)


# Deep links ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        ("posters", ("posters", None)),
        ("job_fairs", ("job_fairs", None)),
        ("Fair-2025", ("Fair-2025", None)),
        ("posters__uk", ("posters", "uk")),
        ("posters__LT", ("posters", "lt")),
        ("posters__ua", ("posters", "uk")),  # people write Ukrainian as "ua"
        ("__ru", (None, "ru")),
        ("posters__de", ("posters__de", None)),  # not our language: part of the code
        ("a__b__en", ("a__b", "en")),
    ],
)
def test_start_parameter_gives_campaign_and_language(param, expected):
    assert parse_start_parameter(param) == expected


@pytest.mark.parametrize(
    "param",
    [None, "", " ", "two words", "posters!", "plakatai.lt", "кампания", "a/b", "x" * 65],
)
def test_anything_else_starts_without_campaign(param):
    assert parse_start_parameter(param) == (None, None)


def test_codes_are_limited_to_64_characters_like_telegram():
    assert parse_start_parameter("x" * 64) == ("x" * 64, None)
    assert parse_start_parameter("x" * 60 + "__uk") == ("x" * 60, "uk")
    assert parse_start_parameter("x" * 61 + "__uk") == (None, None)
    with pytest.raises(ValueError, match="64"):
        telegram_link("SafeAbroadBot", "x" * 61, "uk")


@given(code=codes, lang=st.sampled_from([None, *LANGUAGES]))
def test_every_link_we_make_parses_back(code, lang):
    link = telegram_link("SafeAbroadBot", code, lang)
    assert parse_start_parameter(link.split("?start=", 1)[1]) == (code, lang)


def test_links_for_telegram_and_the_web():
    assert telegram_link("@SafeAbroadBot", "posters", "uk") == (
        "https://t.me/SafeAbroadBot?start=posters__uk"
    )
    assert telegram_link("SafeAbroadBot", "posters") == "https://t.me/SafeAbroadBot?start=posters"
    assert web_link("https://example.org/", "posters", "lt") == (
        "https://example.org/chat?c=posters&lang=lt"
    )
    assert web_link("https://example.org", "posters") == "https://example.org/chat?c=posters"
    for bad in ("two words", "a&b=c", ""):
        with pytest.raises(ValueError):
            web_link("https://example.org", bad or None, None)
    with pytest.raises(ValueError):
        web_link("https://example.org", "posters", "de")


def test_unknown_codes_count_as_other_and_no_code_as_none():
    known = set(load_campaigns())
    assert "posters" in known
    assert stats_bucket("posters", known) == "posters"
    assert stats_bucket("Jonas_Jonaitis", known) == OTHER  # a typed name never shows by name
    assert stats_bucket("", known) == NONE
    assert stats_bucket(None, known) == NONE


def test_repository_campaigns_are_valid_and_name_their_languages():
    campaigns = load_campaigns()
    assert campaigns, "dialogs/campaigns.yaml lists no campaign"
    for campaign in campaigns.values():
        assert campaign.description.strip()
        assert set(campaign.languages) <= set(LANGUAGES)
        assert len(campaign.code) <= 60  # room for "__uk" in a Telegram link


def test_a_broken_campaign_file_says_what_and_where(tmp_path: Path):
    (tmp_path / "campaigns.yaml").write_text(
        "kind: campaigns\nschema: 1\ncampaigns:\n"
        "  - {code: posters, description: Posters}\n"
        "  - {code: posters, description: Again}\n"
        "  - {code: other, description: Reserved}\n"
        "  - {code: 'bad code', description: Spaces}\n"
        "  - {code: fair, description: Fair, languages: [lt, de]}\n"
        "  - {code: quiet}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as error:
        load_campaigns(tmp_path)
    message = str(error.value)
    assert "campaigns.yaml:5: duplicate campaign code 'posters'" in message
    assert "campaigns.yaml:6: 'other' is reserved" in message
    assert "campaigns.yaml:7: 'bad code' is not a valid code" in message
    assert "campaigns.yaml:8: unknown language(s) ['de']" in message
    assert "campaigns.yaml:9: say in `description`" in message


# QR codes -----------------------------------------------------------------------------


def decode_png(path: Path) -> list[str]:
    """Read every QR code in an image with zxing-cpp, or zbarimg when that is missing."""
    try:
        import zxingcpp
        from PIL import Image
    except ImportError:
        zbarimg = "/usr/bin/zbarimg"
        if not os.path.exists(zbarimg):
            pytest.skip("no QR decoder: install zxing-cpp (pip) or zbar-tools (apt)")
        out = subprocess.run(
            [zbarimg, "--quiet", "--raw", str(path)], capture_output=True, text=True, check=True
        )
        return out.stdout.splitlines()
    with Image.open(path) as image:
        return [r.text for r in zxingcpp.read_barcodes(image.convert("L"))]


def rasterize_segno_svg(svg: str, out: Path, scale: int = 8) -> Path:
    """Draw the modules of a segno SVG (`M x y`, `m dx dy`, `h dx` runs) into a PNG."""
    from PIL import Image, ImageDraw

    box = re.search(r'viewBox="0 0 ([\d.]+)', svg)
    if box:
        width = round(float(box.group(1)))
    else:  # width in pixels, the path drawn in modules and scaled up
        pixels = float(re.search(r'<svg[^>]*\swidth="([\d.]+)"', svg).group(1))
        factor = re.search(r'transform="scale\(([\d.]+)\)"', svg)
        width = round(pixels / float(factor.group(1) if factor else 1))
    path = re.search(r'\sd="([^"]+)"', svg).group(1)
    image = Image.new("L", (width * scale, width * scale), 255)
    draw = ImageDraw.Draw(image)
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s(-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:  # a horizontal run of dark modules centred on y
            end = x + float(a)
            draw.rectangle(
                [x * scale, (y - 0.5) * scale, end * scale - 1, (y + 0.5) * scale - 1], fill=0
            )
            x = end
    image.save(out)
    return out


def run_qr(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "qr", *args],
        capture_output=True,
        text=True,
        # The tests run in a temporary folder: import this tree's `bot`, not an installed one.
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=120,
    )


def test_qr_png_scans_back_to_the_telegram_link(tmp_path: Path):
    out = tmp_path / "posters-uk.png"
    result = run_qr(
        "--campaign", "posters", "--lang", "uk", "--out", str(out),
        env={"TELEGRAM_BOT_USERNAME": "SafeAbroadBot"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert decode_png(out) == ["https://t.me/SafeAbroadBot?start=posters__uk"]
    assert "https://t.me/SafeAbroadBot?start=posters__uk" in result.stdout


def test_qr_svg_scans_back_to_the_web_link(tmp_path: Path):
    out = tmp_path / "fairs.svg"
    result = run_qr(
        "--campaign", "job_fairs", "--channel", "web", "--out", str(out),
        env={"PUBLIC_BASE_URL": "https://safe.example.org"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    svg = out.read_text(encoding="utf-8")
    assert svg.lstrip().startswith(("<?xml", "<svg"))
    png = rasterize_segno_svg(svg, tmp_path / "fairs.png")
    assert decode_png(png) == ["https://safe.example.org/chat?c=job_fairs"]


def test_qr_for_an_unknown_code_works_but_warns_it_counts_as_other(tmp_path: Path):
    out = tmp_path / "new.png"
    result = run_qr(
        "--campaign", "new_market", "--bot-username", "SafeAbroadBot", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert '"other"' in result.stderr
    assert decode_png(out) == ["https://t.me/SafeAbroadBot?start=new_market"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--campaign", "two words", "--channel", "web", "--base-url", "https://x.org"], "code"),
        (["--campaign", "posters", "--channel", "telegram"], "TELEGRAM_BOT_USERNAME"),
        (["--campaign", "posters", "--channel", "web"], "PUBLIC_BASE_URL"),
    ],
)
def test_qr_explains_what_is_missing(tmp_path: Path, args: list[str], says: str):
    out = tmp_path / "q.png"
    result = run_qr(
        *args, "--out", str(out), env={"TELEGRAM_BOT_USERNAME": "", "PUBLIC_BASE_URL": ""}
    )
    assert result.returncode == 2
    assert says in result.stderr
    assert not out.exists()


def test_qr_refuses_other_file_types(tmp_path: Path):
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        write_qr("https://t.me/SafeAbroadBot?start=posters", tmp_path / "q.jpg")


@pytest.mark.parametrize(
    "base",
    [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "https://192.168.1.20",
        "http://safe.example.org",
    ],
)
def test_qr_refuses_a_link_that_would_make_dead_flyers(tmp_path: Path, base: str):
    out = tmp_path / "q.png"
    result = run_qr(
        "--campaign", "posters", "--channel", "web", "--base-url", base, "--out", str(out)
    )
    assert result.returncode == 2
    assert "refusing" in result.stderr and "--allow-local" in result.stderr
    assert not out.exists()


def test_qr_for_a_local_address_only_with_the_flag_and_a_loud_warning(tmp_path: Path):
    out = tmp_path / "q.png"
    result = run_qr(
        "--campaign", "posters", "--channel", "web", "--base-url", "http://127.0.0.1:8000",
        "--allow-local", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "WARNING" in result.stderr and "do not print" in result.stderr
    assert decode_png(out) == ["http://127.0.0.1:8000/chat?c=posters"]


@pytest.mark.parametrize(
    ("link", "fine"),
    [
        ("https://t.me/SafeAbroadBot?start=posters", True),
        ("https://safe.example.org/chat?c=x", True),
        ("http://127.0.0.1:8000/chat", False),
        ("https://localhost/chat", False),
        ("https://10.0.0.5/chat", False),
        ("http://safe.example.org/chat", False),
        ("https://bot.local/chat", False),
    ],
)
def test_unprintable_names_local_and_plain_http_links(link: str, fine: bool):
    assert (unprintable(link) is None) is fine
