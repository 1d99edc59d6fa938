"""Damage, as disks and careless hands do it, to the bytes of a cache file."""

from __future__ import annotations

import random


def damaged_copies(data: bytes, count: int, seed: int) -> list[bytes]:
    """`count` different kinds of damage to `data`: a flipped byte, a zeroed range,
    a truncation, garbage appended, a range of random bytes."""
    rng = random.Random(seed)
    out = []
    for k in range(count):
        b = bytearray(data)
        at = rng.randrange(len(b))
        kind = k % 5
        if kind == 0:
            b[at] ^= 1 << rng.randrange(8)
        elif kind == 1:
            n = rng.randint(1, 64)
            if b[at : at + n].strip(b"\0"):
                b[at : at + n] = bytes(len(b[at : at + n]))
            else:
                b[at] = 0xFF  # that range was zeros already
        elif kind == 2:
            del b[at:]
        elif kind == 3:
            b += rng.randbytes(rng.randint(1, 100))
        else:
            n = rng.randint(1, 32)
            new = rng.randbytes(len(b[at : at + n]))
            b[at : at + n] = new if new != b[at : at + n] else bytes(x ^ 1 for x in new)
        assert bytes(b) != data
        out.append(bytes(b))
    return out
