"""The sksep model file: a fitted deep separator as plain values and tensors.

A file is a :func:`torch.save` dictionary, read with ``weights_only=True``:

``format``, ``format_version``, ``sksep_version``, ``metadata``
    What the file is, who wrote it, and the caller's facts (data,
    license, scores, ``sample_rate``).
``network``
    The network: ``{"class": "SpectralSeparator", "n_fft", "hop_length",
    "center", "pad_mode", "mask_net": {"class": "MaskNet" or
    "CNNAutoencoder", "args": {...}}}``, the constructor arguments of the
    :class:`sksep.nn.SpectralSeparator` and its mask network, read from the
    network itself (:func:`network_config`); its window comes from
    ``stft_params``. Files written before it was added lack it and rebuild
    the network from the estimator's parameters, as they did then.
``state_dict``
    The network's weights (float16 with ``save(half=True)``), the window
    left out.
``estimator``, ``params``, ``stft``, ``stft_params``, ``fitted``
    The scikit-learn side: the estimator's class and parameters, the
    user's STFT parameters (or None) and those of the fitted front end,
    and the fitted facts (``n_features_in_``, ``n_sources_``,
    ``n_epochs_``, the training seed, ``classes_``).
"""

import numpy as np

from .._persistence import _plain

FORMAT = "sksep-model"
FORMAT_VERSION = 1
ESTIMATORS = ("MaskEstimator", "CNNAutoencoderSeparator")   # what a file may hold


def _tuples(params):
    """Saved parameters with lists turned back into the tuples they were."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


# -- the network ---------------------------------------------------------------

def _mask_net_args(net):
    """The constructor arguments that rebuild ``net``, read from its layers."""
    from torch import nn

    from ..nn import CNNAutoencoder, MaskNet

    if type(net) in (MaskNet, CNNAutoencoder):
        n_freqs = int(net.norm.normalized_shape[0])
    if type(net) is MaskNet and net.kind == "dual-path":
        return dict(n_freqs=n_freqs, n_sources=int(net.n_sources),
                    hidden_size=int(net.head_norm.normalized_shape[0]),
                    num_layers=len(net.body), kind=net.kind, activation=net.activation)
    if type(net) is MaskNet:
        lstm = isinstance(net.body, nn.LSTM)
        return dict(n_freqs=n_freqs, n_sources=int(net.n_sources),
                    hidden_size=int(net.body.hidden_size if lstm
                                    else net.inp.out_channels),
                    num_layers=int(net.body.num_layers if lstm else len(net.body)),
                    kind=net.kind, activation=net.activation)
    if type(net) is CNNAutoencoder:
        return dict(n_freqs=n_freqs, n_sources=int(net.n_sources),
                    segment_frames=int(net.segment_frames),
                    freq_filters=int(net.freq_conv.out_channels),
                    time_filters=int(net.time_filters),
                    time_kernel=int(net.time_conv.kernel_size[1]),
                    bottleneck=int(net.encode[0].out_features), eps=float(net.eps))
    raise ValueError("Only MaskNet and CNNAutoencoder mask networks can be saved, got "
                     f"{type(net).__name__}.")


def network_config(module):
    """Plain values that rebuild ``module`` (a :class:`SpectralSeparator`)
    with :func:`build_network`, its window aside."""
    return {"class": "SpectralSeparator", "n_fft": int(module.n_fft),
            "hop_length": int(module.hop_length), "center": bool(module.center),
            "pad_mode": module.pad_mode,
            "mask_net": {"class": type(module.mask_net).__name__,
                         "args": _mask_net_args(module.mask_net)}}


def build_network(config, window):
    """A freshly initialised :class:`SpectralSeparator` of ``config``, with
    ``window`` (array of shape (n_fft,)), on the CPU."""
    from .. import nn as sknn

    mask = config["mask_net"]
    if config.get("class") != "SpectralSeparator" or mask["class"] not in (
            "MaskNet", "CNNAutoencoder"):
        raise ValueError(f"Unknown network {config.get('class')!r} with mask network "
                         f"{mask['class']!r}.")
    mask_net = getattr(sknn, mask["class"])(**mask["args"])
    return sknn.SpectralSeparator(mask_net, config["n_fft"], config["hop_length"],
                                  window, center=config["center"],
                                  pad_mode=config["pad_mode"])


# -- the estimator ---------------------------------------------------------------

def to_state(estimator, half=False):
    """A fitted deep separator as a file's dictionary, its format keys and
    metadata aside (see the module's docstring)."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    params = estimator.get_params(deep=False)
    if not isinstance(params["optimizer"], str):
        raise ValueError(
            "Only estimators with a named optimizer ('adam', 'adamw', 'sgd') "
            f"can be saved, got {params['optimizer']!r}."
        )
    params["random_state"] = (params["random_state"]
                              if isinstance(params["random_state"], int) else None)
    stft = params.pop("stft")
    stft_params = {k: _plain(v) for k, v in estimator.stft_.get_params().items()}
    if not isinstance(stft_params["window"], (str, float, int)):
        raise ValueError("Only STFT windows given by name can be saved.")
    if stft is not None:
        stft = {k: _plain(v) for k, v in stft.get_params().items()}
    module = estimator.net_.module_
    # the STFT window is rebuilt from the STFT parameters on load; the
    # weights alone may be stored in float16
    weights = {k: (v.detach().cpu().half() if half and v.is_floating_point()
                   else v.detach().cpu())
               for k, v in module.state_dict().items() if k != "window"}
    classes = getattr(estimator, "classes_", None)
    return {
        "estimator": type(estimator).__name__,
        "params": {k: _plain(v) for k, v in params.items()},
        "stft": stft,
        "stft_params": stft_params,
        "fitted": {
            "n_features_in_": int(estimator.n_features_in_),
            "n_sources_": int(estimator.n_sources_),
            "n_epochs_": int(estimator.n_epochs_),
            "seed": int(estimator._seed),
            "classes_": (None if classes is None
                         else [_plain(c) for c in classes.tolist()]),
        },
        "network": network_config(module),
        "state_dict": weights,
    }


def check_state(state, path):
    """Refuse what is not an sksep model file of a format this version reads."""
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"'{path}' is not an sksep model file.")
    if state.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"'{path}' is in sksep model format {state.get('format_version')!r} "
            f"(written by sksep {state.get('sksep_version')}); this sksep "
            f"reads format {FORMAT_VERSION}."
        )
    if state.get("estimator") not in ESTIMATORS:
        raise ValueError(f"'{path}' holds an unknown estimator {state['estimator']!r}.")


def _window(stft_params):
    """The fitted front end's window, as :class:`STFTTransformer` computes
    it from its parameters (numpy alone)."""
    from .. import _dsp

    n_fft = stft_params["n_fft"]
    _, win_length = _dsp.resolve_lengths(n_fft, stft_params["hop_length"],
                                         stft_params["win_length"])
    return _dsp.window_values(stft_params["window"], win_length, n_fft)


def _load_weights(module, state, name):
    """``module`` with the file's weights (cast to its dtypes; its own
    window kept: older files stored a float16 copy of it)."""
    own = module.state_dict()
    weights = {k: v.to(dtype=own[k].dtype) if k in own else v
               for k, v in state["state_dict"].items()}
    weights["window"] = own["window"]
    try:
        module.load_state_dict(weights)
    except RuntimeError as exc:
        raise ValueError(
            f"The saved weights do not fit this version's {name} network: {exc}"
        ) from exc
    return module


def network_separator(state, device="cpu", sample_rate=None):
    """The network of a file's dictionary (:func:`check_state` passed) as a
    :class:`~sksep.neural._inference.NetworkSeparator` on ``device``:
    scikit-learn and skorch are not imported for a file that records its
    network (``"network"``, every file written since it was added); an
    older one is read through its estimator."""
    from ..neural._inference import NetworkSeparator

    fitted = state["fitted"]
    window = _window(state["stft_params"])
    if "network" in state:
        module = _load_weights(build_network(state["network"], window),
                               state, state["estimator"]).to(device)
    else:
        module = from_state(state, device=device).net_.module_
    return NetworkSeparator(
        module, n_sources=fitted["n_sources_"],
        permutation_invariant=state["params"].get("permutation_invariant", True),
        classes=fitted["classes_"], sample_rate=sample_rate,
        estimator=state["estimator"], window=window)


def from_state(state, device="cpu"):
    """The fitted estimator of a file's dictionary (:func:`check_state`
    passed), its network alone on ``device``: no skorch, no optimizer."""
    from .. import neural
    from ..spectral import STFTTransformer

    cls = getattr(neural, state["estimator"])
    params = _tuples(state["params"])
    unknown = set(params) - set(cls().get_params(deep=False))
    if unknown:
        raise ValueError(
            f"The saved {cls.__name__} has parameters this version does not "
            f"know: {sorted(unknown)}; it was written by another sksep version."
        )
    user_stft = (None if state["stft"] is None
                 else STFTTransformer(**_tuples(state["stft"])))
    est = cls(**params, stft=user_stft).set_params(device=device)
    fitted = state["fitted"]
    stft = STFTTransformer(**_tuples(state["stft_params"])).fit(
        np.zeros((1, fitted["n_features_in_"]), dtype=np.float32))
    if "network" in state:
        module = build_network(state["network"], stft.window_)
    else:                                   # written before "network" was added
        module = est._build_module(stft, fitted["n_sources_"])
    _load_weights(module, state, cls.__name__)
    classes = fitted["classes_"]
    return est._restore(stft, module, n_features_in_=fitted["n_features_in_"],
                        n_sources_=fitted["n_sources_"], n_epochs_=fitted["n_epochs_"],
                        seed=fitted["seed"],
                        classes_=None if classes is None else np.asarray(classes))
