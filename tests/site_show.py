"""A show with everything the website shows (for tests/test_site*.py): chapters, notes, people,
a VTT transcript, a JSON transcript, app links, verification; real MP3s made by ffmpeg."""

from __future__ import annotations

from conftest import PodcastFactory

BASE_URL = "https://cdn.example.com/show/"
SITE_YAML = """
  apple_podcasts: https://podcasts.apple.com/us/podcast/test-show/id1234567890
  spotify: https://open.spotify.com/show/4rOoJ6Egrf8K2IrywzwOMk
  verification: {google-site-verification: tok-123}
  rel_me: [https://mastodon.example/@show]"""
VTT = """WEBVTT

NOTE written by hand

cue-1
00:00:00.000 --> 00:00:01.500
<v Ana>Welcome to the show &amp; hello.</v>

00:00:01.500 --> 00:00:03.000
<v Ana>This is the middle part.

00:00:04.000 --> 00:00:05.500
<v Ben>And this is the end!
"""


def full_show(podcast: PodcastFactory) -> PodcastFactory:
    """The conftest's two episodes plus one with a transcript and chapters at 0, 2 and 4 s."""
    podcast.set_show(description='"Fish & chips, 1 < 2, and **bold** talk."', site=SITE_YAML)
    podcast.add("third", title="Third: the <script>alert(1)</script> one", number=3, seconds=6.0,
                notes="Notes with a [link](https://example.org/a?b=1&c=2).\n\n"
                      "[00:00] Welcome\n[00:02] The middle\n[00:04] The end\n",
                extra="""
                      people: [{name: Ana Host, role: host, href: "https://example.org/ana"}, Ben Guest]
                      transcript: transcript.vtt""")
    (podcast.episodes / "third" / "transcript.vtt").write_text(VTT, encoding="utf-8")
    return podcast
