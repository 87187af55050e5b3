#!/usr/bin/env bash
# train_voices.py on a lent GPU machine, in one device call of under 10 minutes.
#
# Here, first:   python benchmarks/gpu_pack.py      (writes .gpu/: data, wheels)
# Then the device tool's run, with carry [".gpu"] and timeout_s 590:
#     bash benchmarks/gpu_train_voices.sh
# optionally preceded by settings, e.g. "MINUTES=6 LR=3e-4 bash ...".
# The run writes into $OUT itself, so that what it has comes back even when
# it is cut short: the log and the best valid network so far as a model file
# (<NAME>.best.pt, about 5 MB), and the network as the run ends (<NAME>.last.pt:
# the packed valid split is not the CPU's, so judge both here on the real one).
# The optimizer state (30 MB) is over what comes back: a CPU run continues from the model file with a fresh optimizer (--init).
# Score it here on valid and test before shipping anything (benchmarks/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

# the network to continue: the shipped default file carries its run's progress
INIT=${INIT:-speech8k-2voices}
NAME=${NAME:-speech8k-2voices-gpu}
MINUTES=${MINUTES:-6}        # of training, after about a minute of loading
LR=${LR:-3e-4}
BATCH=${BATCH:-32}
WORKERS=${WORKERS:-$(( $(nproc) > 14 ? 12 : $(nproc) - 2 ))}
DEVICE=${DEVICE:-cuda}     # cpu: try this script on the session's machine
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT"

if [ ! -d .gpu/whl ] || [ ! -f .gpu/data/PACKED.md ]; then
    echo "no .gpu/ here: run 'python benchmarks/gpu_pack.py' on the session's machine and" \
         "name .gpu in the device call's carry" >&2
    exit 2
fi
# what the GPU image lacks, from the carried wheels (Python 3.12, x86-64)
python3 -c "import soundfile, pyroomacoustics, skorch" 2>/dev/null \
    || python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --upgrade --target /tmp/site .gpu/whl/*.whl
export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true

# the cosine schedule spans this run alone (--new-schedule, --hours); valid
# every minute, on the packed valid splits (whole)
python3 benchmarks/train_voices.py --data .gpu/data --init "$INIT" --name "$NAME" \
    --checkpoints "$OUT" --device "$DEVICE" --bf16 auto --threads 2 --workers "$WORKERS" \
    --batch-size "$BATCH" --lr "$LR" --new-schedule \
    --hours "$(python3 -c "print(($MINUTES + 0.5) / 60)")" --minutes "$MINUTES" \
    --warmup-minutes 0.3 --valid-minutes 1 --save-minutes 100 \
    --p-libri 0.6 --p-so 0.15 --p-noise 0.4 --p-single 0.05 --p-reverb 0.3 \
    --p-same-sex 0.3 --criterion libri+noise+conv --save-last "$@" 2>&1 | tee "$OUT/train_voices_gpu.log"
ls -l "$OUT"   # <NAME>.best.pt only where valid improved on the start; <NAME>.last.pt always
