"""Benchmark: re-tagging a 100 MB MP3 on SeaweedFS without its master (issue 10.4, goal (c)).

Side by side in one run, on one SeaweedFS (``weed mini`` on 127.0.0.1), medians of ``--runs``:

- copy:     ``S3Target.compose``: the new head + 5 MiB uploaded, the rest copied inside the bucket
            (multipart UploadPartCopy with a source range);
- fallback: the same with UploadPartCopy refused (a proxy answers 501 NotImplemented to it), so
            the range is streamed down and the copy up again;
- baseline: uploading the whole new copy from a local file (``S3Target.put_file``: what a machine
            with the master publishes today).

Bytes sent and received are counted outside feedtool, by tests/fault_proxy.py in front of the
server (one extra run per path); the times are measured without the proxy, except for the
fallback, which needs it.

    .venv/bin/python bench/bench_retag.py                 # 100 MB, 3 runs
    .venv/bin/python bench/bench_retag.py --mb 30 --runs 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from fault_proxy import FaultProxy
from seaweed_server import ACCESS_KEY, SECRET_KEY, start_seaweed

from feedtool.storage import Composition, S3Location, S3Target, headers_for

MIB = 1024 * 1024
SOURCE_KEY = "ep-1/ep-1-99887766.mp3"
HEAD_SIZE = 60_000  # an ID3 tag with a 55 KB cover and chapters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=100, help="size of the episode in MB (10^6 bytes)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                       "AWS_DEFAULT_REGION": "us-east-1"})
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        os.environ.pop(name, None)
    size = args.mb * 1000 * 1000
    source = os.urandom(size)
    head = os.urandom(HEAD_SIZE)
    composition = Composition(head, SOURCE_KEY, size, 35_000, size - 128, b"TAG" + bytes(125))
    server = start_seaweed()
    proxy = FaultProxy(server.endpoint_url).start()
    try:
        client = server.client()
        client.create_bucket(Bucket="bench")
        client.put_object(Bucket="bench", Key="show/" + SOURCE_KEY, Body=source)
        with tempfile.TemporaryDirectory() as folder:
            whole = Path(folder) / "new.mp3"
            whole.write_bytes(head + source[composition.start:composition.end] + composition.tail)

            def target(endpoint: str) -> S3Target:
                return S3Target(S3Location("bench", "show/"), endpoint_url=endpoint, addressing_style="path")

            def copy(endpoint: str, n: int) -> str:
                made = target(endpoint).compose(f"ep-1/copy-{n}.mp3", composition, headers_for("x.mp3"))
                return made.path

            def fallback(endpoint: str, n: int) -> str:
                proxy.fail("PUT", r"uploadId=", header="x-amz-copy-source-range", status=501,
                           code="NotImplemented", times=1)
                made = target(proxy.endpoint_url).compose(f"ep-1/fallback-{n}.mp3", composition, headers_for("x.mp3"))
                return made.path

            def baseline(endpoint: str, n: int) -> str:
                t = target(endpoint)
                try:
                    t.put_file(whole, f"ep-1/upload-{n}.mp3", headers_for("x.mp3"), "0" * 64)
                finally:
                    t.close()
                return "upload of the whole copy"

            rows = []
            for name, run in (("copy inside the bucket", copy), ("download and upload (copy refused)", fallback),
                              ("baseline: upload the whole copy", baseline)):
                proxy.reset_counts()
                path = run(proxy.endpoint_url, 0)
                sent, received = proxy.body_bytes_in, proxy.body_bytes_out
                times = []
                for n in range(1, args.runs + 1):
                    started = time.perf_counter()
                    run(server.endpoint_url, n)
                    times.append(time.perf_counter() - started)
                rows.append((name, path, sent, received, statistics.median(times)))
            print(f"re-tagging a {size / 1e6:.0f} MB MP3 on SeaweedFS (head {HEAD_SIZE / 1e3:.0f} KB), "
                  f"medians of {args.runs}")
            print("| path | sent | received | time |")
            print("|---|---|---|---|")
            for name, path, sent, received, seconds in rows:
                print(f"| {name} ({path}) | {sent / 1e6:.1f} MB | {received / 1e6:.1f} MB | {seconds:.2f} s |")
    finally:
        proxy.stop()
        server.stop()


if __name__ == "__main__":
    main()
