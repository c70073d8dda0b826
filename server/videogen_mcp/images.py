"""Image arguments: URLs pass through; local files and data URIs are checked before any provider call."""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from videogen_mcp.errors import InvalidInput

MAX_BYTES = 10 * 1024 * 1024
#: 8000x8000: decoding takes about 200 MB as RGB, more while rendering; larger pictures are refused from the header.
MAX_PIXELS = 64_000_000
#: Line-wrapped base64 (76 characters and CRLF a line) is 2.7% longer than bare base64.
BASE64_WRAP_ALLOWANCE = 1.03
#: A data URI's header ("data:image/png;base64") is searched for its comma within this many characters.
MAX_DATA_URI_HEADER = 256
MIN_SIDE = 300
MIN_ASPECT, MAX_ASPECT = 1 / 2.5, 2.5
#: MPO is how Pillow names a camera JPEG carrying extra pictures; its content is JPEG.
MIME_BY_FORMAT = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class ImageInput:
    """Either a URL the provider fetches itself, or checked image bytes with their real type."""

    url: str | None = None
    data: bytes | None = None
    mime: str | None = None
    width: int = 0
    height: int = 0

    @property
    def extension(self) -> str:
        return ".png" if self.mime == "image/png" else ".jpg"

    def data_uri(self) -> str:
        assert self.data is not None
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"

    def __repr__(self) -> str:  # never log an image payload
        if self.url:
            return f"ImageInput(url={self.url!r})"
        return f"ImageInput({self.mime}, {self.width}x{self.height}, {len(self.data or b'')} bytes)"


def load_image(ref: str, *, allow_local: bool = True) -> ImageInput:
    """Turn the `image` argument into an ImageInput, or raise InvalidInput saying what is wrong."""
    ref = ref.strip()
    if not ref:
        raise InvalidInput("image is empty: pass an https:// URL, a data:image/...;base64 URI or a local file path")
    lowered = ref[:16].lower()
    if lowered.startswith(("https://", "http://")):
        return ImageInput(url=ref)
    if lowered.startswith("data:"):
        return check_image_bytes(_decode_data_uri(ref), "the data URI")
    if not allow_local:
        raise InvalidInput(
            "local image paths are not accepted over the HTTP transport: pass an https:// URL or a "
            "data:image/...;base64 URI (the operator can allow paths with VIDEOGEN_ALLOW_LOCAL_FILES=1)"
        )
    path = _local_path(ref)
    return check_image_bytes(_read_file(path), _shown(path))


def check_image_bytes(data: bytes, label: str) -> ImageInput:
    """Check type by content, size, resolution and aspect ratio."""
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"image {label} is {len(data) / 1e6:.1f} MB; the limit is 10 MB")
    fmt, width, height = _inspect(data, label)
    if fmt not in MIME_BY_FORMAT:
        raise InvalidInput(f"image {label} is {fmt}; only JPEG and PNG are accepted")
    if min(width, height) < MIN_SIDE:
        raise InvalidInput(f"image {label} is {width}x{height} px; it must be at least 300x300 px")
    aspect = width / height
    if not MIN_ASPECT <= aspect <= MAX_ASPECT:
        raise InvalidInput(
            f"image {label} is {width}x{height} px, an aspect ratio of {aspect:.2f}; "
            "it must be between 1:2.5 (0.40) and 2.5:1 (2.50)"
        )
    return ImageInput(data=data, mime=MIME_BY_FORMAT[fmt], width=width, height=height)


def _inspect(data: bytes, label: str) -> tuple[str, int, int]:
    """Format and size from the header (Image.open decodes no pixels); pixel bombs are refused before any decoding."""
    from PIL import Image  # lazy: keeps server start-up light

    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, width, height = str(img.format), img.width, img.height
            _check_pixels(width, height, label)
            if fmt in MIME_BY_FORMAT:
                _check_complete(img, fmt)
            return fmt, width, height
    except InvalidInput:
        raise
    except Image.DecompressionBombError:  # Pillow's own guard: past 2 x MAX_IMAGE_PIXELS it will not even say the size
        limit = 2 * (Image.MAX_IMAGE_PIXELS or 0) // 1_000_000
        raise InvalidInput(f"image {label} has more than {limit} megapixels; at most {MAX_PIXELS // 1_000_000} "
                           "megapixels are accepted: scale it down") from None
    except Exception:  # unidentified, truncated, corrupt, or a decoder tripping over crafted bytes
        raise InvalidInput(f"image {label} is not a readable image; pass a JPEG or PNG file") from None


def _check_pixels(width: int, height: int, label: str) -> None:
    if width * height > MAX_PIXELS:
        raise InvalidInput(f"image {label} is {width}x{height} ({width * height / 1e6:.0f} megapixels); at most "
                           f"{MAX_PIXELS // 1_000_000} megapixels are accepted: scale it down")


def _check_complete(img: Any, fmt: str) -> None:
    """Raise if the file is cut short: the header alone (what Image.open reads) says nothing about the rest.

    A PNG's chunks are read and their checksums checked without decompressing; a JPEG is decoded at 1/8
    scale, which reads its whole compressed stream at a fraction of the cost of a full decode.
    """
    if fmt == "PNG":
        img.verify()
        return
    img.draft("RGB", (max(1, img.width // 8), max(1, img.height // 8)))
    img.load()


def _decode_data_uri(ref: str) -> bytes:
    """Sized from its length before decoding: n base64 characters hold at most 3n/4 bytes."""
    comma = ref.find(",", 0, MAX_DATA_URI_HEADER)
    header = ref[:comma].lower()
    if comma < 0 or ";base64" not in header or not header.startswith("data:image/"):
        raise InvalidInput("image data URI must look like data:image/png;base64,<base64 data>")
    encoded = len(ref) - comma - 1
    if encoded > _max_base64_chars():
        raise InvalidInput(f"the image data URI holds about {encoded * 3 / 4 / 1e6:.1f} MB; the limit is 10 MB: "
                           "pass a smaller image")
    payload = ref[comma + 1:]
    try:
        return base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        raise InvalidInput("image data URI does not contain valid base64 data") from None


def _max_base64_chars() -> int:
    """The longest base64 text (line breaks allowed) that can hold an image of MAX_BYTES."""
    return int(-(-MAX_BYTES // 3) * 4 * BASE64_WRAP_ALLOWANCE)


def _local_path(ref: str) -> Path:
    if ref.lower().startswith("file://"):
        parsed = urlparse(ref)
        ref = unquote(parsed.path)
    elif "://" in ref[:12]:
        raise InvalidInput(f"image must be an https:// URL, a data URI or a local file path, got {ref[:40]!r}")
    try:
        path = Path(ref).expanduser()
    except RuntimeError:  # ~someone whose home directory this machine does not know
        raise InvalidInput(f"image path {_shown(ref)!r} names an unknown user's home; pass an absolute path") from None
    if not path.is_absolute():
        raise InvalidInput(f"image path {ref!r} is relative; pass an absolute path or one starting with ~/")
    return path


def _read_file(path: Path) -> bytes:
    """Stat first, then read at most MAX_BYTES + 1: a huge (or growing, or size-less /proc) file is never read whole."""
    try:
        if not path.is_file():
            raise InvalidInput(f"image file {_shown(path)} does not exist (or is not a file)")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InvalidInput(f"image {_shown(path)} is {size / 1e6:.1f} MB; the limit is 10 MB")
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise InvalidInput(f"image {_shown(path)} is larger than 10 MB; the limit is 10 MB")
        return data
    except PermissionError:
        raise InvalidInput(f"image file {_shown(path)} cannot be read: permission denied") from None
    except OSError as exc:  # a name too long for the file system, an I/O error, ...
        reason = exc.strerror or type(exc).__name__
        raise InvalidInput(f"image file {_shown(path)} cannot be read ({reason})") from None


def _shown(path: Path | str) -> str:
    """A path as an error sentence shows it: control characters escaped, at most 200 characters."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(path))
    return text if len(text) <= 200 else f"{text[:100]}...{text[-97:]}"
