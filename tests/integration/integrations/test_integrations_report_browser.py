"""The HTML report in a real browser (headless Chromium): it renders without a console
message, its script switches language, every chart is in the DOM with its data, and the
screenshot is a real picture (varied pixels, the chart colours present), not a blank page."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from binome_integrations.report.figures import histogram
from binome_integrations.report.html import render_html
from binome_integrations.report.sample import sample_report
from binome_shared.contracts.values import Language

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WINDOW = (1280, 2000)
SCORE_BLUE = (0x3D, 0x4F, 0xC4)
HELD_GREEN = (0x2B, 0x8A, 0x63)

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="headless Chromium is absent: install it with `apt-get install -y chromium`",
)


def chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={profile}",
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass(frozen=True)
class Picture:
    width: int
    height: int
    pixels: np.ndarray  # height × width × 3, uint8


def read_png(path: Path) -> Picture:
    """Enough of PNG for a browser screenshot: 8-bit RGB or RGBA, not interlaced."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, compressed = 8, bytearray()
    width = height = channels = 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, interlace) == (8, 0)
            channels = {2: 3, 6: 4}[colour]
        elif kind == b"IDAT":
            compressed += body
    raw = zlib.decompress(bytes(compressed))
    stride = width * channels
    rows = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.int64)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=start + 1).astype(np.int64)
        if kind == 0:
            current = line
        elif kind == 1:  # Sub: a running sum per channel
            current = np.cumsum(line.reshape(width, channels), axis=0).reshape(stride) % 256
        elif kind == 2:  # Up
            current = (line + previous) % 256
        else:  # Average and Paeth depend on the byte just decoded: one at a time
            current = np.array(_sequential(kind, line.tolist(), previous.tolist(), channels))
        rows[y] = current
        previous = current
    pixels = rows.reshape(height, width, channels)[:, :, :3]
    return Picture(width=width, height=height, pixels=pixels)


def _sequential(kind: int, line: list[int], above: list[int], channels: int) -> list[int]:
    out = [0] * len(line)
    for index, value in enumerate(line):
        left = out[index - channels] if index >= channels else 0
        up = above[index]
        if kind == 3:
            out[index] = (value + (left + up) // 2) % 256
            continue
        upper_left = above[index - channels] if index >= channels else 0
        estimate = left + up - upper_left
        distances = (abs(estimate - left), abs(estimate - up), abs(estimate - upper_left))
        if distances[0] <= distances[1] and distances[0] <= distances[2]:
            predictor = left
        elif distances[1] <= distances[2]:
            predictor = up
        else:
            predictor = upper_left
        out[index] = (value + predictor) % 256
    return out


def pixels_near(picture: Picture, colour: tuple[int, int, int], tolerance: int = 6) -> int:
    difference = np.abs(picture.pixels.astype(np.int16) - np.array(colour, dtype=np.int16))
    return int(np.all(difference <= tolerance, axis=2).sum())


@pytest.fixture
def page(tmp_path: Path) -> Path:
    path = tmp_path / "report.html"
    path.write_text(render_html(sample_report(), Language.FR), encoding="utf-8")
    return path


@needs_chromium
def test_screenshot_is_a_real_picture_of_the_report(page: Path, tmp_path: Path) -> None:
    screenshot = tmp_path / "report.png"
    completed = chromium(
        tmp_path,
        f"--screenshot={screenshot}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        page.as_uri(),
    )

    assert screenshot.exists(), completed.stderr[-2000:]
    picture = read_png(screenshot)
    assert (picture.width, picture.height) == WINDOW
    assert float(picture.pixels.std()) > 20, "the screenshot is (nearly) uniform"
    distinct = np.unique(picture.pixels[::8, ::8].reshape(-1, 3), axis=0)
    assert len(distinct) > 200
    assert pixels_near(picture, SCORE_BLUE) > 5_000, "histogram bars are drawn"
    assert pixels_near(picture, HELD_GREEN) > 5_000, "held sessions are drawn"
    assert ":CONSOLE" not in completed.stderr, completed.stderr


@needs_chromium
def test_rendered_dom_holds_every_chart_with_its_data(page: Path, tmp_path: Path) -> None:
    completed = chromium(tmp_path, "--dump-dom", page.as_uri())

    assert completed.returncode == 0, completed.stderr[-2000:]
    dom = completed.stdout
    assert ":CONSOLE" not in completed.stderr, completed.stderr
    for language in ("fr", "en"):
        for chart in ("scores", "funnel", "sessions", "units", "consent", "pulse", "ratings"):
            assert re.search(rf'<svg id="{language}-{chart}" class="chart"[^>]*role="img"', dom)
    scores = dom.split('<svg id="fr-scores"')[1].split("</svg>")[0]
    counts = [int(value) for value in re.findall(r'data-count="(\d+)"', scores)]
    assert counts == [item.count for item in histogram(sample_report().pair_scores)]
    assert 'data-lang-view="fr" data-title=' in dom
    assert re.search(r'data-lang-view="en"[^>]* hidden', dom), "English waits behind the button"


@needs_chromium
def test_address_ending_in_en_opens_the_english_report(page: Path, tmp_path: Path) -> None:
    completed = chromium(tmp_path, "--dump-dom", f"{page.as_uri()}#en")

    dom = completed.stdout
    assert '<html lang="en">' in dom, "the script switched the document language"
    assert re.search(r'data-lang-view="fr"[^>]* hidden', dom)
    assert not re.search(r'data-lang-view="en"[^>]* hidden', dom)
    assert "<title>Programme report · Mentorat inversé 2027</title>" in dom
    assert ":CONSOLE" not in completed.stderr, completed.stderr


@needs_chromium
def test_follow_up_charts_carry_their_figures_in_both_languages(page: Path, tmp_path: Path) -> None:
    completed = chromium(tmp_path, "--dump-dom", page.as_uri())

    assert completed.returncode == 0, completed.stderr[-2000:]
    dom = completed.stdout
    sample = sample_report()
    for language, heading, hidden in (
        ("fr", "Consentement des binômes", "masqué (moins de 5 personnes)"),
        ("en", "Pair consent", "suppressed (under 5 people)"),
    ):
        consent = dom.split(f'<svg id="{language}-consent"')[1].split("</svg>")[0]
        counts = [int(value) for value in re.findall(r'data-count="(\d+)"', consent)]
        assert counts == [31, 4, 3, 1, 1], "accepted, declined, lapsed, left, pending"
        assert f'<h2 id="{language}-consent-heading">{heading}</h2>' in dom
        pulse = dom.split(f'<svg id="{language}-pulse"')[1].split("</svg>")[0]
        # Marks carry a tooltip (<title>); the legend's swatches do not.
        assert pulse.count('class="c-need_help"><title>') == 2, "two rounds shown, one hidden"
        assert pulse.count('class="c-suppressed"><title>') == 1
        assert hidden in pulse
        ratings = dom.split(f'<svg id="{language}-ratings"')[1].split("</svg>")[0]
        shown = [entry for entry in sample.ratings_by_session if not entry.suppressed]
        assert ratings.count('class="c-rating"><title>') == len(shown) == 5
