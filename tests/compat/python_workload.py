"""Allocation-heavy Python work with deterministic output, run by
test_python.sh with and without hakmem preloaded: dicts, lists, strings,
sets, sorting, JSON and big byte buffers."""
import hashlib
import json
import random
import sys


def digest(obj):
    return hashlib.sha256(repr(obj).encode()).hexdigest()[:16]


def dict_churn(rng):
    d = {}
    for i in range(200_000):
        key = "k%d-%s" % (rng.randrange(50_000), "x" * (i % 17))
        d.setdefault(key, []).append(i)
        if i % 7 == 0:
            d.pop("k%d-%s" % (rng.randrange(50_000), "x" * (i % 17)), None)
    lengths = sorted(len(v) for v in d.values())
    return len(d), sum(lengths), lengths[-10:]


def list_and_sort(rng):
    rows = [(rng.random(), rng.randrange(1000), "row%06d" % i) for i in range(150_000)]
    rows.sort()
    by_bucket = sorted(rows, key=lambda r: (r[1], r[2]))
    return digest(rows[:50]), digest(by_bucket[-50:]), len(rows)


def strings(rng):
    words = ["".join(chr(97 + rng.randrange(26)) for _ in range(rng.randrange(1, 12)))
             for _ in range(60_000)]
    text = " ".join(words)
    upper = text.upper()
    parts = upper.split("A")
    joined = "|".join(reversed(parts))
    counts = {}
    for w in words:
        counts[w[0]] = counts.get(w[0], 0) + len(w)
    replaced = text.replace("e", "EEE").replace("o", "")
    return len(text), len(joined), digest(sorted(counts.items())), hashlib.md5(
        replaced.encode()).hexdigest()


def sets_and_json(rng):
    a = {rng.randrange(10**6) for _ in range(100_000)}
    b = {rng.randrange(10**6) for _ in range(100_000)}
    doc = {"union": len(a | b), "inter": sorted(a & b)[:20],
           "nested": [{"id": i, "tags": [str(t) for t in range(i % 13)]} for i in range(20_000)]}
    text = json.dumps(doc, sort_keys=True)
    back = json.loads(text)
    return len(text), back["union"], back["inter"][:5], digest(back["nested"][-3:])


def big_buffers(rng):
    total = 0
    chunks = []
    for i in range(400):
        size = rng.choice([100, 5_000, 40_000, 300_000, 2_000_000])
        buf = bytearray(size)
        buf[0] = i % 256
        buf[-1] = (i * 7) % 256
        chunks.append(bytes(buf))
        if len(chunks) > 40:
            total += sum(c[0] + c[-1] for c in chunks)
            chunks = chunks[20:]
    return total, hashlib.sha256(b"".join(chunks)).hexdigest()[:16]


def main():
    rng = random.Random(20240601)
    for name, fn in [("dict", dict_churn), ("list", list_and_sort), ("str", strings),
                     ("set+json", sets_and_json), ("bytes", big_buffers)]:
        print(name, fn(rng))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
