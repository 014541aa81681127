"""Repairing a photo as planned, with Pillow: any format Pillow opens (PNG, GIF's first frame, BMP, AVIF,
JPEG, WebP, and HEIC/HEIF with pi-heif, which the repair layer ships) becomes a baseline JPEG within 1080p
and 20 MB. The HEIF decoder is imported and registered with Pillow only when a HEIC/HEIF photo is repaired.

The pixels are made upright from the EXIF orientation, and no EXIF is written: no orientation tag can
turn them again, and no camera or location data leaves with the post. A HEIC/HEIF photo leaves its decoder
upright already (libheif applies the file's rotation, which a phone's EXIF orientation repeats), while the
probe read its size as coded: it is scaled to the plan's size turned like its pixels. Colours are converted
to sRGB from the embedded ICC profile, which is then dropped (untagged JPEG is read as sRGB); transparency is
flattened on white. A large JPEG is decoded at a reduced scale (Pillow's draft mode), so it never
occupies its full size in memory.
"""

from __future__ import annotations

import importlib
import io
import time
from typing import TYPE_CHECKING, BinaryIO

from PIL import ExifTags, Image, ImageCms

from functions.posting.media_probe import SNIFF_BYTES, sniff
from functions.repair.results import Change, RepairOutcome, RepairRefusedError
from functions.repair.words import megabytes, photo_format_name

if TYPE_CHECKING:
    from functions.repair.results import PhotoRepairPlan

# Decoders that register HEIF with Pillow when installed: pi-heif (the repair layer's) decodes only.
HEIF_DECODERS = ("pi_heif", "pillow_heif")
# The only Pillow plugin tried for the kinds two plugins claim (ISO BMFF images with the brand mif1): the
# HEIF plugin opens an AVIF whose major brand is mif1, then fails for want of an AV1 decoder.
_PLUGINS = {"heic": ("HEIF",), "avif": ("AVIF",)}
_QUALITY_STEP, _LOWEST_QUALITY = 10, 50
# EXIF orientation -> the transpose that makes the pixels upright.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def repair_photo(source: BinaryIO, target: BinaryIO, plan: PhotoRepairPlan) -> RepairOutcome:
    """Write to `target` the source photo repaired as `plan` says; returns what was done and the facts of
    the output. Raises RepairRefusedError for a photo that cannot be decoded, ValueError for a plan that
    needs no repair."""
    if not plan.needed:
        raise ValueError("the plan says this photo needs no repair")
    started = time.monotonic()
    changes = list(plan.changes)
    with _opened(source) as image:
        image.draft(image.mode, (plan.width, plan.height))  # JPEG only: decode at 1/2, 1/4 or 1/8 scale
        loaded = _loaded(image)
        orientation = loaded.getexif().get(ExifTags.Base.Orientation, 1)
        pixels = _upright(_resized(_srgb_on_white(loaded), _turned_like(loaded, plan)), orientation)
        # A HEIF decoder turns the pixels itself, sets the EXIF orientation to 1 and keeps the file's here.
        said = orientation if orientation in _UPRIGHT else loaded.info.get("original_orientation")
    if said in _UPRIGHT:
        changes.append(Change("orientation", f"EXIF orientation {said} applied: the picture is upright"))
    encoded = _jpeg_within(pixels, plan)
    target.write(encoded)
    return RepairOutcome(
        changes=tuple(changes),
        format="jpeg",
        codec=None,
        width=pixels.width,
        height=pixels.height,
        fps=None,
        duration_seconds=None,
        audio_codec=None,
        size=len(encoded),
        seconds=time.monotonic() - started,
    )


def _opened(source: BinaryIO) -> Image.Image:
    source.seek(0)
    kind = sniff(source.read(SNIFF_BYTES))
    source.seek(0)
    if kind == "heic" and not _heif_registered():
        _register_heif_decoder()
        if not _heif_registered():
            raise RepairRefusedError(
                "photo_format_unsupported",
                "the photo is HEIC/HEIF and no HEIF decoder is installed; export it as JPEG and post that",
            )
    try:
        return Image.open(source, formats=_PLUGINS.get(kind))
    except Image.DecompressionBombError as exc:
        raise RepairRefusedError(
            "photo_too_large", f"the photo is too large to decode safely: {exc}"
        ) from exc
    except (OSError, ValueError) as exc:
        raise RepairRefusedError(
            "photo_unreadable", f"the photo cannot be read as {photo_format_name(kind)}: {exc}"
        ) from exc


def _register_heif_decoder() -> None:
    for name in HEIF_DECODERS:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        module.register_heif_opener()
        return


def _heif_registered() -> bool:
    return "HEIF" in Image.OPEN


def _loaded(image: Image.Image) -> Image.Image:
    """The pixels of the frame the file opens at: the first (an animation's), or a HEIF collection's
    primary image; a file cut short or corrupt is refused."""
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise RepairRefusedError(
            "photo_too_large", f"the photo is too large to decode safely: {exc}"
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise RepairRefusedError("photo_unreadable", f"the photo's pixels cannot be read: {exc}") from exc
    return image


def _srgb_on_white(image: Image.Image) -> Image.Image:
    """RGB pixels in sRGB, transparent parts on white."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        image = image.point(lambda value: value / 256).convert("L")  # 16-bit grey to 8-bit
    if image.mode in ("P", "PA", "LA", "La", "RGBa", "1", "F"):
        image = image.convert("RGBA")
    icc = image.info.get("icc_profile")
    if icc:
        image = _to_srgb(image, icc)
    if image.mode == "RGBA":
        white = Image.new("RGB", image.size, "white")
        white.paste(image, mask=image.getchannel("A"))
        return white
    return image.convert("RGB")


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    """The pixels converted from their ICC profile to sRGB; unchanged when the profile is unusable."""
    mode = "RGBA" if image.mode == "RGBA" else "RGB"
    try:
        converted = ImageCms.profileToProfile(
            image, ImageCms.ImageCmsProfile(io.BytesIO(icc)), _SRGB, outputMode=mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: the pixels as they are beat no photo
    return converted if converted is not None else image


def _turned_like(image: Image.Image, plan: PhotoRepairPlan) -> tuple[int, int]:
    """The plan's size, turned when the decoded picture is turned from the size the probe read (a HEIF
    decoder applies the file's rotation)."""
    if (plan.width - plan.height) * (image.width - image.height) < 0:
        return plan.height, plan.width
    return plan.width, plan.height


def _resized(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if image.size == size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    method = _UPRIGHT.get(orientation)
    return image.transpose(method) if method is not None else image


def _jpeg_within(image: Image.Image, plan: PhotoRepairPlan) -> bytes:
    """The JPEG at the plan's quality, lowered step by step while it exceeds the plan's byte limit."""
    quality = plan.quality
    while True:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, optimize=True)
        if buffer.tell() <= plan.max_bytes:
            return buffer.getvalue()
        if quality - _QUALITY_STEP < _LOWEST_QUALITY:
            raise RepairRefusedError(
                "photo_too_large",
                f"the photo is still {megabytes(buffer.tell())} as a JPEG of quality {quality}; "
                f"TikTok accepts up to {megabytes(plan.max_bytes)}",
            )
        quality -= _QUALITY_STEP
