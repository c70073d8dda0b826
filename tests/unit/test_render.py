"""The local provider's renderer: which camera move a prompt asks for, the output size, and the orbit's geometry."""

from __future__ import annotations

import math

import pytest

from videogen_mcp.render import MOVES, ORBIT_DEGREES, ORBIT_DISTANCE, _perspective, _window, choose_move, output_size


@pytest.mark.parametrize(
    ("prompt", "move"),
    [
        ("a quiet lake at dawn", "zoom in"),
        ("Slow zoom in on the cat", "zoom in"),
        ("push in on the door", "zoom in"),
        ("slow zoom out", "zoom out"),
        ("pull back to reveal the valley", "zoom out"),
        ("pan left across the skyline", "pan left"),
        ("the camera pans to the left", "pan left"),
        ("pan right", "pan right"),
        ("slow panning shot", "pan right"),
        ("camera orbits the statue", "orbit"),
        ("circle around the tower", "orbit"),
        ("tilt up to the sky", "tilt up"),
        ("the balloon rises", "tilt up"),
        ("tilt down to the river", "tilt down"),
        # the move named first wins
        ("zoom in, then pan left", "zoom in"),
        ("orbit the car, then zoom out", "orbit"),
        # words that merely contain a keyword are not camera moves
        ("a Japanese garden expanding in spring", "zoom in"),
        ("sunrise over a company town", "zoom in"),
    ],
)
def test_the_prompt_chooses_the_camera_move(prompt, move):
    assert choose_move(prompt).name == move


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1600, 900), (1280, 720)),  # landscape: long side capped at 1280
        ((1080, 1920), (720, 1280)),  # portrait: the aspect is kept
        ((640, 480), (640, 480)),  # small: never scaled up
        ((641, 481), (640, 480)),  # H.264 with yuv420p needs even sides
        ((3000, 1201), (1280, 512)),
    ],
)
def test_output_size_keeps_the_aspect_within_1280_with_even_sides(size, expected):
    width, height = output_size(*size)
    assert (width, height) == expected
    assert abs(width / height - size[0] / size[1]) < 0.01


def apply(coefficients: tuple[float, ...], x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f, g, h = coefficients
    w = g * x + h * y + 1
    return (a * x + b * y + c) / w, (d * x + e * y + f) / w


def test_an_unturned_orbit_view_is_exactly_the_crop_box():
    box = (100.0, 50.0, 900.0, 500.0)
    coefficients = _perspective(box, (640, 360), 0.0, 1000.0)
    for out, src in [((0, 0), (100, 50)), ((640, 0), (900, 50)), ((640, 360), (900, 500)), ((320, 180), (500, 275))]:
        assert apply(coefficients, *out) == pytest.approx(src)


@pytest.mark.parametrize("source", [(1510, 850), (850, 1510), (1000, 1000)])
@pytest.mark.parametrize("degrees", [-ORBIT_DEGREES, ORBIT_DEGREES])
def test_the_orbit_never_looks_past_the_edge_of_the_picture(source, degrees):
    """At the widest swing the four output corners still map inside the source: no black wedges."""
    size = output_size(*source)
    box = _window(source, MOVES["orbit"], 0.0 if degrees < 0 else 1.0)
    coefficients = _perspective(box, size, math.radians(degrees), ORBIT_DISTANCE * source[0])
    for corner in [(0, 0), (size[0], 0), (size[0], size[1]), (0, size[1])]:
        x, y = apply(coefficients, *corner)
        assert 0 <= x <= source[0] and 0 <= y <= source[1], (corner, x, y)


def test_the_orbit_shows_the_near_side_of_the_picture_larger():
    """Turned one way the right half looks bigger than the left (it is nearer), turned the other way the reverse."""
    source, size = (1510, 850), (1280, 720)
    box = _window(source, MOVES["orbit"], 0.0)

    def source_width_of_output_half(degrees: float, left: bool) -> float:
        coefficients = _perspective(box, size, math.radians(degrees), ORBIT_DISTANCE * source[0])
        xs = (0, size[0] / 2) if left else (size[0] / 2, size[0])
        return apply(coefficients, xs[1], size[1] / 2)[0] - apply(coefficients, xs[0], size[1] / 2)[0]

    # fewer source pixels across an output half means that half is magnified
    assert source_width_of_output_half(-10, left=True) > source_width_of_output_half(-10, left=False)
    assert source_width_of_output_half(10, left=True) < source_width_of_output_half(10, left=False)
