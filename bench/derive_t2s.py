"""pipeline/resources/extract/t2s.tsv, the traditional → simplified character map, from OpenCC.

usage: python bench/derive_t2s.py OPENCC_DICTIONARY_DIR > pipeline/resources/extract/t2s.tsv

OPENCC_DICTIONARY_DIR holds OpenCC's TSCharacters.txt (the
``opencc/dictionary`` folder of the opencc-python-reimplemented wheel, or OpenCC's
``data/dictionary``; Apache-2.0). Only one-character → one-character pairs are kept,
so converting a cell keeps its length and every offset: the metric tagger reads the
simplified copy, spans and metrics are cut from the text as written. A character
OpenCC lists as its own simplified form too (乾 → 干 乾, 於 → 于 於, 瞭 → 瞭 了) is
ambiguous and left out: it stays as written.
"""
from __future__ import annotations

import sys
from pathlib import Path


def _pairs(path: Path) -> dict[str, list[str]]:
    out = {}
    for line in path.read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, values = line.split("\t")
            out[key] = values.split()
    return out


def derive(folder: Path) -> dict[str, str]:
    # TWVariantsRev.txt is not used: it maps Taiwan's forms to OpenCC's traditional
    # standard (抬 → 擡, 么 → 幺), the wrong way for a simplified tagger.
    return {key: values[0] for key, values in _pairs(folder / "TSCharacters.txt").items()
            if len(key) == 1 and len(values[0]) == 1 and key not in values}


def main() -> None:
    table = derive(Path(sys.argv[1]))
    print("# Traditional → simplified characters, one pair a line, derived from OpenCC's")
    print("# TSCharacters.txt (Apache-2.0) by bench/derive_t2s.py:")
    print("# one character to one character only, ambiguous characters left out. The metric")
    print("# tagger reads cells through this map (jieba's dictionary is simplified); spans,")
    print("# mentions and metrics keep the text as written.")
    for key in sorted(table):
        print(f"{key}\t{table[key]}")


if __name__ == "__main__":
    main()
