"""Text <-> token ids with Meta's Code Llama semantics; document text never becomes a control id."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

SPACE_SYMBOL = "▁"  # SentencePiece's visible space, U+2581

# The 16 pieces Code Llama 7B/13B/34B append at ids 32000..32015; the 70B
# checkpoints replace the last one with the user-defined piece "<step>".
CODE_LLAMA_PIECES: tuple[str, ...] = (
    "▁<SU",
    "▁<SUF",
    "▁<PRE",
    "▁<M",
    "▁<MID",
    "▁<E",
    "▁<EOT",
    "▁<PRE>",
    "▁<SUF>",
    "▁<MID>",
    "▁<EOT>",
    "▁<EOT><EOT>",
    "▁<EOT><EOT><EOT>",
    "▁<EOT><EOT><EOT><EOT>",
    "▁<EOT><EOT><EOT><EOT><EOT>",
    "▁<EOT><EOT><EOT><EOT><EOT><EOT>",
)
STEP_PIECE = "<step>"

# Meta's `encode_infilling` prepends this character so that SentencePiece's
# implicit leading space attaches to it instead of to the text.
INFILL_MARKER = "☺"

_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")

# sentencepiece_model.proto, ModelProto.SentencePiece.Type
_SP_NORMAL, _SP_UNKNOWN, _SP_CONTROL, _SP_USER_DEFINED, _SP_UNUSED = 1, 2, 3, 4, 5


class TokenizerLoadError(Exception):
    """No usable tokenizer could be built; `str(err)` is a message for a human."""


class Tokenizer(ABC):
    """A Llama-family vocabulary with SentencePiece semantics.

    `encode` and `encode_infilling` never return an id in `special_ids` (BOS,
    EOS, control pieces, the Code Llama infill pieces, `<step>`, ...), whatever
    the text says, and decoding their output gives the text back. The one
    exception is `unk_id`, for characters a vocabulary without byte fallback
    cannot spell at all (never the case for Llama tokenizers).
    """

    vocab_size: int
    bos_id: int
    eos_id: int
    unk_id: int | None
    special_ids: frozenset[int]

    def __init__(
        self,
        *,
        pieces: Sequence[str],
        bos_id: int,
        eos_id: int,
        unk_id: int | None,
        special_ids: Iterable[int],
    ) -> None:
        self.vocab_size = len(pieces)
        self.bos_id = bos_id
        self.eos_id = eos_id
        self.unk_id = unk_id
        self._pieces = list(pieces)
        self._ids = {p: i for i, p in enumerate(self._pieces) if p}
        named = {self._ids.get(p) for p in (*CODE_LLAMA_PIECES, STEP_PIECE)}
        extra = {i for i in named if i is not None}
        self.special_ids = frozenset({*special_ids, *extra, bos_id, eos_id})
        self._bytes = [self._surface(i) for i in range(self.vocab_size)]
        self._space_id = self._ids.get(SPACE_SYMBOL)
        # A literal U+2581 in text means a space to SentencePiece and would not
        # decode back to itself, so it is spelled with its UTF-8 byte pieces.
        literal = [self._ids.get(f"<0x{b:02X}>") for b in SPACE_SYMBOL.encode()]
        self._literal_space: list[int] | None = (
            [i for i in literal if i is not None] if None not in literal else None
        )
        self._marker_ids = self._encode_with_prefix(INFILL_MARKER)

    @abstractmethod
    def _encode_with_prefix(self, text: str) -> list[int]:
        """The backend's ids for non-empty `text`, with SentencePiece's implicit leading space."""

    # -- vocabulary ---------------------------------------------------------

    def piece(self, token_id: int) -> str:
        return self._pieces[token_id] if 0 <= token_id < self.vocab_size else ""

    def piece_id(self, piece: str) -> int | None:
        return self._ids.get(piece)

    def is_special(self, token_id: int) -> bool:
        return token_id in self.special_ids or not 0 <= token_id < self.vocab_size

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes one token adds to the output; nothing for control ids."""
        return self._bytes[token_id] if 0 <= token_id < self.vocab_size else b""

    def _surface(self, token_id: int) -> bytes:
        if token_id in self.special_ids:
            return b""
        piece = self._pieces[token_id]
        byte = _BYTE_PIECE.fullmatch(piece)
        if byte:
            return bytes([int(byte.group(1), 16)])
        return piece.replace(SPACE_SYMBOL, " ").encode("utf-8")

    # -- text -> ids ----------------------------------------------------------

    def encode(self, text: str) -> list[int]:
        """SentencePiece `encode`: implicit leading space, no BOS/EOS, no control ids."""
        return self._encode(text, leading_space=True)

    def encode_infilling(self, text: str) -> list[int]:
        """Meta's `encode_infilling`: like `encode` without the implicit leading space."""
        return self._encode(text, leading_space=False)

    def _encode(self, text: str, *, leading_space: bool) -> list[int]:
        if not text:
            return []
        parts = text.split(SPACE_SYMBOL) if self._literal_space is not None else [text]
        ids: list[int] = []
        for n, part in enumerate(parts):
            if n and self._literal_space is not None:
                ids += self._literal_space
            if n == 0 and leading_space:
                if part:
                    ids += self._encode_with_prefix(part)
                elif self._space_id is not None:
                    ids.append(self._space_id)
            elif part:
                ids += self._encode_without_prefix(part)
        return self._scrub(ids)

    def _encode_without_prefix(self, text: str) -> list[int]:
        # Meta: `sp.encode("☺" + s)[2:]`. Two is right for Llama's vocabulary
        # ("▁", "☺"); the marker's own length keeps it right for any other.
        ids = self._encode_with_prefix(INFILL_MARKER + text)
        n = len(self._marker_ids)
        if ids[:n] == self._marker_ids:
            return ids[n:]
        # The marker merged with the text: spell the text out instead.
        return self._spell(text)

    def _scrub(self, ids: list[int]) -> list[int]:
        """Replace any special id the backend produced by its surface text, spelled out."""
        if not any(i in self.special_ids and i != self.unk_id for i in ids):
            return ids
        out: list[int] = []
        for i in ids:
            if i in self.special_ids and i != self.unk_id:
                out += self._spell(self._pieces[i].replace(SPACE_SYMBOL, " "))
            else:
                out.append(i)
        return out

    def _spell(self, text: str) -> list[int]:
        """One piece per character, or its UTF-8 byte pieces: never a special id."""
        out: list[int] = []
        for ch in text:
            # A literal "▁" piece would read back as a space: bytes for it.
            pid = None if ch == SPACE_SYMBOL else self._ids.get(SPACE_SYMBOL if ch == " " else ch)
            if pid is not None and pid not in self.special_ids:
                out.append(pid)
                continue
            for b in ch.encode("utf-8"):
                bid = self._ids.get(f"<0x{b:02X}>")
                if bid is not None:
                    out.append(bid)
                elif self.unk_id is not None:
                    out.append(self.unk_id)
        return out

    # -- ids -> text ----------------------------------------------------------

    def decode(self, ids: Iterable[int]) -> str:
        """Meta's `decode`: the implicit leading space is dropped, control ids give nothing."""
        text = self.decode_infilling(ids)
        return text[1:] if text.startswith(" ") else text

    def decode_infilling(self, ids: Iterable[int]) -> str:
        """Meta's `decode_infilling`: every space kept."""
        return b"".join(self.token_bytes(i) for i in ids).decode("utf-8", errors="replace")


class SentencePieceTokenizer(Tokenizer):
    """A `tokenizer.model` run by the `sentencepiece` library: Meta's exact ids.

    Encoding uses a copy of the model in which every special piece is a
    control piece. SentencePiece never produces control pieces from text, so
    BPE merges simply cannot form `▁<EOT>` or `<step>`; the result equals what
    the same vocabulary without those pieces gives (for Code Llama: exactly
    Llama 2's ids), while ordinary text keeps its reference ids.
    """

    def __init__(self, model_proto: bytes) -> None:
        import sentencepiece as spm
        from sentencepiece import sentencepiece_model_pb2 as pb

        proto = pb.ModelProto()  # type: ignore[attr-defined]  # protoc output, no stubs
        proto.ParseFromString(model_proto)
        self._sp = spm.SentencePieceProcessor(model_proto=model_proto)
        pieces = [p.piece for p in proto.pieces]
        named = {*CODE_LLAMA_PIECES, STEP_PIECE}
        special = {
            i
            for i, p in enumerate(proto.pieces)
            if p.type in (_SP_UNKNOWN, _SP_CONTROL, _SP_USER_DEFINED) or p.piece in named
        }
        for i in special:
            if proto.pieces[i].type in (_SP_NORMAL, _SP_USER_DEFINED, _SP_UNUSED):
                proto.pieces[i].type = _SP_CONTROL
        self._enc = spm.SentencePieceProcessor(model_proto=proto.SerializeToString())
        unk = self._sp.unk_id()
        super().__init__(
            pieces=pieces,
            bos_id=self._sp.bos_id(),
            eos_id=self._sp.eos_id(),
            unk_id=unk if unk >= 0 else None,
            special_ids=special,
        )

    @classmethod
    def from_file(cls, path: str | Path) -> SentencePieceTokenizer:
        try:
            data = Path(path).read_bytes()
            tok = cls(data)
        except Exception as err:  # OSError, protobuf DecodeError, sentencepiece RuntimeError
            raise TokenizerLoadError(f"cannot load SentencePiece model {path}: {err}") from err
        if tok.bos_id < 0 or tok.eos_id < 0:
            raise TokenizerLoadError(f"{path} defines no BOS or EOS piece")
        return tok

    def _encode_with_prefix(self, text: str) -> list[int]:
        return list(self._enc.encode(text))


class HFTokenizer(Tokenizer):
    """A transformers tokenizer (tokenizer.json only checkpoints), made to act like SentencePiece.

    Caveats, compared with `SentencePieceTokenizer`:
    - The implicit leading space is emulated by prepending a real space to
      text the backend encodes without a prefix of its own (Meta's "☺" trick
      removes the backend's prefix when it adds one: transformers' Metaspace
      adds none to text that already starts with a space, SentencePiece
      does). Ids then match SentencePiece's for most text, but the backend's
      BPE may merge runs of spaces differently (e.g. "\n    return").
    - Added tokens are never matched in text (`split_special_tokens=True`),
      and any special id the model itself still produces (Code Llama's
      `▁<EOT>` is an ordinary vocabulary entry there) is spelled out
      character by character, so text may tokenize less compactly than the
      checkpoint's training data did around those strings.
    - Byte-level BPE vocabularies (GPT-2 style "Ġ" pieces) are not supported:
      `token_bytes` assumes "▁" spaces and "<0xNN>" byte pieces.
    """

    def __init__(self, hf: Any) -> None:
        self._hf = hf
        vocab: dict[str, int] = dict(hf.get_vocab())
        size = max(len(hf), max(vocab.values(), default=-1) + 1)
        pieces = [""] * size
        for piece, i in vocab.items():
            pieces[i] = piece
        bos, eos = hf.bos_token_id, hf.eos_token_id
        if not isinstance(bos, int) or not isinstance(eos, int):
            raise TokenizerLoadError("the transformers tokenizer defines no BOS or EOS token")
        added = getattr(hf, "added_tokens_decoder", {}) or {}
        special = {*hf.all_special_ids, *(int(i) for i in added)}
        unk = hf.unk_token_id
        # Does the backend add a leading space on its own?
        probe = self._raw("a")
        first = str(hf.convert_ids_to_tokens(probe[0])) if probe else ""
        self._prepends = first.startswith(SPACE_SYMBOL)
        self._raw_marker = self._raw(INFILL_MARKER) if self._prepends else []
        super().__init__(
            pieces=pieces,
            bos_id=bos,
            eos_id=eos,
            unk_id=unk if isinstance(unk, int) else None,
            special_ids=special,
        )

    def _raw(self, text: str) -> list[int]:
        ids = self._hf.encode(text, add_special_tokens=False, split_special_tokens=True)
        return [int(i) for i in ids]

    def _encode_with_prefix(self, text: str) -> list[int]:
        return self._encode_without_prefix(" " + text)

    def _encode_without_prefix(self, text: str) -> list[int]:
        if not self._prepends:
            return self._raw(text)
        ids = self._raw(INFILL_MARKER + text)
        n = len(self._raw_marker)
        return ids[n:] if ids[:n] == self._raw_marker else self._spell(text)


def load_tokenizer(model_dir: str | Path, hf_tokenizer: object | None = None) -> Tokenizer:
    """The checkpoint's tokenizer: `tokenizer.model` via sentencepiece when present.

    Otherwise wraps `hf_tokenizer` (or, if none is given and the folder has a
    `tokenizer.json`, `transformers.AutoTokenizer` loaded from it); see
    `HFTokenizer` for what that emulation cannot promise.
    """
    folder = Path(model_dir)
    sp_file = folder / "tokenizer.model"
    if sp_file.is_file():
        return SentencePieceTokenizer.from_file(sp_file)
    if hf_tokenizer is None and (folder / "tokenizer.json").is_file():
        try:
            from transformers import AutoTokenizer

            hf_tokenizer = AutoTokenizer.from_pretrained(str(folder))
        except Exception as err:  # transformers raises many kinds; all mean "unusable"
            raise TokenizerLoadError(f"cannot load tokenizer.json in {folder}: {err}") from err
    if hf_tokenizer is None:
        raise TokenizerLoadError(
            f"no tokenizer in {folder}: expected tokenizer.model (SentencePiece) "
            "or tokenizer.json (transformers)"
        )
    return HFTokenizer(hf_tokenizer)
