"""The IVA cores on tiny problems: the iterative-projection row update
solves its equations, the online and offline updates share it (same row
from the same statistics), and AuxIVA and FDICA undo a known mixture in
every frequency with one permutation across frequencies."""

import numpy as np
import pytest

from sksep.decomposition import _iva_core as core
from sksep.decomposition import _iva_core as mod
from sksep.decomposition._iva_online import _OnlineAuxIVA

F, M, T = 5, 3, 400


def _complex(rng, *shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def _covariance(rng):
    Z = _complex(rng, F, M, 50)
    return Z @ Z.conj().swapaxes(1, 2) / 50 + 0.1 * np.eye(M)     # (F, M, M)


def test_ip_row_solves_its_equations():
    # w_k = (W V_k)^-1 e_k scaled so that w_k^H V_k w_k = 1: the updated row
    # is V_k-orthogonal to the other rows and of unit V_k-norm
    rng = np.random.default_rng(0)
    W, V = _complex(rng, F, M, M), _covariance(rng)
    for k in range(M):
        core._ip_row(W, V, k)
        WVw = W @ V @ W[:, k].conj()[..., None]                   # (F, M, 1)
        np.testing.assert_allclose(WVw[..., 0], np.broadcast_to(np.eye(M)[k], (F, M)),
                                   atol=1e-10)


def test_online_and_offline_updates_give_the_same_rows_for_the_same_statistics():
    rng = np.random.default_rng(1)
    W0 = np.eye(M) + 0.3 * _complex(rng, F, M, M)
    online = _OnlineAuxIVA(F, M, forgetting=0.9, model="laplace", ref=0, W0=W0,
                           hold=0)
    V0 = np.stack([_covariance(rng) for _ in range(M)])          # (K, F, M, M)
    online.V = V0.copy()
    x = _complex(rng, F, M)                                        # one frame
    online._update(x, 0.9)
    # the same statistics, updated offline: the frame's weights from the
    # offline source model, the forgetting average, then the shared IP rows
    phi = core._weights(core._power((W0 @ x[..., None])[..., 0])[..., None],
                        "laplace")[0, :, 0]                        # (K,)
    W = W0.astype(complex).copy()
    xx = x[:, :, None] * x.conj()[:, None, :]
    for k in range(M):
        core._ip_row(W, 0.9 * V0[k] + 0.1 * phi[k] * xx, k)
    np.testing.assert_allclose(online.W, W, rtol=0, atol=1e-12)


@pytest.mark.parametrize("model", ["laplace", "gauss"])
def test_online_weights_of_a_frame_are_the_offline_weights(model):
    power = core._power(_complex(np.random.default_rng(2), F, M, 7))
    state = _OnlineAuxIVA(F, M, 0.9, model, 0, W0=np.tile(np.eye(M), (F, 1, 1)),
                          hold=0)
    offline = core._weights(power, model)[0]                       # (K, T)
    for t in range(power.shape[2]):
        np.testing.assert_array_equal(state._phi(power[:, :, t]), offline[:, t])


def _mixed(seed):
    """Independent super-Gaussian sources with a shared envelope across
    frequencies (what ties a source's bins together), mixed by a random
    matrix per frequency; whitened as the estimator whitens."""
    rng = np.random.default_rng(seed)
    env = rng.exponential(size=(1, M, T)) ** 2
    S = env * _complex(rng, F, M, T)
    A = _complex(rng, F, M, M)
    X = A @ S
    P = core._whitening(X, M)
    return P @ X, A, P


def _permutations(G):
    """The dominant entry of each row of every ``|W A|``, and how dominant."""
    G = np.abs(G) / np.abs(G).max(axis=2, keepdims=True)
    perm = G.argmax(axis=2)                                        # (F, K)
    second = np.sort(G, axis=2)[:, :, -2]
    return perm, second.max()


@pytest.mark.parametrize("update", ["ip", "iss"])
@pytest.mark.parametrize("model", ["laplace", "gauss", "nmf"])
def test_auxiva_undoes_the_mixture_with_one_permutation(update, model):
    Z, A, P = _mixed(3)
    W, info = core.auxiva(Z, source_model=model, update=update, n_iter=100,
                          tol=1e-8, random_state=0)
    perm, leak = _permutations(W @ P @ A)
    assert leak < 0.2                               # a scaled permutation per bin
    assert np.all(perm == perm[0])                  # the same one in every bin
    assert info["n_iter"] <= 100 and info["converged"] == (info["n_iter"] < 100)


def test_auxiva_reports_when_it_stops_early():
    Z, _, _ = _mixed(4)
    _, info = core.auxiva(Z, n_iter=200, tol=1e-6)
    assert info["converged"] and info["n_iter"] < 200
    _, info = core.auxiva(Z, n_iter=3, tol=1e-12)
    assert info == {"n_iter": 3, "converged": False}
    _, info = core.auxiva(Z, n_iter=3, tol=0.0)
    assert info == {"n_iter": 3, "converged": False}


def test_fdica_aligns_the_permutations_across_frequencies():
    Z, A, P = _mixed(5)
    W, info = core.fdica(Z, n_iter=200, tol=1e-9, random_state=0)
    perm, leak = _permutations(W @ P @ A)
    assert leak < 0.2 and np.all(perm == perm[0])
    assert info["n_iter"] <= 200


# -- the closed forms of online AuxIVA for 2 and 3 microphones ---------------------

def _lapack_twin(state):
    """A copy of an online state that takes the LAPACK path (the code the
    closed forms replace): the same W and V, canonical layout."""
    twin = _OnlineAuxIVA(state.W.shape[0], state.W.shape[1], state.forgetting,
                         state.model, state.ref, W0=state.W.copy(), hold=state.hold)
    twin._small = False
    twin.V = np.array(state.V)
    return twin


@pytest.mark.parametrize("m", [2, 3])
def test_solve_unit_is_numpys_solve(m):
    # well-conditioned random complex batches, every right-hand side e_k,
    # frequencies laid out last; one band with a zero leading entry needs
    # the row exchange
    rng = np.random.default_rng(10 + m)
    A = np.eye(m) + 0.4 * _complex(rng, 200, m, m)
    A[0] = np.roll(np.eye(m), 1, axis=0)
    for k in range(m):
        expected = np.linalg.solve(A, np.broadcast_to(np.eye(m)[:, k, None], (200, m, 1)))
        got = mod._solve_unit(np.ascontiguousarray(A.transpose(1, 2, 0)), k).T
        np.testing.assert_allclose(got, expected[..., 0], rtol=0, atol=1e-10)


@pytest.mark.parametrize("m", [2, 3])
def test_inverse_row_is_numpys_inverse(m):
    rng = np.random.default_rng(20 + m)
    W = np.eye(m) + 0.4 * _complex(rng, 200, m, m)
    for r in range(m):
        gain, det = mod._inverse_row(np.ascontiguousarray(W.transpose(1, 2, 0)), r)
        np.testing.assert_allclose(gain.T, np.linalg.inv(W)[:, r, :], rtol=0, atol=1e-10)
        np.testing.assert_allclose(det, np.linalg.det(W), rtol=1e-12)


@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("model", ["laplace", "gauss"])
def test_online_closed_forms_give_the_lapack_path_frame_by_frame(m, model):
    # many frames of updates and projections back from the same state:
    # outputs and rows equal to the LAPACK path's within rounding
    rng = np.random.default_rng(30 + m)
    n_freqs = 33
    W0 = np.eye(m) + 0.3 * _complex(rng, n_freqs, m, m)
    state = _OnlineAuxIVA(n_freqs, m, 0.95, model, ref=m - 1, W0=W0, hold=0)
    twin = _lapack_twin(state)
    assert state._small and state._v.shape == (m, m, m, n_freqs)
    spec = _complex(rng, 300, n_freqs, m) * rng.exponential(size=(300, 1, m))
    out, expected = state(spec), twin(spec)
    peak = np.abs(expected).max()
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-10 * peak)
    np.testing.assert_allclose(state.W, twin.W, rtol=1e-9, atol=0)
    np.testing.assert_allclose(state.V, twin.V, rtol=1e-9, atol=0)


def test_online_closed_forms_on_a_nearly_singular_band():
    # a band whose covariances are nearly rank one (two microphones almost
    # coherent): the rows still agree with LAPACK's to what the conditioning
    # allows, and every row stays finite
    rng = np.random.default_rng(40)
    state = _OnlineAuxIVA(F, M, 0.9, "laplace", 0, hold=0,
                          W0=np.eye(M) + 0.3 * _complex(rng, F, M, M))
    V = np.stack([_covariance(rng) for _ in range(M)])
    u = _complex(rng, M)
    V[:, 2] = np.outer(u, u.conj()) + 1e-9 * np.eye(M)            # cond ~ 1e10
    state.V = V
    twin = _lapack_twin(state)
    x = _complex(rng, F, M)
    state._update(x, 0.9)
    twin._update(x, 0.9)
    assert np.all(np.isfinite(state.W))
    np.testing.assert_allclose(state.W, twin.W, rtol=1e-4, atol=0)
    np.testing.assert_allclose(state.W[[0, 1, 3, 4]], twin.W[[0, 1, 3, 4]], rtol=1e-10)


def test_online_closed_forms_raise_on_a_singular_band_as_lapack_does():
    # an exactly singular system (an all-zero band of covariances): the
    # closed form hands it to LAPACK, which raises as it always did
    rng = np.random.default_rng(41)
    state = _OnlineAuxIVA(F, M, 0.9, "laplace", 0, W0=np.tile(np.eye(M), (F, 1, 1)),
                          hold=0)
    V = np.stack([_covariance(rng) for _ in range(M)])
    V[:, 1] = 0
    state.V = V
    twin = _lapack_twin(state)
    x = _complex(rng, F, M)
    x[1] = 0
    for s in (state, twin):
        with pytest.raises(np.linalg.LinAlgError):
            s._update(x, 0.9)


# -- offline AuxIVA's closed forms (2 and 3 sources) against the LAPACK path --

def _ip_batch(seed, m, dtype, n_freqs=257, n_frames=120):
    """A random well-conditioned batch: frames, weights per frame and a
    demixing start near the identity, in ``dtype``."""
    rng = np.random.default_rng(seed)
    Z = _complex(rng, n_freqs, m, n_frames).astype(dtype)
    W = (np.eye(m) + 0.3 * _complex(rng, n_freqs, m, m)).astype(dtype)
    phi = rng.uniform(0.2, 2.0, (1, m, n_frames)).astype(Z.real.dtype)
    return Z, W, phi


_PRECISIONS = [(np.complex128, 1e-10), (np.complex64, 1e-4)]


@pytest.mark.parametrize("dtype, tol", _PRECISIONS)
@pytest.mark.parametrize("m", [2, 3])
def test_offline_closed_form_ip_rows_are_the_lapack_rows(m, dtype, tol):
    # the same weighted covariances: every row of the elementwise sweep
    # equals _ip_row's (numpy's batched LAPACK solve), row after row
    Z, W, phi = _ip_batch(50 + m, m, dtype)
    V = core._covariances_small(core._outer_small(Z), phi)        # (K, M, M, F)
    assert V.dtype == dtype and V.shape == (m, m, m, Z.shape[0])
    expected = W.copy()
    for k in range(m):
        core._ip_row(expected, np.ascontiguousarray(V[k].transpose(2, 0, 1)), k)
    got = core._ip_sweep_small(W.copy(), V)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=0, atol=tol * np.abs(expected).max())


@pytest.mark.parametrize("dtype, tol", _PRECISIONS)
@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("per_band", [False, True])
def test_offline_closed_form_ip_step_is_the_lapack_step(m, dtype, tol, per_band):
    # the whole IP sweep from the frames: the compact Hermitian outer
    # products and the covariances from one real product (one weight per
    # frame), or per band and frame (ILRMA's weights), then the closed forms
    Z, W, phi = _ip_batch(60 + m, m, dtype)
    if per_band:
        rng = np.random.default_rng(70 + m)
        phi = rng.uniform(0.2, 2.0, (Z.shape[0], m, Z.shape[2])).astype(phi.dtype)
    small, full = core._outer_small(Z), core._outer(Z)
    assert small.shape == (m * m, Z.shape[0], Z.shape[2]) and small.dtype == Z.real.dtype
    V = core._covariances_small(small, phi)
    for k in range(m):
        expected = (full * phi[:, k, None, None, :]).mean(axis=3)       # (F, M, M)
        np.testing.assert_allclose(V[k].transpose(2, 0, 1), expected, rtol=0,
                                   atol=tol * np.abs(expected).max())
    got = core._ip_step(W.copy(), small, phi)
    expected = core._ip_step(W.copy(), full, phi)
    np.testing.assert_allclose(got, expected, rtol=0, atol=tol * np.abs(expected).max())


@pytest.mark.parametrize("m", [2, 3])
def test_offline_closed_forms_raise_on_a_singular_band_as_lapack_does(m):
    # an all-zero band makes W V singular: the closed form hands it to
    # LAPACK, which raises as it always did
    Z, W, phi = _ip_batch(80 + m, m, np.complex128, n_freqs=9)
    Z[4] = 0
    for ZZ in (core._outer_small(Z), core._outer(Z)):
        with pytest.raises(np.linalg.LinAlgError):
            core._ip_step(W.copy(), ZZ, phi)


@pytest.mark.parametrize("model", ["laplace", "gauss"])
@pytest.mark.parametrize("dtype, tol", _PRECISIONS)
def test_band_power_weights_and_normalisation_are_the_full_ones(model, dtype, tol):
    # the outputs' power summed over the bands gives the same weights and
    # the same normalised W as the (F, K, T) power array did
    rng = np.random.default_rng(90)
    Y = (_complex(rng, 65, M, 80) * rng.exponential(size=(1, M, 80))).astype(dtype)
    W = _complex(rng, 65, M, M).astype(dtype)
    total = core._band_power(Y)
    power = core._power(Y)
    np.testing.assert_allclose(total, power.sum(axis=0, keepdims=True), rtol=tol)
    np.testing.assert_allclose(core._band_weights(total, 65, model),
                               core._weights(power, model), rtol=tol)
    W_band, W_full = W.copy(), W.copy()
    scaled = core._normalise_band(W_band, total, 65)
    np.testing.assert_allclose(scaled, core._normalise(W_full, Y.copy(), None).sum(
        axis=0, keepdims=True), rtol=tol)
    np.testing.assert_allclose(W_band, W_full, rtol=tol)


@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("model", ["laplace", "gauss", "nmf"])
def test_auxiva_with_the_closed_forms_is_auxiva_with_lapack(m, model, monkeypatch):
    # iterations end to end: the closed forms (2 and 3 sources) against the
    # LAPACK path forced by an empty _SMALL, the same demixing matrices.
    # Five iterations: by 30 the Gaussian and NMF models amplify rounding
    # to ~1e-7 of the peak, as much as the LAPACK path moves when the data
    # moves by 1e-15
    rng = np.random.default_rng(100 + m)
    S = rng.exponential(size=(1, m, T)) ** 2 * _complex(rng, 33, m, T)
    X = _complex(rng, 33, m, m) @ S
    Z = core._whitening(X, m) @ X
    W, _ = core.auxiva(Z, source_model=model, n_iter=5, random_state=0)
    monkeypatch.setattr(core, "_SMALL", ())
    expected, _ = core.auxiva(Z, source_model=model, n_iter=5, random_state=0)
    np.testing.assert_allclose(W, expected, rtol=0, atol=1e-9 * np.abs(expected).max())
