"""Lexical helpers shared by indexing and selection: code without comments and strings,
identifiers, and the words no definition lookup should chase (keywords, builtins)."""

from __future__ import annotations

import re

IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_KEYWORD_TEXT = {
    "python": """False None True and as assert async await break class continue def del elif
        else except finally for from global if import in is lambda nonlocal not or pass raise
        return try while with yield self cls print len isinstance str int float list dict set
        tuple bytes object super range bool type""",
    "javascript": """break case catch class const continue debugger default delete do else export
        extends finally for function if import in instanceof let new return super switch this
        throw try typeof var void while with yield async await of null undefined true false
        any number string boolean never unknown readonly keyof declare namespace module require
        type interface enum implements public private protected static abstract as is console
        Object Array String Number Boolean Promise Error Map Set JSON Math Symbol""",
    "go": """break case chan const continue default defer else fallthrough for func go goto if
        import interface map package range return select struct switch type var nil true false
        error string int int8 int16 int32 int64 uint uint8 uint16 uint32 uint64 uintptr byte
        rune bool float32 float64 any len cap make new append panic recover copy delete""",
    "rust": """as async await break const continue crate dyn else enum extern false fn for if
        impl in let loop match mod move mut pub ref return self Self static struct super trait
        true type unsafe use where while Some None Ok Err Box Vec String Option Result str
        usize isize u8 u16 u32 u64 u128 i8 i16 i32 i64 i128 f32 f64 bool char""",
    "c": """auto break case char const continue default do double else enum extern float for
        goto if inline int long register restrict return short signed sizeof static struct
        switch typedef union unsigned void volatile while NULL bool true false class namespace
        template typename public private protected virtual new delete this nullptr size_t
        uint8_t uint16_t uint32_t uint64_t int8_t int16_t int32_t int64_t define include ifdef
        ifndef endif elif undef""",
    "java": """abstract assert boolean break byte case catch char class const continue default
        do double else enum extends final finally float for goto if implements import
        instanceof int interface long native new package private protected public return short
        static strictfp super switch synchronized this throw throws transient try void volatile
        while null true false var String Object Integer Override""",
    "lua": """and break do else elseif end false for function goto if in local nil not or
        repeat return then true until while self require print pairs ipairs type tostring
        tonumber string table math os io""",
}
_ALIASES = {
    "javascriptreact": "javascript",
    "typescript": "javascript",
    "typescriptreact": "javascript",
    "cpp": "c",
}
_KEYWORDS = {language: frozenset(text.split()) for language, text in _KEYWORD_TEXT.items()}
_COMMON = frozenset().union(*_KEYWORDS.values())


def keywords(language: str) -> frozenset[str]:
    """Keywords and builtins of a language (every language's, for an unknown one)."""
    return _KEYWORDS.get(_ALIASES.get(language, language), _COMMON)


_STRING = r'"(?:[^"\\\n]|\\.)*"?'
_PY_NOISE = re.compile(
    r"#[^\n]*|\"\"\"[\s\S]*?(?:\"\"\"|$)|\'\'\'[\s\S]*?(?:\'\'\'|$)|"
    + _STRING
    + r"|'(?:[^'\\\n]|\\.)*'?"
)
_C_NOISE = re.compile(  # C, C++, Java, Go, Rust, JS/TS: char literals only one character long
    r"//[^\n]*|/\*[\s\S]*?(?:\*/|$)|" + _STRING + r"|'(?:[^'\\\n]|\\.){1,2}'|`[^`]*`?"
)
_JS_NOISE = re.compile(
    r"//[^\n]*|/\*[\s\S]*?(?:\*/|$)|" + _STRING + r"|'(?:[^'\\\n]|\\.)*'?|`[^`]*`?"
)
_LUA_NOISE = re.compile(
    r"--\[(=*)\[[\s\S]*?(?:\]\1\]|$)|--[^\n]*|\[(=*)\[[\s\S]*?(?:\]\2\]|$)|"
    + _STRING
    + r"|'(?:[^'\\\n]|\\.)*'?"
)
_NOISE = {
    "python": _PY_NOISE,
    "lua": _LUA_NOISE,
    "javascript": _JS_NOISE,
    "javascriptreact": _JS_NOISE,
    "typescript": _JS_NOISE,
    "typescriptreact": _JS_NOISE,
}


def code_only(text: str, language: str) -> str:
    """The text with comments and string literals blanked: words there are not uses."""
    pattern = _NOISE.get(language, _C_NOISE)
    return pattern.sub(" ", text)


def used_names(text: str, language: str) -> tuple[str, ...]:
    """The distinct identifiers a file's code uses (three characters or more, no keywords),
    for the workspace's name popularity."""
    found = set(IDENT.findall(code_only(text, language)))
    skip = keywords(language)
    return tuple(sorted(n for n in found if len(n) > 2 and n not in skip))
