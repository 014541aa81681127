"""Media repair: a video or photo that breaks TikTok's rules (functions/posting/rules.py) made into a copy
that follows them, instead of the post being refused.

What it does:
- plan.py plans, from a probe, what to change: a frame rate outside 23-60 fps, a side outside 360-4096 px,
  a codec other than H.264/H.265/VP8/VP9 or a container other than MP4/MOV/WebM (video); a format other
  than JPEG/WebP, a photo over 1080p or 20 MB (photo). Its docstring gives the rules it follows.
- video.py performs a video plan with PyAV: H.264 (yuv420p) in MP4 with the index at the front, frame rate
  and size converted frame by frame, rotation and audio kept (audio re-encoded to AAC when MP4 cannot carry
  it as TikTok expects); or a remux without re-encoding when only the container is wrong.
- photo.py performs a photo plan with Pillow: a JPEG within 1080p and 20 MB, upright (EXIF orientation
  applied), transparency on white, in sRGB.
- sources.py reads with PyAV the facts a plan needs (read_video_facts), including for containers the
  project's probe does not parse (AVI, FLV, MPEG-TS) and the audio codec it does not report.

What it does not do: cut a video that is too long, crop or pad a picture whose proportions cannot fit
360-4096 px, guess a frame rate or duration nobody can read, tone-map HDR (10-bit sources become 8-bit
with their colour tags kept), keep more than one video and one audio stream, subtitles or chapters,
or keep a photo's EXIF (camera, place). Those are refused (RepairRefusedError) or dropped.

It only plans and converts file objects: reading from and writing to S3, and deciding when to repair,
belong to the caller.

Import from the modules, not from this package: plan.py, results.py and words.py need neither PyAV nor
Pillow, so a step that only decides whether to repair can run where they are not installed; sources.py
and video.py need PyAV, photo.py Pillow.

    facts = read_video_facts(source)
    plan = plan_video_repair(facts.probe, max_duration_seconds=600, audio_codec=facts.audio_codec)
    if plan.needed:
        outcome = repair_video(source, target, plan)
"""
