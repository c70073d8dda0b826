"""Offline rendering for the `local` provider: a real H.264 MP4 made from one image with a camera move."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FPS = 24
#: With an end frame, the last second cross-fades to it.
FADE_FRAMES = FPS
MAX_SIDE = 1280
ZOOM = 1.18
#: Orbit: how far the picture swings each way (degrees), and the camera's distance in picture widths.
ORBIT_DEGREES = 10.0
ORBIT_DISTANCE = 1.2


@dataclass(frozen=True)
class CameraMove:
    """Start and end of the visible window: zoom factor and centre, as fractions of the image.

    `yaw` (degrees) turns the picture about its vertical axis, as if the camera circled it: an orbit.
    """

    name: str
    zoom: tuple[float, float]
    centre_x: tuple[float, float] = (0.5, 0.5)
    centre_y: tuple[float, float] = (0.5, 0.5)
    yaw: tuple[float, float] = (0.0, 0.0)


MOVES = {
    "zoom in": CameraMove("zoom in", (1.0, ZOOM)),
    "zoom out": CameraMove("zoom out", (ZOOM, 1.0)),
    "pan left": CameraMove("pan left", (ZOOM, ZOOM), centre_x=(0.58, 0.42)),
    "pan right": CameraMove("pan right", (ZOOM, ZOOM), centre_x=(0.42, 0.58)),
    "tilt up": CameraMove("tilt up", (ZOOM, ZOOM), centre_y=(0.58, 0.42)),
    "tilt down": CameraMove("tilt down", (ZOOM, ZOOM), centre_y=(0.42, 0.58)),
    "orbit": CameraMove("orbit", (ZOOM, ZOOM), yaw=(-ORBIT_DEGREES, ORBIT_DEGREES)),
}
#: (pattern, move), most specific first: the move named earliest in the prompt wins; ties go to the earlier row.
KEYWORDS = [
    (r"\bzoom(s|ing|ed)? out|\bpull(s|ing|ed)? (back|out)|\bdolly(ing)? out", "zoom out"),
    (r"\bzoom(s|ing|ed)?\b|\bpush(es|ing|ed)? in|\bdolly(ing)? in", "zoom in"),
    (r"\borbit|\b(circl|arc|revolv)(e|es|ing|ed|s)? (a)?round\b|\barc shot", "orbit"),
    (r"\bpan(s|ning|ned)? (to the )?left\b", "pan left"),
    (r"\bpan(s|ning|ned)?\b|\btruck(s|ing)?\b", "pan right"),
    (r"\btilt(s|ing|ed)? up\b|\bcrane(s|ing)? up\b|\bris(e|es|ing)\b", "tilt up"),
    (r"\btilt(s|ing|ed)?\b|\bcrane(s|ing)? down\b|\bdescend(s|ing)?\b", "tilt down"),
]


def choose_move(prompt: str) -> CameraMove:
    """The camera move the prompt names first; a slow push-in otherwise."""
    text = prompt.lower()
    found = []
    for rank, (pattern, name) in enumerate(KEYWORDS):
        match = re.search(pattern, text)
        if match:
            found.append((match.start(), rank, name))
    return MOVES[min(found)[2]] if found else MOVES["zoom in"]


def output_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, MAX_SIDE / max(width, height))
    return _even(width * scale), _even(height * scale)


def render(image_bytes: bytes, prompt: str, seconds: int, dest: Path, on_frame: Callable[[int, int], None],
           end_image: bytes | None = None) -> None:
    """Write an MP4 of `seconds` to `dest`, calling on_frame(done, total) as frames are encoded; with `end_image`,
    the last second cross-fades to it, so the video ends on that frame."""
    import av  # lazy: only the local provider needs the encoder
    from PIL import Image

    move = choose_move(prompt)
    with Image.open(io.BytesIO(image_bytes)) as opened:
        size = output_size(*opened.size)
        # A JPEG decodes at 1/2, 1/4 or 1/8 scale when that still covers the frames: a fraction of the memory.
        opened.draft("RGB", (math.ceil(size[0] * ZOOM), math.ceil(size[1] * ZOOM)))
        source = opened.convert("RGB")
    # Frames never need more than the zoomed output's pixels: shrink a large photo once, not every frame.
    source.thumbnail((math.ceil(size[0] * ZOOM), math.ceil(size[1] * ZOOM)), Image.Resampling.LANCZOS)
    total = seconds * FPS
    last = _cover(end_image, size) if end_image is not None else None
    fade = min(FADE_FRAMES, total - 1)
    with av.open(str(dest), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast"}
        for index in range(total):
            frame = _frame(source, size, move, index / (total - 1))
            if last is not None and index >= total - fade:
                frame = Image.blend(frame, last, (index - (total - fade) + 1) / fade)
            container.mux(stream.encode(av.VideoFrame.from_image(frame)))
            on_frame(index + 1, total)
        container.mux(stream.encode(None))


def _cover(image_bytes: bytes, size: tuple[int, int]) -> Any:
    """The end frame scaled and centre-cropped to fill the output size."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(image_bytes)) as opened:
        return ImageOps.fit(opened.convert("RGB"), size, Image.Resampling.LANCZOS)


def _frame(source: Any, size: tuple[int, int], move: CameraMove, t: float) -> Any:
    """The output frame at time t (0..1): a crop-and-scale, or for an orbit a perspective view of the picture."""
    from PIL import Image

    box = _window(source.size, move, t)
    if move.yaw == (0.0, 0.0):
        return source.resize(size, Image.Resampling.BILINEAR, box=box)
    yaw = math.radians(_lerp(move.yaw, _ease(t)))
    coefficients = _perspective(box, size, yaw, ORBIT_DISTANCE * source.size[0])
    return source.transform(size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BILINEAR)


def _perspective(box: tuple[float, float, float, float], size: tuple[int, int], yaw: float,
                 distance: float) -> tuple[float, ...]:
    """Pillow's coefficients mapping output pixels to the source, for the picture turned by `yaw` radians.

    The picture turns about the vertical line through the box's centre, seen from `distance` (source
    pixels) by a camera whose view at yaw 0 is exactly the box. A picture point at (x, y) from the centre
    shows at u = d·x·cos / (d + x·sin), v = d·y / (d + x·sin); each output corner is mapped back through
    the inverse, and the 8 coefficients are solved from those four pairs.
    """
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half_w, half_h = (box[2] - box[0]) / 2, (box[3] - box[1]) / 2
    cos, sin = math.cos(yaw), math.sin(yaw)
    rows: list[list[float]] = []
    for ox, oy in ((0, 0), (size[0], 0), (size[0], size[1]), (0, size[1])):
        u, v = (2 * ox / size[0] - 1) * half_w, (2 * oy / size[1] - 1) * half_h
        x = u / (cos - u / distance * sin)
        y = v * (1 + x * sin / distance)
        sx, sy = cx + x, cy + y
        rows.append([ox, oy, 1, 0, 0, 0, -ox * sx, -oy * sx, sx])
        rows.append([0, 0, 0, ox, oy, 1, -ox * sy, -oy * sy, sy])
    return tuple(_solve(rows))


def _solve(rows: list[list[float]]) -> list[float]:
    """Gaussian elimination with partial pivoting on an augmented n x (n+1) matrix."""
    n = len(rows)
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(n):
            if r != col and rows[r][col]:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [rows[i][n] / rows[i][i] for i in range(n)]


def _ease(t: float) -> float:
    return (1 - math.cos(math.pi * t)) / 2


def _window(size: tuple[int, int], move: CameraMove, t: float) -> tuple[float, float, float, float]:
    eased = _ease(t)
    zoom = _lerp(move.zoom, eased)
    width, height = size[0] / zoom, size[1] / zoom
    cx = min(max(_lerp(move.centre_x, eased) * size[0], width / 2), size[0] - width / 2)
    cy = min(max(_lerp(move.centre_y, eased) * size[1], height / 2), size[1] - height / 2)
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def _lerp(pair: tuple[float, float], t: float) -> float:
    return pair[0] + (pair[1] - pair[0]) * t


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)
