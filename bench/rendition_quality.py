"""How JPEG and WebP quality settings trade bytes for fidelity on real photos.

    .venv/bin/python bench/rendition_quality.py PHOTO_OR_FOLDER [...]

For each photo and each of two widths (480 and 1200 pixels), the photo is resized as the site
resizes it (Lanczos) and encoded at a range of qualities with the site's other options (JPEG:
optimised, progressive; WebP: method 4). Each result is decoded and compared with the resized
picture by SSIM on luma over 8 x 8 blocks (computed with Pillow alone, so no extra package),
and its size recorded. The table shows, per format and quality, the mean SSIM, the worst
photo's SSIM and the total bytes relative to quality 95. The settings in
``explainers/renditions.py`` were chosen from this table (docs/performance.md, "Lead images").

Any photos serve; Debian's ``mate-backgrounds`` package has real ones under
/usr/share/backgrounds/mate/nature/ (``apt-get download mate-backgrounds`` and
``dpkg-deb -x`` it anywhere, no installation needed).
"""

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

from PIL import Image, ImageMath

WIDTHS = (480, 1200)
QUALITIES = {"jpeg": (50, 60, 70, 75, 80, 85, 90, 95), "webp": (50, 60, 70, 75, 80, 85, 90, 95)}
C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


def block_ssim(reference: Image.Image, candidate: Image.Image) -> float:
    """Mean SSIM of luma over non-overlapping 8 x 8 blocks."""
    width, height = (reference.width // 8) * 8, (reference.height // 8) * 8
    x = reference.convert("L").crop((0, 0, width, height)).convert("F")
    y = candidate.convert("L").crop((0, 0, width, height)).convert("F")

    def mean(image):
        return image.resize((width // 8, height // 8), Image.Resampling.BOX)

    def product(a, b):
        return ImageMath.lambda_eval(lambda args: args["a"] * args["b"], a=a, b=b)

    mx, my = mean(x), mean(y)
    xx, yy, xy = mean(product(x, x)), mean(product(y, y)), mean(product(x, y))
    ssim = ImageMath.lambda_eval(
        lambda a: (
            ((a["mx"] * a["my"] * 2 + C1) * ((a["xy"] - a["mx"] * a["my"]) * 2 + C2))
            / (
                (a["mx"] * a["mx"] + a["my"] * a["my"] + C1)
                * ((a["xx"] - a["mx"] * a["mx"]) + (a["yy"] - a["my"] * a["my"]) + C2)
            )
        ),
        mx=mx,
        my=my,
        xx=xx,
        yy=yy,
        xy=xy,
    )
    # The mean of the map (ImageStat bins float images into a histogram: too coarse).
    return ssim.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))


def encode(image: Image.Image, fmt: str, quality: int) -> bytes:
    buffer = io.BytesIO()
    if fmt == "jpeg":
        image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    else:
        image.save(buffer, "WEBP", quality=quality, method=4)
    return buffer.getvalue()


def photos(paths: list[str]) -> list[Path]:
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix.lower() in {".jpg", ".png"})
        else:
            found.append(path)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", help="photos, or folders of .jpg/.png photos")
    args = parser.parse_args()
    files = photos(args.paths)
    if not files:
        print("No photos found.", file=sys.stderr)
        return 2
    print(f"{len(files)} photos, widths {WIDTHS}")
    results = {}  # (fmt, quality) -> list of (ssim, bytes, seconds)
    for path in files:
        with Image.open(path) as original:
            original = original.convert("RGB")
            for width in WIDTHS:
                if width > original.width:
                    continue
                height = round(original.height * width / original.width)
                reference = original.resize((width, height), Image.Resampling.LANCZOS)
                for fmt, qualities in QUALITIES.items():
                    for quality in qualities:
                        start = time.perf_counter()
                        data = encode(reference, fmt, quality)
                        seconds = time.perf_counter() - start
                        decoded = Image.open(io.BytesIO(data))
                        results.setdefault((fmt, quality), []).append(
                            (block_ssim(reference, decoded), len(data), seconds)
                        )
    print(
        f"\n{'format':6} {'quality':>7} {'mean SSIM':>9} {'worst':>6} {'bytes vs q95':>12} "
        f"{'KB/photo':>8} {'ms':>5}"
    )
    for fmt, qualities in QUALITIES.items():
        top = sum(r[1] for r in results[fmt, 95])
        for quality in qualities:
            rows = results[fmt, quality]
            print(
                f"{fmt:6} {quality:7} {statistics.mean(r[0] for r in rows):9.4f} "
                f"{min(r[0] for r in rows):6.3f} {sum(r[1] for r in rows) / top:12.2f} "
                f"{statistics.mean(r[1] for r in rows) / 1024:8.1f} "
                f"{statistics.mean(r[2] for r in rows) * 1000:5.0f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
