"""Time and peak memory of rendering the full set of renditions of a 24-megapixel photo.

    .venv/bin/python bench/renditions.py                    # a synthetic 6000 x 4000 photo
    .venv/bin/python bench/renditions.py --photo some.jpg   # a real photo, scaled to 24 MP
    .venv/bin/python bench/renditions.py --rounds 5

Each measurement runs in a fresh child process, so that its peak memory (RSS) is that of the
work alone plus Python and Django, which the child also reports on their own. The set is
rendered as the site does it (``explainers.renditions.render``: JPEG ``draft()`` decoding at a
reduced scale, ``reduce()`` before the Lanczos filter) and, as the same-run baseline, with a
full-size decode. Rounds alternate the two, so a busy spell of a shared machine weighs on both.

Target: peak RSS under 500 MB. Exit status 0 when met, 1 when not.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = (6000, 4000)
TARGET_MB = 500


def make_photo(path: Path, source: str | None) -> None:
    """A 24 MP JPEG at quality 90: a real photo scaled up with grain, or synthetic detail."""
    from PIL import Image, ImageFilter

    if source:
        with Image.open(source) as original:
            image = original.convert("RGB").resize(SIZE, Image.Resampling.LANCZOS)
    else:
        # Detail at every scale, like a photo's: a Mandelbrot set, coloured, plus gradients.
        fractal = Image.effect_mandelbrot((1500, 1000), (-2.2, -1.2, 0.8, 1.2), 200)
        fractal = fractal.resize(SIZE, Image.Resampling.BICUBIC)
        image = Image.merge(
            "RGB",
            (fractal, Image.linear_gradient("L").resize(SIZE), fractal.rotate(180)),
        )
    # Grain, as a camera sensor gives: a JPEG of a smooth picture decodes unrealistically fast.
    grain = Image.effect_noise(SIZE, 24).filter(ImageFilter.GaussianBlur(0.6))
    image = Image.blend(image, Image.merge("RGB", (grain, grain, grain)), 0.25)
    image.save(path, "JPEG", quality=90)


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM starts afresh at exec, unlike ru_maxrss,
    which on Linux carries the parent's peak over into the child."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, path: str) -> None:
    """Render the set once and print seconds, files, bytes and peak RSS as JSON."""
    if mode == "make":
        make_photo(Path(path), os.environ.get("BENCH_PHOTO") or None)
        return
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
    import django

    django.setup()
    from explainers import renditions

    before = peak_rss_mb()
    start = time.perf_counter()
    made = list(
        renditions.render(
            path,
            focal_x=60,
            focal_y=40,
            credit="Bench / Agency",
            ai_generated=True,
            use_draft=mode == "draft",
        )
    )
    seconds = time.perf_counter() - start
    peak = peak_rss_mb()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "files": len(made),
                "bytes": sum(len(f.data) for f in made),
                "peak_mb": peak,
                "startup_mb": before,
            }
        )
    )


def measure(mode: str, path: Path) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photo", help="a real photo to scale to 24 MP (default: synthetic)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "photo-24mp.jpg"
        # In a child too, so that this process stays small.
        subprocess.run(
            [sys.executable, __file__, "--child", "make", str(path)],
            check=True,
            env={**os.environ, "BENCH_PHOTO": args.photo or ""},
        )
        print(f"photo: {SIZE[0]} x {SIZE[1]} JPEG, {path.stat().st_size / 1e6:.1f} MB")
        results = {"draft": [], "full": []}
        for round_number in range(1, args.rounds + 1):
            for mode in ("draft", "full") if round_number % 2 else ("full", "draft"):
                result = measure(mode, path)
                results[mode].append(result)
                print(
                    f"round {round_number} {mode:5}: {result['seconds']:.2f} s, "
                    f"{result['files']} files, {result['bytes'] / 1e6:.2f} MB written, "
                    f"peak RSS {result['peak_mb']:.0f} MB "
                    f"(Python and Django alone {result['startup_mb']:.0f} MB)"
                )

    def median(mode, key):
        return statistics.median(r[key] for r in results[mode])

    draft_s, full_s = median("draft", "seconds"), median("full", "seconds")
    draft_mb, full_mb = (
        max(r["peak_mb"] for r in results["draft"]),
        max(r["peak_mb"] for r in results["full"]),
    )
    print(
        f"\nsite (draft + reduce): median {draft_s:.2f} s, peak RSS {draft_mb:.0f} MB\n"
        f"baseline (full decode): median {full_s:.2f} s, peak RSS {full_mb:.0f} MB\n"
        f"ratio site/baseline: time {draft_s / full_s:.2f}x, memory {draft_mb / full_mb:.2f}x"
    )
    met = draft_mb < TARGET_MB
    print(f"target peak RSS < {TARGET_MB} MB: {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
