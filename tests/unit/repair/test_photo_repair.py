"""repair_photo on small real images made here with Pillow: every output is a JPEG that passes the
project's image probe and functions.posting.rules.check_photo, upright, opaque, without EXIF."""

from __future__ import annotations

import io
import struct
from dataclasses import replace

import pytest
from PIL import Image, ImageCms

from functions.posting.media_probe import ImageProbe, probe_image
from functions.posting.rules import check_photo
from functions.repair import photo
from functions.repair.photo import repair_photo
from functions.repair.plan import plan_photo_repair
from functions.repair.results import RepairOutcome, RepairRefusedError

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


def test_heic_without_a_decoder_is_refused_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(photo, "HEIF_DECODERS", ("no_such_heif_decoder",))
    ftyp = struct.pack(">I4s4sI8s", 24, b"ftyp", b"heic", 0, b"mif1heic")
    ispe = b"\x00" * 200
    data = ftyp + ispe
    plan = plan_photo_repair(ImageProbe("heic", 4032, 3024), len(data))
    if "HEIF" in Image.OPEN:
        pytest.skip("a HEIF decoder is registered with Pillow in this environment")
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
