"""A DVS-like event camera: a moving object on a textured background, ON/OFF events.

The scene is ``width x height`` pixels: a static random texture (seeded by the node's seed)
and one bright square that moves in a straight line and bounces off the borders. Every
``sample_ms`` each pixel compares its log intensity with the level at its last event; when it
has risen (fallen) by ``threshold`` or more it emits an ON (OFF) event and its reference moves
by the whole number of thresholds crossed, as a dynamic vision sensor's pixel does. Background
activity (``noise_hz``) adds random events of either polarity, as a real sensor's leak and
shot noise do. Pixel ``p = y * width + x`` is neurons ``2p`` (ON) and ``2p + 1`` (OFF).

The object's path depends only on the parameters (:func:`object_track`), so a readout can be
scored against where the object really was.
"""

from __future__ import annotations

import math

import numpy as np

from engine.encoders.base import BLOCK_STEPS, EventBounds, FixedSpikeSource, time_index
from engine.params import ModelSpec, ParamSpec

SPEC = ModelSpec(
    "dvs", "Event camera (DVS)",
    "A dynamic vision sensor watching a bright square move over a textured background: each "
    "pixel emits an ON (neuron 2p) or OFF (neuron 2p+1) event when its log intensity has "
    "changed by threshold since its last event, plus random background events. Pixel p = "
    "y * width + x.",
    (
        ParamSpec("width", "px", 16, "Pixels per row.", kind="int", minimum=2, maximum=128),
        ParamSpec("height", "px", 16, "Rows of pixels.", kind="int", minimum=2, maximum=128),
        ParamSpec("object_size", "px", 4.0, "Side of the moving square.", minimum=1.0,
                  maximum=64.0),
        ParamSpec("object_intensity", "", 1.0, "Brightness of the square (background "
                  "texture lies in [0, 1]).", minimum=0.0, maximum=10.0),
        ParamSpec("start_x", "px", 2.0, "Left edge of the square at time 0.", minimum=0.0),
        ParamSpec("start_y", "px", 3.0, "Top edge of the square at time 0.", minimum=0.0),
        ParamSpec("direction_deg", "deg", 30.0, "Direction of motion (0 = right, 90 = down).",
                  minimum=-360.0, maximum=360.0),
        ParamSpec("speed_px_per_s", "px/s", 20.0, "Speed of the square.", minimum=0.0,
                  maximum=10_000.0),
        ParamSpec("texture_contrast", "", 0.3, "Spread of the background's random "
                  "brightness around 0.4.", minimum=0.0, maximum=0.8),
        ParamSpec("threshold", "", 0.2, "Change of log intensity that triggers an event.",
                  minimum=0.0, exclusive_minimum=True, maximum=10.0),
        ParamSpec("noise_hz", "Hz", 1.0, "Background events per pixel per second.",
                  minimum=0.0, maximum=1000.0),
        ParamSpec("sample_ms", "ms", 1.0, "Interval at which the pixels compare.",
                  minimum=0.0, exclusive_minimum=True),
    ),
)
BLOCKWISE = False

#: Why the node has the size :func:`fixed_size` gives (in validation messages).
SIZE_RULE = "two neurons (ON, OFF) per pixel: 2 x width x height"

# Log of intensity + this: a black pixel has a finite log intensity.
_EPS = 0.05


def fixed_size(values: dict) -> int:
    return 2 * int(values["width"]) * int(values["height"])


def check(values: dict, size: int | None) -> list[tuple[str, str]]:
    problems = []
    for name, extent in (("start_x", "width"), ("start_y", "height")):
        room = values[extent] - values["object_size"]
        if room < 0:
            problems.append(("object_size", f"must fit in the {extent} ({values[extent]} "
                                            f"px), got {values['object_size']:g}"))
        elif values[name] > room:
            problems.append((name, f"must leave the square inside the image: at most "
                                   f"{room:g} px, got {values[name]:g}"))
    return problems


def object_track(values: dict, times_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corner (x, y) of the square at each time: a straight line, reflected at the
    borders of the image."""
    t = np.asarray(times_ms, dtype=np.float64) * 1e-3
    angle = np.deg2rad(values["direction_deg"])
    speed = values["speed_px_per_s"]
    corners = []
    for start, extent, component in (("start_x", "width", np.cos(angle)),
                                     ("start_y", "height", np.sin(angle))):
        room = float(values[extent] - values["object_size"])
        free = values[start] + speed * component * t
        if room <= 0:
            corners.append(np.zeros_like(t))
            continue
        folded = np.mod(free, 2 * room)  # reflection = a triangle wave of period 2 * room
        corners.append(np.where(folded > room, 2 * room - folded, folded))
    return corners[0], corners[1]


def object_centre(values: dict, times_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre (x, y) of the square at each time, in pixel units (pixel x spans [x, x+1))."""
    x, y = object_track(values, times_ms)
    half = values["object_size"] / 2
    return x + half, y + half


def _coverage(corner: float, size: float, n: int) -> np.ndarray:
    """Fraction of each of ``n`` unit pixels covered by the interval [corner, corner+size)."""
    edges = np.arange(n, dtype=np.float64)
    return np.clip(np.minimum(edges + 1, corner + size) - np.maximum(edges, corner), 0.0, 1.0)


def frames(values: dict, texture: np.ndarray, times_ms: np.ndarray) -> np.ndarray:
    """Intensity images (len(times), height, width): the texture with the square pasted in,
    pixels on its border mixed by the fraction the square covers (a sensor integrates light
    over the pixel)."""
    xs, ys = object_track(values, times_ms)
    h, w = texture.shape
    out = np.empty((len(xs), h, w))
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        cover = np.outer(_coverage(y, values["object_size"], h),
                         _coverage(x, values["object_size"], w))
        out[i] = texture * (1 - cover) + values["object_intensity"] * cover
    return out


def background(values: dict, seed: int) -> np.ndarray:
    """The static random texture (height, width), values in [0, 1]."""
    rng = np.random.default_rng([seed, 0])
    spread = values["texture_contrast"]
    shape = (int(values["height"]), int(values["width"]))
    return np.clip(0.4 + rng.uniform(-spread, spread, shape), 0.0, 1.0)


#: Comparisons generated together: bounds the temporaries (frames and noise draws) to this
#: many images, whatever the run's length.
FRAMES_PER_BLOCK = 500


def _dvs_events(values: dict, dt_ms: float, seed: int,
                k_end: int) -> tuple[np.ndarray, np.ndarray]:
    """ON/OFF events of the scene and the background activity, as (time index, neuron)."""
    step = values["sample_ms"]
    times = np.arange(0.0, k_end * dt_ms + step / 2, step)
    texture = background(values, seed)
    reference = np.log(frames(values, texture, times[:1]).reshape(-1) + _EPS)
    n_pix = reference.size
    thr, p_noise = values["threshold"], values["noise_hz"] * step * 1e-3
    rng = np.random.default_rng([seed, 1])
    ks, ns = [np.empty(0)], [np.empty(0, np.int64)]
    for lo in range(1, len(times), FRAMES_PER_BLOCK):
        block = times[lo:lo + FRAMES_PER_BLOCK]
        log_i = np.log(frames(values, texture, block).reshape(len(block), -1) + _EPS)
        for t, image in zip(block, log_i, strict=True):
            crossings = np.trunc((image - reference) / thr)  # whole thresholds, signed
            pixels = np.flatnonzero(crossings)
            if pixels.size:
                reference[pixels] += crossings[pixels] * thr
                ks.append(np.full(pixels.size, t))
                ns.append(2 * pixels + (crossings[pixels] < 0))
        frame_i, pixel = np.nonzero(rng.random((len(block), n_pix)) < p_noise)
        ks.append(block[frame_i])
        ns.append(2 * pixel + rng.integers(0, 2, pixel.size))
    return (time_index(np.concatenate(ks), dt_ms),
            np.concatenate(ns).astype(np.int32))


def source(size: int, values: dict, dt_ms: float, seed: int, k_end: int) -> FixedSpikeSource:
    return FixedSpikeSource(size, *_dvs_events(values, dt_ms, seed, k_end))


def bounds(size: int, values: dict, dt_ms: float, n_steps: int) -> EventBounds:
    """Scene events: only pixels whose light changes between two comparisons can fire, and
    those lie in the box the square sweeps in one comparison. Background events are
    Bernoulli: their mean plus six standard deviations (as the Poisson encoder's bounds)."""
    step = values["sample_ms"]
    pixels = size // 2
    samples = int(n_steps * dt_ms / step) + 1
    sweep = values["object_size"] + values["speed_px_per_s"] * step * 1e-3
    scene = min(pixels, (math.ceil(sweep) + 2) ** 2)

    def noise(n_samples: int) -> int:
        mean = values["noise_hz"] * step * 1e-3 * pixels * n_samples
        return min(pixels * n_samples, math.ceil(mean + 6 * math.sqrt(mean)) + 1)

    per_index = min(samples, math.ceil(dt_ms / step) + 1)  # comparisons in one time index
    per_block = min(samples, int(BLOCK_STEPS * dt_ms / step) + 1)
    return EventBounds(scene * per_index + noise(per_index),
                       scene * per_block + noise(per_block), scene * samples + noise(samples))


def pixel_regions(values: dict, columns: int, rows: int) -> np.ndarray:
    """Region index of every neuron (ON and OFF of each pixel) on a grid of ``columns x
    rows`` equal regions, numbered row by row: region = row * columns + column."""
    w, h = int(values["width"]), int(values["height"])
    col = np.minimum(np.arange(w) * columns // w, columns - 1)
    row = np.minimum(np.arange(h) * rows // h, rows - 1)
    region = (row[:, None] * columns + col[None, :]).ravel()  # per pixel, p = y * w + x
    return np.repeat(region, 2)


def object_region(values: dict, times_ms: np.ndarray, columns: int, rows: int) -> np.ndarray:
    """Region (as :func:`pixel_regions` numbers them) holding the square's centre at each
    time."""
    x, y = object_centre(values, times_ms)
    col = np.minimum((x * columns // values["width"]).astype(np.int64), columns - 1)
    row = np.minimum((y * rows // values["height"]).astype(np.int64), rows - 1)
    return row * columns + col
