"""Offline rendering for the `local` provider: a real H.264 MP4 made from one image with a camera move."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FPS = 24
MAX_SIDE = 1280
ZOOM = 1.18


@dataclass(frozen=True)
class CameraMove:
    """Start and end of the visible window: zoom factor and centre, as fractions of the image."""

    name: str
    zoom: tuple[float, float]
    centre_x: tuple[float, float] = (0.5, 0.5)
    centre_y: tuple[float, float] = (0.5, 0.5)


MOVES = {
    "zoom in": CameraMove("zoom in", (1.0, ZOOM)),
    "zoom out": CameraMove("zoom out", (ZOOM, 1.0)),
    "pan left": CameraMove("pan left", (ZOOM, ZOOM), centre_x=(0.58, 0.42)),
    "pan right": CameraMove("pan right", (ZOOM, ZOOM), centre_x=(0.42, 0.58)),
    "tilt up": CameraMove("tilt up", (ZOOM, ZOOM), centre_y=(0.58, 0.42)),
    "tilt down": CameraMove("tilt down", (ZOOM, ZOOM), centre_y=(0.42, 0.58)),
}
KEYWORDS = [
    (r"zoom(ing)? out|pull(s|ing)? back|dolly out", "zoom out"),
    (r"pan(s|ning)? left", "pan left"),
    (r"pan(s|ning)?( right)?|truck", "pan right"),
    (r"tilt(s|ing)? up|rise|rising|crane up", "tilt up"),
    (r"tilt(s|ing)?( down)?|crane down|descend", "tilt down"),
]


def choose_move(prompt: str) -> CameraMove:
    """The camera move the prompt asks for; a slow push-in otherwise."""
    text = prompt.lower()
    for pattern, name in KEYWORDS:
        if re.search(pattern, text):
            return MOVES[name]
    return MOVES["zoom in"]


def output_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, MAX_SIDE / max(width, height))
    return _even(width * scale), _even(height * scale)


def render(image_bytes: bytes, prompt: str, seconds: int, dest: Path, on_frame: Callable[[int, int], None]) -> None:
    """Write an MP4 of `seconds` to `dest`, calling on_frame(done, total) as frames are encoded."""
    import av  # lazy: only the local provider needs the encoder
    from PIL import Image

    move = choose_move(prompt)
    with Image.open(io.BytesIO(image_bytes)) as opened:
        source = opened.convert("RGB")
    size = output_size(*source.size)
    # Frames never need more than the zoomed output's pixels: shrink a large photo once, not every frame.
    source.thumbnail((math.ceil(size[0] * ZOOM), math.ceil(size[1] * ZOOM)), Image.Resampling.LANCZOS)
    total = seconds * FPS
    with av.open(str(dest), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast"}
        for index in range(total):
            frame = source.resize(size, Image.Resampling.BILINEAR, box=_window(source.size, move, index / (total - 1)))
            container.mux(stream.encode(av.VideoFrame.from_image(frame)))
            on_frame(index + 1, total)
        container.mux(stream.encode(None))


def _window(size: tuple[int, int], move: CameraMove, t: float) -> tuple[float, float, float, float]:
    eased = (1 - math.cos(math.pi * t)) / 2
    zoom = _lerp(move.zoom, eased)
    width, height = size[0] / zoom, size[1] / zoom
    cx = min(max(_lerp(move.centre_x, eased) * size[0], width / 2), size[0] - width / 2)
    cy = min(max(_lerp(move.centre_y, eased) * size[1], height / 2), size[1] - height / 2)
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def _lerp(pair: tuple[float, float], t: float) -> float:
    return pair[0] + (pair[1] - pair[0]) * t


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)
