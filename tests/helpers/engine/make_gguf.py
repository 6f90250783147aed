#!/usr/bin/env python3
"""Writes a random-weight GGUF v3 model that a real llama-server loads and generates with, so
integration tests can drive the real engine without downloading a model.

The model is architecture `llama` with F32 tensors and a sentencepiece-style vocabulary (byte
fallback, so any text tokenizes). Its output is gibberish; what matters is that loading,
/health, chat templating and generation are the engine's own code paths.

Usage: make_gguf.py [--template plain|thinking] [--size tiny|medium|large] [--name NAME] [--ctx N]
                    [--seed N] [--file-type N] OUTPUT
  plain     ChatML
  thinking  ChatML with a <think> section that follows `enable_thinking` (the Qwen3 pattern),
            so the engine detects a reasoning model
  tiny      2 layers, width 64: ~1.2 MB, loads in milliseconds
  medium    8 layers, width 256: ~30 MB, a quarter of large (the "Q8 -> BF16" pair: the same
            model ~4x larger generates clearly slower)
  large     8 layers, width 512: ~115 MB, loads slowly enough to see /health's 503 phase and
            generates slowly enough to measure
The same options and seed give the same bytes."""
import argparse, hashlib, os, struct, sys

GGUF_VERSION = 3
ALIGNMENT = 32  # GGUF's default general.alignment

# GGUF metadata value types
U32, I32, F32, BOOL, STRING, ARRAY = 4, 5, 6, 7, 8, 9
# ggml tensor type
GGML_F32 = 0
# llama.cpp token types
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, BYTE = 1, 2, 3, 4, 6

SIZES = {
    # width, layers, heads, feed-forward width
    "tiny": (64, 2, 4, 192),
    "medium": (256, 8, 8, 768),
    "large": (512, 8, 8, 1536),
}

CHATML = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# Reasoning in the history and an empty think block when thinking is off: the two differences
# the engine renders the template with to decide that a model thinks, and which tags it uses.
THINKING = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['role'] == 'assistant' and message['reasoning_content'] is defined"
    " and message['reasoning_content'] %}"
    "{{- '<think>\\n' + message['reasoning_content'] + '\\n</think>\\n\\n' }}"
    "{%- endif %}"
    "{{- (message['content'] if message['content'] is string else '') + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif %}"
    "{%- endif %}"
)
TEMPLATES = {"plain": CHATML, "thinking": THINKING}

WORDS = """the of and to in is you that it he was for on are as with his they at be this have
from or one had by word but not what all were we when your can said there use an each which she
do how their if will up other about out many then them these so some her would make like him
into time has look two more write go see number no way could people my than first water been
call who oil its now find long down day did get come made may part count five four three six
seven eight nine ten hello world model server health ready token think answer question""".split()


def vocabulary():
    """Fixed token list (independent of the seed): control tokens, the 256 byte-fallback pieces,
    chat markers, then pieces whose prefixes are pieces too, so the tokenizer's merges reach
    whole words."""
    toks = [("<unk>", UNKNOWN), ("<s>", CONTROL), ("</s>", CONTROL)]
    toks += [("<0x%02X>" % b, BYTE) for b in range(256)]
    toks += [("<|im_start|>", CONTROL), ("<|im_end|>", CONTROL),
             ("<think>", USER_DEFINED), ("</think>", USER_DEFINED)]
    seen = {t for t, _ in toks}
    pieces = ["\u2581"] + [chr(c) for c in range(0x21, 0x7F)]
    pieces += ["\u2581" + chr(c) for c in range(0x21, 0x7F) if chr(c).isalnum()]
    for w in WORDS + [w.capitalize() for w in WORDS] + [str(n) for n in range(100)]:
        pieces += ["\u2581" + w[:k] for k in range(1, len(w) + 1)]
        pieces += [w[:k] for k in range(2, len(w) + 1)]
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    pieces += [a + b for a in letters for b in letters]
    for p in pieces:
        if len(toks) >= 1400:
            break
        if p not in seen:
            seen.add(p)
            toks.append((p, NORMAL))
    return toks


def gstr(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, value):
    out = gstr(key) + struct.pack("<I", vtype)
    if vtype == STRING:
        return out + gstr(value)
    if vtype == ARRAY:
        etype, items = value
        out += struct.pack("<IQ", etype, len(items))
        if etype == STRING:
            return out + b"".join(gstr(x) for x in items)
        fmt = {U32: "<%dI", I32: "<%di", F32: "<%df"}[etype]
        return out + struct.pack(fmt % len(items), *items)
    fmt = {U32: "<I", I32: "<i", F32: "<f", BOOL: "<?"}[vtype]
    return out + struct.pack(fmt, value)


def random_f32(seed, name, count, exponent):
    """`count` floats of magnitude in [2^exponent, 2^(exponent+1)) with random sign and mantissa.
    SHAKE-256 keyed by seed and tensor name gives the same bytes on every Python, and setting
    the exponent bits by byte slices keeps 30 M weights out of a Python loop."""
    buf = bytearray(hashlib.shake_256(("%d:%s" % (seed, name)).encode()).digest(4 * count))
    e = exponent + 127
    hi = bytes((x & 0x80) | (e >> 1) for x in range(256))          # sign + 7 exponent bits
    lo = bytes((x & 0x7F) | ((e & 1) << 7) for x in range(256))    # last exponent bit + mantissa
    buf[3::4] = buf[3::4].translate(hi)
    buf[2::4] = buf[2::4].translate(lo)
    return bytes(buf)


def build(template, size, name, ctx, seed, file_type=0):
    width, layers, heads, ff = SIZES[size]
    toks = vocabulary()
    n_vocab = len(toks)
    meta = [
        kv("general.architecture", STRING, "llama"),
        kv("general.name", STRING, name),
        # The tensors are all F32; --file-type only labels the file (7 = Q8_0, 32 = BF16), as a
        # quantised or BF16 model's header would, for tests of what changed.
        kv("general.file_type", U32, file_type),
        kv("general.alignment", U32, ALIGNMENT),
        kv("llama.context_length", U32, ctx),
        kv("llama.embedding_length", U32, width),
        kv("llama.block_count", U32, layers),
        kv("llama.feed_forward_length", U32, ff),
        kv("llama.attention.head_count", U32, heads),
        kv("llama.attention.head_count_kv", U32, heads),
        kv("llama.rope.dimension_count", U32, width // heads),
        kv("llama.rope.freq_base", F32, 10000.0),
        kv("llama.attention.layer_norm_rms_epsilon", F32, 1e-5),
        kv("llama.vocab_size", U32, n_vocab),
        kv("tokenizer.ggml.model", STRING, "llama"),
        kv("tokenizer.ggml.tokens", ARRAY, (STRING, [t for t, _ in toks])),
        # Sentencepiece merges prefer higher scores: earlier (shorter, commoner) pieces first.
        kv("tokenizer.ggml.scores", ARRAY, (F32, [0.0 if ty != NORMAL else -float(i)
                                                  for i, (_, ty) in enumerate(toks)])),
        kv("tokenizer.ggml.token_type", ARRAY, (I32, [ty for _, ty in toks])),
        kv("tokenizer.ggml.unknown_token_id", U32, 0),
        kv("tokenizer.ggml.bos_token_id", U32, 1),
        kv("tokenizer.ggml.eos_token_id", U32, 2),
        kv("tokenizer.ggml.add_bos_token", BOOL, True),
        kv("tokenizer.ggml.add_eos_token", BOOL, False),
        kv("tokenizer.chat_template", STRING, TEMPLATES[template]),
    ]

    # Weights near 1/sqrt(width) keep activations in range through the layers; norms are 1.
    exp = -3 if width <= 64 else -5
    tensors = [("token_embd.weight", (width, n_vocab), "rand"),
               ("output_norm.weight", (width,), "ones"),
               ("output.weight", (width, n_vocab), "rand")]
    for i in range(layers):
        p = "blk.%d." % i
        tensors += [(p + "attn_norm.weight", (width,), "ones"),
                    (p + "attn_q.weight", (width, width), "rand"),
                    (p + "attn_k.weight", (width, width), "rand"),
                    (p + "attn_v.weight", (width, width), "rand"),
                    (p + "attn_output.weight", (width, width), "rand"),
                    (p + "ffn_norm.weight", (width,), "ones"),
                    (p + "ffn_gate.weight", (width, ff), "rand"),
                    (p + "ffn_up.weight", (width, ff), "rand"),
                    (p + "ffn_down.weight", (ff, width), "rand")]

    infos, offset = [], 0
    for tname, dims, _ in tensors:
        count = 1
        for d in dims:
            count *= d
        infos.append(gstr(tname) + struct.pack("<I", len(dims)) +
                     struct.pack("<%dQ" % len(dims), *dims) + struct.pack("<IQ", GGML_F32, offset))
        offset += -(-4 * count // ALIGNMENT) * ALIGNMENT

    header = b"GGUF" + struct.pack("<IQQ", GGUF_VERSION, len(tensors), len(meta))
    head = header + b"".join(meta) + b"".join(infos)
    yield head + b"\0" * (-len(head) % ALIGNMENT)
    for tname, dims, kind in tensors:
        count = 1
        for d in dims:
            count *= d
        data = struct.pack("<f", 1.0) * count if kind == "ones" else random_f32(seed, tname, count, exp)
        yield data + b"\0" * (-len(data) % ALIGNMENT)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--template", choices=sorted(TEMPLATES), default="plain")
    ap.add_argument("--size", choices=sorted(SIZES), default="tiny")
    ap.add_argument("--name", default=None, help="general.name (default: halo-test-SIZE-TEMPLATE)")
    ap.add_argument("--ctx", type=int, default=4096, help="llama.context_length (default 4096)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--file-type", type=int, default=0, help="general.file_type (default 0, F32)")
    ap.add_argument("output")
    a = ap.parse_args()
    if a.ctx < 1:
        ap.error("--ctx must be positive")
    name = a.name if a.name is not None else "halo-test-%s-%s" % (a.size, a.template)
    # Written under a temporary name and renamed, so a reader never sees half a model.
    tmp = "%s.tmp%d" % (a.output, os.getpid())
    try:
        with open(tmp, "wb") as f:
            for chunk in build(a.template, a.size, name, a.ctx, a.seed, a.file_type):
                f.write(chunk)
        os.replace(tmp, a.output)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        sys.exit("make_gguf.py: error: Failed to write %s: %s; check the directory and free space"
                 % (a.output, e.strerror or e))


if __name__ == "__main__":
    main()
