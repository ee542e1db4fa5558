"""The only place ffmpeg command lines are built.

Every tier (Ogg Vorbis, MP3, AAC in ADTS, Ogg Opus) is encoded with bit-exact muxing, so the same source
and tier give the same bytes whether they come from a pre-transcode, an on-the-fly transcode fed through stdin, or a
transcode read from the file: one ETag can name all three.
"""

from __future__ import annotations

import shutil

__all__ = [
    "ARGV_VERSION", "PCM_CHANNELS", "PCM_RATE", "PIPE_INPUT_FORMATS", "decode_argv", "ffmpeg_binary", "nice_prefix",
    "sink_argv", "tier_argv", "tiers_argv",
]

# Bump when the output of `tier_argv` changes: it is part of every cache key and ETag.
ARGV_VERSION = "1"

# Formats ffmpeg demuxes from a pipe without seeking. MP4/M4A usually keeps its index (moov) at the
# end and then needs a seekable input; the transcoder checks that case per file.
PIPE_INPUT_FORMATS = frozenset({"mp3", "flac", "ogg", "oga", "opus", "wav", "aiff", "m4a", "mp4", "alac"})


def ffmpeg_binary(configured: str = "ffmpeg") -> str:
    """The ffmpeg executable to run; raises FileNotFoundError naming what was looked for."""
    exe = shutil.which(configured)
    if exe is None:
        raise FileNotFoundError(f"ffmpeg not found: {configured!r} (install ffmpeg or set transcode.ffmpeg)")
    return exe


def nice_prefix() -> list[str]:
    """`nice -n 19` when the `nice` program exists: background transcodes yield the CPU to requests."""
    exe = shutil.which("nice")
    return [exe, "-n", "19"] if exe else []


# Per codec: encoder, muxer and extra muxer options. MP3 gets no ID3 tag and no Xing header (a pipe
# cannot go back to fill it in); Opus only takes 48 kHz.
_CODECS: dict[str, tuple[str, str, list[str]]] = {
    "vorbis": ("libvorbis", "ogg", []),
    "mp3": ("libmp3lame", "mp3", ["-id3v2_version", "0", "-write_xing", "0"]),
    "aac": ("aac", "adts", []),
    "opus": ("libopus", "ogg", []),
}


# One decoding thread: by default ffmpeg gives a decoder that has frame threads (FLAC, ALAC) one per core
# and more, though decoding is a small share of an encode's CPU; the extra threads cost every encoder
# about 0.4 MiB (4 threads against 1, measured). The output bytes are the same.
_DECODE_THREADS = ["-threads", "1"]


def _output(bitrate_kbps: int, output: str, threads: int, flush: bool, codec: str = "vorbis") -> list[str]:
    encoder, muxer, extra = _CODECS[codec]
    rates = "48000" if codec == "opus" else "44100|48000"
    out = [
        "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-threads", str(threads),
        # libvorbis refuses high bitrates for mono or low sample rates (320k mono 44.1 kHz, 160k at
        # 22 kHz): encode stereo at 44.1 or 48 kHz, whichever is nearer the source.
        "-af", f"aformat=sample_rates={rates}:channel_layouts=stereo",
        "-c:a", encoder, "-b:a", f"{bitrate_kbps}k",
        # Bit-exact: fixed Ogg serial numbers and no encoder version string, so outputs are reproducible.
        "-fflags", "+bitexact", "-flags:a", "+bitexact",
        *extra,
    ]
    if flush:
        out += ["-flush_packets", "1"]  # each page leaves at once: a listener gets the first bytes sooner
    return [*out, "-f", muxer, "-y", output]


def tier_argv(
    binary: str,
    bitrate_kbps: int,
    *,
    source: str | None = None,
    time_offset: float = 0.0,
    output: str = "pipe:1",
    threads: int = 1,
    codec: str = "vorbis",
) -> list[str]:
    """ffmpeg arguments that encode `source` (a path; None = read stdin) to `codec` at `bitrate_kbps`.

    `time_offset` seeks the input first (fast seek on a file, decode-and-drop on a pipe). `output` is a
    path or `pipe:1`; packets are flushed as they are muxed so the first page reaches a listener at once.
    """
    argv = [binary, "-hide_banner", "-nostats", "-loglevel", "error"]
    if source is not None:
        argv.append("-nostdin")
    if time_offset > 0:
        argv += ["-ss", f"{time_offset:.3f}"]
    argv += [*_DECODE_THREADS, "-i", source if source is not None else "pipe:0"]
    return argv + _output(bitrate_kbps, output, threads, flush=True, codec=codec)


def tiers_argv(binary: str, source: str, outputs: list[tuple[int, str]], threads: int = 1) -> list[str]:
    """ffmpeg arguments that decode `source` once and write one Ogg Vorbis file per (bitrate, path).

    One process for all of a track's tiers: for short tracks ffmpeg's start-up (~50 ms) costs more
    than the encode, so the background transcoder pays it once per track, not once per tier.
    """
    argv = [binary, "-hide_banner", "-nostats", "-loglevel", "error", "-nostdin", *_DECODE_THREADS, "-i", source]
    for bitrate, path in outputs:
        argv += _output(bitrate, path, threads, flush=False)
    return argv


PCM_RATE = 44_100  # the speaker's sample rate and format between its decoders and its sound output
PCM_CHANNELS = 2
_PCM = ["-f", "s16le", "-ar", str(PCM_RATE), "-ac", str(PCM_CHANNELS)]


def decode_argv(binary: str, url: str, *, headers: str = "", start_ms: int = 0) -> list[str]:
    """ffmpeg arguments that decode `url` from `start_ms` to raw PCM (s16le, 44.1 kHz stereo) on stdout, as
    fast as the reader takes it: the speaker paces, mixes volume and counts samples itself."""
    argv = [binary, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"]
    if start_ms > 0:
        argv += ["-ss", f"{start_ms / 1000:.3f}"]
    if headers:
        argv += ["-headers", headers]
    if url.startswith(("http://", "https://")):
        # A server that restarts or a dropped connection: ffmpeg picks up where it was (a Range request).
        argv += ["-reconnect", "1", "-reconnect_on_network_error", "1", "-reconnect_delay_max", "30"]
    return [*argv, "-i", url, "-map", "0:a:0", "-vn", *_PCM, "pipe:1"]


def sink_argv(binary: str, sink: str = "default") -> list[str]:
    """ffmpeg arguments that play raw PCM from stdin (`decode_argv`'s format) on a sound output: `pulse`,
    `alsa`, or `default` (PulseAudio when a server is reachable, else ALSA's default device)."""
    if sink == "default":
        sink = "pulse" if shutil.which("pactl") else "alsa"
    return [binary, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", *_PCM, "-i", "pipe:0",
            "-f", sink, "default"]
