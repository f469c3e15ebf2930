"""Write (and measure) the two STDP sample projects.

Usage::

    .venv/bin/python sample_projects/make_stdp_projects.py            # write both files
    .venv/bin/python sample_projects/make_stdp_projects.py --measure  # only print the figures
    .venv/bin/python sample_projects/make_stdp_projects.py --pattern-only --seeds

The projects go through ``Project.from_dict`` and ``save_project`` so they are validated
exactly as the workbench validates them. Both are simulated and the figures quoted in the lab
notes (weight bimodality, output rates; pattern selectivity, hit rate, false alarms, latency)
are filled in from those runs. ``--pattern-only`` leaves the Song & Abbott file alone;
``--seeds`` also runs the pattern project with other seeds and pattern schedules.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from engine.labs.authoring import lab_from_notes
from engine.project import Project, save_project

HERE = Path(__file__).resolve().parent
FORMAT = {"format": "spikestudio-project", "version": 1}

# ---------------------------------------------------------------------- Song & Abbott
SA_N, SA_RATE_HZ, SA_W_MAX, SA_DURATION_MS = 1000, 10.0, 1.0, 200_000.0
SA_A_PLUS, SA_RATIO = 0.02 * SA_W_MAX, 1.1  # 2 % of w_max per pairing: learns in minutes
SA_RECORDED = [[i, 0] for i in (0, 1, 2, 3, 4, 5)]

SA_LAB = """\
# Lab: competitive Hebbian learning (Song, Miller & Abbott 2000)

**Network.** 1000 independent Poisson inputs at {rate:g} Hz drive one leaky integrate-and-fire
neuron (tau_m = 10 ms, rest -70 mV, threshold -54 mV, reset -60 mV, 5 ms excitatory synaptic
current) through excitatory synapses with pair-based additive STDP: A+ = {a_plus:g} mV,
A- = {a_minus:g} mV (A- tau- / A+ tau+ = {ratio:.2f}), tau+ = tau- = 20 ms, weights clipped to
[0, {w_max:g}] mV. Initial weights are uniform on [0, {w_max:g}] mV. Nothing in the input is
correlated: every input is as good as every other.

Run it (about {wall} s of computing for {seconds:g} s of model time) and open the weight views of
projection `ff`.

## 1. The weight distribution becomes bimodal
Watch the **histogram evolution**. The flat initial distribution splits: weights pile up at
0 and, in a second smaller peak, at w_max; the histogram becomes U-shaped. In our run at
{seconds:g} s **{low:.0%} of the synapses are below 10 % of w_max and {high:.0%} are above
90 %**; the remaining {middle:.0%} are spread thinly in between, most of them still drifting
(longer runs sharpen the two peaks only slowly, because each weight random-walks).

Why? Additive STDP is *competitive*. A pre spike that arrives shortly before a post spike is
potentiated; one that arrives after is depressed. With uncorrelated inputs, which of these
happens is mostly chance, and because A- tau- > A+ tau+ the average drift of a weight is
negative. But a strong synapse makes the post neuron fire *because of* its own spikes: its
pre spikes are followed by post spikes more often than by chance, so it gets potentiated and
becomes stronger still. A weak synapse has no influence on the timing of post spikes and
drifts down. Additive updates do not slow down near the bounds, so this positive feedback
drives every weight to one bound or the other.

## 2. The output rate stabilises itself
Look at the raster of `out` and the **mean weight** plot. At the start the neuron is driven
hard (mean weight {w0_mean:.2f} mV, output {rate_early:.0f} Hz in the first 2 s). The mean
weight falls and the output rate settles: {rate_late:.1f} Hz in the last 5 s while the inputs
still fire at {rate:g} Hz. The total synaptic weight is regulated without any explicit
normalisation: if the neuron fires a lot, many post spikes fall *before* pre spikes and
depression wins; once the membrane sits below threshold and only fluctuations make it fire,
post spikes are caused by the inputs that just arrived and potentiation of those inputs
balances the depression of the rest. The neuron ends up in the fluctuation-driven regime
(look at the membrane trace of the `out_v` monitor: it hovers below threshold and spikes are
irregular).

## 3. Trajectories
Six synapses (pre 0 to 5) are recorded at full time resolution: their trajectories are random
walks with a drift, which end at one bound. Click matrix cells to add more synapses (those are
drawn from the snapshots, once per second of model time), and look at the pre and post spike
ticks of the selected pair under the trajectory: every post spike shortly after a pre tick is
a step up.

## 4. Soft bounds remove the competition
Switch the rule to `bounds: multiplicative` (soft bounds) and run again: the distribution
should become unimodal. Soft bounds pull weights back from the edges (van Rossum et al.
2000) and remove the competition.

## Things to try
- Set a_minus = a_plus (no net depression) and watch the mean weight and the output rate.
- Double the input rate to 20 Hz: does the output rate after learning double too? (Song &
  Abbott found it barely changes; the number of strong synapses drops instead.)
"""

#: The steps of the Song & Abbott lab (engine.labs.authoring.lab_from_notes): the figures
#: are those of the reference solution, measured by ``spikestudio lab check song-abbott``.
SA_STEPS = [
    {"id": "bimodal", "sections": ["1. The weight distribution becomes bimodal"],
     "check": {"observation": "weights_bimodal",
               "params": {"projection": "ff", "min_low": 0.3, "min_high": 0.05}},
     "figures": "Reference run: 42 % of the weights within 10 % of w_min, 10 % within 10 % "
                "of w_max (the check asks for at least 30 % and 5 %)."},
    {"id": "rate-settles", "sections": ["2. The output rate stabilises itself",
                                        "3. Trajectories"],
     "question": "Why does the output rate stop falling instead of going to zero?",
     "check": {"observation": "rate_settles",
               "params": {"population": "out", "early_ms": 2000.0, "late_ms": 5000.0,
                          "min_drop": 3.0}},
     "figures": "Reference run: 118 Hz in the first 2 s, 15.2 Hz in the last 5 s, a 7.8-fold "
                "drop (the check asks for at least 3-fold)."},
    {"id": "soft-bounds", "sections": ["4. Soft bounds remove the competition",
                                       "Things to try"],
     "check": {"observation": "weights_unimodal",
               "params": {"projection": "ff", "max_edges": 0.1}},
     "solution": [{"edge": "ff", "param": "plasticity.bounds", "value": "multiplicative"}],
     "figures": "Reference run (multiplicative bounds): no weight within 10 % of either "
                "bound (the check allows at most 10 %); with additive bounds 52 %."},
]


def song_abbott(duration_ms: float = SA_DURATION_MS) -> Project:
    """1000 Poisson inputs onto one LIF neuron through additive STDP synapses."""
    a_plus, a_minus = SA_A_PLUS, SA_RATIO * SA_A_PLUS
    nodes = [
        {"id": "inputs", "kind": "encoder", "model": "poisson", "size": SA_N,
         "label": "1000 Poisson inputs", "params": {"rate_hz": SA_RATE_HZ}},
        {"id": "out", "kind": "population", "model": "lif", "size": 1, "label": "Output neuron",
         "params": {"tau_m": 10.0, "v_rest": -70.0, "v_reset": -60.0, "v_thresh": -54.0,
                    "t_ref": 2.0, "tau_syn_exc": 5.0, "v_init": -70.0}},
        {"id": "out_v", "kind": "monitor", "model": "state", "target": "out",
         "label": "Output membrane", "params": {"variables": ["v"], "neurons": [0],
                                                "interval_ms": 1.0}},
    ]
    projections = [{
        "id": "ff", "source": "inputs", "target": "out", "label": "Plastic input",
        "connectivity": {"rule": "all_to_all"},
        "weight": {"dist": "uniform", "low": 0.0, "high": SA_W_MAX}, "delay_ms": 0.0,
        "receptor": "exc",
        "plasticity": {"rule": "stdp", "a_plus": a_plus, "a_minus": a_minus,
                       "tau_plus": 20.0, "tau_minus": 20.0, "w_min": 0.0, "w_max": SA_W_MAX,
                       "pairing": "all_to_all", "bounds": "additive"},
        "record_weights": {"every_ms": 1000.0, "synapses": SA_RECORDED},
    }]
    return Project.from_dict({
        **FORMAT, "name": "STDP: Song & Abbott",
        "description": "1000 Poisson inputs onto one LIF neuron with additive STDP: the "
                       "weights become bimodal and the output rate stabilises itself.",
        "network": {"nodes": nodes, "projections": projections},
        "simulation": {"duration_ms": duration_ms, "dt_ms": 0.1, "seed": 2000,
                       "count_bin_ms": 100.0},
        "layout": {"positions": {"inputs": [80, 180], "out": [360, 180], "out_v": [620, 180]}},
        "lab": "",
    })


# ---------------------------------------------------------------------- Masquelier pattern
# Input statistics. Every afferent fires at PT_RATE_HZ + PT_SPONT_HZ all the time; during a
# pattern window each pattern afferent replaces its own noise by exactly one frozen spike
# (PT_RATE_HZ on average) and keeps only the spontaneous PT_SPONT_HZ.
PT_N_PATTERN, PT_N_DISTRACTOR = 500, 500
PT_RATE_HZ, PT_SPONT_HZ = 20.0, 5.0
PT_PATTERN_MS, PT_P_PATTERN, PT_DURATION_MS = 50.0, 0.25, 200_000.0
PT_SCHEDULE_SEED, PT_SIM_SEED = 20080102, 7
# Detector and rule: Masquelier's time constants (tau_m 10 ms, tau_s 2.5 ms, tau+ 16.8 ms,
# tau- 33.7 ms); all-to-all pairing with a- tau- = 1.1 a+ tau+ and a learning rate of 1 % of
# w_max per pair (see "Why not the paper's exact rule" in the notes).
PT_W_MAX, PT_W_INIT = 1.2, 0.36
PT_A_PLUS, PT_BALANCE, PT_TAU_PLUS, PT_TAU_MINUS = 0.01 * PT_W_MAX, 1.1, 16.8, 33.7
PT_STDP = {"rule": "stdp", "a_plus": PT_A_PLUS,
           "a_minus": round(PT_BALANCE * PT_A_PLUS * PT_TAU_PLUS / PT_TAU_MINUS, 6),
           "tau_plus": PT_TAU_PLUS, "tau_minus": PT_TAU_MINUS, "w_min": 0.0,
           "w_max": PT_W_MAX, "pairing": "all_to_all", "bounds": "additive"}
PT_DETECTOR = {"tau_m": 10.0, "v_rest": -70.0, "v_reset": -85.0, "v_thresh": -54.0,
               "t_ref": 1.0, "tau_syn_exc": 2.5, "v_init": -70.0}
# Relay: one spike out, 0.1 ms later, for every spike in (a 500 mV kick, 0.1 ms current).
PT_RELAY = {"tau_m": 1.0, "v_rest": -70.0, "v_reset": -70.0, "v_thresh": -60.0,
            "t_ref": 0.5, "tau_syn_exc": 0.1, "v_init": -70.0}
PT_RELAY_WEIGHT = 500.0


def pattern_schedule(rng: np.random.Generator, duration_ms: float) -> np.ndarray:
    """Start times of the pattern presentations: 50 ms slots, never two in a row.

    A slot after an empty one shows the pattern with probability p / (1 - p), so a fraction
    p = ``PT_P_PATTERN`` of the time is pattern.
    """
    n_slots = int(duration_ms // PT_PATTERN_MS)
    q = PT_P_PATTERN / (1 - PT_P_PATTERN)
    starts, previous = [], False
    for slot in range(n_slots):
        show = not previous and slot > 0 and rng.random() < q
        if show:
            starts.append(slot * PT_PATTERN_MS)
        previous = show
    return np.asarray(starts, dtype=float)


def noise_rate_table(starts: np.ndarray) -> list[list[float]]:
    """Rate of the pattern afferents' own noise: full rate outside the windows, only the
    spontaneous rate inside (the frozen pattern spike makes up the difference)."""
    full = PT_RATE_HZ + PT_SPONT_HZ
    table = [[0.0, full]]
    for s in starts:
        table += [[float(s), PT_SPONT_HZ], [float(s + PT_PATTERN_MS), full]]
    return table


def pattern_steps(seed: int) -> list[dict]:
    """The step of the hidden-pattern lab (its first section's heading names the seed)."""
    return [
        {"id": "detect", "title": "The detector finds the pattern",
         "sections": [f"What happened in our run (seed {seed})",
                      "What to look for in the workbench",
                      "Why not the paper's exact rule and input", "Things to try"],
         "question": "Why does the detector end up firing near the start of the pattern?",
         "check": {"observation": "pattern_detected",
                   "params": {"population": "out", "clock": "pattern_clock",
                              "pattern_ms": 50.0, "last_ms": 20000.0, "min_hit_rate": 0.8,
                              "max_false_alarms_hz": 1.0}},
         "figures": "Reference run (seed 7, 200 s): in the last 20 s the detector fired in "
                    "98 % of 92 presentations with no false alarm (the check asks for at "
                    "least 80 % and at most 1 per second). After only 20 s: 84 % of the "
                    "presentations but 14.6 false alarms per second."},
    ]


def pattern_project(duration_ms: float = PT_DURATION_MS, seed: int = PT_SIM_SEED,
                    schedule_seed: int = PT_SCHEDULE_SEED,
                    recorded: list[int] | None = None) -> tuple[Project, np.ndarray]:
    """The Masquelier-style pattern project and its pattern start times (ms)."""
    starts = pattern_schedule(np.random.default_rng(schedule_seed), duration_ms)
    full = PT_RATE_HZ + PT_SPONT_HZ
    nodes = [
        {"id": "pattern_clock", "kind": "encoder", "model": "spike_times", "size": 1,
         "label": "Pattern onsets", "params": {"times_ms": [[float(s) for s in starts]]}},
        {"id": "afferent_noise", "kind": "encoder", "model": "poisson", "size": PT_N_PATTERN,
         "label": "Pattern afferents' own noise",
         "params": {"rate_hz": full, "rate_table": noise_rate_table(starts)}},
        {"id": "afferents", "kind": "population", "model": "lif", "size": PT_N_PATTERN,
         "label": "Pattern afferents (relays)", "params": dict(PT_RELAY)},
        {"id": "distractors", "kind": "encoder", "model": "poisson", "size": PT_N_DISTRACTOR,
         "label": "Distractor afferents", "params": {"rate_hz": full}},
        {"id": "out", "kind": "population", "model": "lif", "size": 1, "label": "Detector",
         "params": dict(PT_DETECTOR)},
        {"id": "out_v", "kind": "monitor", "model": "state", "target": "out",
         "label": "Detector membrane", "params": {"variables": ["v"], "neurons": [0],
                                                  "interval_ms": 0.5}},
    ]
    plastic = {"target": "out", "connectivity": {"rule": "all_to_all"}, "delay_ms": 0.0,
               "receptor": "exc", "weight": PT_W_INIT, "plasticity": dict(PT_STDP)}
    projections = [
        {"id": "replay", "source": "pattern_clock", "target": "afferents",
         "label": "Frozen pattern: one fixed delay per afferent",
         "connectivity": {"rule": "all_to_all"}, "weight": PT_RELAY_WEIGHT,
         "delay_ms": {"dist": "uniform", "low": 0.0, "high": PT_PATTERN_MS - 0.1},
         "receptor": "exc"},
        {"id": "noise_in", "source": "afferent_noise", "target": "afferents",
         "label": "Noise -> afferents", "connectivity": {"rule": "one_to_one"},
         "weight": PT_RELAY_WEIGHT, "delay_ms": 0.0, "receptor": "exc"},
        {"id": "pattern_ff", "source": "afferents", "label": "Pattern afferents -> detector",
         **plastic, "record_weights": {"every_ms": 1000.0,
                                       "synapses": [[i, 0] for i in (recorded or [0, 1])]}},
        {"id": "noise_ff", "source": "distractors", "label": "Distractors -> detector",
         **plastic, "record_weights": {"every_ms": 1000.0, "synapses": [[0, 0], [1, 0]]}},
    ]
    project = Project.from_dict({
        **FORMAT, "name": "STDP: hidden pattern",
        "description": "A repeated 50 ms spike pattern hidden in equally dense Poisson noise; "
                       "one LIF neuron with STDP learns to fire at its start (Masquelier, "
                       "Guyonneau & Thorpe 2008).",
        "network": {"nodes": nodes, "projections": projections},
        "simulation": {"duration_ms": duration_ms, "dt_ms": 0.1, "seed": seed,
                       "count_bin_ms": 100.0,
                       "record_spikes": ["pattern_clock", "afferents", "out"]},
        "layout": {"positions": {"pattern_clock": [60, 60], "afferent_noise": [60, 200],
                                 "afferents": [280, 130], "distractors": [280, 320],
                                 "out": [520, 220], "out_v": [740, 220]}},
        "lab": "",
    })
    return project, starts


PT_LAB = """\
# Lab: a spike pattern hidden in noise (after Masquelier, Guyonneau & Thorpe 2008)

**The task.** {n} afferents fire Poisson-like at {full:g} Hz all the time. Every so often
({chance:.0%} of the time, {n_pres} presentations in {seconds:g} s, never two in a row) the
{n_pat} *pattern afferents* replay one frozen {pat:g} ms spatio-temporal pattern: each of them
fires one spike at its own fixed moment of the pattern. The pattern is not visible in firing
rates: during a presentation each pattern afferent's own noise drops from {full:g} to
{spont:g} Hz and its pattern spike makes up the other {rate:g} Hz, so every afferent fires at
{full:g} Hz on average inside and outside the pattern; {spont:g} Hz of independent noise
keeps running during the pattern, so no two presentations are identical. The other {n_dis}
afferents (`distractors`) never take part. Only the precise relative timing repeats. Can one
neuron with STDP, and nothing else, find it?

**How the input is built.** `pattern_clock` fires once at each pattern start (its spike list
is the schedule). It drives every relay neuron of `afferents` through `replay`, whose synapses
have *random but fixed* delays in [0, {pat:g}) ms, drawn once when the network is built: that
set of delays *is* the pattern (change `seed` in the simulation settings and you get another
pattern and other noise). `afferent_noise` is each afferent's own Poisson noise, switched
down by a rate table during the presentations. The relays (`afferents`, 0.1 ms integration,
a 500 mV kick per input spike) only merge the two sources: one spike out for each spike in,
0.1 ms later, so each afferent is one synapse on the detector.

**Detector and rule.** One LIF neuron (tau_m = 10 ms, synaptic current tau = 2.5 ms as
Masquelier's PSP kernel, threshold 16 mV above rest, reset to -85 mV as a negative
after-potential, 1 ms refractory) receives all {n} afferents through additive STDP synapses:
all-to-all pairing, tau+ = {tau_p:g} ms, tau- = {tau_m:g} ms, A+ = {a_plus:g} mV
(1 % of w_max per pair), A- = {a_minus:g} mV (A- tau- = {balance:g} A+ tau+: depression
slightly dominates), weights in [0, {w_max:g}] mV starting at {w_init:g} mV. One afferent at
w_max raises the membrane by at most {peak:.2f} mV: the threshold is {n_peaks:.0f} such
PSPs, so the neuron needs many afferents at once. Run time about {wall:.0f} s for
{seconds:g} s of model time. (Spikes of `afferents`, `pattern_clock` and `out` are recorded;
those of `afferent_noise` and `distractors` are not, to keep the result small: the Summary
tab lists them as "not recorded". To record them too, click an empty spot of the graph and
tick them under **Record spikes of** in the simulation settings (or select the node and tick
**Record its spikes** in the inspector), then run again.)

## What happened in our run (seed {seed})
| model time | output rate | spikes inside patterns | hit rate | false alarms | median latency |
|---|---|---|---|---|---|
{table}

*Spikes inside patterns*: fraction of output spikes that fall in a presentation window
(chance = {chance:.0%}, the fraction of time covered). *Hit rate*: fraction of presentations
with at least one output spike. *False alarms*: output spikes per second of non-pattern time.
*Latency*: time from the pattern start to the first output spike of a hit.

1. **Non-selective start.** The initial weights drive the neuron at {rate0:.0f} Hz in the first
   4 s, {in0:.0%} of its spikes inside patterns: chance.
2. **Depression, then selection.** Depression slightly dominates, so the weights fall and the
   output rate drops. Each output spike potentiates the afferents that fired in the
   ~17 ms before it. Outside the pattern these are different afferents every time; inside the
   pattern they are the same ones at the same moments, so they gain again at every
   presentation that makes the neuron fire, while everything else loses. From about
   **{t_sel:g} s** (≈{n_sel} presentations) on, at least 90 % of the output spikes fall inside
   the pattern.
3. **The latency shrinks: STDP finds the start of the pattern.** Once the neuron fires at a
   given moment of the pattern, the afferents that fire a little *earlier* are potentiated
   too, so the next presentation reaches threshold earlier. While the neuron still fired
   more or less at random (4-{t_sel:g} s) the first spike of a presentation came a median
   {lat_rand:.0f} ms after its start; in the first selective bin {lat_first:.1f} ms, and
   {lat_min:.1f} ms at about {t_min:g} s. Later it settles at **{lat_late:.1f} ms** (last
   {late_s:g} s): as the distractors lose their weight the background drive drops, and the
   neuron needs a few more of the pattern's first spikes. The first seconds in 4 s bins:

   | model time | output rate | inside patterns | hit rate | false alarms | median latency |
   |---|---|---|---|---|---|
{fine_table}
4. **Converged (last {late_s:g} s):** output {rate_late:.1f} Hz, **{in_late:.0%} of the output
   spikes inside patterns, hit rate {hits_late:.0%}, {fa_late:.2f} false alarms per second**.
   {verdict}

## What to look for in the workbench
- **Raster.** Zoom on a few hundred ms late in the run: every `pattern_clock` tick is
  followed, a few ms later, by a detector spike, and there are no detector spikes between
  presentations. Compare with the first seconds, where the detector fires everywhere. The
  afferents' raster looks like noise in both: the pattern cannot be seen by eye.
- **Membrane (`out_v`).** Late in the run the potential sits well below threshold between
  presentations and shoots up right after each pattern start.
- **Weights of `pattern_ff`.** The histogram evolution splits into two groups: at the end
  **{p_high} of the {n_pat} pattern afferents are above 90 % of w_max and {p_low} below 10 %**.
  The winners are the afferents whose pattern spike comes early: their spikes sit at
  {strong_lo:.1f}-{strong_hi:.1f} ms after the pattern start (median {strong_med:.1f} ms),
  just before the detector's spike. Recorded trajectories: afferents {rec_strong} end strong,
  {rec_weak} end weak.
- **Weights of `noise_ff`.** The distractors never win: their mean falls from {w_init:g} to
  {wd_end:.3f} mV ({d_high} above 90 % of w_max). They keep falling slowly after the pattern
  is found, because depression dominates for inputs uncorrelated with the output.

## Why not the paper's exact rule and input
Masquelier et al. used 2000 afferents at 64 Hz on average, weights 0.475 w_max at the start
and the *reduced nearest-neighbour* pairing (a pre spike pairs only with the first post spike
after it and vice versa, so potentiation and depression alternate; Hathway & Goodman's 2018
ReScience replication found that this pairing is essential). SpikeStudio's STDP offers
`all_to_all` and `nearest` (every pre spike pairs with the last post spike). With those,
every one of the many input spikes after an output spike brings a depression. With the
paper's parameters and nearest pairing, our neuron fell silent within seconds when it started
at ~70 Hz, and ran every weight to w_max when it started at ~120 Hz (initial weights 0.475
w_max). With all-to-all pairing, a 3x smaller learning rate and A- tau- = 1.05 A+ tau+ it
found the pattern at 64 Hz for some 15 s and then lost it again, firing outside the pattern
(our reading: at 64 Hz the random spikes of an afferent give about as much mean
depolarisation as its pattern spike gives at its peak, so the learned afferents also drive the
neuron in the noise). Hence the changes: {full:g} Hz afferents instead of 64 Hz (a pattern
spike stands out more against the background), exactly one pattern spike per afferent (with
Poisson pattern counts, the ~half of the afferents that are silent during a presentation got
potentiated, because they are quiet right after the output spike, and the neuron lost the
pattern again), all-to-all pairing with a learning rate of 1 % of w_max, {n} instead of 2000
afferents, and no spike-time jitter (every presentation is exact on the 0.1 ms grid; the
{spont:g} Hz noise is the only variability). The reset to -85 mV imitates the paper's negative
after-potential; with this input it is not essential (see below).

## Things to try
(Outcomes in brackets: what we measured once with exactly these settings otherwise.)
- Change `seed` in the simulation settings: new delays, so a new pattern, and new noise on
  the same schedule. [Seeds 8 and 9: found by 16 s, late hit rate 96-97 %, no false alarms,
  latency 7 ms. `make_stdp_projects.py --seeds` also changes the schedule: seeds 8-10 gave
  97-100 %, no false alarms.]
- Set `pairing: nearest` on both plastic projections. [Every weight runs to w_max and the
  neuron fires at ~190 Hz everywhere.]
- Set `a_minus` to {a_minus_eq:.5f} on both (A- tau- = A+ tau+: no net depression).
  [Runaway too: ~145 Hz, no selectivity, half of the distractors at w_max.]
- Move the threshold `v_thresh` of `out`: at -50 mV more afferents are needed [86 winners,
  latency 9 ms, hit rate 89 %]; at -58 mV fewer [45 winners, latency 5 ms, hit rate 99.6 %].
- Set `v_reset` of `out` to -70 mV (no after-hyperpolarisation). [Still learns: hit rate
  99 %, no false alarms.]
"""


# ---------------------------------------------------------------------- measurements
def measure_song_abbott(project: Project) -> dict:
    """Weight bimodality and output rates of one run."""
    from engine.simulator import simulate

    result = simulate(project)
    rec = result.weights["ff"]
    w = rec.snapshots[-1] / SA_W_MAX
    post = result.spikes.loc[result.spikes["population"] == "out", "time_ms"].to_numpy()
    end = result.duration_ms
    return {"low": float((w < 0.1).mean()), "high": float((w > 0.9).mean()),
            "middle": float(((w >= 0.1) & (w <= 0.9)).mean()),
            "w0_mean": float(rec.mean[0]), "w_end_mean": float(rec.mean[-1]),
            "rate_early": float((post < 2000).sum() / 2.0),
            "rate_late": float((post >= end - 5000).sum() / 5.0),
            "wall": result.wall_time_s, "seconds": end / 1000}


def _pattern_stats(post: np.ndarray, starts: np.ndarray, lo: float, hi: float) -> dict:
    """Output rate, fraction inside, hit rate, false alarms and latency in [lo, hi) ms."""
    slot = np.searchsorted(starts, post, side="right") - 1
    inside = (slot >= 0) & (post < starts[np.maximum(slot, 0)] + PT_PATTERN_MS)
    sel = (post >= lo) & (post < hi)
    shown = starts[(starts >= lo) & (starts + PT_PATTERN_MS <= hi)]
    first = [post[(post >= s) & (post < s + PT_PATTERN_MS)] for s in shown]
    latency = [f[0] - s for f, s in zip(first, shown, strict=True) if f.size]
    outside_s = ((hi - lo) - len(shown) * PT_PATTERN_MS) / 1000
    return {"rate": sel.sum() / ((hi - lo) / 1000),
            "inside": float(inside[sel].mean()) if sel.any() else float("nan"),
            "hits": len(latency) / len(shown) if len(shown) else float("nan"),
            "fa": float((sel & ~inside).sum() / outside_s),
            "latency": float(np.median(latency)) if latency else float("nan")}


def pattern_offsets(spikes, starts: np.ndarray) -> np.ndarray:
    """Each pattern afferent's frozen spike time within the pattern (ms), read off the run:
    the offset (0.1 ms bins) at which it fires most often inside the presentations."""
    aff = spikes[spikes["population"] == "afferents"]
    t = aff["time_ms"].to_numpy()
    i = aff["neuron"].to_numpy().astype(np.int64)
    slot = np.searchsorted(starts, t, side="right") - 1
    off = t - starts[np.maximum(slot, 0)]
    keep = (slot >= 0) & (off < PT_PATTERN_MS)
    n_bins = int(PT_PATTERN_MS * 10)
    steps = np.minimum(np.rint(off[keep] * 10).astype(np.int64), n_bins - 1)
    counts = np.bincount(i[keep] * n_bins + steps, minlength=PT_N_PATTERN * n_bins)
    return counts.reshape(PT_N_PATTERN, n_bins).argmax(axis=1) / 10.0


def measure_pattern(project: Project, starts: np.ndarray, late_s: float = 50.0) -> dict:
    """Selectivity, hit rate, false alarms and latency over the run; the learned weights."""
    from engine.simulator import simulate

    result = simulate(project)
    post = result.spikes.loc[result.spikes["population"] == "out", "time_ms"].to_numpy()
    end = result.duration_ms
    rows = [(lo, _pattern_stats(post, starts, lo, lo + 20_000.0))
            for lo in np.arange(0.0, end, 20_000.0)]
    fine = [(lo, _pattern_stats(post, starts, lo, lo + 4000.0))
            for lo in np.arange(0.0, end - 3999.0, 4000.0)]
    selective = [lo for lo, s in fine if s["inside"] >= 0.9 and s["hits"] >= 0.9]
    t_sel = selective[0] if selective else float("nan")
    after = [(lo, s["latency"]) for lo, s in fine if selective and lo >= t_sel]
    lo_min, lat_min = min(after, key=lambda x: x[1]) if after else (float("nan"),) * 2
    learning = [s["latency"] for lo, s in fine if 4000.0 <= lo < t_sel]
    late = _pattern_stats(post, starts, end - late_s * 1000, end)
    wp = result.weights["pattern_ff"].snapshots[-1] / PT_W_MAX
    wd = result.weights["noise_ff"].snapshots[-1] / PT_W_MAX
    offsets = pattern_offsets(result.spikes, starts)
    strong = offsets[wp > 0.9]
    order = np.argsort(wp, kind="stable")
    return {
        "rows": rows, "fine": fine, "chance": len(starts) * PT_PATTERN_MS / end,
        "rate0": fine[0][1]["rate"], "in0": fine[0][1]["inside"],
        "t_sel": t_sel / 1000, "n_sel": int((starts < t_sel).sum()) if selective else -1,
        "lat_first": after[0][1] if after else float("nan"),
        "lat_rand": float(np.median(learning)) if learning else float("nan"),
        "lat_min": lat_min, "t_min": lo_min / 1000,
        "lat_late": late["latency"], "rate_late": late["rate"], "in_late": late["inside"],
        "hits_late": late["hits"], "fa_late": late["fa"], "late_s": late_s,
        "p_high": int((wp > 0.9).sum()), "p_low": int((wp < 0.1).sum()),
        "d_high": int((wd > 0.9).sum()), "wd_end": float(result.weights["noise_ff"].mean[-1]),
        "strong_lo": float(strong.min()) if strong.size else float("nan"),
        "strong_hi": float(strong.max()) if strong.size else float("nan"),
        "strong_med": float(np.median(strong)) if strong.size else float("nan"),
        "strong_idx": [int(k) for k in order[::-1][:2]], "weak_idx": [int(k) for k in order[:2]],
        "wall": result.wall_time_s, "seconds": end / 1000,
    }


def pattern_verdict(m: dict) -> str:
    """One or two sentences on whether the neuron became a pattern detector in this run."""
    if m["in_late"] >= 0.9 and m["hits_late"] >= 0.9 and m["fa_late"] < 0.5:
        return ("The neuron has become a detector of the start of the pattern: it fires about "
                "once per presentation, a few ms after the pattern begins, and practically "
                "never in the noise between presentations.")
    return (f"Selectivity is only partial in this run: {m['in_late']:.0%} of the late output "
            f"spikes are inside the pattern (chance {m['chance']:.0%}), {m['hits_late']:.0%} "
            f"of the presentations are detected and there are {m['fa_late']:.2f} false "
            "alarms per second.")


def pattern_table(m: dict) -> str:
    """The 20 s rows of the lab-notes table."""
    return "\n".join(_row(lo, 20_000.0, s) for lo, s in m["rows"])


def _row(lo: float, width: float, s: dict, indent: str = "") -> str:
    lat = "-" if np.isnan(s["latency"]) else f"{s['latency']:.1f} ms"
    return (f"{indent}| {lo / 1000:g}-{(lo + width) / 1000:g} s | {s['rate']:.1f} Hz | "
            f"{s['inside']:.0%} | {s['hits']:.0%} | {s['fa']:.2f} /s | {lat} |")


def pattern_lab(project: Project, starts: np.ndarray, m: dict) -> str:
    rule = project.network.projection("pattern_ff").plasticity
    peak_per_mv = 0.1575  # PSP peak per mV of weight (tau_m 10 ms, tau_syn 2.5 ms)
    return PT_LAB.format(
        n=PT_N_PATTERN + PT_N_DISTRACTOR, n_pat=PT_N_PATTERN, n_dis=PT_N_DISTRACTOR,
        full=PT_RATE_HZ + PT_SPONT_HZ, rate=PT_RATE_HZ, spont=PT_SPONT_HZ, pat=PT_PATTERN_MS,
        n_pres=len(starts), tau_p=rule["tau_plus"], tau_m=rule["tau_minus"],
        a_plus=rule["a_plus"], a_minus=rule["a_minus"], balance=PT_BALANCE,
        a_minus_eq=rule["a_plus"] * rule["tau_plus"] / rule["tau_minus"],
        w_max=rule["w_max"], w_init=PT_W_INIT, peak=PT_W_MAX * peak_per_mv,
        n_peaks=16.0 / (PT_W_MAX * peak_per_mv), seed=project.simulation.seed,
        table=pattern_table(m), verdict=pattern_verdict(m),
        fine_table="\n".join(_row(lo, 4000.0, s, "   ") for lo, s in m["fine"][:8]),
        rec_strong=" and ".join(map(str, m["strong_idx"])),
        rec_weak=" and ".join(map(str, m["weak_idx"])),
        **{k: v for k, v in m.items() if k not in ("rows", "fine")})


def print_pattern(m: dict, label: str = "pattern") -> None:
    print(label, {k: (float(round(v, 3)) if isinstance(v, float) else v) for k, v in m.items()
                  if k not in ("rows", "fine")})
    for lo, s in m["fine"][:15]:
        print(f"  {lo / 1000:5.0f} s  rate {s['rate']:5.1f}  inside {s['inside']:.2f}  "
              f"hits {s['hits']:.2f}  fa {s['fa']:5.2f}  latency {s['latency']:5.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--measure", action="store_true",
                        help="only simulate and print the figures (do not write files)")
    parser.add_argument("--pattern-only", action="store_true",
                        help="leave the Song & Abbott project alone")
    parser.add_argument("--seeds", action="store_true",
                        help="also run the pattern project with other seeds and schedules")
    args = parser.parse_args()

    if not args.pattern_only:
        sa = song_abbott()
        m = measure_song_abbott(sa)
        print("song_abbott", {k: round(v, 3) for k, v in m.items()})
        pl = sa.network.projection("ff").plasticity
        notes = SA_LAB.format(rate=SA_RATE_HZ, a_plus=pl["a_plus"], a_minus=pl["a_minus"],
                              ratio=pl["a_minus"] / pl["a_plus"], w_max=SA_W_MAX,
                              wall=max(1, round(m["wall"])), **{k: v for k, v in m.items()
                                                                if k != "wall"})
        sa.lab = lab_from_notes(notes, "song-abbott", SA_STEPS)
    # A first run picks the synapses whose trajectories are recorded (two winners, two
    # losers); recording them does not change the simulation.
    pt, starts = pattern_project()
    first = measure_pattern(pt, starts)
    pt, starts = pattern_project(recorded=first["strong_idx"] + first["weak_idx"])
    p = measure_pattern(pt, starts)
    print_pattern(p)
    pt.lab = lab_from_notes(pattern_lab(pt, starts, p), "stdp-pattern",
                            pattern_steps(pt.simulation.seed))
    if args.seeds:
        for k in (8, 9, 10):
            project, st = pattern_project(seed=k, schedule_seed=PT_SCHEDULE_SEED + k)
            print_pattern(measure_pattern(project, st), f"seed {k}")
    if not args.measure:
        if not args.pattern_only:
            save_project(sa, HERE / "stdp_song_abbott.json")
        save_project(pt, HERE / "stdp_pattern.json")
        print("wrote", "stdp_pattern.json" if args.pattern_only
              else "stdp_song_abbott.json and stdp_pattern.json")


if __name__ == "__main__":
    main()
