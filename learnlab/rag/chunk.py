"""Split a document into chunks of at most ``max_chars``, typed as the schema's ``ChunkType``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from learnlab.models import ChunkType

_FENCE = re.compile(r"^```.*?^```[^\n]*$", re.M | re.S)


@dataclass(frozen=True)
class Chunk:
    index: int
    type: ChunkType
    content: str


def _blocks(text: str) -> list[tuple[ChunkType, str]]:
    """Code fences, headings, tables and paragraphs, in order."""
    blocks: list[tuple[ChunkType, str]] = []
    pos = 0
    for m in _FENCE.finditer(text):
        blocks += _prose(text[pos:m.start()])
        blocks.append((ChunkType.CODE, m.group(0)))
        pos = m.end()
    blocks += _prose(text[pos:])
    return blocks


def _prose(text: str) -> list[tuple[ChunkType, str]]:
    out = []
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        if not para:
            continue
        lines = para.splitlines()
        if len(lines) == 1 and para.startswith("#"):
            out.append((ChunkType.HEADING, para))
        elif all(line.strip().startswith("|") for line in lines):
            out.append((ChunkType.TABLE, para))
        else:
            out.append((ChunkType.TEXT, para))
    return out


def chunk_text(text: str, max_chars: int = 1200) -> list[Chunk]:
    """Blocks of one type are merged up to ``max_chars``; longer ones are cut at sentence or line ends."""
    if max_chars < 50:
        raise ValueError(f"max_chars must be at least 50, got {max_chars}")
    pieces: list[tuple[ChunkType, str]] = []
    for kind, block in _blocks(text):
        while len(block) > max_chars:
            cut = max(block.rfind(". ", 0, max_chars), block.rfind("\n", 0, max_chars))
            cut = cut + 1 if cut > max_chars // 3 else max_chars
            pieces.append((kind, block[:cut].strip()))
            block = block[cut:].strip()
        if block:
            if pieces and pieces[-1][0] == kind == ChunkType.TEXT and len(pieces[-1][1]) + len(block) + 2 <= max_chars:
                pieces[-1] = (kind, pieces[-1][1] + "\n\n" + block)
            else:
                pieces.append((kind, block))
    return [Chunk(i, kind, content) for i, (kind, content) in enumerate(pieces)]
