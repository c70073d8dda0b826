"""Pixel bombs and oversized data URIs are refused from the header and the encoded length, before decoding."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from videogen_mcp import images
from videogen_mcp.errors import InvalidInput
from videogen_mcp.images import load_image


def bilevel_png(size: tuple[int, int]) -> bytes:
    """A PNG of `size` that is tiny on disk and cheap to make (1 bit per pixel, all black)."""
    buffer = io.BytesIO()
    Image.new("1", size).save(buffer, format="PNG")
    return buffer.getvalue()


def data_uri(data: bytes) -> str:
    return f"data:image/png;base64,{base64.b64encode(data).decode()}"


def refusal(ref: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        load_image(ref)
    return str(caught.value)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return bilevel_png((12000, 12000))


def test_a_12000_px_square_png_is_refused_saying_its_size(tmp_path: Path, bomb: bytes):
    assert len(bomb) < 100_000  # the bomb: a few KB on disk, 144 megapixels once decoded
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb)
    for ref in (str(path), data_uri(bomb)):
        message = refusal(ref)
        assert "12000x12000 (144 megapixels); at most 64 megapixels are accepted: scale it down" in message
        assert "\n" not in message


def test_an_image_past_pillows_own_bomb_limit_is_refused_in_our_words(tmp_path: Path):
    path = tmp_path / "huge.png"
    path.write_bytes(bilevel_png((14000, 14000)))  # 196 megapixels: Pillow itself refuses to open it
    message = refusal(str(path))
    assert "megapixels; at most 64 megapixels are accepted: scale it down" in message, message


def test_64_megapixels_are_accepted(tmp_path: Path):
    path = tmp_path / "big.png"
    path.write_bytes(bilevel_png((8000, 8000)))
    image = load_image(str(path))
    assert (image.width, image.height) == (8000, 8000)


def test_a_data_uri_too_long_to_fit_is_refused_without_decoding(monkeypatch: pytest.MonkeyPatch):
    def no_decoding(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("the data URI was decoded")

    monkeypatch.setattr(images.base64, "b64decode", no_decoding)
    huge = "data:image/png;base64," + "A" * 15_000_000  # would decode to 11.25 MB
    message = refusal(huge)
    assert "the limit is 10 MB" in message and "11.2 MB" in message, message


def test_a_data_uri_just_under_the_limit_is_decoded_and_judged_by_content():
    filler = "A" * (4 * (images.MAX_BYTES // 3) - 8)  # decodes to just under 10 MB of zeros
    assert "not a readable image" in refusal("data:image/png;base64," + filler)


def test_a_line_wrapped_data_uri_of_an_image_under_10_mb_is_accepted(monkeypatch: pytest.MonkeyPatch):
    png = bilevel_png((640, 360))
    monkeypatch.setattr(images, "MAX_BYTES", len(png))
    wrapped = base64.encodebytes(png).decode()  # 76 characters a line, as MIME tools write it
    assert len(wrapped) > 4 * len(png) / 3
    image = load_image("data:image/png;base64," + wrapped)
    assert image.data == png
