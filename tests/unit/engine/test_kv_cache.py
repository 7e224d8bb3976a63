"""The KV cache manager without torch: block accounting, token-granular prefix reuse, eviction.

A shadow of the pool stands in for the tensors: every slot records the token prefix
whose K/V it would hold, written when a step "computes" it and moved by copy orders,
so reuse is checked against what the model would really read.
"""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from model_host.backends.local.kv_cache import Admission, KVCacheManager

B = 4  # a small block size makes every boundary case appear in short prompts


class Shadow:
    """What each slot holds: the prefix tuple(tokens[: position + 1]) of the token written there."""

    def __init__(self, kv: KVCacheManager) -> None:
        self.kv = kv
        self.slots: dict[int, tuple[int, ...]] = {}

    def apply(self, admission: Admission) -> None:
        for op in admission.copies:
            for i in range(op.tokens):
                self.slots[op.dst * B + i] = self.slots[op.src * B + i]

    def compute(self, rid: int, tokens: list[int], start: int, end: int) -> None:
        table = self.kv.table(rid)
        for p in range(start, end):
            self.slots[self.kv.slot(table, p)] = tuple(tokens[: p + 1])
        self.kv.commit(rid, tokens, end)

    def check(self, rid: int, tokens: list[int], upto: int) -> None:
        table = self.kv.table(rid)
        for p in range(upto):
            assert self.slots.get(self.kv.slot(table, p)) == tuple(tokens[: p + 1]), p


def run(kv: KVCacheManager, shadow: Shadow, rid: int, tokens: list[int]) -> int:
    """Admit, check what was reused, compute the rest, free; returns the tokens reused."""
    admission = kv.admit(rid, tokens, budget=len(tokens))
    assert admission is not None
    shadow.apply(admission)
    kv.release_pins()
    shadow.check(rid, tokens, admission.num_cached)
    shadow.compute(rid, tokens, admission.num_cached, len(tokens))
    kv.free(rid, tokens, len(tokens))
    return admission.num_cached


def test_no_torch_is_imported() -> None:
    code = (
        "import sys; import model_host.backends.local.kv_cache, model_host.backends.local.scheduler;"
        "sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_blocks_are_counted_and_returned() -> None:
    kv = KVCacheManager(8, B)
    admission = kv.admit(1, list(range(10)), budget=10)
    assert admission == Admission(0, ())
    assert len(kv.table(1)) == 3 and kv.num_free == 5
    assert kv.allocate(1, 12) and len(kv.table(1)) == 3
    assert kv.allocate(1, 13) and len(kv.table(1)) == 4
    assert not kv.allocate(1, 40) and len(kv.table(1)) == 4  # short: nothing changed
    kv.free(1, list(range(13)), 13)
    assert kv.num_free == 8


def test_the_same_prompt_again_recomputes_only_its_last_token() -> None:
    kv = KVCacheManager(16, B)
    shadow = Shadow(kv)
    prompt = list(range(100, 110))
    assert run(kv, shadow, 1, prompt) == 0
    assert run(kv, shadow, 2, prompt) == 9  # the last token always runs: its logits are the point


def test_a_keystroke_reuses_everything_before_the_change() -> None:
    kv = KVCacheManager(32, B)
    shadow = Shadow(kv)
    before = list(range(200, 223))
    run(kv, shadow, 1, before)
    typed = [*before, 7]  # one more token at the end (suffix-first prompts grow at the end)
    assert run(kv, shadow, 2, typed) == len(before)
    edited = [*before[:13], 9, *before[14:]]  # a change in the middle of a block
    assert run(kv, shadow, 3, edited) == 13


def test_an_aborted_request_leaves_what_it_computed() -> None:
    kv = KVCacheManager(32, B)
    shadow = Shadow(kv)
    prompt = list(range(50, 80))
    admission = kv.admit(1, prompt, budget=11)
    assert admission is not None and len(kv.table(1)) == 3
    shadow.compute(1, prompt, 0, 11)  # one chunk of the prefill ran, then the user typed on
    kv.free(1, prompt, 11)
    assert run(kv, shadow, 2, [*prompt, 5]) == 11


def test_least_recently_used_and_deepest_blocks_go_first() -> None:
    kv = KVCacheManager(6, B)
    shadow = Shadow(kv)
    old, new = list(range(12)), list(range(100, 112))
    run(kv, shadow, 1, old)
    run(kv, shadow, 2, new)
    assert kv.num_cached_blocks == 6 and kv.num_free == 6
    # Two fresh blocks come from `old`, the least recent, its far end first.
    admission = kv.admit(3, list(range(500, 508)), budget=8)
    assert admission is not None
    kv.free(3, list(range(500, 508)), 0)  # nothing computed: those blocks hold nothing now
    assert run(kv, shadow, 4, new) == 11
    assert run(kv, shadow, 5, old) == 4  # only its first block survived


def test_evicting_a_block_forgets_everything_below_it() -> None:
    kv = KVCacheManager(4, B)
    shadow = Shadow(kv)
    run(kv, shadow, 1, list(range(16)))  # 4 blocks, a chain
    # A fresh request takes every block; the chain's blocks are reused for other tokens.
    admission = kv.admit(2, list(range(300, 316)), budget=16)
    assert admission is not None and admission.num_cached == 0
    shadow.compute(2, list(range(300, 316)), 0, 16)
    kv.free(2, list(range(300, 316)), 16)
    assert run(kv, shadow, 3, list(range(16))) == 0  # nothing stale is matched


def test_a_reused_parent_block_never_brings_back_its_old_children() -> None:
    kv = KVCacheManager(3, B)
    shadow = Shadow(kv)
    x, y, z = [1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]
    run(kv, shadow, 1, [*x, *y, 9])  # the chain [x] -> [y], plus a partial block
    (x_block,) = kv._children[-1].values()
    kv._free.move_to_end(x_block, last=False)  # make x the next block handed out
    assert run(kv, shadow, 2, [*z, 9]) == 0  # x's block now holds z
    assert run(kv, shadow, 3, [*z, *y, 9]) == 4  # z is reused; the old [y] under x is not


def test_blocks_in_use_are_never_handed_out() -> None:
    kv = KVCacheManager(6, B)
    shadow = Shadow(kv)
    prompt = list(range(12))
    run(kv, shadow, 1, prompt)
    admission = kv.admit(2, [*prompt, 1], budget=13)  # shares the 3 cached blocks
    assert admission is not None and admission.num_cached == 12
    assert kv.num_free == 2
    assert kv.admit(3, list(range(40, 49)), budget=9) is None  # 3 blocks: not there
    assert kv.admit(3, list(range(40, 48)), budget=8) is not None
    shadow.check(2, [*prompt, 1], 12)


def test_identical_blocks_computed_twice_are_kept_once() -> None:
    kv = KVCacheManager(16, B)
    shadow = Shadow(kv)
    prompt = list(range(9))
    for rid in (1, 2):  # two windows, same file, at the same time
        admission = kv.admit(rid, prompt, budget=9)
        assert admission is not None and admission.num_cached == 0
    shadow.compute(1, prompt, 0, 9)
    shadow.compute(2, prompt, 0, 9)
    assert kv.table(1)[:2] == kv.table(2)[:2]
    assert kv.num_free == 16 - 4  # two shared full blocks + one partial each
    kv.free(1, prompt, 9)
    kv.free(2, prompt, 9)
    assert kv.num_free == 16


def test_prefix_cache_can_be_switched_off() -> None:
    kv = KVCacheManager(16, B, prefix_cache=False)
    shadow = Shadow(kv)
    run(kv, shadow, 1, list(range(10)))
    assert run(kv, shadow, 2, list(range(10))) == 0
    assert kv.num_cached_blocks == 0


ops = st.lists(
    st.tuples(
        st.integers(0, 5),  # which of a few base prompts
        st.integers(0, 30),  # cut it here ...
        st.lists(st.integers(0, 3), max_size=6),  # ... then these tokens
        st.integers(1, 40),  # tokens computed before it ends (aborted if short)
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_reuse_always_matches_what_the_model_would_have_computed(steps: list) -> None:
    """Random prompts sharing prefixes, aborted at random points, in a small pool: what a
    request reuses is always exactly the K/V of its own tokens, and no block leaks."""
    kv = KVCacheManager(12, B)
    shadow = Shadow(kv)
    bases = [[(7 * b + i) % 5 for i in range(40)] for b in range(6)]
    for rid, (base, cut, tail, computed) in enumerate(steps):
        tokens = bases[base][:cut] + tail or [1]
        admission = kv.admit(rid, tokens, budget=len(tokens))
        if admission is None:
            assert kv.blocks_for(len(tokens)) > kv.num_free
            continue
        shadow.apply(admission)
        kv.release_pins()
        shadow.check(rid, tokens, admission.num_cached)
        end = max(admission.num_cached, min(len(tokens), computed))
        shadow.compute(rid, tokens, admission.num_cached, end)
        kv.free(rid, tokens, end)
        assert kv.num_free == kv.num_blocks
