"""The IVA cores on tiny problems: the iterative-projection row update
solves its equations, the online and offline updates share it (same row
from the same statistics), and AuxIVA and FDICA undo a known mixture in
every frequency with one permutation across frequencies."""

import numpy as np
import pytest

from sksep.decomposition import _iva_core as core
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
    online = _OnlineAuxIVA(F, M, forgetting=0.9, model="laplace", ref=0, W0=W0)
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
    state = _OnlineAuxIVA(F, M, 0.9, model, 0, W0=np.tile(np.eye(M), (F, 1, 1)))
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
