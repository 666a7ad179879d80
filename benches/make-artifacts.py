#!/usr/bin/env python3
"""make-artifacts.py — build benchmark artifacts deterministically (same bytes every run,
on any machine; Python 3 standard library only).

    python3 benches/make-artifacts.py OUT [--scale N]

writes into OUT:
  image.tar        a `docker save` archive (legacy layout: manifest.json, <id>/layer.tar,
                   uncompressed layers, as `docker save` writes them): 8 layers of a
                   realistic application image — source trees, docs, JSON/YAML configs,
                   minified JS, incompressible binaries, gzipped logs, jars holding
                   .properties — about 75 MB per layer at --scale 1 (600 MB in all)
  image-oci.tar    the same image as an OCI layout in a tar with gzip-compressed layers
  release.tar.gz   a release archive: the same file mix, with wars holding jars holding
                   config files (three levels of nesting), about 300 MB inflated
  PLANTED          the planted secrets: one fake GitHub token per layer (valid checksum),
                   one in a jar inside a layer, one in an `ENV` of the build history, and
                   three in the release archive (one at each nesting level)

Nothing here is a real credential: tokens are minted from a seeded PRNG.
"""
import gzip
import hashlib
import io
import json
import random
import sys
import tarfile
import zipfile
import zlib

ALPHA = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(n, width):
    out = ["0"] * width
    i = width
    while n > 0 and i > 0:
        i -= 1
        out[i] = ALPHA[n % 62]
        n //= 62
    return "".join(out)


def gh_token(rng):
    body = "".join(rng.choice(ALPHA) for _ in range(30))
    return "ghp_" + body + base62(zlib.crc32(body.encode()), 6)


WORDS = (
    "let mut self fn return if else match for while struct impl pub use crate mod const "
    "static async await Result Option Some None Ok Err String Vec HashMap value config "
    "request response handler error context buffer stream reader writer client server "
    "token session user account cache index query params headers body status retry "
    "timeout deadline metrics logger trace span event queue worker pool task job"
).split()


def code_file(rng, size):
    lines = []
    total = 0
    indent = 0
    while total < size:
        n = rng.randint(3, 12)
        line = "    " * indent + " ".join(rng.choice(WORDS) for _ in range(n))
        line += rng.choice([";", " {", "", ",", " }", "();"])
        indent = max(0, min(4, indent + rng.choice([-1, 0, 0, 1])))
        lines.append(line)
        total += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


def json_file(rng, size):
    items = []
    total = 0
    while total < size:
        obj = {rng.choice(WORDS): rng.choice(WORDS) + str(rng.randint(0, 10**6)) for _ in range(6)}
        s = json.dumps(obj)
        items.append(s)
        total += len(s) + 2
    return ("[\n" + ",\n".join(items) + "\n]\n").encode()


def minified(rng, size):
    out = []
    total = 0
    while total < size:
        w = "var " + rng.choice(WORDS) + str(rng.randint(0, 999)) + "=function(a,b){return a." + rng.choice(WORDS) + "(b)};"
        out.append(w)
        total += len(w)
    return "".join(out).encode()


def binary(rng, size):
    return rng.randbytes(size)


def log_gz(rng, size):
    raw = []
    total = 0
    i = 0
    while total < size:
        line = f"2024-05-{1 + i % 28:02d}T12:{i % 60:02d}:00Z INFO {rng.choice(WORDS)} {rng.choice(WORDS)} id={rng.randint(0, 10**9)}\n"
        raw.append(line)
        total += len(line)
        i += 1
    return gzip.compress("".join(raw).encode(), compresslevel=6, mtime=0)


def zip_bytes(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def jar(rng, secret=None):
    entries = [("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n")]
    for i in range(40):
        entries.append((f"com/acme/svc/Class{i}.class", binary(rng, rng.randint(2000, 20000))))
    props = b"db.url=jdbc:postgresql://db:5432/app\ndb.user=app\n"
    if secret:
        props += f"github.token={secret}\n".encode()
    entries.append(("com/acme/application.properties", props))
    return zip_bytes(entries)


def layer_files(rng, target, planted, tag):
    """A realistic file mix adding up to about `target` bytes."""
    files = []
    total = 0
    i = 0
    while total < target:
        kind = rng.random()
        if kind < 0.45:
            d, data = f"src/{tag}/mod{i // 50}/file{i}.rs", code_file(rng, rng.randint(2_000, 60_000))
        elif kind < 0.60:
            d, data = f"etc/{tag}/conf{i}.json", json_file(rng, rng.randint(1_000, 30_000))
        elif kind < 0.70:
            d, data = f"www/{tag}/static/app{i}.min.js", minified(rng, rng.randint(20_000, 300_000))
        elif kind < 0.85:
            d, data = f"usr/lib/{tag}/lib{i}.so", binary(rng, rng.randint(50_000, 1_500_000))
        elif kind < 0.95:
            d, data = f"var/log/{tag}/app{i}.log.gz", log_gz(rng, rng.randint(20_000, 400_000))
        else:
            d, data = f"opt/{tag}/lib/dep{i}.jar", jar(rng)
        files.append((d, data))
        total += len(data)
        i += 1
    secret = gh_token(rng)
    planted.append((tag, "plain", secret))
    files.append((f"srv/{tag}/.env", f"APP_ENV=prod\nGITHUB_TOKEN={secret}\n".encode()))
    return files


def tar_bytes(files, compress=False):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    return gzip.compress(raw, compresslevel=6, mtime=0) if compress else raw


def sha(b):
    return hashlib.sha256(b).hexdigest()


def main():
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if args else 2)
    out = args[0]
    scale = float(args[args.index("--scale") + 1]) if "--scale" in args else 1.0
    import os

    os.makedirs(out, exist_ok=True)
    rng = random.Random(20240501)
    planted = []
    layers = []
    history = []
    for n in range(8):
        files = layer_files(rng, int(75_000_000 * scale), planted, f"l{n}")
        if n == 5:
            s = gh_token(rng)
            planted.append((f"l{n}", "jar", s))
            files.append((f"opt/l{n}/lib/secrets.jar", jar(rng, s)))
        layers.append(tar_bytes(files))
        history.append({"created_by": f"/bin/sh -c #(nop) COPY dir:l{n} in / ", "created": "2024-05-01T00:00:00Z"})
    env_secret = gh_token(rng)
    planted.append(("config", "history", env_secret))
    history.insert(3, {"created_by": f"/bin/sh -c #(nop)  ENV DEPLOY_TOKEN={env_secret}", "empty_layer": True})
    diff_ids = ["sha256:" + sha(l) for l in layers]
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/bin"], "Cmd": ["/srv/run"]},
        "history": history,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }).encode()

    # docker save (legacy)
    files = []
    names = []
    for l in layers:
        name = f"{sha(l)}/layer.tar"
        files.append((name, l))
        names.append(name)
    files.append((f"{sha(config)}.json", config))
    files.append(("manifest.json", json.dumps([{"Config": f"{sha(config)}.json", "RepoTags": ["bench/app:1.0"], "Layers": names}]).encode()))
    with open(f"{out}/image.tar", "wb") as f:
        f.write(tar_bytes(files))

    # OCI layout in a tar, gzip layers
    blobs = []
    descs = []
    for l in layers:
        z = gzip.compress(l, compresslevel=6, mtime=0)
        blobs.append(z)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + sha(z), "size": len(z)})
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + sha(config), "size": len(config)},
        "layers": descs,
    }).encode()
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + sha(manifest),
        "size": len(manifest), "annotations": {"io.containerd.image.name": "bench/app:1.0"},
        "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
    files = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index),
             ("blobs/sha256/" + sha(manifest), manifest), ("blobs/sha256/" + sha(config), config)]
    files += [("blobs/sha256/" + sha(z), z) for z in blobs]
    with open(f"{out}/image-oci.tar", "wb") as f:
        f.write(tar_bytes(files))

    # A release archive with nested wars and jars.
    rel = layer_files(rng, int(250_000_000 * scale), planted, "release")
    s1, s2 = gh_token(rng), gh_token(rng)
    planted.append(("release", "war!jar", s1))
    planted.append(("release", "war", s2))
    war = zip_bytes([("WEB-INF/web.xml", b"<web-app/>"), ("WEB-INF/lib/core.jar", jar(rng, s1)),
                     ("WEB-INF/classes/app.env", f"GITHUB_TOKEN={s2}\n".encode())]
                    + [(f"WEB-INF/lib/dep{i}.jar", jar(rng)) for i in range(20)])
    rel.append(("app/webapp.war", war))
    with open(f"{out}/release.tar.gz", "wb") as f:
        f.write(tar_bytes(rel, compress=True))
    with open(f"{out}/PLANTED", "w") as f:
        for where, how, s in planted:
            f.write(f"{where}\t{how}\t{s}\n")
    print(f"{out}: image.tar, image-oci.tar, release.tar.gz; {len(planted)} planted secrets")


if __name__ == "__main__":
    main()
