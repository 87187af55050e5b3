"""sksep.plotting: every function draws, returns what it drew, saves a PNG."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from sksep.plotting import (  # noqa: E402
    plot_mask,
    plot_separation,
    plot_spectrogram,
    plot_waveform,
)

SR = 8000


@pytest.fixture
def signals(rng):
    return rng.laplace(size=(2, 4000)) * 0.1


def _png(fig, tmp_path, name):
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    plt.close(fig)
    return path.stat().st_size


def test_each_plot_writes_a_non_empty_image(tmp_path, signals, rng):
    ax = plot_waveform(signals[0], SR, label="voice", title="w")
    assert ax.get_title() == "w" and ax.get_xlim()[1] == pytest.approx(3999 / SR)
    assert _png(ax.figure, tmp_path, "wave") > 5000
    ax = plot_spectrogram(signals[0], SR, n_fft=256, top_db=60)
    image = ax.images[0].get_array()
    assert image.shape == (129, 64) and image.min() >= -60 and image.max() == 0
    assert _png(ax.figure, tmp_path, "spec") > 5000
    ax = plot_mask(rng.uniform(size=(129, 63)), SR, 64)
    assert _png(ax.figure, tmp_path, "mask") > 5000
    fig = plot_separation(signals.sum(0), signals, SR, references=signals,
                          masks=rng.uniform(size=(2, 129, 63)), scores=[10.0, 12.5],
                          labels=["a", "b"], title="overview")
    titles = [a.get_title() for a in fig.axes]
    assert "a: SI-SDR 10.0 dB" in titles and "b: estimated mask" in titles
    assert _png(fig, tmp_path, "overview") > 20000


def test_plots_draw_on_given_axes(signals):
    fig, axes = plt.subplots(1, 2)
    assert plot_waveform(signals[0], SR, ax=axes[0]) is axes[0]
    assert plot_spectrogram(signals[1], SR, ax=axes[1]) is axes[1]
    sub = plt.figure().subfigures(1, 2)[0]
    assert plot_separation(signals.sum(0), signals, SR, fig=sub) is sub
    plt.close("all")


def test_plot_errors_name_the_problem(signals):
    with pytest.raises(ValueError, match="'sr' parameter of plot_waveform must be a positive sample rate"):
        plot_waveform(signals[0], 0)
    with pytest.raises(ValueError, match="x must be"):
        plot_spectrogram(signals, SR)
    with pytest.raises(ValueError, match="mask must be"):
        plot_mask(np.ones(5), SR, 64)
    with pytest.raises(ValueError, match="references must have shape"):
        plot_separation(signals.sum(0), signals, SR, references=signals[:1])
    with pytest.raises(ValueError, match="labels must name 2"):
        plot_separation(signals.sum(0), signals, SR, labels=["x"])
    plt.close("all")


def _spectrogram_titles(fig):
    """Titles of the spectrogram panels (the images with a 'dB' colour bar)."""
    return [ax.get_title() for ax in fig.axes if ax.images
            and ax.images[0].colorbar is not None
            and ax.images[0].colorbar.ax.get_ylabel() == "dB"]


def test_separation_spectrograms_say_mixture_estimate_or_reference(signals, rng):
    fig = plot_separation(np.stack([signals.sum(0), signals[0]]), signals, SR,
                          references=signals, labels=["a", "b"],
                          masks=rng.uniform(size=(2, 129, 63)),
                          reference_spectrograms=True)
    assert _spectrogram_titles(fig) == [
        "mixture, microphone 1 of 2", "estimate: a", "reference: a", "estimate: b",
        "reference: b"]
    # reference column before the mask column, blank in the mixture row
    assert [ax.get_title() for ax in fig.axes if ax.get_title().endswith("mask")] == [
        "a: estimated mask", "b: estimated mask"]
    plt.close(fig)
    fig = plot_separation(signals.sum(0), signals, SR, references=signals,
                          reference_spectrograms=True,
                          reference_titles=["reference: a at mic 1", "reference: b"])
    assert _spectrogram_titles(fig) == [
        "mixture", "estimate: source 1", "reference: a at mic 1",
        "estimate: source 2", "reference: b"]
    plt.close(fig)
    # without the option the figure keeps its two columns
    fig = plot_separation(signals.sum(0), signals, SR, references=signals)
    assert _spectrogram_titles(fig) == ["mixture", "estimate: source 1",
                                        "estimate: source 2"]
    plt.close(fig)
    with pytest.raises(ValueError, match="needs references"):
        plot_separation(signals.sum(0), signals, SR, reference_spectrograms=True)
    with pytest.raises(ValueError, match="reference_titles must title 2"):
        plot_separation(signals.sum(0), signals, SR, references=signals,
                        reference_spectrograms=True, reference_titles=["x"])
    plt.close("all")
