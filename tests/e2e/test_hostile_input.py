"""Hostile input to generate_video, property-based, against ONE long-lived real server over stdio.

Every input gives either a task that get_task finds, or isError with one readable sentence; never a
crash, a hang, or (for input the oracle knows is invalid) a submit or an upload at the fake provider.
Images are judged by content, not name, and an oversized file is refused without being read whole.

Hypothesis and async fixtures do not mix, so the server lives in a module-scoped blocking portal (an
event loop in a thread) and the property tests are plain functions calling into it.
"""

from __future__ import annotations

import base64
import math
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from tests.conftest import PROVIDERS, server_env
from tests.e2e.helpers import text_of
from tests.e2e.observed import alive, observed_client, server_pids, status_kb
from tests.fakes import FakeServer
from tests.support.images import image_bytes
from videogen_mcp import catalog

CONFIGURED = ("wavespeed", "myrouter")  # wavespeed uploads local images; myrouter sends them as data URIs
#: The hang check: a call that has not answered by then is stuck (valid calls use wait_seconds 0).
CALL_BOUND = 20.0
SETTINGS = settings(deadline=None, derandomize=True, database=None, print_blob=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
VALID, INVALID, EITHER = "valid", "invalid", "either"
MISSING = object()
#: What an isError text must never look like: a traceback, the SDK's wrapper, or a repr dump.
NOT_A_SENTENCE = re.compile(r"Traceback|Error executing tool|object at 0x|input_value=|errors\.pydantic\.dev|"
                            r"\{'type':|File \"", re.IGNORECASE)


# -- the one server ----------------------------------------------------------------------------------


@dataclass
class Served:
    fake: FakeServer
    client: Client
    portal: BlockingPortal
    root: Path
    pid: int
    files: dict[str, tuple[str, str]]  # name -> (path, verdict)
    made: Iterator[int]

    def call(self, tool: str, arguments: dict) -> Any:
        async def bounded() -> Any:
            with anyio.fail_after(CALL_BOUND):
                return await self.client.call_tool(tool, arguments)

        return self.portal.call(bounded)

    def provider_calls(self) -> int:
        """Submits and uploads the fakes have seen, all providers together (polls and downloads do not count)."""
        return sum(len(p.submits()) + len(p.uploads()) for p in self.fake.providers.values())

    def submits(self) -> int:
        return sum(len(p.submits()) for p in self.fake.providers.values())

    def write(self, data: bytes, suffix: str) -> str:
        path = self.root / f"made-{next(self.made)}{suffix}"
        path.write_bytes(data)
        return str(path)


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes that claim to be a huge PNG (a decompression bomb by its header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(
        b"IEND", b"")


def fixture_files(root: Path) -> dict[str, tuple[str, str]]:
    """Images and non-images on disk, each with what the server must make of it."""
    good_png, good_jpg = image_bytes((640, 360)), image_bytes((640, 480), "JPEG", noise=60)
    files = {
        "good.png": (good_png, VALID),
        "good.jpg": (good_jpg, VALID),
        "jpeg-named.png": (good_jpg, VALID),  # judged by content, not name
        "png-named.jpg": (good_png, VALID),
        "edge-300x750.png": (image_bytes((300, 750)), VALID),
        "edge-750x300.jpg": (image_bytes((750, 300), "JPEG"), VALID),
        "text-named.png": (b"this is not an image, whatever its name says\n", INVALID),
        "empty.png": (b"", INVALID),
        "truncated.png": (good_png[: len(good_png) // 2], INVALID),
        "header-only.png": (good_png[:64], INVALID),
        "truncated.jpg": (good_jpg[: len(good_jpg) // 2], INVALID),
        "gif-named.png": (image_bytes((640, 360), "GIF"), INVALID),
        "bmp.png": (image_bytes((640, 360), "BMP"), INVALID),
        "tiny-1x1.png": (image_bytes((1, 1)), INVALID),
        "small-299x400.png": (image_bytes((299, 400)), INVALID),
        "wide-760x300.png": (image_bytes((760, 300)), INVALID),
        "tall-300x2000.png": (image_bytes((300, 2000)), INVALID),
        "bomb-20000x20000.png": (png_claiming(20000, 20000), INVALID),
        "html.png": (b"<html><body>404</body></html>", INVALID),
    }
    out = {}
    for name, (data, verdict) in files.items():
        path = root / name
        path.write_bytes(data)
        out[name] = (str(path), verdict)
    sparse = root / "sparse-11MB.png"
    with sparse.open("wb") as f:
        f.write(good_png)
        f.truncate(11 * 1024 * 1024)
    out["sparse-11MB.png"] = (str(sparse), INVALID)
    (root / "a-directory.png").mkdir()
    out["a-directory.png"] = (str(root / "a-directory.png"), INVALID)
    out["missing.png"] = (str(root / "missing.png"), INVALID)
    out["data-uri-png"] = ("data:image/png;base64," + base64.b64encode(good_png).decode(), VALID)
    out["data-uri-mislabelled"] = ("data:image/gif;base64," + base64.b64encode(good_jpg).decode(), VALID)
    out["data-uri-text-mime"] = ("data:text/plain;base64," + base64.b64encode(good_png).decode(), INVALID)
    out["data-uri-no-base64"] = ("data:image/png," + good_png[:40].hex(), INVALID)
    out["data-uri-truncated"] = ("data:image/png;base64," + base64.b64encode(good_png[:100]).decode(), INVALID)
    out["data-uri-bad-base64"] = ("data:image/png;base64,!!!not*base64***", INVALID)
    out["data-uri-text"] = ("data:image/png;base64," + base64.b64encode(b"hello").decode(), INVALID)
    out["file-url"] = ("file://" + str(root / "good.png"), VALID)
    out["padded-path"] = (f"  {root / 'good.png'}\n", VALID)
    out["relative"] = ("good.png", INVALID)
    out["unknown-user-home"] = ("~no-such-user-here/cat.png", INVALID)
    out["name-too-long"] = ("/" + "a" * 5000 + ".png", INVALID)
    out["nul-in-path"] = (str(root / "go\x00od.png"), INVALID)
    out["dev-zero"] = ("/dev/zero", INVALID)
    out["ftp-url"] = ("ftp://example.com/cat.png", INVALID)
    out["https-url"] = ("https://images.example.com/cat.png", VALID)
    return out


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("hostile")
    files = fixture_files(root)
    data_dir = root / "data"
    with FakeServer() as fake, start_blocking_portal("asyncio") as portal:
        env = server_env(fake, data_dir, CONFIGURED)
        with portal.wrap_async_context_manager(observed_client(env, root / "stderr.log")) as client:
            pids = server_pids(data_dir)
            assert len(pids) == 1, pids
            yield Served(fake, client, portal, root, pids[0], files, count())
            assert alive(pids[0]), "the server died under hostile input"
        assert not fake.bugs, fake.bugs
    stderr = (root / "stderr.log").read_text()
    assert "Traceback" not in stderr, stderr[-3000:]


# -- the oracle --------------------------------------------------------------------------------------


def model_ids(provider: str) -> set[str]:
    """Model names `provider` resolves to exactly one model: canonical ids, and its own ids used once."""
    served = catalog.offerings(provider)
    own = [o.provider_model_id for o in served]
    return {o.model.id for o in served} | {name for name in own if own.count(name) == 1}


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def numeric_text(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def expected(args: dict, image_verdict: str) -> str:
    """VALID, INVALID or EITHER (lax coercions, and values the client itself rewrites: NaN is sent as null)."""
    verdicts = [image_verdict]
    if set(args) - KNOWN:
        verdicts.append(INVALID)  # unknown arguments are refused, never dropped
    prompt = args.get("prompt", MISSING)
    if not isinstance(prompt, str) or not 1 <= len(prompt) <= 2500:
        verdicts.append(INVALID)
    elif not prompt.strip():
        verdicts.append(INVALID)  # a blank prompt would be a paid job with no instruction
    provider = args.get("provider")
    name: str | None = "wavespeed" if provider in (None, "") else None
    if isinstance(provider, str) and provider:
        name = provider.strip().lower()
    if name is None or name not in CONFIGURED:
        verdicts.append(EITHER if name == "local" else INVALID)
    model = args.get("model")
    unknown_model = isinstance(model, str) and name in CONFIGURED and model.strip() not in {"", *model_ids(name)}
    if unknown_model or (model is not None and not isinstance(model, str)):
        verdicts.append(INVALID)
    duration = args.get("duration", 5)
    if not is_number(duration) or duration not in (5, 10):
        verdicts.append(INVALID)
    elif isinstance(duration, float):
        verdicts.append(EITHER)
    negative = args.get("negative_prompt")
    if negative is not None and (not isinstance(negative, str) or len(negative) > 2500):
        verdicts.append(INVALID)
    verdicts.append(number_verdict(args.get("guidance_scale"), 0, 1, none_ok=True))
    verdicts.append(number_verdict(args.get("wait_seconds", 0), 0, 900, none_ok=False))
    if INVALID in verdicts:
        return INVALID
    return EITHER if EITHER in verdicts else VALID


def number_verdict(value: Any, low: float, high: float, *, none_ok: bool) -> str:
    if value is None:
        return VALID if none_ok else INVALID
    if isinstance(value, bool) or (isinstance(value, str) and numeric_text(value)):
        return EITHER  # lax coercion
    if not is_number(value):
        return INVALID
    if isinstance(value, float) and not math.isfinite(value):
        return VALID if none_ok else INVALID  # the client sends NaN and infinities as null
    return VALID if low <= value <= high else INVALID


# -- strategies --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MadeFile:
    """An image argument that is a file the test writes (random bytes under an image's name)."""

    data: bytes
    suffix: str


def json_values() -> st.SearchStrategy:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(max_size=5), inner, max_size=3), max_leaves=6)


def image_args(served: Served) -> st.SearchStrategy:
    """(value, verdict): fixture files and URIs, random bytes files, random strings, URLs, non-strings."""
    fixtures = st.sampled_from(sorted(served.files.values()))
    garbage = st.builds(MadeFile, st.binary(max_size=3000), st.sampled_from([".png", ".jpg", ".jpeg", ""]))
    signed = st.builds(lambda head, rest: MadeFile(head + rest, ".png"),
                       st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a"]),
                       st.binary(max_size=2000))
    urls = st.builds(lambda scheme, rest: scheme + rest, st.sampled_from(["https://", "HTTP://", " https://"]),
                     st.text(max_size=60))
    return st.one_of(
        fixtures,
        st.tuples(st.one_of(garbage, signed), st.just(INVALID)),
        st.tuples(urls, st.just(VALID)),
        st.tuples(st.text(max_size=80).filter(lambda s: not s.strip().lower().startswith(("http://", "https://"))),
                  st.just(INVALID)),
        st.tuples(st.one_of(st.integers(), st.none(), st.lists(st.text(max_size=5), max_size=2)), st.just(INVALID)),
        st.just((MISSING, INVALID)),
    )


PROMPTS = st.one_of(
    st.text(min_size=1, max_size=200),  # any unicode: control characters, NUL, emoji, right-to-left marks
    st.text(alphabet=" \t\r\n\x0b\x0c\u00a0\u2003\u3000", min_size=1, max_size=5),  # whitespace only
    st.sampled_from(["", "a" * 2500, "\U0001f600" * 2500, "a" * 2501, "\u00e9" * 5000, "\x00", "x\x00y"]),
    st.one_of(st.integers(), st.none(), st.lists(st.text(max_size=3), max_size=2)),
    st.just(MISSING),
)
PROVIDER_NAMES = st.one_of(
    st.sampled_from([MISSING, None, "", "wavespeed", " WaveSpeed ", "MYROUTER", "myrouter\n", "gptproto",
                     "aimlapi", "sora", "wave speed", "wavespeed\x00", 5]),
    st.text(max_size=20),
)
MODELS = st.one_of(
    st.sampled_from([MISSING, None, "", "   ", "kling-v2.1-i2v-pro", "kling-v2.5-turbo-pro-i2v ",
                     "kwaivgi/kling-v2.1-i2v-master", "kling-v2.1-i2v", "kling-2.5-turbo-i2v", "veo-3",
                     "KLING-V2.1-I2V-PRO", 3]),
    st.text(max_size=30),
)
DURATIONS = st.one_of(
    st.sampled_from([MISSING, 5, 10, 5.0, 10.0, 7, 0, -5, 5.5, "5", "10", "five", None, True, 2**70, [5]]),
    st.integers(), st.floats(),
)
NEGATIVE_PROMPTS = st.one_of(st.sampled_from([MISSING, None, "", "a" * 2500, "a" * 2501, 7]), st.text(max_size=50))
GUIDANCE = st.one_of(
    st.sampled_from([MISSING, None, 0, 1, 0.5, -0.01, 1.01, 1e308, -1e308, math.nan, math.inf, "0.5", "high",
                     True, [0.5]]),
    st.floats(), st.integers(min_value=-(2**65), max_value=2**65),
)
WAITS = st.one_of(
    st.sampled_from([0, 0.0, -0.0, 0.01, -1, -1e-9, 900.0001, 901, 1e308, math.nan, math.inf, -math.inf, "0",
                     "soon", None, [0], {"s": 0}]),
    st.floats(max_value=-1e-6) | st.floats(min_value=900.0001),
)
EXTRAS = st.dictionaries(
    st.sampled_from(["ctx", "context", "_meta", "self", "seed", "image_url", "callback", "__class__"])
    | st.text(min_size=1, max_size=12),
    json_values(), max_size=3,
)
KNOWN = {"image", "prompt", "provider", "model", "duration", "negative_prompt", "guidance_scale", "wait_seconds"}


HOSTILE = {"prompt": PROMPTS, "provider": PROVIDER_NAMES, "model": MODELS, "duration": DURATIONS,
           "negative_prompt": NEGATIVE_PROMPTS, "guidance_scale": GUIDANCE, "wait_seconds": WAITS}
SANE = {"prompt": st.text(min_size=1, max_size=100).filter(str.strip),
        "provider": st.sampled_from([MISSING, *CONFIGURED]), "model": st.just(MISSING),
        "duration": st.sampled_from([MISSING, 5, 10]), "negative_prompt": st.just(MISSING),
        "guidance_scale": st.just(MISSING), "wait_seconds": st.just(0)}


@st.composite
def arguments(draw, served: Served, *, hostile: bool) -> tuple[dict, str]:
    """generate_video arguments and the image's verdict.

    hostile: a few fields (often one, so each check is reached on its own) take hostile values, the rest
    sane ones, plus unknown extra arguments. Otherwise only the image is hostile.
    """
    bad = draw(st.sets(st.sampled_from(["image", *HOSTILE]), min_size=1, max_size=3)) if hostile else {"image"}
    if "image" in bad:
        image, image_verdict = draw(image_args(served))
    else:
        image, image_verdict = served.files[draw(st.sampled_from(["good.png", "good.jpg", "https-url"]))]
    fields = {name: draw(HOSTILE[name] if name in bad else SANE[name]) for name in HOSTILE}
    extras = {k: v for k, v in draw(EXTRAS).items() if k not in KNOWN} if hostile else {}
    args = {"image": image, **fields, **extras}
    return {k: v for k, v in args.items() if v is not MISSING}, image_verdict


# -- the property ------------------------------------------------------------------------------------


def check_one(served: Served, args: dict, image_verdict: str) -> None:
    if isinstance(args.get("image"), MadeFile):
        made = args["image"]
        args = {**args, "image": served.write(made.data, made.suffix)}
    verdict = expected(args, image_verdict)
    calls_before, submits_before = served.provider_calls(), served.submits()
    result = served.call("generate_video", args)
    text = text_of(result)
    if result.is_error:
        assert verdict != VALID, f"valid input refused: {text!r} for {shown(args)}"
        assert text.strip() and "\n" not in text.strip() and len(text) <= 1000, text
        assert not NOT_A_SENTENCE.search(text), text
        assert served.provider_calls() == calls_before, f"an error, yet the provider was called: {shown(args)}"
    else:
        assert verdict != INVALID, f"invalid input accepted for {shown(args)}: {text[:300]!r}"
        task = result.structured_content
        assert task and task["task_id"] and task["status"] in ("queued", "processing", "completed"), text
        assert task["duration"] in (5, 10) and task["prompt"] == args["prompt"]
        found = served.call("get_task", {"task_id": task["task_id"]})
        assert not found.is_error and found.structured_content["task_id"] == task["task_id"]
        assert served.submits() == submits_before + 1
    if verdict == INVALID:
        assert served.provider_calls() == calls_before
    assert alive(served.pid)


def shown(args: dict) -> str:
    return repr({k: (v[:120] + "..." if isinstance(v, str) and len(v) > 120 else v) for k, v in args.items()})


def test_any_arguments_give_a_task_or_one_sentence(served):
    @settings(SETTINGS, max_examples=100)
    @given(case=arguments(served, hostile=True))
    def prop(case):
        check_one(served, *case)

    prop()


def test_any_image_argument_gives_a_task_or_one_sentence(served):
    @settings(SETTINGS, max_examples=50)
    @given(case=arguments(served, hostile=False))
    def prop(case):
        check_one(served, *case)

    prop()


@pytest.mark.parametrize("name", ["text-named.png", "truncated.png", "truncated.jpg", "header-only.png",
                                  "jpeg-named.png", "png-named.jpg"])
def test_images_are_judged_by_content_not_name(served, name):
    path, verdict = served.files[name]
    for provider in CONFIGURED:
        check_one(served, {"image": path, "prompt": "a cat waves", "provider": provider, "wait_seconds": 0}, verdict)


def test_a_5_gb_file_is_refused_by_size_without_being_read(served):
    huge = served.root / "huge-photo.png"
    with huge.open("wb") as f:  # sparse: no disk cost
        f.write(image_bytes((640, 360)))
        f.truncate(5 * 1024**3)
    before = status_kb(served.pid, "VmHWM")
    calls = served.provider_calls()
    result = served.call("generate_video", {"image": str(huge), "prompt": "a cat waves", "wait_seconds": 0})
    grown_mb = (status_kb(served.pid, "VmHWM") - before) / 1024
    print(f"\nrefusing a 5 GB file grew the server's peak memory (VmHWM) by {grown_mb:.1f} MB")
    assert result.is_error
    assert "5368.7 MB; the limit is 10 MB" in text_of(result), text_of(result)
    assert grown_mb < 200, f"the server's peak memory grew by {grown_mb:.0f} MB"
    assert served.provider_calls() == calls


def test_every_provider_name_that_is_not_configured_is_refused_before_any_call(served):
    good = served.files["good.png"][0]
    for provider in sorted(set(PROVIDERS) - set(CONFIGURED)):
        check_one(served, {"image": good, "prompt": "x", "provider": provider, "wait_seconds": 0}, VALID)


def test_the_server_is_still_alive_and_answering(served):
    good = served.files["good.png"][0]
    made = served.call("generate_video", {"image": good, "prompt": "a cat waves", "wait_seconds": 0})
    assert not made.is_error, text_of(made)
    listed = served.call("list_tasks", {"limit": 200})
    assert not listed.is_error
    assert made.structured_content["task_id"] in [task["task_id"] for task in listed.structured_content["tasks"]]
    assert alive(served.pid)

