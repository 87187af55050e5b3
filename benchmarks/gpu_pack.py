"""Pack what ``train_voices.py`` needs on a lent GPU machine into ``.gpu/``.

A session lent a GPU (the ``device`` tool) sends the repository's working
tree and the paths it names in ``carry``, 64 MiB in all; the data beside the
checkout (``../shared/data``) does not travel, and the machine cannot reach
a package registry. This script writes, into a git-ignored folder:

* ``.gpu/whl/``: wheels for Python 3.12 on x86-64 of what the GPU image
  lacks (soundfile and cffi to read audio, pyroomacoustics for the rooms,
  skorch);
* ``.gpu/data/``: speech8k, noise8k and voices8k-extra cut to fit the room
  the working tree leaves: their ``valid`` splits whole, the LibriSpeech
  ``train`` readers whole (the headline corpus, only 42 minutes), then
  speechocean762 ``train`` speakers, noise8k ``train`` recordings and
  extra voices drawn at random (``--seed``) into the space left, in the
  shares of ``--shares``. Each corpus keeps its README (licences,
  attribution) and a ``files.csv`` of what was taken; ``PACKED.md`` says
  what was left out. FLAC files are written again at ``--bits`` bits
  (each file scaled to a 0.99 peak, then rounded: 11 bits keep the audio
  52 dB over the rounding, about 3/5 of the FLAC bytes); the extra
  voices stay the Opus files they are. ``test`` never travels.

Then, on a session with a GPU, right before the call (what the tree holds
then is what is measured)::

    python benchmarks/gpu_pack.py                  # here (seconds)
    # device run: carry [".gpu"], command "bash benchmarks/gpu_train_voices.sh"

and score what comes back on ``valid`` and ``test`` here (see
``benchmarks/README.md``, "Voices people record").
"""

import argparse
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 64 * 2**20  # what one device call may send
WHEELS = ("soundfile==0.14.0", "cffi==2.1.1", "pycparser==3.12",
          "pyroomacoustics==0.10.1", "skorch==1.4.0")


def travelling_bytes(root, out):
    """Bytes of the working tree that a device call sends without
    ``carry``: tracked files present and untracked files git does not
    ignore (``out`` excluded)."""
    def listed(*args):
        names = subprocess.run(["git", "ls-files", "-z", *args], cwd=root, check=True,
                               capture_output=True).stdout.split(b"\0")
        return [root / n.decode() for n in names if n]

    paths = listed() + listed("--others", "--exclude-standard")
    out = out.resolve()
    return sum(p.stat().st_size for p in paths
               if p.is_file() and out not in p.resolve().parents)


def quantized_flac(src, dest, bits):
    import soundfile as sf

    x, sr = sf.read(str(src), dtype="float64", always_2d=False)
    peak = np.max(np.abs(x)) if x.size else 0.0
    if peak > 0:
        q = 2.0 ** (bits - 1)
        x = np.round(x * (0.99 / peak) * q) / q
    dest.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(dest), x, sr, format="FLAC", subtype="PCM_16")
    return dest.stat().st_size


def split_of(row):
    """A row's split (voices8k-extra is all ``train``)."""
    return row.get("split") or "train"


def read_rows(folder):
    with open(folder / "files.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        return reader.fieldnames, list(reader)


def write_rows(folder, fields, rows):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "files.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data"),
                   help="folder holding speech8k, noise8k and voices8k-extra")
    p.add_argument("--out", default=str(ROOT / ".gpu"),
                   help="where to write (git-ignored; replaced)")
    p.add_argument("--bits", type=int, default=11,
                   help="bits kept of each FLAC file (8..16)")
    p.add_argument("--shares", type=float, nargs=3, default=(0.35, 0.35, 0.3),
                   metavar=("SO", "NOISE", "EXTRA"),
                   help="how the space left after the valid splits and the LibriSpeech "
                        "train readers is shared among speechocean762 train speakers, "
                        "noise8k train recordings and extra voices")
    p.add_argument("--margin-mb", type=float, default=2.0,
                   help="MiB of the 64 a device call may send kept out of the data "
                        "budget (the indexes, and the last file of each part, which may "
                        "overshoot its share, come out of it)")
    p.add_argument("--no-wheels", action="store_true",
                   help="reuse the wheels already in OUT/whl (no download)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if not 8 <= args.bits <= 16:
        p.error(f"--bits is 8..16, got {args.bits}")
    if min(args.shares) < 0 or sum(args.shares) <= 0:
        p.error(f"--shares are three shares of the space left, not negative: {args.shares}")
    data, out = Path(args.data), Path(args.out)
    for corpus in ("speech8k", "noise8k", "voices8k-extra"):
        if not (data / corpus / "files.csv").is_file():
            p.error(f"--data {data} holds no {corpus}/files.csv")
    inside = ROOT in out.resolve().parents
    ignored = subprocess.run(["git", "check-ignore", "-q", f"{out}/"], cwd=ROOT,
                             capture_output=True).returncode == 0
    if out.resolve() == ROOT or out.resolve() in ROOT.parents:
        p.error(f"--out {out} is the checkout or holds it: give a folder of its own "
                "(the default .gpu)")
    if inside and not ignored:
        p.error(f"--out {out} is not ignored by git: it would travel twice and could be "
                "committed; use a folder .gitignore lists (the default .gpu is)")

    wheels = out / "whl"
    if args.no_wheels:
        if not any(wheels.glob("*.whl")):
            p.error(f"--no-wheels: {wheels} holds no wheels")
    else:
        fresh = out / "whl.new"
        if fresh.exists():
            shutil.rmtree(fresh)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", "--python-version", "3.12",
                        "--implementation", "cp", "--platform", "manylinux_2_28_x86_64",
                        "--platform", "manylinux_2_27_x86_64", "--platform",
                        "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
                        "--platform", "manylinux1_x86_64", "-d", str(fresh), *WHEELS],
                       check=True)
        if wheels.exists():  # replaced only once the new ones are all here
            shutil.rmtree(wheels)
        fresh.rename(wheels)
    if (out / "data").exists():
        shutil.rmtree(out / "data")
    tree = travelling_bytes(ROOT, out)
    wheel_bytes = sum(f.stat().st_size for f in wheels.glob("*.whl"))
    budget = LIMIT - tree - wheel_bytes - int(args.margin_mb * 2**20)
    print(f"working tree {tree / 2**20:.1f} MiB, wheels {wheel_bytes / 2**20:.1f} MiB: "
          f"{budget / 2**20:.1f} MiB for data", flush=True)

    import soundfile as sf

    rng = np.random.default_rng(args.seed)
    used = 0
    report = {}
    tables = {c: read_rows(data / c) for c in ("speech8k", "noise8k", "voices8k-extra")}
    taken = {c: [] for c in tables}

    def take(corpus, row):
        nonlocal used
        src = data / corpus / row["path"]
        dest = out / "data" / corpus / row["path"]
        if src.suffix == ".flac":
            size = quantized_flac(src, dest, args.bits)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            size = dest.stat().st_size
        used += size
        taken[corpus].append(row)
        key = f"{corpus} {split_of(row)}" + (f" {row['corpus']}" if corpus == "speech8k" else "")
        report.setdefault(key, [0.0, 0])
        report[key][0] += sf.info(str(dest)).duration / 60
        report[key][1] += size
        return size

    speech = tables["speech8k"][1]
    # must travel: every valid split, the LibriSpeech train readers
    for row in speech:
        if row["split"] == "valid" or (row["split"] == "train"
                                       and row["corpus"] == "librispeech"):
            take("speech8k", row)
    for row in tables["noise8k"][1]:
        if row["split"] == "valid":
            take("noise8k", row)
    if used > budget:
        raise SystemExit(f"the valid splits and the LibriSpeech train readers alone take "
                         f"{used / 2**20:.1f} MiB, over the {budget / 2**20:.1f} MiB left: "
                         "lower --bits, or move large untracked files out of the checkout")
    # the rest, in shares of what is left: whole speakers / recordings at random
    left = budget - used
    groups = {
        "so": [[r for r in speech if r["speaker"] == s] for s in
               sorted({r["speaker"] for r in speech if r["split"] == "train"
                       and r["corpus"] == "speechocean762"})],
        "noise": [[r] for r in tables["noise8k"][1] if r["split"] == "train"],
        "extra": [[r for r in tables["voices8k-extra"][1] if r["speaker"] == s] for s in
                  sorted({r["speaker"] for r in tables["voices8k-extra"][1]
                          if split_of(r) == "train"})],
    }
    corpus_of = {"so": "speech8k", "noise": "noise8k", "extra": "voices8k-extra"}
    share = dict(zip(("so", "noise", "extra"), args.shares))
    total_share = sum(share.values())
    for name, items in groups.items():
        room = left * share[name] / total_share
        spent = 0
        for i in rng.permutation(len(items)):
            if spent >= room:
                break
            for row in items[i]:
                # a wake-word clip is its own speaker: take clips one by one
                if spent >= room:
                    break
                spent += take(corpus_of[name], row)
    for corpus, (fields, _) in tables.items():
        write_rows(out / "data" / corpus, fields, taken[corpus])
        for extra in (data / corpus).iterdir():
            if extra.is_file() and extra.suffix in (".md", ".txt"):
                shutil.copyfile(extra, out / "data" / corpus / extra.name)
    lines = [f"# What `benchmarks/gpu_pack.py` packed from {data}",
             "", f"FLAC files rewritten at {args.bits} bits (peak 0.99); Opus files as they "
             "were. Minutes and MiB per part; everything else was left out (no test split).",
             "", "| part | minutes | MiB |", "|---|---|---|"]
    for key, (minutes, size) in sorted(report.items()):
        lines.append(f"| {key} | {minutes:.1f} | {size / 2**20:.1f} |")
    (out / "data" / "PACKED.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[5:]))
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"{out}: {total / 2**20:.1f} MiB; with the working tree "
          f"{(total + tree) / 2**20:.1f} of {LIMIT / 2**20:.0f} MiB")
    (out / "packed.json").write_text(json.dumps(
        {"tree_bytes": tree, "bytes": total, "bits": args.bits,
         "report": {k: [round(m, 2), s] for k, (m, s) in report.items()}}, indent=1))
    if total + tree > LIMIT:
        raise SystemExit(f"{(total + tree) / 2**20:.1f} MiB is over the limit: pack again "
                         "with a larger --margin-mb")


if __name__ == "__main__":
    main()
