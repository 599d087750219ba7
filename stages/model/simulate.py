"""Monte Carlo of DraftKings points, vectorised: draws x players, Poisson counts per stat.

For each draw and player who plays:
  minutes  = clip(proj_minutes + e, 1, 48), e drawn from the prior season's minutes residuals of his tier
  factor   = game factor (shared by both teams: pace) x team factor (shared by teammates: scoring luck)
  count_s ~ Poisson(rate_s x minutes x factor)   for s in fg2m, fg3m, ftm, reb, ast, stl, blk, tov
  points   = identity.dk_points(2 fg2m + 3 fg3m + ftm, fg3m, reb, ast, stl, blk, tov)  (bonuses included)
then each player's draws are scaled so that their mean m becomes his group's calibrated mean shift + scale x m, and
spread around that mean by the group's dispersion (all fitted on the prior season: the group's means match real
outcomes across the range of projections, and its p10-p90 band holds 80% of them). The groups
(`calibration_group`) are the fringe tier and the rotation tier's starters and bench players.
Minutes residuals come from the band of projected minutes the player is in (a 6-minute projection is skewed
up, a 36-minute one down). Each game is drawn from a generator of its own, seeded from what its rows hold
(`game_seed`), so the result never depends on the machine, and one game's news moves no other game's numbers.

Poisson counts come from an inverse-CDF table (`poisson_table`) instead of numpy's sampler, which costs
about 40 ns a variate: one uniform u per variate picks the table column (u quantised to POISSON_LEVELS levels)
and, through its remaining fraction, dithers lambda between the two nearest rows of a square-root grid, so the
mean is kept and each pmf is within about 1e-3 of Poisson's (tests/stages pin this) at a quarter of the cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import xxhash

from projections.identity import dk_points

SIM_STATS = ("fg2m", "fg3m", "ftm", "reb", "ast", "stl", "blk", "tov")
QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)
RESIDUAL_GRID = tuple(np.round(np.linspace(0.0, 1.0, 41), 3))
BAND_EDGES = (8.0, 14.0, 20.0, 26.0, 32.0)


def minutes_band(minutes: np.ndarray) -> np.ndarray:
    """The residual band ("b0".."b5") of each projected minutes value."""
    return np.array([f"b{i}" for i in np.searchsorted(np.asarray(BAND_EDGES), minutes, side="right")])
CHUNKS = 2
BATCH = 1_000_000  # draws (rows x draws) simulated at once: a few games of a slate, hundreds of the calibration's
POISSON_ROOT_STEPS = 64  # table rows per unit of sqrt(lambda): adjacent rows are 1/32 of a Poisson sd apart
POISSON_LEVELS = 2048  # uniform levels (table columns); tail mass below 1/(2 x 2048) is folded in
Residuals = Sequence[float] | np.ndarray


def poisson_table(lam_max: float) -> np.ndarray:
    """Quantiles of Poisson(lambda): row r is lambda = (r / POISSON_ROOT_STEPS) ** 2 (r = 0 .. up to
    sqrt(lam_max) and one beyond), column j the smallest k with CDF(k) >= (j + 0.5) / POISSON_LEVELS."""
    roots = np.arange(int(np.ceil(np.sqrt(max(lam_max, 0.0)) * POISSON_ROOT_STEPS)) + 2) / POISSON_ROOT_STEPS
    lam = roots ** 2
    kmax = int(lam[-1] + 12 * np.sqrt(lam[-1]) + 15)
    k = np.arange(kmax + 1)
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, kmax + 1)))])
    log_lam = np.log(np.maximum(lam, 1e-300))[:, None]
    pmf = np.exp(k[None, :] * log_lam - lam[:, None] - log_fact[None, :])
    pmf[0] = np.where(k == 0, 1.0, 0.0)
    cdf = np.minimum(np.cumsum(pmf, axis=1), 1.0)
    rows = np.arange(len(lam))[:, None]
    u = (np.arange(POISSON_LEVELS) + 0.5) / POISSON_LEVELS
    # one search over all rows at once: offsetting row r by r keeps the concatenation sorted
    flat = np.searchsorted((cdf + rows).ravel(), (u[None, :] + rows).ravel(), side="left")
    table = flat.reshape(len(lam), POISSON_LEVELS) - rows * (kmax + 1)
    return table.astype(np.uint8 if kmax < 256 else np.uint16)


def poisson_draws(rng: np.random.Generator, lam: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Poisson(lam) variates (float32, shaped like lam) from `poisson_table(max lam)`."""
    return poisson_of(rng.random(lam.shape, dtype=np.float32), lam, table)


def poisson_of(uniform: np.ndarray, lam: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The Poisson(lam) variates that the uniforms `uniform` (float32 in [0, 1), shaped like lam) stand for."""
    u = uniform * np.float32(POISSON_LEVELS)
    level = u.astype(np.int32)
    row = (np.sqrt(lam) * np.float32(POISSON_ROOT_STEPS) + (u - level)).astype(np.int32)
    row *= POISSON_LEVELS
    row += level
    return table.ravel()[row].astype(np.float32)


def residual_quantiles(residuals: np.ndarray) -> np.ndarray:
    """The residual distribution stored as quantiles on RESIDUAL_GRID (what `simulate` samples from)."""
    return np.quantile(residuals, RESIDUAL_GRID)


def _factors(rng: np.random.Generator, codes: np.ndarray, sigma: float, draws: int) -> np.ndarray:
    """One lognormal factor (mean 1) per distinct code and draw (codes 0..k-1 numbered in order of first
    appearance), returned per row of `codes`."""
    z = rng.standard_normal((int(codes.max(initial=-1)) + 1, draws), dtype=np.float32)
    table = np.exp(np.float32(sigma) * z - np.float32(sigma * sigma / 2))
    return table[codes]


def _appearance_codes(values: np.ndarray) -> np.ndarray:
    """`values` renumbered 0, 1, ... in the order each first appears (pd.factorize's codes, for a short array)."""
    _, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.intp)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.ravel()]


def _simulate_rows(games: Sequence[tuple[np.random.SeedSequence, int]], minutes: np.ndarray, resid: np.ndarray,
                   rates: np.ndarray, factor: np.ndarray, draws: int, table: np.ndarray) -> np.ndarray:
    """The draws of consecutive games' rows at once: each game's uniforms come from its own generator (`games`:
    its seed and row count, in row order), in the same order for every game - the residual's, then one per stat."""
    gens = [(np.random.default_rng(seed), n) for seed, n in games]

    def uniforms() -> np.ndarray:
        return np.concatenate([rng.random((n, draws), dtype=np.float32) for rng, n in gens])

    grid = np.asarray(RESIDUAL_GRID, dtype=np.float32)
    u = uniforms()
    # inverse-CDF of each row's residual quantiles (piecewise linear between grid points)
    pos = u * np.float32(len(grid) - 1)
    lo = np.minimum(pos.astype(np.int32), len(grid) - 2)
    frac = pos - lo
    rows = np.arange(len(minutes))[:, None]
    e = resid[rows, lo] * (1 - frac) + resid[rows, lo + 1] * frac
    played = np.clip(minutes[:, None].astype(np.float32) + e, 1.0, 48.0) * factor
    counts = {s: poisson_of(uniforms(), played * rates[:, i].astype(np.float32)[:, None], table)
              for i, s in enumerate(SIM_STATS)}
    pts = 2 * counts["fg2m"] + 3 * counts["fg3m"] + counts["ftm"]
    return dk_points(pts, counts["fg3m"], counts["reb"], counts["ast"], counts["stl"], counts["blk"],
                     counts["tov"]).astype(np.float32)


def row_quantiles(values: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """np.quantile(values, quantiles, axis=1).T (linear interpolation) by one partial sort: 3x faster."""
    n = values.shape[1]
    pos = np.asarray(quantiles) * (n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    part = np.partition(values, np.unique(np.concatenate([lo, hi])), axis=1)
    frac = (pos - lo).astype(values.dtype)
    return part[:, lo] * (1 - frac) + part[:, hi] * frac


def game_seed(text: Sequence[Sequence[str]], numbers: np.ndarray, salt: int = 0) -> np.random.SeedSequence:
    """The seed of one game's draws, from what its rows hold: `text` its game ids, teams and bands, `numbers` its
    minutes and rates (rows in order). The same rows draw the same numbers whatever else the slate holds, so news
    of one game (a later game's starters) moves no other game's numbers."""
    digest = xxhash.xxh3_128()
    for column in text:
        digest.update("\x1f".join(column).encode() + b"\x1e")
    digest.update(np.ascontiguousarray(numbers, dtype="<f8").tobytes())
    return np.random.SeedSequence([salt, *np.frombuffer(digest.digest(), dtype="<u4").tolist()])


def draw_points(players: pd.DataFrame, *, residuals: Mapping[str, Residuals], sigma_game: float,
                sigma_team: float, draws: int, salt: int = 0) -> np.ndarray:
    """Raw simulated DK points (rows x draws, float32) of `players` (columns game_id, team, band,
    proj_minutes > 0 and rate_<stat> per minute for SIM_STATS). Each game is drawn from its own generator
    (`game_seed` of its rows, and `salt`); the games are shared among CHUNKS threads, which changes nothing."""
    bands = players["band"].astype(str).tolist()
    resid = np.stack([np.asarray(residuals[b], dtype=np.float32) for b in bands])
    rates = players[[f"rate_{s}" for s in SIM_STATS]].to_numpy(dtype="float64")
    minutes = players["proj_minutes"].to_numpy(dtype="float64")
    numbers = np.column_stack([minutes, rates])
    game_ids, teams = players["game_id"].astype(str).tolist(), players["team"].astype(str).tolist()
    team_codes = pd.factorize(players["team"])[0]
    codes = pd.factorize(players["game_id"])[0]
    order = np.argsort(codes, kind="stable")
    rows_of = np.split(order, np.flatnonzero(np.diff(codes[order])) + 1) if len(order) else []
    factor = np.empty((len(players), draws), dtype=np.float32)
    subs = []
    for idx in rows_of:
        text = [[column[i] for i in idx] for column in (game_ids, teams, bands)]
        main, sub = game_seed(text, numbers[idx], salt).spawn(2)
        rng = np.random.default_rng(main)
        factor[idx] = _factors(rng, np.zeros(len(idx), dtype=np.intp), sigma_game, draws) * \
            _factors(rng, _appearance_codes(team_codes[idx]), sigma_team, draws)
        subs.append(sub)
    # the largest lambda any draw can have: 48 minutes x the largest factor x the largest rate (a row of the table
    # depends on its lambda alone, not on the table's size: a game draws alike whatever the others need)
    table = poisson_table(48.0 * float(factor.max(initial=1.0)) * float(rates.max(initial=0.0)))
    out = np.empty((len(players), draws), dtype=np.float32)
    batches: list[list[int]] = []
    size = BATCH
    for k, idx in enumerate(rows_of):  # consecutive games, about BATCH draws a batch: few numpy calls a game
        if size >= BATCH:
            batches.append([])
            size = 0
        batches[-1].append(k)
        size += len(idx) * draws

    def run(batch: list[int]) -> None:
        idx = np.concatenate([rows_of[k] for k in batch])
        out[idx] = _simulate_rows([(subs[k], len(rows_of[k])) for k in batch], minutes[idx], resid[idx],
                                  rates[idx], factor[idx], draws, table)

    with ThreadPoolExecutor(max_workers=CHUNKS) as pool:
        list(pool.map(run, batches))
    return out


GROUPS = ("starter", "bench", "fringe")


def calibration_group(proj_minutes: np.ndarray, starter: np.ndarray, rotation_minutes: float) -> np.ndarray:
    """The group whose mean correction and dispersion apply: "fringe" below `rotation_minutes` projected,
    else "starter" or "bench" by role (a bench player's points vary more around the same projection)."""
    rotation = np.asarray(proj_minutes, dtype="float64") >= rotation_minutes
    return np.where(rotation, np.where(np.asarray(starter, dtype=bool), "starter", "bench"), "fringe")


def mean_factor(mean: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Per row, the factor that maps a simulated mean m to the tier's calibrated mean shift + scale x m
    (a multiplicative correction, so zero stays zero and no draw changes sign), within [0.5, 2]."""
    m = np.maximum(np.asarray(mean, dtype="float64"), 1e-6)
    return np.clip((shift + scale * m) / m, 0.5, 2.0)


def simulate(players: pd.DataFrame, *, residuals: Mapping[str, Residuals], scale: Mapping[str, float],
             dispersion: Mapping[str, float], sigma_game: float, sigma_team: float, draws: int,
             shift: Mapping[str, float] | None = None) -> pd.DataFrame:
    """DK-points distribution of each row of `players` (columns game_id, team, group, band, proj_minutes and
    rate_<stat> per minute for SIM_STATS). Rows with proj_minutes 0 (ruled out) get zeros. `scale`, `shift`
    (the group's calibrated mean is shift + scale x simulated mean) and `dispersion` are per calibration group.

    Returns dk_mean, dk_sd and dk_p10..dk_p90, indexed like `players`."""
    n = len(players)
    out = np.zeros((n, 2 + len(QUANTILES)))
    active = players["proj_minutes"].to_numpy(dtype="float64") > 0
    if active.any() and draws > 0:
        act = players[active]
        points = draw_points(act, residuals=residuals, sigma_game=sigma_game, sigma_team=sigma_team, draws=draws)
        tiers = act["group"].to_numpy()
        shift = shift or {}
        factor = mean_factor(points.mean(axis=1, dtype="float64"),
                             np.array([scale.get(t, 1.0) for t in tiers]), np.array([shift.get(t, 0.0) for t in tiers]))
        points *= factor.astype(np.float32)[:, None]
        mean = points.mean(axis=1, keepdims=True)
        k = np.array([dispersion.get(t, 1.0) for t in tiers], dtype=np.float32)[:, None]
        points = mean + k * (points - mean)
        qs = row_quantiles(points, QUANTILES)
        out[active] = np.column_stack([mean[:, 0], points.std(axis=1), qs])
    cols = ["dk_mean", "dk_sd"] + [f"dk_p{int(q * 100)}" for q in QUANTILES]
    return pd.DataFrame(out, columns=cols, index=players.index)
