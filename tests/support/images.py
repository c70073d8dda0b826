"""Test images, built in memory: a flat colour by default, noise when a payload must not compress."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image


def image_bytes(size: tuple[int, int] = (640, 360), fmt: str = "PNG", noise: float = 0) -> bytes:
    """An image of `size` in `fmt`; `noise` > 0 makes it Gaussian noise of that spread instead of one colour."""
    image = Image.effect_noise(size, noise).convert("RGB") if noise else Image.new("RGB", size, (40, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def make_image(path: Path, size: tuple[int, int] = (640, 360), fmt: str = "PNG") -> Path:
    path.write_bytes(image_bytes(size, fmt))
    return path
