"""The offline `local` provider: with no API key at all, a real MP4 is rendered from the image.

Also: the camera moves, the sample image and the CLI, and the server without PyAV (the optional extra).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import av
import pytest
from PIL import Image, ImageDraw

from tests.conftest import ERAS, SERVER_COMMAND, make_image, server_env, stdio_client
from tests.e2e.helpers import ProgressLog, text_of

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample.jpg"
INSTALL = "pip install 'videogen-mcp-server[local]'"


def probe(path: Path) -> tuple[str, int, int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return stream.codec_context.name, stream.width, stream.height, frames


def run_cli(args: list[str], env: dict, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([SERVER_COMMAND, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("mode", ERAS)
async def test_without_keys_the_local_provider_renders_a_real_mp4(fake, tmp_path, mode):
    image = make_image(tmp_path / "wide.jpg", (1600, 900), "JPEG")
    progress = ProgressLog()
    async with stdio_client(server_env(fake, tmp_path / "data", ()), mode) as client:
        result = await client.call_tool(
            "generate_video", {"image": str(image), "prompt": "slow zoom out", "wait_seconds": 60},
            progress_callback=progress,
        )
    task = result.structured_content
    assert (task["status"], task["provider"], task["progress"]) == ("completed", "local", 100)
    assert probe(Path(task["video_path"])) == ("h264", 1280, 720, 5 * 24)
    assert progress.values[-1] == 100 and progress.values == sorted(set(progress.values))


async def test_local_render_interrupted_by_a_restart_completes_after_it(fake, tmp_path):
    image = make_image(tmp_path / "photo.png", (640, 640))
    env = server_env(fake, tmp_path / "data", ())
    async with stdio_client(env) as client:
        made = await client.call_tool(
            "generate_video", {"image": str(image), "prompt": "tilt up", "duration": 10, "wait_seconds": 0}
        )
    task_id = made.structured_content["task_id"]
    async with stdio_client(env) as client:
        done = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 60})
    assert done.structured_content["status"] == "completed"
    assert probe(Path(done.structured_content["video_path"]))[3] == 10 * 24


async def test_local_provider_renders_from_an_image_url(fake, tmp_path):
    """The local provider fetches URL images itself; the fake serves an uploaded PNG back."""
    import httpx2

    image = make_image(tmp_path / "photo.png", (640, 480))
    async with httpx2.AsyncClient() as http:
        reply = await http.post(
            f"{fake.base_url('wavespeed')}/api/v3/media/upload/binary",
            headers={"Authorization": f"Bearer {fake.api_key('wavespeed')}"},
            files={"file": ("photo.png", image.read_bytes(), "image/png")},
        )
    url = reply.json()["data"]["download_url"]
    env = server_env(fake, tmp_path / "data", (), VIDEOGEN_ALLOW_PRIVATE_URLS="1")  # the fake is on loopback
    async with stdio_client(env) as client:
        result = await client.call_tool("generate_video", {"image": url, "prompt": "pan right"})
        missing = await client.call_tool("generate_video", {"image": f"{fake.url}/files/uploads/99.png", "prompt": "x"})
    assert result.structured_content["status"] == "completed"
    assert probe(Path(result.structured_content["video_path"]))[1:3] == (640, 480)
    assert missing.is_error and "could not fetch the image URL" in missing.content[0].text


async def test_a_ten_second_portrait_render_keeps_its_aspect_and_the_server_answers_while_it_runs(fake, tmp_path):
    """240 frames at 720x1280 from a 1080x1920 photo; get_task and list_tasks answer during the render."""
    image = make_image(tmp_path / "tall.jpg", (1080, 1920), "JPEG")
    seen: list[tuple[str, int]] = []
    async with stdio_client(server_env(fake, tmp_path / "data", ())) as client:
        made = await client.call_tool(
            "generate_video", {"image": str(image), "prompt": "tilt up", "duration": 10, "wait_seconds": 0}
        )
        task_id = made.structured_content["task_id"]
        with anyio.fail_after(120):
            while not seen or seen[-1][0] not in ("completed", "failed"):
                with anyio.fail_after(10):  # the encoder runs off the event loop: every call is answered
                    got = await client.call_tool("get_task", {"task_id": task_id})
                    listed = await client.call_tool("list_tasks", {})
                assert listed.structured_content["tasks"][0]["task_id"] == task_id
                seen.append((got.structured_content["status"], got.structured_content["progress"]))
                await anyio.sleep(0.1)
    task = got.structured_content
    assert task["status"] == "completed", task["error"]
    assert any(status == "processing" and 0 < progress < 100 for status, progress in seen), seen
    progress = [p for _, p in seen]
    assert progress == sorted(progress) and progress[-1] == 100
    assert probe(Path(task["video_path"])) == ("h264", 720, 1280, 10 * 24)


def marker_image(path: Path) -> Path:
    """Dark picture with two white squares, left and right of the centre: their place and size show the motion."""
    image = Image.new("RGB", (960, 540), (30, 40, 60))
    pen = ImageDraw.Draw(image)
    for cx in (0.3 * 960, 0.7 * 960):
        pen.rectangle([cx - 45, 270 - 45, cx + 45, 270 + 45], fill=(255, 255, 255))
    image.save(path, "PNG")
    return path


def squares(frame: Image.Image) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    """Bounding boxes of the bright pixels in the left and the right half of a frame."""
    mask = frame.convert("L").point(lambda v: 255 if v > 128 else 0)
    half = frame.width // 2
    left = mask.crop((0, 0, half, frame.height)).getbbox()
    right = mask.crop((half, 0, frame.width, frame.height)).getbbox()
    assert left and right
    return left, (right[0] + half, right[1], right[2] + half, right[3])


def motion(path: Path) -> dict[str, float]:
    """How the squares change from the first frame to the last: size, position, and left/right size balance."""
    with av.open(str(path)) as container:
        frames = [frame.to_image() for frame in container.decode(video=0)]
    assert len(frames) == 5 * 24
    first, last = squares(frames[0]), squares(frames[-1])

    def width(boxes):
        return sum(b[2] - b[0] for b in boxes) / 2

    def centre(boxes, axis):
        return sum(b[axis] + b[axis + 2] for b in boxes) / 4

    def balance(boxes):
        return (boxes[0][3] - boxes[0][1]) / (boxes[1][3] - boxes[1][1])  # left height / right height

    return {
        "scale": width(last) / width(first),
        "dx": centre(last, 0) - centre(first, 0),
        "dy": centre(last, 1) - centre(first, 1),
        "balance_first": balance(first),
        "balance_last": balance(last),
    }


async def test_each_camera_move_in_the_prompt_moves_the_picture_its_own_way(fake, tmp_path):
    image = marker_image(tmp_path / "marker.png")
    prompts = {
        "zoom in": "a quiet lake at dawn",  # no keyword: a slow push-in
        "zoom out": "slow zoom out",
        "pan left": "pan left across the room",
        "pan right": "pan right",
        "tilt up": "tilt up to the sky",
        "tilt down": "tilt down",
        "orbit": "the camera orbits the statue",
    }
    async with stdio_client(server_env(fake, tmp_path / "data", ())) as client:
        made = {
            move: await client.call_tool("generate_video", {"image": str(image), "prompt": prompt, "wait_seconds": 0})
            for move, prompt in prompts.items()
        }
        done = {
            move: await client.call_tool("get_task", {"task_id": r.structured_content["task_id"], "wait_seconds": 120})
            for move, r in made.items()
        }
    m = {move: motion(Path(r.structured_content["video_path"])) for move, r in done.items()}
    assert m["zoom in"]["scale"] > 1.1 and abs(m["zoom in"]["dx"]) < 8, m["zoom in"]
    assert m["zoom out"]["scale"] < 0.9 and abs(m["zoom out"]["dx"]) < 8, m["zoom out"]
    # the camera pans left: the picture slides right in the frame, and the other way round
    assert m["pan left"]["dx"] > 50 and 0.95 < m["pan left"]["scale"] < 1.05, m["pan left"]
    assert m["pan right"]["dx"] < -50 and 0.95 < m["pan right"]["scale"] < 1.05, m["pan right"]
    assert m["tilt up"]["dy"] > 30 and abs(m["tilt up"]["dx"]) < 8, m["tilt up"]
    assert m["tilt down"]["dy"] < -30 and abs(m["tilt down"]["dx"]) < 8, m["tilt down"]
    # an orbit swings the picture: the nearer square is the bigger one, and the nearer side changes
    orbit = m["orbit"]
    assert 0.95 < orbit["scale"] < 1.05 and abs(orbit["dx"]) < 30 and abs(orbit["dy"]) < 8, orbit
    assert (orbit["balance_first"] - 1) * (orbit["balance_last"] - 1) < 0, orbit
    assert min(abs(orbit["balance_first"] - 1), abs(orbit["balance_last"] - 1)) > 0.03, orbit
    for move in m:
        if move != "orbit":
            assert abs(m[move]["balance_first"] - 1) < 0.03 and abs(m[move]["balance_last"] - 1) < 0.03, (move, m)


# -- the sample image and the command line -----------------------------------------------------------


def no_key_env(tmp_path: Path, **extra: str) -> dict:
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "VIDEOGEN_DATA_DIR": str(tmp_path / "data"), **extra}


def test_the_committed_sample_image_is_small_and_accepted():
    from videogen_mcp.images import load_image

    image = load_image(str(SAMPLE))
    assert SAMPLE.stat().st_size < 100_000
    assert (image.mime, image.width, image.height) == ("image/jpeg", 960, 540)


def test_cli_generate_renders_the_sample_with_no_key(tmp_path):
    """The README quickstart: a relative path from the checkout, no key; the MP4's path is the only stdout line."""
    done = run_cli(["generate", "--image", "examples/sample.jpg", "--prompt", "slow pan left across the lake"],
                   no_key_env(tmp_path))
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    video = Path(line)
    assert video.parent == tmp_path / "data" / "videos" and video.suffix == ".mp4"
    assert probe(video) == ("h264", 960, 540, 5 * 24)
    assert "submitted to local" in done.stderr
    assert "[" + "#" * 30 + "] 100.0%" in done.stderr  # the progress bar, full at the end
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: make_image(p / "tiny.png", (120, 120)), "at least 300x300"),
        (lambda p: (p / "notes.png").write_text("not a picture") and p / "notes.png", "not a readable image"),
        (lambda p: p / "missing.jpg", "does not exist"),
    ],
)
def test_cli_generate_with_a_bad_image_exits_non_zero_with_one_sentence(tmp_path, make, words):
    image = make(tmp_path)
    done = run_cli(["generate", "--image", str(image), "--prompt", "zoom in"], no_key_env(tmp_path))
    assert done.returncode != 0
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert words in line and "Traceback" not in done.stderr


# -- without PyAV (the `local` extra not installed) ---------------------------------------------------

HIDE_PYAV = """\
    # Loaded at start-up through PYTHONPATH: make PyAV look not installed, as in `pip install videogen-mcp-server`.
    import sys
    from importlib.machinery import PathFinder


    class HidePyAV:
        @classmethod
        def find_spec(cls, name, path=None, target=None):
            if name == "av" or name.startswith("av."):
                return None
            return PathFinder.find_spec(name, path, target)

        @classmethod
        def find_distributions(cls, *args, **kwargs):
            found = PathFinder.find_distributions(*args, **kwargs)
            return (dist for dist in found if (dist.metadata["Name"] or "").lower() != "av")

        @classmethod
        def invalidate_caches(cls):
            PathFinder.invalidate_caches()


    sys.meta_path[:] = [HidePyAV if finder is PathFinder else finder for finder in sys.meta_path]
"""


@pytest.fixture
def without_pyav(tmp_path: Path) -> dict:
    """Extra environment that hides PyAV from a subprocess; checked to really hide it."""
    shim = tmp_path / "no-pyav"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(textwrap.dedent(HIDE_PYAV))
    extra = {"PYTHONPATH": str(shim)}
    code = "import PIL, mcp, httpx2, videogen_mcp.app, av"  # everything else imports; av does not
    check = subprocess.run([sys.executable, "-c", code], env={**os.environ, **extra}, capture_output=True, text=True,
                           timeout=60)
    assert "No module named 'av'" in check.stderr, check.stderr
    return extra


@pytest.mark.parametrize("mode", ERAS)
async def test_without_pyav_the_server_lists_local_unconfigured_and_refuses_it_in_one_sentence(
    fake, tmp_path, png, without_pyav, mode
):
    async with stdio_client(server_env(fake, tmp_path / "data", (), **without_pyav), mode) as client:
        listed = await client.call_tool("list_providers", {})
        no_provider = await client.call_tool("generate_video", {"image": str(png), "prompt": "zoom in"})
        asked = await client.call_tool("generate_video", {"image": str(png), "prompt": "x", "provider": "local"})
        tasks = await client.call_tool("list_tasks", {})
    [local] = [p for p in listed.structured_content["providers"] if p["name"] == "local"]
    assert (local["configured"], local["is_default"]) == (False, True)
    assert INSTALL in local["setup"]
    for result in (no_provider, asked):
        assert result.is_error
        assert text_of(result).startswith("no provider is configured")
        assert "WAVESPEED_API_KEY" in text_of(result) and INSTALL in text_of(result)
    assert tasks.structured_content["tasks"] == []


async def test_without_pyav_a_hosted_provider_still_generates(fake, tmp_path, png, without_pyav):
    async with stdio_client(server_env(fake, tmp_path / "data", ("gptproto",), **without_pyav)) as client:
        made = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat waves"})
        local = await client.call_tool("generate_video", {"image": str(png), "prompt": "x", "provider": "local"})
    assert made.structured_content["status"] == "completed" and made.structured_content["provider"] == "gptproto"
    assert local.is_error and text_of(local).startswith("provider 'local' is not installed")
    assert "gptproto" in text_of(local)


def test_without_pyav_the_cli_says_how_to_install_local(tmp_path, without_pyav):
    env = no_key_env(tmp_path, **without_pyav)
    providers = run_cli(["providers"], env)
    generate = run_cli(["generate", "--image", "examples/sample.jpg", "--prompt", "zoom in"], env)
    assert providers.returncode == 0
    rows = [line.split() for line in providers.stdout.splitlines() if line.startswith("local")]
    assert rows and all(row[:3] == ["local", "*", "no"] for row in rows), providers.stdout  # default, not configured
    assert INSTALL in providers.stdout
    assert generate.returncode != 0 and generate.stdout == ""
    [line] = generate.stderr.strip().splitlines()
    assert "no provider is configured" in line and INSTALL in line
