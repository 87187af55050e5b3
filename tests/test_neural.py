"""The neural separators: training on clean clips separates voices it has
not heard, tuning by GroupKFold works, results are reproducible and
persist, class-fixed outputs keep their class, and bad input is refused."""

import itertools
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold

from sksep import CNNAutoencoderSeparator, MaskEstimator, STFTTransformer
from sksep.datasets import fix_length, load_demo, load_fsdd
from sksep.neural._data import MixtureDataset
from sksep.nn import pairwise_neg_si_sdr, pit_loss

N_TIMES = 4000  # 0.5 s at 8 kHz
TRAIN = ["lucas", "nicolas", "theo", "yweweler"]


@pytest.fixture(scope="module")
def speech(fsdd_home):
    train = load_fsdd(fsdd_home, speakers=TRAIN, indices=range(5, 10))
    test = load_fsdd(fsdd_home, speakers=["george", "jackson"], indices=range(5))
    return (fix_length(train.waveforms, N_TIMES), train.speaker,
            fix_length(test.waveforms, N_TIMES), test.speaker)


@pytest.fixture(scope="module")
def demo_clips():
    demo = load_demo()
    return fix_length(demo.waveforms, N_TIMES), demo.speaker


def _small(**params):
    defaults = {"hidden_size": 16, "num_layers": 1, "max_epochs": 2,
                "random_state": 0}
    return MaskEstimator(**{**defaults, **params})


def test_grid_search_by_speaker_improves_unseen_voices(speech):
    X, speakers, X_test, test_speakers = speech
    # a learning rate too small to learn in 3 epochs beside a usable one,
    # each with two STFT sizes (a nested parameter of the separator)
    grid = {"lr": [1e-5, 3e-3], "stft__n_fft": [128, 256]}
    est = MaskEstimator(num_layers=1, max_epochs=3,
                        stft=STFTTransformer(n_fft=256, hop_length=64),
                        random_state=0)
    search = GridSearchCV(est, grid, cv=GroupKFold(2)).fit(
        X, speakers, groups=speakers)
    scores = search.cv_results_["mean_test_score"]
    # the folds' scores tell the cells apart (today 0.07 / 0.09 dB for
    # lr=1e-5 against 0.96 / 1.23 dB for lr=3e-3) and the best one is refitted
    assert scores.max() - scores.min() > 0.8, scores
    assert search.best_params_["lr"] == 3e-3
    assert search.best_estimator_.stft_.n_fft == search.best_params_["stft__n_fft"]
    # george and jackson were never heard in training (today 1.50 dB;
    # returning the mixture scores 0)
    assert search.best_estimator_.score(X_test, test_speakers) > 1.0


def test_same_seed_same_weights_and_outputs(demo_clips):
    X, y = demo_clips
    a, b = _small().fit(X, y), _small().fit(X, y)
    for pa, pb in zip(a.net_.module_.parameters(), b.net_.module_.parameters()):
        assert torch.equal(pa, pb)
    np.testing.assert_array_equal(a.transform(X[:4]), b.transform(X[:4]))
    c = _small(random_state=1).fit(X, y)
    assert not np.array_equal(a.transform(X[:4]), c.transform(X[:4]))


def test_fit_leaves_torch_global_random_state_alone(demo_clips):
    X, y = demo_clips
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    _small().fit(X, y)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("cls", [MaskEstimator, CNNAutoencoderSeparator])
def test_clone_pickle_and_joblib_round_trips(tmp_path, demo_clips, cls):
    X, y = demo_clips
    est = cls(max_epochs=1, random_state=0).fit(X, y)
    mixtures = X[:3] + X[60:63]
    expected = est.transform(mixtures)
    joblib.dump(est, tmp_path / "sep.joblib")
    for loaded in (pickle.loads(pickle.dumps(est)), joblib.load(tmp_path / "sep.joblib")):
        np.testing.assert_array_equal(loaded.transform(mixtures), expected)
    refit = clone(est).fit(X, y)
    np.testing.assert_array_equal(refit.transform(mixtures), expected)


def test_transform_and_separate_layouts(demo_clips):
    X, y = demo_clips
    est = _small().fit(X, y)
    mixtures = X[:3] + X[60:63]
    Z = est.transform(mixtures)
    assert Z.shape == (3, 2 * N_TIMES) and Z.dtype == np.float32
    S = est.separate(mixtures)
    np.testing.assert_allclose(S.reshape(3, -1), Z, atol=1e-6)
    assert est.transform(mixtures.astype(np.float64)).dtype == np.float64
    # any length, one waveform or a batch
    assert est.separate(np.r_[X[0], X[1]]).shape == (2, 2 * N_TIMES)
    assert est.separate(np.zeros((2, 37))).shape == (2, 2, 37)


@pytest.mark.parametrize("kind, num_layers, causal", [
    ("lstm", 1, True), ("causal-tcn", 4, True),
    ("blstm", 1, False), ("tcn", 4, False),   # controls: these look ahead
    ("dual-path", 1, False),
])
def test_causal_variants_do_not_look_ahead(demo_clips, kind, num_layers, causal):
    """Changing the end of a mixture leaves the masks of its start alone for
    the causal kinds only, and changes the masks of its end for every kind
    (constant masks would pass the first check)."""
    X, y = demo_clips
    est = _small(kind=kind, num_layers=num_layers, max_epochs=1,
                 valid_fraction=0.0).fit(X, y)
    module = est.net_.module_
    a = X[0] + X[60]
    b = a.copy()
    b[3000:] = np.random.default_rng(0).standard_normal(1000)
    with torch.no_grad():
        ma = module(torch.as_tensor(a[None]))["masks"]   # (1, sources, frames, freqs)
        mb = module(torch.as_tensor(b[None]))["masks"]
    # frames entirely before sample 3000 - n_fft / 2 see none of the change
    last_clean = (3000 - 128) // 64 - 1
    start_kept = torch.allclose(ma[:, :, :last_clean], mb[:, :, :last_clean],
                                atol=1e-6, rtol=0)
    assert start_kept == causal
    # frames holding the changed samples change (today by 0.25 to 0.32)
    changed = (ma[:, :, last_clean + 4:] - mb[:, :, last_clean + 4:]).abs().max()
    assert float(changed) > 0.05


@pytest.mark.parametrize("loss", ["si_sdr", "magnitude", "psa"])
@pytest.mark.parametrize("activation", ["sigmoid", "softmax"])
def test_losses_and_activations_train(demo_clips, loss, activation):
    X, y = demo_clips
    est = _small(loss=loss, mask_activation=activation, lr=1e-2).fit(X, y)
    # an untrained network scores 0.14 (sigmoid) / 0.26 dB (softmax) here;
    # two epochs with each loss reach 1.0 to 2.0 dB
    assert est.score(X, y) > 0.7
    masks = est.net_.module_(torch.as_tensor(X[:2] + X[60:62]))["masks"]
    masks = masks.detach()
    assert float(masks.min()) >= 0 and float(masks.max()) <= 1
    if activation == "softmax":
        torch.testing.assert_close(masks.sum(1), torch.ones_like(masks[:, 0]))


def test_dual_path_network_learns_and_refuses_to_stream(demo_clips):
    """The band-split dual-path network trains like the other kinds and says
    it cannot run block by block."""
    X, y = demo_clips
    est = _small(kind="dual-path", hidden_size=8, lr=1e-2).fit(X, y)
    # untrained it scores about 0.1 dB here, as the other kinds do
    assert est.score(X, y) > 0.7
    with pytest.raises(ValueError, match=r"kind='dual-path'\) looks at future frames"):
        est.streamer()


def test_dual_path_heads_write_their_own_bands_and_sources():
    """Each band's head fills that band's bins of every source's mask: with
    zero weights and a bias that names (source, bin), the mask logits read
    back as that name at every frame."""
    from sksep.nn import MaskNet
    from sksep.nn._modules import band_edges

    n_freqs, n_sources = 33, 3
    net = MaskNet(n_freqs, n_sources, hidden_size=4, num_layers=1, kind="dual-path")
    assert [b - a for a, b in net.bands] == [b - a for a, b in band_edges(n_freqs)]
    with torch.no_grad():
        for head, (a, b) in zip(net.heads, net.bands):
            head.weight.zero_()
            head.bias.copy_(torch.tensor([1000.0 * s + f for s in range(n_sources)
                                          for f in range(a, b)]))
    net.activate = lambda projected: projected.reshape(
        *projected.shape[:2], n_sources, -1).permute(0, 2, 1, 3)
    logits = net(torch.randn(2, 7, n_freqs))          # (batch, sources, frames, freqs)
    expected = 1000.0 * torch.arange(n_sources)[:, None] + torch.arange(n_freqs)
    torch.testing.assert_close(logits, expected[None, :, None].expand_as(logits))


def test_partial_fit_and_warm_start_continue_training(demo_clips):
    X, y = demo_clips
    est = _small(valid_fraction=0.0).fit(X, y)
    first = [p.detach().clone() for p in est.net_.module_.parameters()]
    est.partial_fit(X, y)
    assert len(est.net_.history) == 4
    assert any(not torch.equal(a, b)
               for a, b in zip(first, est.net_.module_.parameters()))
    warm = _small(valid_fraction=0.0, warm_start=True).fit(X, y).fit(X, y)
    assert len(warm.net_.history) == 4
    # continued training is reproducible too
    again = _small(valid_fraction=0.0).fit(X, y).partial_fit(X, y)
    np.testing.assert_array_equal(again.transform(X[:2]), est.transform(X[:2]))


def test_early_stopping_restores_the_best_validation_epoch(demo_clips):
    from sksep.neural._callbacks import valid_si_sdr

    X, y = demo_clips
    # a learning rate so large that the fifth epoch is worse than the fourth
    # (today 1.22, 1.52, 1.65, 1.73, 1.55 dB): training stops there
    est = _small(max_epochs=6, valid_fraction=0.2, patience=1, lr=0.3).fit(X, y)
    history = est.net_.history[:, "valid_si_sdr"]
    assert len(history) < 6 and history[-1] < max(history)   # stopped early
    # the network left in the estimator is the best epoch's, not the last's
    valid = est.net_.train_split.keywords["valid_ds"]
    assert valid_si_sdr(est.net_, valid) == pytest.approx(max(history), abs=1e-4)


def test_cnn_outputs_follow_their_class():
    # class "low": tones at 150-400 Hz; class "high": tones at 2-3.5 kHz
    rng = np.random.default_rng(0)
    t = np.arange(N_TIMES) / 8000
    freqs = np.r_[rng.uniform(150, 400, 40), rng.uniform(2000, 3500, 40)]
    X = np.stack([np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in freqs])
    y = np.array(["low"] * 40 + ["high"] * 40)
    est = CNNAutoencoderSeparator(max_epochs=15, segment_frames=16,
                                  random_state=0, lr=3e-3).fit(X.astype("float32"), y)
    assert est.classes_.tolist() == ["high", "low"]
    low, high = X[0], X[45]
    S = est.separate(low + high)
    corr = lambda a, b: abs(np.corrcoef(a, b)[0, 1])  # noqa: E731
    assert corr(S[0], high) > 0.9 and corr(S[1], low) > 0.9


def test_cnn_segments_join_on_long_input(demo_clips):
    X, y = demo_clips
    est = CNNAutoencoderSeparator(max_epochs=1, segment_frames=8,
                                  random_state=0).fit(X[:40], y[:40])
    long = np.tile(X[0] + X[30], 5)
    S = est.separate(long)
    assert S.shape == (2, long.size) and np.all(np.isfinite(S))
    # the masks split the mixture: sources sum back to it (mixture phase)
    np.testing.assert_allclose(S.sum(0), long, atol=1e-3 * np.abs(long).max())


def test_mixture_dataset_draws(demo_clips):
    X, y = demo_clips
    codes = np.unique(y, return_inverse=True)[1]
    data = MixtureDataset(X, codes, n_sources=3, class_fixed=False,
                          snr_db=(-5, 5), shift=0.25, seed=7)
    mix, src = data[3]
    torch.testing.assert_close(mix, src.sum(0))
    # the partners' speakers differ from clip 3's and from each other
    first = data[3]
    data.epoch += 1
    assert not torch.equal(first[0], data[3][0])  # drawn afresh every epoch
    data.epoch -= 1
    assert torch.equal(first[0], data[3][0])  # reproducible per (seed, epoch, i)


def test_without_labels_a_clip_is_never_mixed_with_itself(demo_clips):
    # score(X) without y scored two clips 4.4 dB where labels gave 7.4: a
    # clip was drawn as its own partner (a shifted copy of itself)
    X, _ = demo_clips
    rng = np.random.default_rng(0)
    for n_clips, n_sources in ((2, 2), (3, 3), (len(X), 2)):
        data = MixtureDataset(X[:n_clips], None, n_sources=n_sources,
                              class_fixed=False, snr_db=(-5, 5), shift=0.25, seed=3)
        for i in range(n_clips):
            for _ in range(20):
                partners = [j for _, j in data._partners(rng, i)]
                assert i not in partners and len(set(partners)) == len(partners)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_pit_loss_finds_the_best_permutation(n):
    torch.manual_seed(0)
    pair = torch.rand(6, n, n)
    loss, perms = pit_loss(pair)
    for b in range(6):
        best = min(itertools.permutations(range(n)),
                   key=lambda p: sum(float(pair[b, i, p[i]]) for i in range(n)))
        assert tuple(perms[b].tolist()) == best
    ref = torch.randn(2, n, 500)
    est = ref[:, torch.randperm(n)]
    loss, _ = pit_loss(pairwise_neg_si_sdr(est, ref))
    assert float(loss) < -60  # perfect separation once permuted


def test_bad_input(demo_clips):
    X, y = demo_clips
    with pytest.raises(ValueError, match="requires y to be passed"):
        CNNAutoencoderSeparator(max_epochs=1).fit(X)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _small().fit(X, y[:-1])
    with pytest.raises(ValueError, match="y should be a 1d array"):
        _small().fit(X, np.stack([y, y], 1))
    est = _small().fit(X, y)
    with pytest.raises(ValueError, match="X has 100 features"):
        est.transform(X[:, :100])
    with pytest.raises(ValueError, match="NaN"):
        est.separate(np.full(100, np.nan))
    with pytest.raises(ValueError, match="non-empty waveform"):
        est.separate(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="real numbers"):
        est.separate(np.array(["a"]))
    with pytest.raises(ValueError, match=r"snr_db must be a \(low, high\)"):
        _small(snr_db=(5, -5)).fit(X, y)
    cnn = CNNAutoencoderSeparator(max_epochs=1).fit(X[:40], y[:40])
    with pytest.raises(ValueError, match="labels unseen in fit"):
        cnn.score(X[60:80], y[60:80])


def test_device_auto_runs_on_this_machine(demo_clips):
    X, y = demo_clips
    est = _small(device="auto").fit(X[:20], y[:20])
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(est.net_.module_.parameters()).device.type == expected


def test_speed_perturbation_changes_voices_reproducibly(demo_clips):
    X, y = demo_clips
    codes = np.unique(y, return_inverse=True)[1]
    kwargs = dict(n_sources=2, class_fixed=False, snr_db=(0, 0), shift=0.0, seed=3)
    plain = MixtureDataset(X, codes, **kwargs)
    fast = MixtureDataset(X, codes, speed=(1.2, 1.3), **kwargs)
    src_plain, src_fast = plain[5][1][0].numpy(), fast[5][1][0].numpy()
    # played faster: the same clip ends earlier (shorter non-silent part)
    assert np.flatnonzero(src_fast)[-1] < 0.9 * np.flatnonzero(src_plain)[-1]
    torch.testing.assert_close(fast[5][0], MixtureDataset(X, codes, speed=(1.2, 1.3),
                                                          **kwargs)[5][0])
    est = _small(speed_perturb=(0.9, 1.1), lr=1e-2).fit(X, y)
    assert est.score(X, y) > 0.7     # today 1.81 dB; untrained 0.14 dB
    with pytest.raises(ValueError, match="speed_perturb must be"):
        _small(speed_perturb=(1.1, 0.9)).fit(X, y)
