"""repair_photo on small real images made here with Pillow (HEIC with pillow-heif, local.media.heic): every
output is a JPEG that passes the project's image probe and functions.posting.rules.check_photo, upright,
opaque, without EXIF."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from functions.posting.media_probe import ImageProbe, probe_image
from functions.posting.rules import check_photo
from functions.repair import photo
from functions.repair.photo import repair_photo
from functions.repair.plan import plan_photo_repair
from functions.repair.results import RepairOutcome, RepairRefusedError
from local.media import heic

REPO = Path(__file__).resolve().parents[3]
RED, BLUE, WHITE = (220, 20, 20), (20, 20, 220), (255, 255, 255)


def encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def repair(data: bytes) -> tuple[RepairOutcome, Image.Image, bytes]:
    probe = probe_image(lambda start, end: data[start : end + 1], len(data))
    plan = plan_photo_repair(probe, len(data))
    assert plan.needed
    target = io.BytesIO()
    outcome = repair_photo(io.BytesIO(data), target, plan)
    output = target.getvalue()
    written = probe_image(lambda start, end: output[start : end + 1], len(output))
    check_photo("repaired", written, len(output))
    assert written == ImageProbe("jpeg", outcome.width, outcome.height)
    assert outcome.size == len(output)
    image = Image.open(io.BytesIO(output))
    assert image.mode == "RGB"
    assert not image.getexif()  # no orientation left to turn the picture again, no camera data
    assert "icc_profile" not in image.info  # sRGB, untagged
    return outcome, image, output


def near(pixel: object, colour: tuple[int, int, int], tolerance: int = 12) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def test_a_png_with_transparency_is_flattened_on_white_and_scaled_to_1080p() -> None:
    image = Image.new("RGBA", (1200, 1600), (0, 0, 0, 0))
    image.paste((*RED, 255), (0, 0, 600, 1600))  # left half opaque red, right half transparent
    outcome, output, _ = repair(encode(image, "PNG"))
    assert [str(change) for change in outcome.changes] == ["PNG -> JPEG 1080x1440"]
    assert output.size == (1080, 1440)
    assert near(output.getpixel((200, 700)), RED)
    assert near(output.getpixel((900, 700)), WHITE)


def test_a_gif_keeps_its_first_frame() -> None:
    frames = [Image.new("RGB", (400, 300), colour) for colour in (BLUE, RED)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    outcome, output, _ = repair(data)
    assert [str(change) for change in outcome.changes] == ["GIF -> JPEG 400x300"]
    assert near(output.getpixel((200, 150)), BLUE)


def test_a_bmp_becomes_a_jpeg_of_the_same_size() -> None:
    outcome, output, _ = repair(encode(Image.new("RGB", (800, 600), RED), "BMP"))
    assert [str(change) for change in outcome.changes] == ["BMP -> JPEG 800x600"]
    assert output.size == (800, 600)
    assert near(output.getpixel((10, 10)), RED)


def test_exif_orientation_is_applied_and_removed() -> None:
    # Stored landscape 4000x3000 with orientation 6: a camera held upright; shown turned 90° clockwise.
    stored = Image.new("RGB", (4000, 3000), BLUE)
    stored.paste(RED, (0, 0, 400, 400))  # stored top-left: shown top-right once upright
    exif = Image.Exif()
    exif[0x0112] = 6
    outcome, output, _ = repair(encode(stored, "JPEG", exif=exif, quality=80))
    assert [str(change) for change in outcome.changes] == [
        "size 4000x3000 -> 1440x1080",
        "EXIF orientation 6 applied: the picture is upright",
    ]
    assert output.size == (1080, 1440)
    assert near(output.getpixel((1070, 10)), RED)
    assert near(output.getpixel((10, 10)), BLUE)


def test_a_jpeg_over_20_mb_is_re_encoded_under_it() -> None:
    data = encode(Image.new("RGB", (1080, 1920), RED), "JPEG") + bytes(21 * 1024**2)
    outcome, output, written = repair(data)
    assert [str(change) for change in outcome.changes] == ["file 21.0 MB -> under 20.0 MB"]
    assert output.size == (1080, 1920)
    assert len(written) < 1024**2


def test_quality_is_lowered_until_the_jpeg_fits() -> None:
    noise = Image.effect_noise((600, 600), 100).convert("RGB")
    data = encode(noise, "PNG")
    plan = plan_photo_repair(ImageProbe("png", 600, 600), len(data))
    at_90 = len(encode(noise, "JPEG", quality=90, optimize=True))
    small = replace(plan, max_bytes=at_90 - 1)
    target = io.BytesIO()
    repair_photo(io.BytesIO(data), target, small)
    assert len(target.getvalue()) < at_90
    with pytest.raises(RepairRefusedError) as refused:
        repair_photo(io.BytesIO(data), io.BytesIO(), replace(plan, max_bytes=1000))
    assert refused.value.reason == "photo_too_large"


def test_a_webp_beyond_1080p_becomes_a_jpeg() -> None:
    outcome, output, _ = repair(encode(Image.new("RGB", (3000, 2000), RED), "WEBP"))
    assert [str(change) for change in outcome.changes] == ["WebP -> JPEG 1620x1080"]
    assert output.size == (1620, 1080)


def test_an_avif_becomes_a_jpeg() -> None:
    if "AVIF" not in Image.SAVE:
        pytest.skip("this Pillow cannot write AVIF")
    _, output, _ = repair(encode(Image.new("RGB", (1500, 1500), RED), "AVIF"))
    assert output.size == (1080, 1080)
    assert near(output.getpixel((500, 500)), RED, tolerance=20)


def test_a_16_bit_grey_png_keeps_its_brightness() -> None:
    grey = Image.new("I;16", (500, 400), 32768)
    _, output, _ = repair(encode(grey, "PNG"))
    assert near(output.getpixel((250, 200)), (128, 128, 128), tolerance=3)


def test_colour_profiles_and_cmyk_become_plain_srgb() -> None:
    image = Image.new("RGB", (2000, 2000), RED)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    _, output, _ = repair(encode(image, "WEBP", icc_profile=srgb))
    assert near(output.getpixel((100, 100)), RED)
    _, output, _ = repair(encode(Image.new("CMYK", (2000, 2000), (0, 255, 255, 0)), "JPEG"))
    assert near(output.getpixel((100, 100)), (255, 0, 0), tolerance=20)


# orientation -> the corner of the upright picture where the white square, stored top-left, is shown
CORNERS = {1: "top-left", 3: "bottom-right", 6: "top-right", 8: "bottom-left"}


def corner(image: Image.Image, where: str) -> object:
    x = 10 if where.endswith("left") else image.width - 11
    y = 10 if where.startswith("top") else image.height - 11
    return image.getpixel((x, y))


@pytest.mark.parametrize("orientation", sorted(CORNERS))
def test_a_heic_from_a_phone_becomes_an_upright_jpeg(
    monkeypatch: pytest.MonkeyPatch, orientation: int
) -> None:
    """The probe reads the coded size (1600x1200); the decoder turns the pixels as the file says."""
    monkeypatch.setattr(photo, "HEIF_DECODERS", ("pi_heif",))  # the decoder the repair layer ships
    data = heic(width=1600, height=1200, orientation=orientation, colour=BLUE)
    outcome, output, _ = repair(data)
    assert Image.OPEN["HEIF"][0].__module__.startswith("pi_heif.")
    turned = orientation in (6, 8)
    assert [str(change) for change in outcome.changes] == [
        "HEIC -> JPEG 1440x1080",
        *([f"EXIF orientation {orientation} applied: the picture is upright"] if orientation != 1 else []),
    ]
    assert output.size == ((1080, 1440) if turned else (1440, 1080))
    assert (outcome.width, outcome.height) == output.size
    for where in CORNERS.values():
        assert near(corner(output, where), WHITE if where == CORNERS[orientation] else BLUE, 24), where


def test_the_heif_decoder_is_loaded_by_the_first_heic_only(tmp_path: Path) -> None:
    (tmp_path / "photo.heic").write_bytes(heic(width=1600, height=1200))
    (tmp_path / "photo.png").write_bytes(encode(Image.new("RGB", (1600, 1200), RED), "PNG"))
    code = (
        "import io, json, sys\n"
        "from functions.posting.media_probe import probe_image\n"
        "from functions.repair.photo import repair_photo\n"
        "from functions.repair.plan import plan_photo_repair\n"
        "def loaded(name):\n"
        f"    data = open({str(tmp_path)!r} + '/' + name, 'rb').read()\n"
        "    plan = plan_photo_repair(probe_image(lambda s, e: data[s : e + 1], len(data)), len(data))\n"
        "    repair_photo(io.BytesIO(data), io.BytesIO(), plan)\n"
        "    return [m for m in ('pi_heif', 'pillow_heif') if m in sys.modules]\n"
        "print(json.dumps([loaded('photo.png'), loaded('photo.heic')]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == [[], ["pi_heif"]]


def test_an_avif_branded_mif1_is_not_taken_for_heic(monkeypatch: pytest.MonkeyPatch) -> None:
    """The HEIF plugin claims every file of major brand mif1; once registered (a warm function that repaired
    a HEIC) it comes before Pillow's AVIF plugin when that is loaded later."""
    repair(heic(width=1600, height=1200))
    monkeypatch.setattr(Image, "ID", sorted(Image.ID, key=lambda plugin: plugin != "HEIF"))
    avif = bytearray(encode(Image.new("RGB", (1500, 1500), RED), "AVIF"))
    assert avif[8:12] == b"avif"
    avif[8:12] = b"mif1"  # a major brand other writers use, with avif among the compatible brands
    _, output, _ = repair(bytes(avif))
    assert output.size == (1080, 1080)
    assert near(output.getpixel((500, 500)), RED, tolerance=20)


def test_heic_without_a_decoder_is_refused_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(photo, "HEIF_DECODERS", ("no_such_heif_decoder",))
    monkeypatch.setattr(Image, "ID", [plugin for plugin in Image.ID if plugin != "HEIF"])
    monkeypatch.delitem(Image.OPEN, "HEIF", raising=False)  # as if no decoder had ever been registered
    ftyp = struct.pack(">I4s4sI8s", 24, b"ftyp", b"heic", 0, b"mif1heic")
    ispe = b"\x00" * 200
    data = ftyp + ispe
    plan = plan_photo_repair(ImageProbe("heic", 4032, 3024), len(data))
    with pytest.raises(RepairRefusedError) as refused:
        repair_photo(io.BytesIO(data), io.BytesIO(), plan)
    assert refused.value.reason == "photo_format_unsupported"
    assert "HEIC" in refused.value.detail


@pytest.mark.parametrize("cut", [0.5, 0.05])
def test_a_truncated_photo_is_refused(cut: float) -> None:
    data = encode(Image.effect_noise((1200, 1200), 80).convert("RGB"), "PNG")
    plan = plan_photo_repair(ImageProbe("png", 1200, 1200), len(data))
    target = io.BytesIO()
    with pytest.raises(RepairRefusedError) as refused:
        repair_photo(io.BytesIO(data[: int(len(data) * cut)]), target, plan)
    assert refused.value.reason == "photo_unreadable"
    assert target.getvalue() == b""


def test_a_plan_needing_nothing_is_a_mistake() -> None:
    data = encode(Image.new("RGB", (100, 100), RED), "JPEG")
    plan = plan_photo_repair(ImageProbe("jpeg", 100, 100), len(data))
    with pytest.raises(ValueError, match="needs no repair"):
        repair_photo(io.BytesIO(data), io.BytesIO(), plan)
