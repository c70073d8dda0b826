"""Draw examples/sample.jpg: a small mountain-lake landscape for trying the offline `local` provider.

Run `python examples/make_sample.py` (needs only Pillow) to draw it again; the result is the same each time.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 960, 540
HORIZON = 330
OUT = Path(__file__).with_name("sample.jpg")


def blend(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def ridge(rng: random.Random, base: float, height: float, roughness: float) -> list[tuple[float, float]]:
    """A mountain skyline: a few summed sine waves plus jitter, as polygon points closed at the horizon."""
    waves = [(rng.uniform(0.5, 3.0), rng.uniform(0, math.tau), rng.uniform(0.3, 1.0)) for _ in range(4)]
    points = [(0.0, HORIZON)]
    for x in range(0, WIDTH + 8, 8):
        shape = sum(a * math.sin(f * math.tau * x / WIDTH + p) for f, p, a in waves) / 2.6
        points.append((x, base - height * (0.5 + 0.5 * shape) + rng.uniform(-roughness, roughness)))
    points.append((WIDTH, HORIZON))
    return points


def draw() -> Image.Image:
    rng = random.Random(5)
    image = Image.new("RGB", (WIDTH, HEIGHT))
    pen = ImageDraw.Draw(image)
    top, glow = (38, 62, 128), (250, 176, 112)
    for y in range(HORIZON):  # dawn sky
        pen.line([(0, y), (WIDTH, y)], fill=blend(top, glow, (y / HORIZON) ** 1.6))
    sun = (650, 196)
    pen.ellipse([sun[0] - 46, sun[1] - 46, sun[0] + 46, sun[1] + 46], fill=(255, 232, 170))
    for _ in range(7):  # a few long clouds
        x, y, w = rng.uniform(0, WIDTH), rng.uniform(40, 170), rng.uniform(90, 220)
        pen.ellipse([x - w, y - 9, x + w, y + 9], fill=blend(top, (255, 214, 190), 0.55 + y / 500))
    layers = [((92, 86, 140), 300, 150, 4), ((64, 70, 112), 318, 95, 3), ((34, 52, 70), 330, 55, 2)]
    for colour, base, height, rough in layers:  # mountains, far to near
        pen.polygon(ridge(rng, base, height, rough), fill=colour)
    sky = image.crop((0, 0, WIDTH, HORIZON))
    water = sky.transpose(Image.Transpose.FLIP_TOP_BOTTOM).resize((WIDTH, HEIGHT - HORIZON))
    water = Image.blend(water, Image.new("RGB", water.size, (20, 44, 74)), 0.45).filter(ImageFilter.GaussianBlur(2))
    image.paste(water, (0, HORIZON))
    for _ in range(40):  # ripples on the lake
        y = rng.uniform(HORIZON + 6, HEIGHT)
        x, w = rng.uniform(0, WIDTH), rng.uniform(20, 90) * (y - HORIZON) / 120
        pen.line([(x - w, y), (x + w, y)], fill=(196, 168, 150), width=1)
    shore = [(0, HEIGHT), (0, 440), (140, 430), (300, 468), (420, HEIGHT)]
    pen.polygon(shore, fill=(22, 36, 28))
    for x in range(10, 330, 26):  # pines on the near shore
        h = rng.uniform(70, 130)
        foot = 445 + (x / 300) ** 2 * 30
        pen.polygon([(x, foot - h), (x - h / 5, foot), (x + h / 5, foot)], fill=(14, 30, 22))
    return image


if __name__ == "__main__":
    draw().save(OUT, "JPEG", quality=85, optimize=True)
    print(f"{OUT} ({OUT.stat().st_size // 1024} KB)")
