"""sksep.metrics against direct formulas and independent implementations."""

import warnings

import numpy as np
import pytest

from sksep.metrics import (
    amari_distance,
    bss_eval,
    pairwise_si_sdr,
    pit_si_sdr,
    si_sdr,
    si_sdr_improvement,
    solve_permutation,
)


def _direct_si_sdr(s, s_hat):
    """Le Roux et al. 2019, equation by equation."""
    alpha = np.dot(s_hat, s) / np.dot(s, s)
    target = alpha * s
    noise = s_hat - target
    return 10 * np.log10(np.sum(target**2) / np.sum(noise**2))


def test_si_sdr_equals_the_direct_formula_on_hand_made_signals(rng):
    t = np.arange(4000) / 8000
    s = np.sin(2 * np.pi * 440 * t)
    for noise_level in (0.01, 0.1, 1.0):
        s_hat = 0.7 * s + noise_level * np.cos(2 * np.pi * 97 * t)
        assert si_sdr(s, s_hat) == pytest.approx(_direct_si_sdr(s, s_hat), abs=1e-9)
    # a hand-computable case: estimate = s + orthogonal e with ||e|| = ||s|| / 10
    e = np.cos(2 * np.pi * 440 * t)  # orthogonal to s over whole periods
    assert si_sdr(s, s + 0.1 * e) == pytest.approx(20.0, abs=1e-6)


def test_si_sdr_is_scale_invariant_and_vectorised(rng):
    S = rng.standard_normal((3, 4, 1000))
    E = S + 0.3 * rng.standard_normal(S.shape)
    scores = si_sdr(S, E)
    assert scores.shape == (3, 4)
    np.testing.assert_allclose(si_sdr(S, 5.0 * E), scores, atol=1e-9)
    np.testing.assert_allclose(si_sdr(S, -0.01 * E), scores, atol=1e-9)
    direct = [[_direct_si_sdr(S[i, j], E[i, j]) for j in range(4)] for i in range(3)]
    np.testing.assert_allclose(scores, direct, atol=1e-9)
    # time on the first axis
    np.testing.assert_allclose(si_sdr(S[0].T, E[0].T, axis=0), scores[0], atol=1e-12)


def test_zero_mean_ignores_dc_offsets(rng):
    s = rng.standard_normal(2000)
    assert si_sdr(s + 3.0, s, zero_mean=True) == np.inf
    assert si_sdr(s + 3.0, s) < 10


def test_si_sdr_improvement(rng):
    S = rng.standard_normal((2, 4000))
    x = S.sum(axis=0)
    est = S + 0.01 * rng.standard_normal(S.shape)
    expected = si_sdr(S, est) - si_sdr(S, np.stack([x, x]))
    np.testing.assert_allclose(si_sdr_improvement(S, est, x), expected)


def test_silent_reference_length_mismatch_and_nan_are_errors(rng):
    s = rng.standard_normal(100)
    with pytest.raises(ValueError, match="silent"):
        si_sdr(np.zeros(100), s)
    with pytest.raises(ValueError, match="differ in length.*100 != 99"):
        si_sdr(s, s[:99])
    with pytest.raises(ValueError, match="NaN"):
        si_sdr(s, np.full(100, np.nan))
    with pytest.raises(TypeError, match="real numbers"):
        si_sdr(s, s.astype(complex))
    with pytest.raises(ValueError, match="empty"):
        si_sdr(s[:0], s[:0])


def test_silent_estimate_scores_minus_infinity_with_a_warning(rng):
    s = rng.standard_normal(100)
    with pytest.warns(RuntimeWarning, match="silent or orthogonal"):
        assert si_sdr(s, np.zeros(100)) == -np.inf


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_pit_recovers_a_shuffled_order(rng, n):
    S = rng.standard_normal((n, 2000))
    order = rng.permutation(n)
    scores, perm = pit_si_sdr(S, 3.0 * S[order] + 0.01 * rng.standard_normal(S.shape))
    # estimate perm[i] is reference i
    np.testing.assert_array_equal(order[perm], np.arange(n))
    assert np.all(scores > 30)
    # batched, and in ICA's layout
    scores_b, perm_b = pit_si_sdr(np.stack([S, S]), np.stack([S[order], S[order]]))
    np.testing.assert_array_equal(perm_b, [perm, perm])
    _, perm_t = pit_si_sdr(S.T, S[order].T, axis=0)
    np.testing.assert_array_equal(perm_t, perm)


def test_solve_permutation_against_brute_force(rng):
    import itertools

    for _ in range(20):
        scores = rng.standard_normal((4, 4))
        best = max(itertools.permutations(range(4)),
                   key=lambda p: sum(scores[i, p[i]] for i in range(4)))
        np.testing.assert_array_equal(solve_permutation(scores), best)
    np.testing.assert_array_equal(solve_permutation([[0, 5], [1, 0]], maximize=False),
                                  [0, 1])
    with pytest.raises(ValueError, match="n_estimates >= n_references"):
        solve_permutation(np.zeros((3, 2)))


def test_pairwise_si_sdr_scores_every_pair(rng):
    S = rng.standard_normal((2, 500))
    E = np.stack([S[1] + 0.1 * rng.standard_normal(500),
                  2 * S[0] + 0.3 * rng.standard_normal(500),
                  S[0] + S[1]])
    scores = pairwise_si_sdr(S, E)
    assert scores.shape == (2, 3)
    expected = [[_direct_si_sdr(s, e) for e in E] for s in S]
    np.testing.assert_allclose(scores, expected, rtol=1e-10)
    # a batch axis and the (n_samples, n_sources) layout give the same matrix
    batch = pairwise_si_sdr(np.stack([S, S]), np.stack([E, E[::-1]]))
    np.testing.assert_allclose(batch[0], expected, rtol=1e-10)
    np.testing.assert_allclose(batch[1], np.array(expected)[:, ::-1], rtol=1e-10)
    np.testing.assert_allclose(pairwise_si_sdr(S.T, E.T, axis=0), expected,
                               rtol=1e-10)


def test_amari_distance():
    A = np.array([[1.0, 0.5], [0.3, 1.0]])
    assert amari_distance(np.linalg.inv(A), A) == pytest.approx(0.0, abs=1e-12)
    assert amari_distance(np.eye(2), np.ones((2, 2))) == pytest.approx(1.0)
    # python-picard's formula, computed by hand for a 2x2 case
    P = np.array([[1.0, 0.1], [0.2, 1.0]])
    rows = (1 + 0.01) / 1 - 1 + (0.04 + 1) / 1 - 1
    cols = (1 + 0.04) / 1 - 1 + (0.01 + 1) / 1 - 1
    assert amari_distance(P, np.eye(2)) == pytest.approx((rows + cols) / 4)
    with pytest.raises(ValueError, match="do not chain"):
        amari_distance(np.eye(2), np.eye(3))


def test_bss_eval_agrees_with_mir_eval(rng, mir_eval):
    S = rng.standard_normal((3, 8000))
    E = rng.normal(size=(3, 3)) @ S + 0.05 * rng.standard_normal((3, 8000))
    E = E[[2, 0, 1]]
    ours = bss_eval(S, E)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sdr, sir, sar, perm = mir_eval.separation.bss_eval_sources(S, E)
    np.testing.assert_allclose(ours.sdr, sdr, atol=0.01)
    np.testing.assert_allclose(ours.sir, sir, atol=0.01)
    np.testing.assert_allclose(ours.sar, sar, atol=0.01)
    np.testing.assert_array_equal(ours.perm, perm)


def test_bss_eval_fixed_order_matches_mir_eval_and_the_permuted_scores(rng, mir_eval):
    """compute_permutation=False scores estimate i against reference i."""
    S = rng.standard_normal((3, 8000))
    E = rng.normal(size=(3, 3)) @ S + 0.05 * rng.standard_normal((3, 8000))
    best = bss_eval(S, E)
    fixed = bss_eval(S, E[best.perm], compute_permutation=False)
    np.testing.assert_array_equal(fixed.perm, [0, 1, 2])
    for name in ("sdr", "sir", "sar"):
        np.testing.assert_allclose(getattr(fixed, name), getattr(best, name), atol=1e-8)
    shuffled = bss_eval(S, E[[2, 0, 1]], compute_permutation=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sdr, sir, sar, _ = mir_eval.separation.bss_eval_sources(
            S, E[[2, 0, 1]], compute_permutation=False)
    np.testing.assert_allclose(shuffled.sdr, sdr, atol=0.01)
    np.testing.assert_allclose(shuffled.sir, sir, atol=0.01)
    np.testing.assert_allclose(shuffled.sar, sar, atol=0.01)


def test_bss_eval_of_a_perfect_estimate_has_no_interference(rng):
    """The references scored against themselves (as `sksep evaluate --ref D
    --est D` does): no interference, so SIR +inf, never NaN, and no
    RuntimeWarning from log10 of a coherence rounded just above 1."""
    S = rng.standard_normal((2, 4000))
    for fixed in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = bss_eval(S, S, compute_permutation=fixed)
        assert not np.isnan(np.concatenate([res.sdr, res.sir, res.sar])).any()
        assert np.all(res.sir > 60) and np.all(res.sdr > 60)


def test_bss_eval_errors(rng):
    S = rng.standard_normal((2, 1000))
    with pytest.raises(ValueError, match="silent"):
        bss_eval(np.zeros((2, 1000)), S)
    with pytest.raises(ValueError, match="differ in length"):
        bss_eval(S, S[:, :900])
    with pytest.raises(ValueError, match="filter_length=2000"):
        bss_eval(S, S, filter_length=2000)


def test_grid_search_with_the_scorer_picks_parameters_that_separate(speech_sources):
    from sklearn.model_selection import GridSearchCV, KFold

    from sksep import FastICASeparator
    from sksep.datasets import make_instantaneous_mixture
    from sksep.metrics import pit_si_sdr_scorer

    S = speech_sources[:480_000, :2]  # 60 s of two speakers
    X, _ = make_instantaneous_mixture(S, random_state=0)
    grid = {"fun": ["logcosh", "exp", "cube"], "max_iter": [1, 200]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter=1 does not converge
        search = GridSearchCV(FastICASeparator(tol=1e-8, random_state=0), grid,
                              scoring=pit_si_sdr_scorer, cv=KFold(3)).fit(X, S)
    assert search.best_params_["max_iter"] == 200
    assert search.best_score_ > 35  # on held-out thirds of the recording
    scores, _ = pit_si_sdr(S, search.best_estimator_.transform(X), axis=0,
                           zero_mean=True)
    assert scores.min() >= 40


def test_scorer_errors(rng):
    from sksep import FastICASeparator
    from sksep.metrics import pit_si_sdr_scorer

    X = rng.laplace(size=(2000, 2))
    est = FastICASeparator(random_state=0).fit(X)
    with pytest.raises(ValueError, match="needs the true sources"):
        pit_si_sdr_scorer(est, X, None)
    with pytest.raises(ValueError, match="holds 3 sources"):
        pit_si_sdr_scorer(est, X, rng.standard_normal((2000, 3)))


def test_scorer_leaves_a_silent_source_out_of_a_fold_with_one_warning():
    import warnings

    from sklearn.model_selection import GridSearchCV, KFold

    from sksep import FastICASeparator
    from sksep.metrics import pit_si_sdr_scorer

    rng = np.random.default_rng(0)
    S = rng.laplace(size=(9000, 2))
    S[6000:, 1] = 0.0                   # the shorter voice ends: silent last fold
    X = S @ np.array([[1.0, 0.6], [0.5, 1.0]]).T
    X += 1e-3 * rng.standard_normal(X.shape)   # microphone noise
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search = GridSearchCV(FastICASeparator(random_state=0),
                              {"fun": ["logcosh", "cube"]}, cv=KFold(3),
                              scoring=pit_si_sdr_scorer).fit(X, S)
    assert np.isfinite(search.best_score_) and search.best_score_ > 20
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    messages = {str(w.message) for w in caught if issubclass(w.category, UserWarning)}
    assert any("[1] are silent in this fold" in m for m in messages)
    assert not any("Traceback" in m for m in messages)


@pytest.mark.parametrize("metric", ["si_sdr", "pit_si_sdr", "pairwise_si_sdr",
                                    "bss_eval"])
def test_a_samples_by_sources_array_is_refused_with_the_axis_to_pass(metric):
    # FastICASeparator's (n_samples, n_sources) read as n_samples signals of
    # 2 samples: pit_si_sdr tried to allocate n_samples^2 scores (47.7 GiB
    # for 10 s at 8 kHz); now a clear error naming axis=0, which works
    import sksep.metrics as m

    S = np.random.default_rng(0).standard_normal((8000, 2))
    with pytest.raises(ValueError, match=r"shape \(8000, 2\).*pass axis=0"):
        getattr(m, metric)(S, S)
    scores = getattr(m, metric)(S, S, axis=0)
    first = np.asarray(scores[0] if isinstance(scores, tuple) else scores)
    if metric == "pairwise_si_sdr":
        first = np.diag(first)
    assert np.all(first > 100)
