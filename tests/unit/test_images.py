"""Image arguments: URLs pass through; local files and data URIs are checked by content before any provider call."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from tests.unit.conftest import image_bytes
from videogen_mcp import images
from videogen_mcp.errors import InvalidInput
from videogen_mcp.images import ImageInput, load_image


def write(path: Path, size: tuple[int, int] = (640, 360), fmt: str = "PNG") -> Path:
    path.write_bytes(image_bytes(size, fmt))
    return path


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def rejected(ref: str, **kwargs: bool) -> str:
    with pytest.raises(InvalidInput) as caught:
        load_image(ref, **kwargs)
    message = str(caught.value)
    assert message[:1].islower() and "\n" not in message  # one sentence, no traceback
    return message


# -- URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["https://cdn.example.com/cat.png",
                                 "https://cdn.example.com/a%20b.jpg?X-Amz-Signature=abc&x=1",
                                 "HTTPS://Example.com/Cat.PNG"])
@pytest.mark.parametrize("allow_local", [True, False])
def test_https_url_passes_through_untouched(url, allow_local):
    image = load_image(url, allow_local=allow_local)
    assert image == ImageInput(url=url)
    assert image.data is None


def test_url_surrounding_whitespace_is_trimmed():
    assert load_image("  https://x.test/a.png \n").url == "https://x.test/a.png"


# -- accepted local files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt", "mime"),
    [
        ("photo.png", "PNG", "image/png"),
        ("photo.jpg", "JPEG", "image/jpeg"),
        ("photo.jpeg", "JPEG", "image/jpeg"),
        ("png-named.jpg", "PNG", "image/png"),
        ("jpeg-named.png", "JPEG", "image/jpeg"),
        ("no-extension", "PNG", "image/png"),
    ],
)
def test_local_png_and_jpeg_are_accepted_with_mime_from_content(tmp_path, name, fmt, mime):
    path = write(tmp_path / name, (640, 360), fmt)
    image = load_image(str(path))
    assert (image.mime, image.width, image.height) == (mime, 640, 360)
    assert image.data == path.read_bytes()
    assert image.url is None
    assert image.data_uri().startswith(f"data:{mime};base64,")
    assert image.extension == (".png" if fmt == "PNG" else ".jpg")


def test_home_relative_path_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path / "cat.png")
    assert load_image("~/cat.png").mime == "image/png"


@pytest.mark.parametrize("name", ["cat.png", "my cat.png"])
def test_file_url_is_read_as_a_local_path(tmp_path, name):
    path = write(tmp_path / name)
    assert load_image(path.as_uri()).data == path.read_bytes()


@pytest.mark.parametrize(("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_data_uri_is_decoded_and_checked(fmt, mime):
    data = image_bytes((500, 500), fmt)
    image = load_image(data_uri(data, mime))
    assert (image.data, image.mime, image.width, image.height) == (data, mime, 500, 500)


def test_data_uri_type_comes_from_content_not_its_label():
    assert load_image(data_uri(image_bytes(fmt="JPEG"), "image/png")).mime == "image/jpeg"


@pytest.mark.parametrize("size", [(300, 300), (750, 300), (300, 750), (1000, 1000)])
def test_image_at_the_limits_is_accepted(tmp_path, size):
    image = load_image(str(write(tmp_path / "edge.png", size)))
    assert (image.width, image.height) == size


def test_camera_jpeg_with_mpo_extension_is_accepted_as_jpeg(tmp_path):
    buffer = io.BytesIO()
    frames = [Image.new("RGB", (640, 480), c) for c in ((10, 20, 30), (30, 20, 10))]
    frames[0].save(buffer, format="MPO", save_all=True, append_images=frames[1:])
    assert buffer.getvalue()[:2] == b"\xff\xd8"  # a JPEG stream by content
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(buffer.getvalue())
    assert load_image(str(path)).mime == "image/jpeg"


# -- rejected ------------------------------------------------------------------------------------


def test_missing_file_is_rejected(tmp_path):
    assert "does not exist" in rejected(str(tmp_path / "nope.png"))


def test_directory_is_rejected(tmp_path):
    assert "is not a file" in rejected(str(tmp_path))


@pytest.mark.parametrize("ref", ["cat.png", "./cat.png", "images/cat.png"])
def test_relative_path_is_rejected(ref):
    message = rejected(ref)
    assert "relative" in message and "absolute" in message


@pytest.mark.parametrize("ref", ["", "   "])
def test_empty_image_is_rejected(ref):
    assert "image is empty" in rejected(ref)


@pytest.mark.parametrize("ref", ["ftp://x.test/cat.png", "s3://bucket/cat.png"])
def test_other_url_schemes_are_rejected(ref):
    assert "https:// URL" in rejected(ref)


@pytest.mark.parametrize("size", [(299, 400), (400, 299), (100, 100)])
def test_too_small_image_is_rejected(tmp_path, size):
    message = rejected(str(write(tmp_path / "small.png", size)))
    assert f"{size[0]}x{size[1]} px" in message
    assert "at least 300x300 px" in message


def test_oversized_image_file_is_rejected(tmp_path):
    path = write(tmp_path / "huge.png", (640, 360))
    with path.open("ab") as f:  # a valid PNG followed by padding, just over 10 MB
        f.truncate(10 * 1024 * 1024 + 1)
    message = rejected(str(path))
    assert "10.5 MB" in message and "limit is 10 MB" in message


def test_oversized_data_uri_is_rejected(monkeypatch):
    data = image_bytes((640, 360))
    monkeypatch.setattr(images, "MAX_BYTES", len(data) - 1)
    assert "the limit is 10 MB" in rejected(data_uri(data))


@pytest.mark.parametrize(("size", "ratio"), [((1000, 300), "3.33"), ((300, 1000), "0.30"), ((760, 300), "2.53")])
def test_wrong_aspect_ratio_is_rejected(tmp_path, size, ratio):
    message = rejected(str(write(tmp_path / "wide.png", size)))
    assert f"aspect ratio of {ratio}" in message
    assert "between 1:2.5" in message


def test_text_file_is_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("hello, this is not an image\n")
    assert "is not a readable image" in rejected(str(path))


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "WEBP", "TIFF"])
def test_other_image_formats_are_rejected_as_not_jpeg_or_png(tmp_path, fmt):
    message = rejected(str(write(tmp_path / "anim.png", (640, 360), fmt)))
    assert f"is {fmt}" in message
    assert "only JPEG and PNG are accepted" in message


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        ("data:image/png,rawdata", "must look like data:image/png;base64"),
        ("data:text/plain;base64,aGVsbG8=", "must look like data:image/png;base64"),
        ("data:image/png;base64", "must look like data:image/png;base64"),
        ("data:image/png;base64,abc", "valid base64"),
        ("data:image/png;base64,aGVsbG8gd29ybGQ=", "not a readable image"),
    ],
)
def test_bad_data_uri_is_rejected(ref, words):
    assert words in rejected(ref)


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims the given size: what a hostile caller can send in a few bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(
        b"IEND", b"")


def test_decompression_bomb_image_is_rejected_as_invalid_input():
    with pytest.raises(InvalidInput):
        load_image(data_uri(png_header_only(20000, 20000)))


# -- HTTP transport: no local files ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["absolute", "home", "file-url"])
def test_local_paths_are_refused_when_local_files_are_not_allowed(tmp_path, monkeypatch, kind):
    monkeypatch.setenv("HOME", str(tmp_path))
    path = write(tmp_path / "cat.png")
    ref = {"absolute": str(path), "home": "~/cat.png", "file-url": path.as_uri()}[kind]
    message = rejected(ref, allow_local=False)
    assert "local image paths are not accepted" in message
    assert "VIDEOGEN_ALLOW_LOCAL_FILES=1" in message


def test_data_uri_is_accepted_when_local_files_are_not_allowed():
    assert load_image(data_uri(image_bytes()), allow_local=False).mime == "image/png"


def test_missing_file_is_not_probed_when_local_files_are_not_allowed(tmp_path):
    assert "not accepted" in rejected(str(tmp_path / "nope.png"), allow_local=False)


# -- never log the payload -----------------------------------------------------------------------


def test_image_repr_never_includes_the_bytes():
    data = image_bytes((640, 360))
    image = load_image(data_uri(data))
    text = repr(image)
    assert text == f"ImageInput(image/png, 640x360, {len(data)} bytes)"
    assert base64.b64encode(data).decode()[:20] not in text
    assert str(image) == text
    assert "\\x" not in f"{image}"


def test_url_image_repr_shows_the_url():
    assert repr(load_image("https://x.test/a.png")) == "ImageInput(url='https://x.test/a.png')"
