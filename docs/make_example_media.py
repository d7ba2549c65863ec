#!/usr/bin/env python3
"""Make the media of the example podcast in episodes/: a stand-in episode MP3 and the show artwork.

The real Coffee Sessions #29 recording is not ours to ship, so the example carries a placeholder
with the same shape: an MP3 as long as the real episode, in which each chapter title from the
episode's "Timestamps:" block is spoken (espeak-ng) at the moment that chapter starts, followed by
silence until the next one. Any player that shows chapters can thus be checked by ear.

The chapter list is read from episodes/coffee-sessions-29/episode.md, the same text feedtool reads,
so the audio and the show notes cannot drift apart.

Everything is fixed (voice, rates, bitrate, colours, JPEG settings) and the encoders are told not to
write dates or tags, so a re-run on the same tool versions gives byte-identical files.

Run from the project root:

    .venv/bin/python docs/make_example_media.py

Needs espeak-ng, sox and lame on PATH (Debian: apt-get install espeak-ng sox lame) and Pillow.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EPISODES = ROOT / "episodes"
EPISODE_DIR = EPISODES / "coffee-sessions-29"
EPISODE_MD = EPISODE_DIR / "episode.md"
AUDIO_OUT = EPISODE_DIR / "coffee-sessions-29.mp3"
ARTWORK_OUT = EPISODES / "artwork.jpg"

# Audio: 16 kHz mono, 8 kbit/s CBR MPEG-2 Layer III -> about 2.9 MB for 48.5 minutes.
SAMPLE_RATE = 16_000
BITRATE_KBPS = 8
TOTAL_S = 48 * 60 + 30  # a little past the last chapter (48:03), so it has room to be heard
VOICE = "en-us"
WORDS_PER_MINUTE = 165

# Artwork: square RGB JPEG, the size Apple asks for at minimum.
ART_SIZE = 1400
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts"))

TIMESTAMP = re.compile(r"\[(?:(\d+):)?(\d{1,2}):(\d{2})\]")

# espeak-ng reads "MLOps" as one odd word; spell the acronym out for the ear only.
SAY_INSTEAD = {"MLOps": "M L Ops", "1st": "first"}


def read_chapters(markdown: str) -> list[tuple[int, str]]:
    """(start second, title) for every [mm:ss] in the block that follows a "Timestamps:" line.

    The block ends at the first blank line. One line may hold several timestamps; each starts a
    chapter whose title runs to the next timestamp.
    """
    lines = markdown.splitlines()
    try:
        first = next(i for i, line in enumerate(lines) if line.strip() == "Timestamps:") + 1
    except StopIteration:
        sys.exit(f"{EPISODE_MD}: no 'Timestamps:' line found")
    chapters: list[tuple[int, str]] = []
    for line in lines[first:]:
        if not line.strip():
            break
        marks = list(TIMESTAMP.finditer(line))
        for n, mark in enumerate(marks):
            hours, minutes, seconds = (int(g) if g else 0 for g in mark.groups())
            end = marks[n + 1].start() if n + 1 < len(marks) else len(line)
            chapters.append((hours * 3600 + minutes * 60 + seconds, line[mark.end() : end].strip()))
    starts = [start for start, _ in chapters]
    if not chapters or starts != sorted(starts) or starts[0] != 0:
        sys.exit(f"{EPISODE_MD}: timestamps must start at 00:00 and rise, got {starts}")
    return chapters


def spoken_text(number: int, title: str) -> str:
    """What the voice says at a chapter start: its number, then its title without quote marks."""
    text = title.replace('"', "")
    for written, said in SAY_INSTEAD.items():
        text = text.replace(written, said)
    return f"Chapter {number}. {text}"


def speak(text: str) -> bytes:
    """The text as raw signed 16-bit little-endian mono PCM at SAMPLE_RATE.

    sox runs with -D (no dither) and -R (fixed random seed): its default dither is random noise,
    which would make every run's audio differ.
    """
    wav = subprocess.run(
        ["espeak-ng", "-v", VOICE, "-s", str(WORDS_PER_MINUTE), "--stdout", text],
        check=True, capture_output=True,
    ).stdout
    return subprocess.run(
        ["sox", "-D", "-R", "-t", "wav", "-", "-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1",
         "-L", "-r", str(SAMPLE_RATE), "-", "norm", "-3"],
        input=wav, check=True, capture_output=True,
    ).stdout


def make_audio(chapters: list[tuple[int, str]], out: Path) -> None:
    """Speak each title at its start, pad with silence, and encode the whole once with lame.

    PCM goes to lame's stdin; lame writes its Xing/Info header (frame count, encoder delay) into
    the output file so players and mutagen read the exact duration. No ID3 tag is written: tags
    are feedtool's job (it tags its own copy in public/).
    """
    bytes_per_s = SAMPLE_RATE * 2
    ends = [start for start, _ in chapters[1:]] + [TOTAL_S]
    tmp = tempfile.NamedTemporaryFile(dir=out.parent, prefix=".tmp-", suffix=".mp3", delete=False)
    tmp.close()
    # lame's stderr goes to a file, not a pipe (a full pipe could stall it while we feed stdin);
    # it is shown only if lame fails, which hides its harmless libsndfile note about raw input.
    log = tempfile.TemporaryFile()
    try:
        lame = subprocess.Popen(
            ["lame", "--quiet", "-r", "-s", str(SAMPLE_RATE / 1000), "--bitwidth", "16",
             "--signed", "--little-endian", "-m", "m", "-b", str(BITRATE_KBPS), "--cbr",
             "--resample", str(SAMPLE_RATE / 1000), "--noreplaygain", "-q", "2", "-", tmp.name],
            stdin=subprocess.PIPE, stderr=log,
        )
        assert lame.stdin is not None
        for number, ((start, title), end) in enumerate(zip(chapters, ends), 1):
            pcm = speak(spoken_text(number, title))
            room = (end - start) * bytes_per_s
            if len(pcm) > room:
                sys.exit(f"chapter {number} ({title!r}) takes longer to say than it lasts")
            lame.stdin.write(pcm)
            lame.stdin.write(bytes(room - len(pcm)))
        lame.stdin.close()
        if lame.wait() != 0:
            log.seek(0)
            sys.exit(f"lame failed: {log.read().decode(errors='replace')}")
        os.chmod(tmp.name, 0o644)  # NamedTemporaryFile makes it private; it is a public asset
        os.replace(tmp.name, out)
    finally:
        log.close()
        if os.path.exists(tmp.name):
            os.unlink(tmp.name)


def find_font(name: str) -> Path | None:
    for folder in FONT_DIRS:
        hits = sorted(folder.rglob(name)) if folder.is_dir() else []
        if hits:
            return hits[0]
    return None


def make_artwork(out: Path) -> None:
    """A calm cover: deep teal-to-ink gradient, a coffee cup, the show name and the episode line."""
    from PIL import Image, ImageDraw, ImageFont

    size = ART_SIZE
    top, bottom = (18, 78, 92), (14, 22, 38)
    gradient = Image.new("RGB", (1, size))
    for y in range(size):
        t = y / (size - 1)
        gradient.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))
    image = gradient.resize((size, size), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(image)

    bold_path, regular_path = find_font("DejaVuSans-Bold.ttf"), find_font("DejaVuSans.ttf")

    def font(path: Path | None, px: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
        if path is not None:
            return ImageFont.truetype(str(path), px)
        return ImageFont.load_default(size=px)  # Pillow >= 10.1 scales its built-in font

    cream, amber, mist = (246, 238, 222), (236, 170, 84), (170, 205, 210)

    # Coffee cup: body, handle, saucer, three lines of steam.
    cx, cy = size // 2, 470
    draw.rounded_rectangle((cx - 170, cy - 110, cx + 170, cy + 150), radius=60, fill=cream)
    draw.rectangle((cx - 170, cy - 110, cx + 170, cy - 40), fill=cream)
    draw.ellipse((cx + 120, cy - 60, cx + 260, cy + 80), outline=cream, width=34)
    draw.rounded_rectangle((cx - 250, cy + 160, cx + 250, cy + 195), radius=18, fill=cream)
    draw.ellipse((cx - 145, cy - 130, cx + 145, cy - 85), fill=(92, 58, 36))
    for dx in (-80, 0, 80):
        x = cx + dx
        draw.arc((x - 40, cy - 330, x + 40, cy - 250), start=90, end=270, fill=mist, width=16)
        draw.arc((x - 40, cy - 250, x + 40, cy - 170), start=270, end=90, fill=mist, width=16)

    def centred(text: str, y: int, face, fill) -> None:
        width = draw.textlength(text, font=face)
        draw.text(((size - width) / 2, y), text, font=face, fill=fill)

    centred("MLOps Community", 760, font(bold_path, 104), cream)
    centred("Coffee Sessions", 880, font(regular_path, 96), amber)
    draw.line((size // 2 - 260, 1030, size // 2 + 260, 1030), fill=mist, width=6)
    centred("#29  Culture & Architecture", 1080, font(bold_path, 70), cream)
    centred("with Jet Basrawi", 1185, font(regular_path, 62), mist)

    tmp = out.with_name(f".tmp-{out.name}")
    image.save(tmp, "JPEG", quality=88, optimize=True, progressive=False, subsampling="4:2:0")
    os.replace(tmp, out)


def main() -> None:
    for tool in ("espeak-ng", "sox", "lame"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found on PATH (Debian: apt-get install espeak-ng sox lame)")
    chapters = read_chapters(EPISODE_MD.read_text(encoding="utf-8"))
    make_audio(chapters, AUDIO_OUT)
    make_artwork(ARTWORK_OUT)
    for path in (AUDIO_OUT, ARTWORK_OUT):
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes)")
    print(f"{len(chapters)} chapters, {TOTAL_S // 60}:{TOTAL_S % 60:02d} long")


if __name__ == "__main__":
    main()
