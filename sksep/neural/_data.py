"""Training mixtures drawn from clean clips (torch Datasets, numpy draws)."""

import numpy as np
import torch


class MixtureDataset(torch.utils.data.Dataset):
    """Mixtures of clean clips, drawn afresh every epoch (dynamic mixing).

    Item ``i`` mixes clip ``i`` with partners of other labels: in
    permutation-invariant mode ``n_sources - 1`` random partners of
    pairwise different labels (when the labels allow it; without labels,
    other clips, so no clip is mixed with a shifted copy of itself); in class-fixed
    mode one random clip of every other class, placed in the slot of its
    class. Partners get a random level (``snr_db`` range, relative to clip
    ``i``) and a random time shift of at most ``shift`` times the clip
    length (zero-filled). The draws of item ``i`` depend only on
    ``(seed, epoch, i)``, so training is reproducible whatever the batch
    order; ``fixed=True`` keeps epoch 0 forever (validation and scoring).
    ``speed=(low, high)`` plays every clip of a mixture at a random speed in
    that range (resampled with :func:`librosa.resample`, which shifts pitch
    and tempo together, as tape does): new voices for the network, the
    usual lever against memorising the training speakers.

    ``segment`` (samples) cuts every clip of a mixture to a random segment
    of that length (a clip shorter than ``segment`` is placed at a random
    offset in silence), so ``clips`` may be a sequence of 1-D arrays of
    different lengths: continuous recordings give new excerpts every epoch.

    Returns ``(mixture (n_times,), sources (n_sources, n_times))`` float32.
    """

    def __init__(self, clips, labels, *, n_sources, class_fixed, snr_db, shift,
                 seed, fixed=False, speed=None, segment=None):
        if segment is None:
            self.clips = np.ascontiguousarray(clips, dtype=np.float32)
            self.n_times = self.clips.shape[1]
        else:
            self.clips = [np.asarray(c, dtype=np.float32) for c in clips]
            self.n_times = int(segment)
        self.segment = segment
        self.labels = labels
        self.n_sources, self.class_fixed = n_sources, class_fixed
        self.snr_db, self.shift, self.seed, self.fixed = snr_db, shift, seed, fixed
        self.speed = speed
        self.epoch = 0
        if labels is not None:
            self._by_label = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}

    def __len__(self):
        return len(self.clips)

    def _partners(self, rng, i):
        n = len(self.clips)
        if self.class_fixed:
            own = self.labels[i]
            return [(c, rng.choice(idx)) for c, idx in self._by_label.items()
                    if c != own]
        chosen, used = [], set() if self.labels is None else {self.labels[i]}
        for _ in range(self.n_sources - 1):
            if self.labels is not None:
                free = [c for c in self._by_label if c not in used] or list(self._by_label)
                c = free[rng.integers(len(free))]
                used.add(c)
                chosen.append(rng.choice(self._by_label[c]))
            else:       # no labels: any other clip (itself only when alone)
                chosen.append(self._other_clip(rng, i, chosen))
        return list(enumerate(chosen, start=1))

    def _other_clip(self, rng, i, chosen):
        """A random clip other than ``i`` and, while others remain, than
        those ``chosen``; ``i`` itself only when it is the only clip. Drawn
        in constant time whatever the number of clips."""
        n = len(self.clips)
        if n == 1:
            return 0
        while True:
            j = int(rng.integers(n - 1))
            j += j >= i
            if j not in chosen or len(chosen) >= n - 1:
                return j

    def _excerpt(self, rng, j):
        clip = self.clips[j]
        n, size = len(clip), self.n_times
        if self.segment is None or n == size:
            return clip.astype(np.float64)
        out = np.zeros(size)
        if n > size:
            start = int(rng.integers(n - size + 1))
            out[:] = clip[start:start + size]
        else:
            start = int(rng.integers(size - n + 1))
            out[start:start + n] = clip
        return out

    def _clip(self, rng, j):
        clip = self._excerpt(rng, j)
        if self.speed is None:
            return clip
        import librosa

        n = len(clip)
        target = max(1, int(round(n / rng.uniform(*self.speed))))
        if target == n or n < 2:
            return clip
        played = librosa.resample(clip, orig_sr=n, target_sr=target, res_type="soxr_hq")
        out = np.zeros(n)
        out[:min(n, len(played))] = played[:n]
        return out

    def __getitem__(self, i):
        rng = np.random.default_rng([self.seed, 0 if self.fixed else self.epoch, i])
        n_times = self.n_times
        sources = np.zeros((self.n_sources, n_times), dtype=np.float32)
        slot0 = int(self.labels[i]) if self.class_fixed else 0
        first = self._clip(rng, i)
        sources[slot0] = first
        ref_power = float(np.mean(first**2))
        low, high = self.snr_db
        max_shift = int(self.shift * n_times)
        for slot, j in self._partners(rng, i):
            partner = self._clip(rng, j)
            if max_shift:
                lag = int(rng.integers(-max_shift, max_shift + 1))
                partner = np.roll(partner, lag)
                if lag > 0:
                    partner[:lag] = 0
                elif lag < 0:
                    partner[lag:] = 0
            power = float(np.mean(partner**2))
            snr = rng.uniform(low, high)
            if power > 0 and ref_power > 0:
                partner *= np.sqrt(ref_power / power * 10 ** (-snr / 10))
            sources[int(slot)] = partner
        return torch.from_numpy(sources.sum(axis=0)), torch.from_numpy(sources)
