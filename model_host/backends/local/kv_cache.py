"""Paged KV cache bookkeeping: a fixed pool of blocks, each request's block table, and prefix reuse.

No torch here: the manager hands out block ids and copy orders; the model runner owns
the tensors (one slot per token: slot = block * block_size + offset).

Prefix reuse is token-granular. Blocks a request computed stay in a trie (parent block
-> token contents -> block) after it ends, finished or aborted, until the pool needs
them back, least recently used and deepest first. A new prompt shares every full block
that matches and copies the matching head of the best partial match into a block of
its own, so a keystroke recomputes only the tokens that changed. Blocks in the trie
are never written again: a request writes only at positions past what it shares.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

ROOT = -1  # the parent of a prompt's first block


@dataclass
class _Block:
    id: int
    ref: int = 0
    parent: int | None = None  # set while the block is in the trie
    key: tuple[int, ...] | None = None  # its token contents, while in the trie

    @property
    def cached(self) -> bool:
        return self.key is not None


@dataclass(frozen=True)
class CopyOp:
    """Copy the first `tokens` slots of block `src` into block `dst` before the next forward."""

    src: int
    dst: int
    tokens: int


@dataclass(frozen=True)
class Admission:
    num_cached: int  # tokens the request does not have to compute
    copies: tuple[CopyOp, ...]


class KVCacheManager:
    def __init__(self, num_blocks: int, block_size: int, *, prefix_cache: bool = True) -> None:
        if num_blocks < 1 or block_size < 1:
            raise ValueError("the KV cache needs at least one block of at least one token")
        self.num_blocks = num_blocks
        self.block_size = block_size
        self.prefix_cache = prefix_cache
        self._blocks = [_Block(i) for i in range(num_blocks)]
        # Blocks nobody holds, in the order they are handed out again (first = next).
        # Plain free blocks sit in front of cached ones, so a cached block is only
        # given up when nothing else is left.
        self._free: OrderedDict[int, None] = OrderedDict((i, None) for i in range(num_blocks))
        self._children: dict[int, dict[tuple[int, ...], int]] = {}
        self._tables: dict[int, list[int]] = {}
        self._committed: dict[int, int] = {}  # request -> leading blocks already in the trie
        self._pinned: list[int] = []  # copy sources held until the copy has run
        self.queried_tokens = 0
        self.hit_tokens = 0

    # ---- facts -------------------------------------------------------------------
    @property
    def num_free(self) -> int:
        return len(self._free)

    @property
    def num_cached_blocks(self) -> int:
        return sum(1 for b in self._blocks if b.cached)

    def table(self, rid: int) -> list[int]:
        return self._tables[rid]

    def blocks_for(self, num_tokens: int) -> int:
        return -(-num_tokens // self.block_size)

    def slot(self, table: Sequence[int], position: int) -> int:
        return table[position // self.block_size] * self.block_size + position % self.block_size

    # ---- requests ----------------------------------------------------------------
    def admit(self, rid: int, tokens: Sequence[int], budget: int) -> Admission | None:
        """Start `rid`: reuse what the cache holds of `tokens`, then make room for up to
        `budget` more tokens. At least the last token is always left to compute (its
        logits are what the step is for). None, with nothing changed, when the pool
        cannot hold it now."""
        if rid in self._tables:
            raise ValueError(f"request {rid} already holds cache blocks")
        shared, source, copy_len = self._match(tokens)
        num_cached = len(shared) * self.block_size + copy_len
        want = num_cached + min(budget, len(tokens) - num_cached)
        held = shared + ([source] if source is not None else [])
        idle = sum(1 for b in held if self._blocks[b].ref == 0)
        new_blocks = self.blocks_for(want) - len(shared)
        if new_blocks > len(self._free) - idle:
            return None
        for bid in shared:
            self._take(bid)
        copies: tuple[CopyOp, ...] = ()
        table = list(shared)
        if source is not None and self._blocks[source].ref == 0 and source not in self._children:
            # Nobody holds it and nothing hangs below it (the last keystroke's unfinished
            # block): take it over instead of copying. It leaves the trie, since this
            # request writes past the matching head.
            self._take(source)
            self._uncache(source)
            table.append(source)
        elif source is not None:
            self._take(source)  # before allocating, so the source cannot be handed out
            self._pinned.append(source)
            dst = self._alloc()
            table.append(dst)
            copies = (CopyOp(source, dst, copy_len),)
        self._tables[rid] = table
        self._committed[rid] = len(shared)
        self.queried_tokens += len(tokens)
        self.hit_tokens += num_cached
        grown = self.allocate(rid, want)
        assert grown, "admit counted the blocks it needs"
        return Admission(num_cached, copies)

    def allocate(self, rid: int, num_tokens: int) -> bool:
        """Grow `rid`'s table to hold `num_tokens` positions; False (nothing changed) if the pool is short."""
        table = self._tables[rid]
        need = self.blocks_for(num_tokens) - len(table)
        if need > len(self._free):
            return False
        for _ in range(need):
            table.append(self._alloc(after=table[-1] if table else None))
        return True

    def commit(self, rid: int, tokens: Sequence[int], num_computed: int) -> None:
        """Put the request's newly completed blocks in the trie, where others can share them."""
        if not self.prefix_cache:
            return
        table = self._tables[rid]
        done = self._committed[rid]
        full = min(num_computed // self.block_size, len(table))
        parent = table[done - 1] if done else ROOT
        for i in range(done, full):
            key = tuple(tokens[i * self.block_size : (i + 1) * self.block_size])
            mine = table[i]
            existing = self._children.get(parent, {}).get(key)
            if existing is None:
                self._insert(mine, parent, key)
            elif existing != mine:
                # The same tokens computed twice (two windows on one file): keep one copy.
                self._take(existing)
                table[i] = existing
                self._release(mine)
            parent = table[i]
        self._committed[rid] = max(done, full)

    def free(
        self, rid: int, tokens: Sequence[int], num_computed: int, *, keep: bool = True
    ) -> None:
        """`rid` is done (finished, aborted or preempted): give its blocks back, keeping
        what it computed for reuse unless `keep` is false (a failed step)."""
        table = self._tables.get(rid)
        if table is None:
            return
        if keep and self.prefix_cache:
            self.commit(rid, tokens, num_computed)
            self._keep_partial(table, tokens, num_computed, self._committed[rid])
        del self._tables[rid]
        del self._committed[rid]
        # Deepest first: of one chain, the far end is the first to be handed out again.
        for bid in reversed(table):
            self._release(bid)

    def release_pins(self) -> None:
        """The copies of the last step have run: their sources may be evicted again."""
        pinned, self._pinned = self._pinned, []
        for bid in pinned:
            self._release(bid)

    # ---- the trie ------------------------------------------------------------------
    def _match(self, tokens: Sequence[int]) -> tuple[list[int], int | None, int]:
        """Full blocks to share, then the block whose head matches the next tokens best."""
        if not self.prefix_cache:
            return [], None, 0
        size = self.block_size
        limit = len(tokens) - 1  # the last token is always computed
        shared: list[int] = []
        parent, pos = ROOT, 0
        while pos + size <= limit:
            found = self._children.get(parent, {}).get(tuple(tokens[pos : pos + size]))
            if found is None:
                break
            shared.append(found)
            parent, pos = found, pos + size
        want = tuple(tokens[pos : min(pos + size, limit)])
        best, best_len = None, 0
        if want:
            for key, bid in self._children.get(parent, {}).items():
                n = _common_prefix(key, want)
                if n > best_len:
                    best, best_len = bid, n
        return shared, best, best_len

    def _keep_partial(
        self, table: list[int], tokens: Sequence[int], num_computed: int, committed: int
    ) -> None:
        """Put the computed head of the request's last, unfinished block in the trie too."""
        index, used = divmod(num_computed, self.block_size)
        if used == 0 or index >= len(table) or committed != index:
            return
        parent = table[index - 1] if index else ROOT
        key = tuple(tokens[index * self.block_size : num_computed])
        bid = table[index]
        if key not in self._children.get(parent, {}) and not self._blocks[bid].cached:
            self._insert(bid, parent, key)

    def _insert(self, bid: int, parent: int, key: tuple[int, ...]) -> None:
        block = self._blocks[bid]
        block.parent, block.key = parent, key
        self._children.setdefault(parent, {})[key] = bid

    def _uncache(self, bid: int) -> None:
        """Take a block and everything below it out of the trie (nobody holds them)."""
        block = self._blocks[bid]
        if block.key is None:
            return
        assert block.parent is not None
        siblings = self._children.get(block.parent)
        if siblings is not None and siblings.get(block.key) == bid:
            del siblings[block.key]
            if not siblings:
                del self._children[block.parent]
        block.parent = block.key = None
        for child in list(self._children.pop(bid, {}).values()):
            self._uncache(child)
            if self._blocks[child].ref == 0:
                self._free.move_to_end(child, last=False)

    # ---- the pool -----------------------------------------------------------------
    def _alloc(self, after: int | None = None) -> int:
        """A free block: the one right after `after` if it holds nothing (a request whose
        blocks are one run can be read without a gather), else the next in line."""
        bid = after + 1 if after is not None else -1
        if bid in self._free and not self._blocks[bid].cached:
            del self._free[bid]
        else:
            bid, _ = self._free.popitem(last=False)
        block = self._blocks[bid]
        self._uncache(bid)
        block.ref = 1
        return bid

    def _take(self, bid: int) -> None:
        block = self._blocks[bid]
        if block.ref == 0:
            del self._free[bid]
        block.ref += 1

    def _release(self, bid: int) -> None:
        block = self._blocks[bid]
        block.ref -= 1
        assert block.ref >= 0, f"block {bid} released more often than taken"
        if block.ref == 0:
            self._free[bid] = None  # most recently used: handed out last
            if not block.cached:
                self._free.move_to_end(bid, last=False)


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
