"""Kling after v2.5: the catalog's rows match providers/API.md, the wire bodies follow each row, and requests a
row cannot take are refused with one sentence."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from tests.fakes.aimlapi import AFTER_V25 as AIML_SCHEMAS
from tests.fakes.myrouter import AFTER_V25 as MYROUTER_SCHEMAS
from tests.fakes.wavespeed import GPTPROTO_AFTER_V25, WAVESPEED_AFTER_V25
from tests.unit.conftest import offline_client
from videogen_mcp.catalog import OFFERINGS, resolve, typical_seconds
from videogen_mcp.errors import InvalidInput
from videogen_mcp.providers import ADAPTERS, SubmitRequest
from videogen_mcp.tasks.requests import GenerateRequest
from videogen_mcp.validation import check_offering, durations_text

V3 = tuple(range(3, 16))
NEW_MODELS = ("kling-v3.0-std-i2v", "kling-v3.0-pro-i2v", "kling-v2.6-pro-i2v")
#: providers/API.md, "Kling models after v2.5": (provider, model) -> own id, end-frame field, audio field,
#: durations, duration on the wire, guidance field.
API_MD = {
    ("wavespeed", "kling-v3.0-std-i2v"): ("kwaivgi/kling-v3.0-std/image-to-video", "end_image", "sound", V3, int,
                                          "cfg_scale"),
    ("wavespeed", "kling-v3.0-pro-i2v"): ("kwaivgi/kling-v3.0-pro/image-to-video", "end_image", "sound", V3, int,
                                          "cfg_scale"),
    ("aimlapi", "kling-v3.0-std-i2v"): ("klingai/video-v3-standard-image-to-video", "tail_image_url",
                                        "generate_audio", V3, int, "cfg_scale"),
    ("aimlapi", "kling-v3.0-pro-i2v"): ("klingai/video-v3-pro-image-to-video", "tail_image_url", "generate_audio",
                                        V3, int, "cfg_scale"),
    ("myrouter", "kling-v3.0-std-i2v"): ("kling-v3.0-std-i2v", "end_image", "sound", V3, int, "cfg_scale"),
    ("myrouter", "kling-v3.0-pro-i2v"): ("kling-v3.0-pro-i2v", "end_image", "sound", V3, int, "cfg_scale"),
    ("gptproto", "kling-v2.6-pro-i2v"): ("kwaivgi/kling-v2.6-pro/image-to-video", "last_image", "sound", (5, 10),
                                         None, None),
    ("aimlapi", "kling-v2.6-pro-i2v"): ("klingai/video-v2-6-pro-image-to-video", None, "generate_audio", (5, 10),
                                        None, None),
}
#: What each fake takes for the same rows (tests/fakes), so the fakes and the catalog cannot drift apart.
FAKE_SCHEMAS = {
    "wavespeed": WAVESPEED_AFTER_V25, "gptproto": GPTPROTO_AFTER_V25, "aimlapi": AIML_SCHEMAS,
    "myrouter": MYROUTER_SCHEMAS,
}
IMAGE = "https://cdn.example.com/first.png"
END = "https://cdn.example.com/last.png"


def hosted_new_rows():
    return [o for o in OFFERINGS if o.model.id in NEW_MODELS and o.provider != "local"]


def test_the_new_rows_are_exactly_those_api_md_documents():
    assert {(o.provider, o.model.id) for o in hosted_new_rows()} == set(API_MD)
    assert ("wavespeed", "kling-v2.6-pro-i2v") not in API_MD  # its end-frame field is not settled


@pytest.mark.parametrize(("provider", "model"), sorted(API_MD))
def test_each_row_declares_what_api_md_says(provider, model):
    offering = resolve(provider, model)
    own, end, sound, durations, wire, guidance = API_MD[provider, model]
    assert (offering.provider_model_id, offering.end_image_field, offering.sound_field, offering.durations,
            offering.duration_wire, offering.guidance_parameter) == (own, end, sound, durations, wire, guidance)
    assert offering.pricing.usd == {} and offering.pricing.note  # unpublished, with the reason (API.md, "Prices")


def test_only_aimlapi_v3_forbids_an_end_frame_with_audio():
    forbidding = {(o.provider, o.model.id) for o in OFFERINGS for rule in o.forbidden
                  if rule.arguments == {"end_image", "sound"}}
    assert forbidding == {("aimlapi", "kling-v3.0-std-i2v"), ("aimlapi", "kling-v3.0-pro-i2v")}


@pytest.mark.parametrize(("provider", "model"), sorted(API_MD))
def test_the_fake_takes_the_fields_the_row_names_and_no_other(provider, model):
    offering = resolve(provider, model)
    schema = FAKE_SCHEMAS[provider][offering.provider_model_id]
    declared = {f for f in (offering.end_image_field, offering.sound_field, offering.guidance_parameter) if f}
    optional = set(schema.fields) - {"model", "image", "image_url", "prompt", "negative_prompt", "duration"}
    assert optional == declared


@pytest.mark.parametrize("model", NEW_MODELS)
def test_local_serves_the_new_models_at_every_length_with_an_end_frame_and_no_sound(model):
    offering = resolve("local", model)
    assert offering.durations == resolve("aimlapi", model).durations
    assert offering.end_image and not offering.sound
    assert offering.pricing.usd == {d: 0.0 for d in offering.durations}


def test_unstated_generation_times_grow_with_the_clip():
    assert typical_seconds("wavespeed", "kling-v3.0-pro-i2v", 5) == 300
    assert typical_seconds("wavespeed", "kling-v3.0-pro-i2v", 15) == 900
    assert typical_seconds("wavespeed", "kling-v2.1-i2v-pro", 5) == 210  # documented times stay


# -- the wire bodies ------------------------------------------------------------------------------------------


def body(provider: str, model: str, end_ref: str | None = None, **extra) -> dict:
    offering = resolve(provider, model)
    request = SubmitRequest(offering, "a cat walks", extra.pop("duration", offering.durations[-1]), **extra)
    made = ADAPTERS[provider]("sk-test", "http://h", offline_client())
    return json.loads(made.submit_request(request, IMAGE, end_ref).content)


@pytest.mark.parametrize(("provider", "model"), sorted(API_MD))
def test_the_audio_flag_is_always_sent_false_unless_asked(provider, model):
    audio = API_MD[provider, model][2]
    assert body(provider, model)[audio] is False
    assert body(provider, model, sound=True)[audio] is True


@pytest.mark.parametrize(("provider", "model"), sorted(API_MD))
def test_the_duration_is_an_integer_and_the_end_frame_goes_under_the_rows_field(provider, model):
    own, end, _, durations, _, _ = API_MD[provider, model]
    sent = body(provider, model, END if end else None)
    assert sent["duration"] == durations[-1] and type(sent["duration"]) is int
    if end:
        assert sent[end] == END
    assert FAKE_SCHEMAS[provider][own].problem(sent) is None


@pytest.mark.parametrize("provider", ["wavespeed", "gptproto", "aimlapi", "myrouter"])
def test_older_models_get_no_audio_or_end_frame_field(provider):
    sent = body(provider, "kling-v2.1-i2v-pro", duration=5)
    assert not {"sound", "generate_audio", "end_image", "last_image", "tail_image_url"} & set(sent)


def test_aimlapi_left_to_its_default_would_refuse_an_end_frame_so_the_flag_matters():
    schema = AIML_SCHEMAS["klingai/video-v3-pro-image-to-video"]
    sent = {"model": "klingai/video-v3-pro-image-to-video", "image_url": IMAGE, "tail_image_url": END}
    assert schema.problem(sent) == "generate_audio and tail_image_url cannot be used together"
    assert schema.problem({**sent, "generate_audio": False}) is None
    assert schema.problem({**sent, "generate_audio": "false"}) == "invalid value for generate_audio: 'false'"


# -- refusals -------------------------------------------------------------------------------------------------


def refusal(provider: str, model: str, **arguments) -> str:
    request = GenerateRequest(IMAGE, "a cat walks", provider, model, **arguments)
    with pytest.raises(InvalidInput) as caught:
        check_offering(request, resolve(provider, model))
    return str(caught.value)


@pytest.mark.parametrize(
    ("provider", "model", "arguments", "sentence"),
    [
        ("wavespeed", "kling-v2.1-i2v-pro", {"duration": 7}, "kling-v2.1-i2v-pro takes 5 or 10 seconds, got 7"),
        ("wavespeed", "kling-v3.0-pro-i2v", {"duration": 16}, "kling-v3.0-pro-i2v takes 3 to 15 seconds, got 16"),
        ("myrouter", "kling-v3.0-std-i2v", {"duration": 2}, "kling-v3.0-std-i2v takes 3 to 15 seconds, got 2"),
        ("gptproto", "kling-v2.6-pro-i2v", {"duration": 12}, "kling-v2.6-pro-i2v takes 5 or 10 seconds, got 12"),
        ("aimlapi", "kling-v2.6-pro-i2v", {"end_image": END},
         "kling-v2.6-pro-i2v at aimlapi has no end frame: drop end_image, or choose a model with one "
         "(kling-v3.0-std-i2v, kling-v3.0-pro-i2v, kling-v2.6-pro-i2v)"),
        ("wavespeed", "kling-v2.1-i2v-pro", {"sound": True},
         "kling-v2.1-i2v-pro at wavespeed makes no sound: drop sound, or choose a model with native audio "
         "(kling-v3.0-std-i2v, kling-v3.0-pro-i2v, kling-v2.6-pro-i2v)"),
        ("local", "kling-v3.0-pro-i2v", {"sound": True}, "kling-v3.0-pro-i2v at local makes no sound: drop sound, "
         "or choose a model with native audio (kling-v3.0-std-i2v, kling-v3.0-pro-i2v, kling-v2.6-pro-i2v)"),
        ("gptproto", "kling-v2.6-pro-i2v", {"guidance_scale": 0.5},
         "kling-v2.6-pro-i2v at gptproto takes no guidance_scale: drop it"),
        ("aimlapi", "kling-v3.0-std-i2v", {"end_image": END, "sound": True},
         "kling-v3.0-std-i2v at aimlapi does not take end_image and sound together (AI/ML API refuses an end frame "
         "with audio on its Kling v3 models): drop one, or choose another provider"),
    ],
)
def test_a_request_the_row_cannot_take_is_one_sentence(provider, model, arguments, sentence):
    assert refusal(provider, model, **arguments) == sentence


@pytest.mark.parametrize(
    ("provider", "model", "arguments"),
    [
        ("wavespeed", "kling-v3.0-std-i2v", {"duration": 12, "end_image": END, "sound": True}),
        ("aimlapi", "kling-v3.0-std-i2v", {"duration": 3, "end_image": END, "sound": False}),
        ("aimlapi", "kling-v2.6-pro-i2v", {"duration": 10, "sound": True}),
        ("wavespeed", "kling-v2.1-i2v-pro", {"duration": 10, "sound": False}),
    ],
)
def test_a_request_the_row_takes_passes(provider, model, arguments):
    check_offering(GenerateRequest(IMAGE, "a cat walks", provider, model, **arguments), resolve(provider, model))


@pytest.mark.parametrize(("values", "text"), [((5, 10), "5 or 10"), (V3, "3 to 15"), ((5,), "5"),
                                              ((5, 10, 15), "5, 10 or 15")])
def test_durations_read_as_a_person_would_say_them(values, text):
    assert durations_text(values) == text


# -- local: the requested length, ending on the end frame -----------------------------------------------------


def test_local_render_has_the_requested_length_and_ends_on_the_end_frame(tmp_path):
    import av  # the dev extra installs it: never a reason to skip

    from videogen_mcp.render import FPS, render

    def solid(colour: tuple[int, int, int]) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (640, 360), colour).save(out, "PNG")
        return out.getvalue()

    dest = tmp_path / "out.mp4"
    render(solid((20, 40, 200)), "zoom in", 3, dest, lambda done, total: None, end_image=solid((230, 200, 20)))
    with av.open(str(dest)) as container:
        frames = [f.to_image() for f in container.decode(video=0)]
    assert len(frames) == 3 * FPS
    first, middle, last = (f.resize((1, 1)).getpixel((0, 0)) for f in (frames[0], frames[FPS], frames[-1]))
    assert all(abs(a - b) < 16 for a, b in zip(first, (20, 40, 200), strict=True))
    assert all(abs(a - b) < 16 for a, b in zip(middle, (20, 40, 200), strict=True))  # the fade is the last second
    assert all(abs(a - b) < 16 for a, b in zip(last, (230, 200, 20), strict=True))
